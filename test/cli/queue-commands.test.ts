import { existsSync, writeFileSync } from "node:fs";
import { userInfo } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { until } from "../support/processes.ts";
import { cleanupTemp, makeRepo, runCli, startServe, writeRoutine } from "../support/project.ts";

/** Queued runs without a daemon, cancelling them, the daemon-presence file and `sessions list` filters. */

afterAll(cleanupTemp);

const STATE = join(".nightshift", "state");

async function project(): Promise<string> {
  const repo = await makeRepo({ "README.md": "# demo\n" });
  expect((await runCli(repo, ["init"])).exitCode).toBe(0);
  return repo;
}

type Run = {
  id: string;
  state: string;
  shown_state: string;
  reason: string | null;
  session_id: string | null;
};

async function runsOf(repo: string): Promise<Run[]> {
  const r = await runCli(repo, ["sessions", "list", "--all", "--json", "--limit", "100"]);
  return r.exitCode === 0 ? JSON.parse(r.stdout) : [];
}

describe("fire without a daemon, and runs cancel", () => {
  it("warns that no daemon serves the project; the queued run can be cancelled and stays cancelled", async () => {
    const repo = await project();
    writeRoutine(repo, "job", 'agent: command\ncommand: "true"\ntriggers:\n  - api: true');
    const fired = await runCli(repo, ["fire", "job"]);
    expect(fired.exitCode, fired.stderr).toBe(0);
    const runId = /queued run (\w+)/.exec(fired.stdout)![1]!;
    expect(fired.stderr).toContain("no `nightshift serve` is running for this project");
    expect(fired.stderr).toContain(`nightshift runs cancel ${runId}`);
    const json = JSON.parse((await runCli(repo, ["fire", "job", "--json"])).stdout);
    expect(json).toMatchObject({ outcome: "queued", daemon_running: false });

    // A daemon killed without cleaning up leaves a stale file: still warned, saying so.
    writeFileSync(
      join(repo, STATE, "daemon.json"),
      JSON.stringify({
        pid: 2 ** 22 + 1,
        host: (await import("node:os")).hostname(),
        port: 1,
        url: "x",
        started_at: 0,
      }),
    );
    expect((await runCli(repo, ["fire", "job"])).stderr).toMatch(/no `nightshift serve` is running.*is gone/);

    const cancel = await runCli(repo, ["runs", "cancel", runId.slice(0, 8)]);
    expect(cancel.exitCode, cancel.stderr).toBe(0);
    expect(cancel.stdout).toContain(`cancelled run ${runId} (job): it will not start`);
    const run = (await runsOf(repo)).find((r) => r.id === runId)!;
    expect(run).toMatchObject({
      state: "cancelled",
      reason: `cancelled by ${userInfo().username} from the CLI`,
    });
    const table = (await runCli(repo, ["sessions", "list", "--all", "--state", "cancelled"])).stdout;
    expect(table).toContain(runId);
    expect(table).toContain("from the CLI");
    expect(table).toContain("1 run: 1 cancelled");

    const again = await runCli(repo, ["runs", "cancel", runId]);
    expect(again.exitCode).toBe(2);
    expect(again.stderr).toContain(`run ${runId} is already cancelled`);
    const unknown = await runCli(repo, ["runs", "cancel", "nosuchrun"]);
    expect(unknown.exitCode).toBe(2);
    expect(unknown.stderr).toContain("sessions list --all");
  }, 60_000);
});

describe("with nightshift serve", () => {
  it("writes daemon.json while it runs; a cancelled running run stops its session and is not requeued", async () => {
    const repo = await project();
    writeFileSync(join(repo, ".nightshift", "config.yaml"), "server:\n  lease: 2s\n  shutdown_grace: 2s\n");
    writeRoutine(repo, "slow", 'agent: command\ncommand: "echo started; sleep 60"\ntriggers:\n  - api: true');
    writeRoutine(repo, "broken", 'agent: command\ncommand: "echo nope; exit 3"\ntriggers:\n  - api: true');
    const serve = startServe(repo);
    const url = await serve.url;
    try {
      expect(existsSync(join(repo, STATE, "daemon.json"))).toBe(true);
      const fired = await runCli(repo, ["fire", "slow"]);
      expect(fired.stdout).toContain(`the daemon at ${url} picks it up`);
      expect(fired.stderr).not.toContain("warning");
      const runId = /queued run (\w+)/.exec(fired.stdout)![1]!;
      await until("the run to start", async () =>
        (await runsOf(repo)).find((r) => r.id === runId && r.state === "running" && r.session_id)
          ? true
          : undefined,
      );
      const cancel = await runCli(repo, ["runs", "cancel", runId]);
      expect(cancel.exitCode, cancel.stderr).toBe(0);
      expect(cancel.stdout).toContain("the daemon stops its session");
      const stopped = await until("the session to be cancelled", async () => {
        const s = JSON.parse((await runCli(repo, ["sessions", "list", "--json"])).stdout)[0];
        return s?.state === "cancelled" ? s : undefined;
      });
      expect(stopped.routine).toBe("slow");

      // A run whose session failed shows as failed, with the session's reason.
      const broken = /queued run (\w+)/.exec((await runCli(repo, ["fire", "broken"])).stdout)![1]!;
      const failed = await until("the broken run to end", async () =>
        (await runsOf(repo)).find((r) => r.id === broken && r.state === "done"),
      );
      expect(failed.shown_state).toBe("failed");
      const table = (await runCli(repo, ["sessions", "list", "--all", "--routine", "broken"])).stdout;
      expect(table).toMatch(new RegExp(`${broken}\\s+broken\\s+manual\\s+\\S+\\s+failed`));
      expect(table).toContain("1 run: 1 failed");
    } finally {
      serve.proc.kill("SIGTERM");
      await serve.proc;
    }
    expect(existsSync(join(repo, STATE, "daemon.json"))).toBe(false);
    // Restarting does not bring the cancelled run back.
    expect((await runsOf(repo)).filter((r) => r.state === "cancelled")).toHaveLength(1);
    expect((await runsOf(repo)).filter((r) => r.state === "pending")).toHaveLength(0);
  }, 120_000);
});

