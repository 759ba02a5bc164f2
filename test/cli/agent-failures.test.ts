import { createServer } from "node:net";
import { afterAll, describe, expect, it } from "vitest";
import { loadRoutine } from "../../src/config/load.ts";
import { fireRoutine } from "../../src/queue/fire.ts";
import { WorkerPool } from "../../src/queue/worker-pool.ts";
import { openProject } from "../../src/project.ts";
import { listRuns, type RunRow } from "../../src/store/runs.ts";
import { listSessions } from "../../src/store/sessions.ts";
import { ManualClock } from "../../src/util/clock.ts";
import { cleanupTemp, makeRepo, runCli, writeRoutine } from "../support/project.ts";

/**
 * How failed sessions are told (issue 10, items 5 and 7): a model endpoint that cannot be
 * reached is an infrastructure failure the queue retries, naming the URL; a failing agent's
 * reason says what failed in plain words with its last output lines; the CLI ends with next
 * steps. The real CLI, the real Claude Code, real git and SQLite.
 */

afterAll(cleanupTemp);

/** A port on 127.0.0.1 nothing listens on (bound, then closed). */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

async function project(): Promise<string> {
  const repo = await makeRepo({ "README.md": "hello\n" });
  const init = await runCli(repo, ["init"]);
  expect(init.exitCode, init.stderr).toBe(0);
  return repo;
}

describe("a model endpoint that cannot be reached", () => {
  it("is model_unreachable, names the URL without credentials, and is told once in the live view", async () => {
    const repo = await project();
    writeRoutine(repo, "fix", "agent: claude-code\ntimeout: 2m");
    const port = await closedPort();
    const r = await runCli(repo, ["run", "fix"], {
      ANTHROPIC_BASE_URL: `http://user:s3cr3t-pass@127.0.0.1:${port}/?key=abc`,
      ANTHROPIC_API_KEY: "x",
      CLAUDE_CODE_MAX_RETRIES: "0",
    });
    expect(r.exitCode).toBe(1);
    const [s] = JSON.parse((await runCli(repo, ["sessions", "list", "--json"])).stdout);
    expect(s).toMatchObject({ state: "failed", infra_outcome: "model_unreachable", task_outcome: null });
    expect(s.reason).toContain(
      `the model API at http://127.0.0.1:${port} (ANTHROPIC_BASE_URL) could not be reached`,
    );
    // Sandboxed (the default), the sandbox's proxy answers 502 for the closed port; without
    // the sandbox Claude Code says "Connection refused … (ECONNREFUSED)". Both are this outcome.
    expect(s.reason).toMatch(/API Error: (?:502|Connection refused)/);
    expect(s.reason).toContain("check that it is up and that ANTHROPIC_BASE_URL is right");
    expect(s.reason).not.toContain("s3cr3t-pass");
    expect(s.reason).not.toContain("key=abc");
    // The agent's error text: once in the live view (the summary's reason), not three times.
    expect(r.stdout.split("API Error").length - 1).toBe(1);
    expect(r.stdout).toContain("infrastructure: model_unreachable");
    expect(r.stdout).toContain(`nightshift logs ${s.id} -v`);
  }, 60_000);

  it("is retried by the queue as an infrastructure failure", async () => {
    const repo = await makeRepo({ "README.md": "x\n" });
    writeRoutine(repo, "job", "agent: claude-code\ntimeout: 2m");
    const clock = new ManualClock(Date.UTC(2026, 0, 1));
    const p = await openProject(repo, { clock });
    const port = await closedPort();
    await fireRoutine(p.store.db, {
      routine: loadRoutine(p.root, "job"),
      trigger: "api",
      dedupeKey: "k",
      now: clock.now(),
    });
    const pool = new WorkerPool(p, {
      concurrency: 1,
      backoffMs: () => 10_000,
      hostEnv: {
        PATH: process.env.PATH,
        ANTHROPIC_BASE_URL: `http://127.0.0.1:${port}`,
        ANTHROPIC_API_KEY: "x",
        CLAUDE_CODE_MAX_RETRIES: "0",
      },
    });
    // Each finished run resolves the next waiter (an event the pool emits, not a sleep).
    let waiter: ((outcome: string) => void) | undefined;
    pool.on("finished", (_run: RunRow, outcome: string) => waiter?.(outcome));
    const finished = () => new Promise<string>((resolve) => (waiter = resolve));
    let done = finished();
    await pool.poll();
    expect(await done).toBe("retry");
    expect((await listRuns(p.store.db))[0]).toMatchObject({ state: "pending", attempt: 1 });
    expect((await listRuns(p.store.db))[0]!.reason).toContain(`http://127.0.0.1:${port}`);
    clock.advance(10_000);
    done = finished();
    await pool.poll();
    expect(await done).toBe("failed");
    expect((await listRuns(p.store.db))[0]).toMatchObject({ state: "failed", attempt: 2 });
    const sessions = await listSessions(p.store.db);
    expect(sessions.map((s) => s.infra_outcome)).toEqual(["model_unreachable", "model_unreachable"]);
    await p.close();
  }, 90_000);
});

