import { createHmac } from "node:crypto";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { loadRoutine } from "../../src/config/load.ts";
import { tickSchedules } from "../../src/daemon/schedule-tick.ts";
import { openProject, type Project } from "../../src/project.ts";
import { createApp } from "../../src/server/app.ts";
import { RateLimiter } from "../../src/server/rate-limit.ts";
import { insertApiToken } from "../../src/store/api-tokens.ts";
import { listRuns } from "../../src/store/runs.ts";
import { createApiToken } from "../../src/triggers/api-token.ts";
import { ManualClock } from "../../src/util/clock.ts";
import { cleanupTemp, makeRepo, runCli, writeRoutine } from "../support/project.ts";

/**
 * `nightshift routines pause|resume` (the real CLI) against the scheduler, the API trigger and a
 * webhook over the same real store: while paused every fire is a `skipped` run with the reason.
 */

afterAll(cleanupTemp);

const MIN = 60_000;
const HOUR = 60 * MIN;

async function setUp() {
  const repo = await makeRepo({ "README.md": "x\n" });
  writeRoutine(
    repo,
    "nightly",
    'agent: command\ncommand: "true"\noverlap: allow\ntriggers:\n  - schedule: hourly\n  - api: true\n  - webhook: {source: sentry}',
  );
  writeFileSync(
    join(repo, ".nightshift", "config.yaml"),
    [
      "webhooks:",
      "  sentry:",
      "    auth:",
      "      hmac: { secret_env: SENTRY_SECRET, header: sentry-hook-signature }",
      "    idempotency: { header: request-id }",
    ].join("\n"),
  );
  const clock = new ManualClock(Date.UTC(2026, 0, 1, 0, 0, 30));
  const project = await openProject(repo, { clock });
  const app = createApp({
    project,
    baseUrl: "http://127.0.0.1:7070",
    rateLimiter: new RateLimiter({ limit: 60, windowMs: 60_000, clock }),
    env: { SENTRY_SECRET: "sentry-secret" },
  });
  const t = createApiToken();
  await insertApiToken(project.store.db, {
    routine: "nightly",
    prefix: t.prefix,
    hash: t.hash,
    now: clock.now(),
  });
  return { repo, clock, project, app, token: t.token };
}

const tick = (project: Project, now: number) =>
  tickSchedules(project.store.db, [loadRoutine(project.root, "nightly")], { now, minIntervalMs: MIN });

describe("pausing a routine", () => {
  it("records a due slot, an API fire and a webhook delivery as skipped with the reason; resuming fires the next slot", async () => {
    const { repo, clock, project, app, token } = await setUp();
    const apiFire = () =>
      app.request("/v1/routines/nightly/fire", {
        method: "POST",
        headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
        body: JSON.stringify({ text: "from the API" }),
      });
    const hook = (id: string) => {
      const body = JSON.stringify({ action: "created" });
      return app.request("/v1/webhooks/sentry", {
        method: "POST",
        headers: {
          "content-type": "application/json",
          "sentry-hook-signature": createHmac("sha256", "sentry-secret").update(body).digest("hex"),
          "request-id": id,
        },
        body,
      });
    };
    try {
      await tick(project, clock.now()); // the schedule's cursor starts now

      const pause = await runCli(repo, ["routines", "pause", "nightly", "--reason", "deploy freeze"]);
      expect(pause.exitCode, pause.stderr).toBe(0);
      expect(pause.stdout).toContain("nightly: paused (deploy freeze)");

      // The 01:00 slot, an API fire and a webhook delivery, all while paused.
      clock.advance(HOUR);
      const report = await tick(project, clock.now());
      expect(report.fired).toEqual([
        {
          routine: "nightly",
          slot: Date.UTC(2026, 0, 1, 1),
          outcome: "skipped",
          reason: "routine paused: deploy freeze",
        },
      ]);
      const api = await apiFire();
      expect(api.status).toBe(200);
      expect(await api.json()).toMatchObject({
        outcome: "skipped",
        session_id: null,
        reason: "routine paused: deploy freeze",
      });
      const delivered = await hook("req-1");
      expect(delivered.status).toBe(202);
      expect(await delivered.json()).toMatchObject({
        runs: [{ routine: "nightly", outcome: "skipped", reason: "routine paused: deploy freeze" }],
      });
      const skipped = await listRuns(project.store.db, { limit: 100 });
      expect(skipped.map((r) => [r.trigger, r.state, r.reason, r.session_id]).sort()).toEqual([
        ["api", "skipped", "routine paused: deploy freeze", null],
        ["schedule", "skipped", "routine paused: deploy freeze", null],
        ["webhook", "skipped", "routine paused: deploy freeze", null],
      ]);
      expect(skipped.find((r) => r.trigger === "schedule")!.scheduled_for).toBe(Date.UTC(2026, 0, 1, 1));

      // Visible from the CLI: the runs with their reason, the routine as paused.
      const all = await runCli(repo, ["sessions", "list", "--all"]);
      expect(all.exitCode, all.stderr).toBe(0);
      expect(all.stdout.match(/skipped\s+.*routine paused: deploy freeze/g)).toHaveLength(3);
      const list = await runCli(repo, ["routines", "list"]);
      expect(list.stdout).toMatch(/nightly\s+command\s+yes \(paused: deploy freeze\)\s+.*\s+paused\s/);
      const listJson = JSON.parse((await runCli(repo, ["routines", "list", "--json"])).stdout) as {
        routines: { name: string; paused: { reason: string; by: string } | null }[];
      };
      expect(listJson.routines[0]).toMatchObject({ name: "nightly", paused: { reason: "deploy freeze" } });

      // By hand it still runs, saying the routine is paused.
      const byHand = await runCli(repo, ["run", "nightly"]);
      expect(byHand.exitCode, byHand.stderr).toBe(0);
      expect(byHand.stderr).toContain('note: routine "nightly" is paused (deploy freeze)');
      expect(byHand.stdout).toContain("no_changes");

      // Resumed: the next slot and the next API fire queue sessions again; nothing is caught up.
      const resume = await runCli(repo, ["routines", "resume", "nightly"]);
      expect(resume.exitCode, resume.stderr).toBe(0);
      expect(resume.stdout).toBe("nightly: resumed");
      clock.advance(HOUR);
      expect((await tick(project, clock.now())).fired).toEqual([
        { routine: "nightly", slot: Date.UTC(2026, 0, 1, 2), outcome: "queued" },
      ]);
      expect(await (await apiFire()).json()).toMatchObject({ outcome: "queued" });
      expect(await (await hook("req-2")).json()).toMatchObject({ runs: [{ outcome: "queued" }] });
      const after = await listRuns(project.store.db, { limit: 100 });
      expect(
        after
          .filter((r) => r.state === "pending")
          .map((r) => r.trigger)
          .sort(),
      ).toEqual(["api", "schedule", "webhook"]);
      expect(after).toHaveLength(6);
      expect((await runCli(repo, ["routines", "list"])).stdout).toMatch(/nightly\s+command\s+yes\s/);
    } finally {
      await project.close();
    }
  }, 120_000);

  it("refuses a reason with a line break and an unknown routine, with what to do", async () => {
    const { repo, project } = await setUp();
    await project.close();
    const bad = await runCli(repo, ["routines", "pause", "nightly", "--reason", "one\ntwo"]);
    expect(bad.exitCode).toBe(2);
    expect(bad.stderr).toContain("pause reason has a line break or control character");
    const unknown = await runCli(repo, ["routines", "pause", "nope"]);
    expect(unknown.exitCode).not.toBe(0);
    expect(unknown.stderr).toContain("nope");
  }, 60_000);
});
