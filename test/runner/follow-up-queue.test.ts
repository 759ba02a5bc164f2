import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { loadRoutine } from "../../src/config/load.ts";
import { openProject } from "../../src/project.ts";
import { runQueuedFollowUp, startFollowUp } from "../../src/runner/follow-up.ts";
import { runSession } from "../../src/runner/session.ts";
import { pendingSessionMessages } from "../../src/store/session-messages.ts";
import { findSession } from "../../src/store/sessions.ts";
import { until } from "../support/processes.ts";
import { cleanupTemp, gitOut, makeRepo, tempDir, writeRoutine } from "../support/project.ts";

/**
 * Replies while a session runs, and several replies at once, with real sessions (`command`
 * agent, real git, SQLite) and no daemon: a reply to a running session is stored and becomes
 * a follow-up when the session ends; a second reply while a follow-up waits joins it instead
 * of running beside it in the same workspace; the foreground runs what was queued.
 */

afterAll(cleanupTemp);

describe("replies to running and queued sessions", () => {
  it("stores a reply to a running session and runs it when the session ends; merges concurrent replies", async () => {
    const gateDir = tempDir();
    const gate = join(gateDir, "go");
    const repo = await makeRepo({
      "README.md": "# demo\n",
      ".nightshift/config.yaml": `environments:\n  default:\n    read: [${gateDir}]\n`,
    });
    writeRoutine(
      repo,
      "task",
      `agent: command\ncommand: 'if [ -z "$NIGHTSHIFT_PARENT_SESSION_ID" ]; then while [ ! -e ${gate} ]; do sleep 0.1; done; fi; n=$(ls turn-* 2>/dev/null | wc -l); cat "$NIGHTSHIFT_PROMPT_FILE" > turn-$n.txt'\ntimeout: 5m`,
    );
    const project = await openProject(repo);
    try {
      let id = "";
      const running = runSession(project, { routine: loadRoutine(repo, "task"), onCreated: (x) => (id = x) });
      await until("the session to run", async () =>
        id && (await findSession(project.store.db, id))?.state === "running" ? true : undefined,
      );
      const stored = await startFollowUp(project, { parentSessionId: id, text: "reply while running" });
      expect(stored).toMatchObject({ kind: "stored", sessionId: id });
      expect(await pendingSessionMessages(project.store.db, id)).toHaveLength(1);
      writeFileSync(gate, "");
      const first = await running;
      expect(first.task_outcome).toBe("pr_opened");
      expect(await pendingSessionMessages(project.store.db, id)).toHaveLength(0);

      // The stored reply is now a queued follow-up; a second reply joins it.
      const second = await startFollowUp(project, { parentSessionId: id, text: "second reply" });
      expect(second.kind).toBe("stored");

      const f1 = await runQueuedFollowUp(project, id);
      expect(f1).toMatchObject({ parent_session_id: id, state: "succeeded", task_outcome: "pr_updated" });
      expect(second.sessionId).toBe(f1!.id);
      const f2 = await runQueuedFollowUp(project, f1!.id);
      expect(f2).toMatchObject({ parent_session_id: f1!.id, state: "succeeded", task_outcome: "pr_updated" });
      expect(await runQueuedFollowUp(project, f2!.id)).toBeUndefined();

      const bare = project.forge.local!.barePath(project.repoName);
      expect(await gitOut(bare, "show", `${first.branch}:turn-1.txt`)).toBe("reply while running");
      expect(await gitOut(bare, "show", `${first.branch}:turn-2.txt`)).toBe("second reply");
      expect(await gitOut(bare, "rev-list", "--count", `main..${first.branch}`)).toBe("3");
      expect(await project.forge.listPullRequests(project.repoName, { state: "all" })).toHaveLength(1);
    } finally {
      await project.close();
    }
  }, 120_000);
});