describe("a failing command agent", () => {
  it("says the command exited with 1, shows its last output lines, and ends with next steps", async () => {
    const repo = await project();
    const command =
      "for i in $(seq 1 15); do echo progress line $i; done; echo 'error: cannot build' >&2; exit 1";
    writeRoutine(repo, "broken", `agent: command\ncommand: ${JSON.stringify(command)}`);
    const r = await runCli(repo, ["run", "broken", "--text", "it's urgent"]);
    expect(r.exitCode).toBe(1);
    const [s] = JSON.parse((await runCli(repo, ["sessions", "list", "--json"])).stdout);
    expect(s).toMatchObject({ state: "failed", infra_outcome: "ok", task_outcome: "agent_error" });
    // One stored line: what failed in plain words, then the last ten output lines (stderr too).
    expect(s.reason).toMatch(/^the command exited with 1 \| last output: \| progress line 7 \| /);
    expect(s.reason).toContain("progress line 15 | error: cannot build");
    expect(s.reason).not.toContain("progress line 6 ");
    expect(s.reason).not.toContain("the agent reported an error");

    const show = await runCli(repo, ["sessions", "show", s.id]);
    expect(show.exitCode).toBe(0);
    // The reason reads as lines again, then the next steps.
    expect(show.stdout).toMatch(/reason: the command exited with 1\n\s+last output:\n\s+progress line 7\n/);
    expect(show.stdout).toContain("next steps:");
    expect(show.stdout).toContain(`nightshift logs ${s.id} -v`);
    const kept = new Date(Number(s.finished_at) + 7 * 86_400_000).toISOString().replace(/\.\d{3}Z$/, "Z");
    expect(show.stdout).toContain(
      `workspace ${s.workspace_path}, kept until ${kept} (workspaces.retention 7d)`,
    );
    expect(show.stdout).toContain(`nightshift run broken --text 'it'\\''s urgent'    run it again`);

    // The live view: the reason once (in the summary), and the same next steps.
    expect(r.stdout.split("error: cannot build").length - 1).toBe(1);
    expect(r.stdout).toContain("next steps:");
    expect(r.stdout).toContain("nightshift run broken --text");

    // The transcript shows the reason once, as lines.
    const logs = await runCli(repo, ["logs", s.id]);
    expect(logs.stdout.split("error: cannot build").length - 1).toBe(1);
    expect(logs.stdout).toContain("✗ the command exited with 1\n  last output:\n  progress line 7");
  }, 60_000);

  it("a succeeded session shows no next steps", async () => {
    const repo = await project();
    writeRoutine(repo, "fine", 'agent: command\ncommand: "true"');
    const r = await runCli(repo, ["run", "fine"]);
    expect(r.exitCode).toBe(0);
    expect(r.stdout).not.toContain("next steps:");
  }, 60_000);
});
