import { existsSync } from "node:fs";
import { afterAll, describe, expect, it } from "vitest";
import { loadRoutine } from "../../src/config/load.ts";
import { openProject } from "../../src/project.ts";
import { FollowUpError, runFollowUp, startFollowUp } from "../../src/runner/follow-up.ts";
import { runSession } from "../../src/runner/session.ts";
import { findSession } from "../../src/store/sessions.ts";
import { ManualClock } from "../../src/util/clock.ts";
import { cleanupTemp, makeRepo, writeRoutine } from "../support/project.ts";

/**
 * Retention and the resume window, with an injected clock and real sessions (`command`
 * agent, real git, SQLite): what a follow-up needs is kept for `workspaces.resume_window`
 * even when `retention` is shorter, a workspace shared with a recent follow-up is kept, and a
 * session past the window is refused with a clear reason.
 */

afterAll(cleanupTemp);

const DAY = 86_400_000;

async function projectWith(config: string) {
  const repo = await makeRepo({ "README.md": "# demo\n", ".nightshift/config.yaml": config });
  writeRoutine(repo, "task", `agent: command\ncommand: 'date +%s%N >> log.txt'\ntimeout: 10m`);
  const clock = new ManualClock();
  const project = await openProject(repo, { clock });
  return { project, repo, clock, routine: loadRoutine(repo, "task") };
}

describe("resume window and retention", () => {
  it("keeps a workspace for the resume window, and refuses a follow-up after it", async () => {
    const { project, clock, routine } = await projectWith(
      "workspaces:\n  retention: 0\n  resume_window: 2d\n",
    );
    try {
      const first = await runSession(project, { routine });
      expect(first.state).toBe("succeeded");
      // retention 0 alone would remove it at once; the resume window keeps it.
      await runSession(project, { routine });
      expect(existsSync(first.workspace_path!)).toBe(true);

      clock.advance(DAY);
      const out = await runFollowUp(project, { parentSessionId: first.id, text: "again" });
      expect(out.session).toMatchObject({
        state: "succeeded",
        parent_session_id: first.id,
        task_outcome: "pr_updated",
      });

      // 2.5 days after the first session, 1.5 after its follow-up: shared, so kept.
      clock.advance(1.5 * DAY);
      await runSession(project, { routine });
      expect(existsSync(first.workspace_path!)).toBe(true);
      // The first session is past the window itself, but a reply to it continues its follow-up.
      const q = await startFollowUp(project, { parentSessionId: first.id, text: "queued" });
      expect(q).toMatchObject({ kind: "queued", parentSessionId: out.session!.id });

      // Past the window of both: removed, and a reply is refused, saying why and what to do.
      clock.advance(1 * DAY);
      await runSession(project, { routine });
      expect(existsSync(first.workspace_path!)).toBe(false);
      expect((await findSession(project.store.db, first.id))!.workspace_removed_at).toBe(clock.now());
      const err = await startFollowUp(project, { parentSessionId: first.id, text: "too late" }).catch(
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(FollowUpError);
      expect((err as FollowUpError).code).toBe("not_resumable");
      expect((err as Error).message).toContain(
        "longer ago than workspaces.resume_window (48h 00m): it can no longer be resumed",
      );
      expect((err as Error).message).toContain("--fresh");
    } finally {
      await project.close();
    }
  }, 120_000);
});
