import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { cleanupTemp, makeRepo, runCli, writeRoutine } from "../support/project.ts";

/** The daemon's CLI commands, run as a user would. */

afterAll(cleanupTemp);

async function project(): Promise<string> {
  const repo = await makeRepo({ "README.md": "# demo\n" });
  expect((await runCli(repo, ["init"])).exitCode).toBe(0);
  return repo;
}

describe("daemon commands", () => {
  it("schedule prints the cron, its reading and the next three runs, then writes a valid routine", async () => {
    const repo = await project();
    const r = await runCli(repo, [
      "schedule",
      "weekdays at 18:30",
      "--prompt",
      "Triage new issues",
      "--timezone",
      "Europe/Berlin",
    ]);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).toContain("cron:     30 18 * * 1-5");
    expect(r.stdout).toMatch(/reads:\s+At 18:30, Monday through Friday/);
    expect(r.stdout.match(/\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ/g)).toHaveLength(3);
    const file = join(repo, ".nightshift", "routines", "triage-new-issues.md");
    expect(readFileSync(file, "utf8")).toContain("schedule: 30 18 * * 1-5");
    expect((await runCli(repo, ["routines", "validate"])).exitCode).toBe(0);
    const list = JSON.parse((await runCli(repo, ["routines", "list", "--json"])).stdout);
    const routine = list.routines.find((x: { name: string }) => x.name === "triage-new-issues");
    expect(routine.next_run).toBeGreaterThan(Date.now());
  });

  it("schedule refuses a phrase it does not understand, with examples", async () => {
    const repo = await project();
    const r = await runCli(repo, ["schedule", "whenever you feel like it", "--prompt", "x"]);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain("daily at 9am");
  });

  it("routines validate refuses a schedule more frequent than scheduler.min_interval", async () => {
    const repo = await project();
    writeFileSync(join(repo, ".nightshift", "config.yaml"), "scheduler:\n  min_interval: 5m\n");
    writeRoutine(repo, "busy", "agent: command\ncommand: \"true\"\ntriggers:\n  - schedule: '* * * * *'");
    const r = await runCli(repo, ["routines", "validate"]);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toMatch(/busy\.md:\d+:\d+: triggers\.0\.schedule: .*minimum interval of 5m/);
  });

  it("routines disable and enable rewrite only enabled:, keeping the comments", async () => {
    const repo = await project();
    const file = join(repo, ".nightshift", "routines", "example.md");
    const before = readFileSync(file, "utf8");
    expect((await runCli(repo, ["routines", "disable", "example"])).stdout).toContain("enabled: false");
    const after = readFileSync(file, "utf8");
    expect(after).toContain("enabled: false");
    expect(after).toContain("# the only branches this routine may push to");
    expect(after.split("---\n")[2]).toBe(before.split("---\n")[2]); // the prompt is untouched
    expect((await runCli(repo, ["routines", "list"])).stdout).toMatch(
      /example\s+claude-code\s+no\s+manual\s+disabled/,
    );
    await runCli(repo, ["routines", "enable", "example"]);
    expect(readFileSync(file, "utf8")).toContain("enabled: true");
  });

  it("tokens are shown once; lists show prefixes; revoked tokens are marked", async () => {
    const repo = await project();
    // Only a routine with an API trigger gets a token; the refusal says how to add one.
    const refused = await runCli(repo, ["tokens", "create", "example"]);
    expect(refused.exitCode).toBe(2);
    expect(refused.stderr).toContain(
      'routine "example" has no API trigger; add `- api: true` under `triggers:` in .nightshift/routines/example.md',
    );
    expect(JSON.parse((await runCli(repo, ["tokens", "list", "--json"])).stdout)).toEqual([]);
    writeRoutine(repo, "example", 'agent: command\ncommand: "true"\ntriggers:\n  - api: true');
    const created = JSON.parse((await runCli(repo, ["tokens", "create", "example", "--json"])).stdout);
    expect(created.token).toMatch(/^nst_[A-Za-z0-9_-]{43,}$/);
    const listed = await runCli(repo, ["tokens", "list", "example", "--json"]);
    expect(listed.stdout).not.toContain(created.token);
    expect(JSON.parse(listed.stdout)[0]).toMatchObject({ id: created.id, revoked_at: null });
    expect(JSON.parse(listed.stdout)[0].hash).toBeUndefined();
    expect((await runCli(repo, ["tokens", "revoke", "example", created.id])).exitCode).toBe(0);
    expect(
      JSON.parse((await runCli(repo, ["tokens", "list", "--json"])).stdout)[0].revoked_at,
    ).toBeGreaterThan(0);
    expect((await runCli(repo, ["tokens", "revoke", "example", created.id])).exitCode).toBe(2);
    expect((await runCli(repo, ["tokens", "create", "nope"])).exitCode).toBe(2);
  });

  it("fire queues a run that sessions list --all shows", async () => {
    const repo = await project();
    const fired = JSON.parse(
      (await runCli(repo, ["fire", "example", "--text", "look at the flaky test", "--json"])).stdout,
    );
    expect(fired).toMatchObject({ type: "routine_fire", outcome: "queued" });
    const runs = JSON.parse((await runCli(repo, ["sessions", "list", "--all", "--json"])).stdout);
    expect(runs).toEqual([
      expect.objectContaining({
        id: fired.run_id,
        state: "pending",
        trigger: "manual",
        context: "look at the flaky test",
      }),
    ]);
  });
});