describe("sessions list", () => {
  it("shows failed sessions' reasons, filters by state, routine and since, and totals", async () => {
    const repo = await project();
    writeRoutine(repo, "ok", 'agent: command\ncommand: "echo fine"');
    writeRoutine(repo, "bad", 'agent: command\ncommand: "echo broken; exit 7"');
    expect((await runCli(repo, ["run", "ok"])).exitCode).toBe(0);
    await runCli(repo, ["run", "bad"]);
    const [bad] = JSON.parse(
      (await runCli(repo, ["sessions", "list", "--json", "--state", "failed"])).stdout,
    );
    expect(bad).toMatchObject({ routine: "bad", state: "failed" });
    expect(bad.reason).toBeTruthy();

    const all = await runCli(repo, ["sessions", "list"]);
    expect(all.stdout).toContain("REASON");
    expect(all.stdout).toContain(bad.reason.replace(/\s+/g, " ").slice(0, 40));
    expect(all.stdout).toMatch(/2 sessions · tokens \d+ in \/ \d+ out · cost \$0\.0000/);

    const failed = await runCli(repo, ["sessions", "list", "--state", "failed,timed_out"]);
    expect(failed.stdout).toContain("1 session ·");
    expect(failed.stdout).not.toMatch(/^\w+\s+ok\s/m);
    expect((await runCli(repo, ["sessions", "list", "--routine", "ok", "--json"])).stdout).not.toContain(
      '"bad"',
    );
    expect(
      JSON.parse((await runCli(repo, ["sessions", "list", "--since", "1h", "--json"])).stdout),
    ).toHaveLength(2);
    expect((await runCli(repo, ["sessions", "list", "--since", "2000-01-01", "--json"])).stdout).toContain(
      '"ok"',
    );
    const future = await runCli(repo, ["sessions", "list", "--since", "2999-01-01T00:00:00Z"]);
    expect(future.stdout).toContain("no sessions match");
    expect((await runCli(repo, ["sessions", "list", "--limit", "1"])).stdout).toContain(
      "2 sessions (showing the newest 1; --limit for more)",
    );

    const badSince = await runCli(repo, ["sessions", "list", "--since", "yesterday"]);
    expect(badSince.exitCode).toBe(2);
    expect(badSince.stderr).toContain("use a duration such as 24h or 7d");
    const badState = await runCli(repo, ["sessions", "list", "--state", "broke"]);
    expect(badState.exitCode).toBe(2);
    expect(badState.stderr).toContain('unknown state "broke"');
  }, 90_000);
});

describe("times in the routine's zone", () => {
  it("routines show and list give the next runs in the routine's zone next to UTC", async () => {
    const repo = await project();
    writeRoutine(
      repo,
      "nightly",
      'agent: command\ncommand: "true"\ntriggers:\n  - schedule: daily\n    at: "09:00"\n    timezone: America/New_York',
    );
    const show = await runCli(repo, ["routines", "show", "nightly"]);
    expect(show.exitCode, show.stderr).toBe(0);
    const next = show.stdout.match(
      /\d{4}-\d\d-\d\d 09:00 America\/New_York \(\d{4}-\d\d-\d\dT1[34]:00:00Z\)/g,
    );
    expect(next).toHaveLength(3);
    const json = JSON.parse((await runCli(repo, ["routines", "show", "nightly", "--json"])).stdout);
    expect(json.next_runs).toHaveLength(3);
    const list = await runCli(repo, ["routines", "list"]);
    expect(list.stdout).toMatch(/nightly .* 09:00 America\/New_York \(\S+Z\)/);
  }, 60_000);
});

describe("YAML hints", () => {
  it("says to quote a value containing ': '", async () => {
    const repo = await project();
    writeRoutine(repo, "colon", "agent: command\ncommand: true\ndescription: Fix: the flaky tests");
    const r = await runCli(repo, ["routines", "validate"]);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain(
      'colon.md:4:14: YAML syntax error: Nested mappings are not allowed in compact mappings; the value of description contains ": ", which YAML reads as another key: put it in quotes (description: "Fix: the flaky tests") or write "description: |"',
    );
  }, 60_000);
});
