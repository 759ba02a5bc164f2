import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { until } from "../support/processes.ts";
import { cleanupTemp, makeRepo, runCli, startServe, writeRoutine } from "../support/project.ts";

/**
 * The real `nightshift serve`, killed with SIGKILL while sessions run, then restarted: no run
 * is lost, none is duplicated, and each reclaimed run's attempt count goes up by one.
 */

afterAll(cleanupTemp);

type Run = { id: string; state: string; attempt: number; session_id: string };

async function runsOf(repo: string): Promise<Run[]> {
  const r = await runCli(repo, ["sessions", "list", "--all", "--json", "--limit", "100"]);
  return r.exitCode === 0 ? JSON.parse(r.stdout) : [];
}

describe("nightshift serve under kill -9", () => {
  it("loses and duplicates no run, and counts the reclaimed attempts", async () => {
    const repo = await makeRepo({ "README.md": "# demo\n" });
    writeRoutine(
      repo,
      "job",
      'agent: command\ncommand: "sleep 2; echo $NIGHTSHIFT_SESSION_ID > done.txt"\noverlap: allow\ntriggers:\n  - api: true',
    );
    writeFileSync(
      join(repo, ".nightshift", "config.yaml"),
      "server:\n  concurrency: 2\n  lease: 3s\n  retry_backoff: 1s\n  shutdown_grace: 5s\n",
    );
    const { token } = JSON.parse((await runCli(repo, ["tokens", "create", "job", "--json"])).stdout);

    const first = startServe(repo);
    const url = await first.url;
    const fired: string[] = [];
    for (let i = 0; i < 6; i++) {
      const res = await fetch(`${url}/v1/routines/job/fire`, {
        method: "POST",
        headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
        body: JSON.stringify({ text: `run ${i}` }),
      });
      expect(res.status).toBe(200);
      fired.push(((await res.json()) as { run_id: string }).run_id);
    }
    await until("two runs in progress", async () =>
      (await runsOf(repo)).filter((r) => r.state === "running").length === 2 ? true : undefined,
    );
    first.proc.kill("SIGKILL");
    await first.proc;
    // What the store says was in progress when the process died: exactly these get a second attempt.
    const runningAtKill = (await runsOf(repo)).filter((r) => r.state === "running").map((r) => r.id);
    expect(runningAtKill.length).toBeGreaterThan(0);

    const second = startServe(repo);
    await second.url;
    const final = await until("every run to finish", async () => {
      const all = await runsOf(repo);
      return all.length === 6 && all.every((r) => r.state === "done") ? all : undefined;
    });
    second.proc.kill("SIGTERM");
    const exited = await second.proc;
    expect(exited.exitCode).toBe(0);

    expect(final.map((r) => r.id).sort()).toEqual([...fired].sort());
    const why = (await runCli(repo, ["sessions", "list", "--json", "--limit", "100"])).stdout;
    for (const r of final)
      expect(r.attempt, `run ${r.id}; sessions: ${why}`).toBe(runningAtKill.includes(r.id) ? 2 : 1);
    const sessions = JSON.parse(
      (await runCli(repo, ["sessions", "list", "--json", "--limit", "100"])).stdout,
    ) as {
      id: string;
      state: string;
      infra_outcome: string;
    }[];
    const succeeded = sessions.filter((s) => s.state === "succeeded");
    expect(succeeded).toHaveLength(6);
    expect(new Set(final.map((r) => r.session_id))).toEqual(new Set(succeeded.map((s) => s.id)));
    // The sessions cut off by the kill are recorded, not lost.
    expect(sessions.filter((s) => s.state === "failed" && s.infra_outcome === "internal_error")).toHaveLength(
      runningAtKill.length,
    );
    const prs = JSON.parse((await runCli(repo, ["pr", "list", "--json"])).stdout);
    expect(prs).toHaveLength(6);
  }, 180_000);
});

type Session = { id: string; state: string; reason: string | null; task_outcome: string | null };

async function sessionsOf(repo: string): Promise<Session[]> {
  const r = await runCli(repo, ["sessions", "list", "--json", "--limit", "100"]);
  return r.exitCode === 0 ? JSON.parse(r.stdout) : [];
}

describe("nightshift serve under SIGTERM", () => {
  it("requeues a run whose session the shutdown stopped, uncounted, and runs it on the next start", async () => {
    const repo = await makeRepo({ "README.md": "# demo\n" });
    writeRoutine(
      repo,
      "long",
      'agent: command\ncommand: "sleep 4; echo $NIGHTSHIFT_SESSION_ID > done.txt"\ntriggers:\n  - api: true',
    );
    writeFileSync(
      join(repo, ".nightshift", "config.yaml"),
      "server:\n  concurrency: 1\n  lease: 3s\n  retry_backoff: 1s\n  shutdown_grace: 1s\n",
    );
    const { token } = JSON.parse((await runCli(repo, ["tokens", "create", "long", "--json"])).stdout);

    const first = startServe(repo);
    const url = await first.url;
    const res = await fetch(`${url}/v1/routines/long/fire`, {
      method: "POST",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      body: JSON.stringify({ text: "a long job" }),
    });
    expect(res.status).toBe(200);
    const fired = (await res.json()) as { run_id: string; session_id: string };
    // The agent is running (not just claimed) when the daemon is told to stop.
    await until("the session's agent to run", async () =>
      (await sessionsOf(repo)).some((s) => s.id === fired.session_id && s.state === "running")
        ? true
        : undefined,
    );
    first.proc.kill("SIGTERM");
    expect((await first.proc).exitCode).toBe(0);

    const [requeued] = await runsOf(repo);
    expect(requeued).toMatchObject({ id: fired.run_id, state: "pending", attempt: 0 });
    const stopped = (await sessionsOf(repo)).find((s) => s.id === fired.session_id);
    expect(stopped).toMatchObject({ state: "cancelled" });
    expect(stopped!.reason).toMatch(
      /^stopped by daemon shutdown; requeued \(run \w+; attempt 1 not counted\)$/,
    );

    const second = startServe(repo);
    await second.url;
    const done = await until("the requeued run to finish", async () => {
      const [run] = await runsOf(repo);
      return run?.state === "done" ? run : undefined;
    });
    second.proc.kill("SIGTERM");
    expect((await second.proc).exitCode).toBe(0);

    expect(done).toMatchObject({ id: fired.run_id, attempt: 1 });
    expect(done.session_id).not.toBe(fired.session_id);
    const sessions = await sessionsOf(repo);
    expect(sessions.map((s) => s.state).sort()).toEqual(["cancelled", "succeeded"]);
    expect(sessions.find((s) => s.id === done.session_id)).toMatchObject({
      state: "succeeded",
      task_outcome: "pr_opened",
    });
    expect(JSON.parse((await runCli(repo, ["pr", "list", "--json"])).stdout)).toHaveLength(1);
  }, 120_000);
});
