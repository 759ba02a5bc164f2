/**
 * One deadline per session: the routine's `timeout` covers setup, every agent pass, the test
 * step and delivery together, so a session never lasts about twice its timeout. The clock is
 * injected; the tests move it, they do not wait for it.
 */
import { existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { loadRoutine } from "../../src/config/load.ts";
import { openProject } from "../../src/project.ts";
import { resetSandbox } from "../../src/runner/sandbox/wrap.ts";
import { runSession } from "../../src/runner/session.ts";
import { ManualClock } from "../../src/util/clock.ts";
import { until } from "../support/processes.ts";
import { cleanupTemp, makeRepo, writeRoutine } from "../support/project.ts";

afterAll(async () => {
  await resetSandbox();
  cleanupTemp();
});

/** A project whose environment's setup script waits for the file GO in the workspace. */
async function setUp(command: string) {
  const clock = new ManualClock();
  const repo = await makeRepo({ "README.md": "# demo\n" });
  writeRoutine(repo, "task", `agent: command\ncommand: ${JSON.stringify(command)}\ntimeout: 10m`);
  writeFileSync(
    join(repo, ".nightshift", "config.yaml"),
    [
      "environments:",
      "  default:",
      "    network: none",
      "    setup: |",
      "      echo setup-waiting",
      "      while [ ! -f GO ]; do sleep 0.05; done",
      "      rm -f GO",
    ].join("\n"),
  );
  const project = await openProject(repo, { clock });
  return { project, clock };
}

describe("a session's one deadline", () => {
  it("gives the agent only what the setup script left of the timeout", async () => {
    const { project, clock } = await setUp("echo agent-started; sleep 3003");
    let id = "";
    let agentStarted = false;
    const running = runSession(project, {
      routine: loadRoutine(project.root, "task"),
      onCreated: (sid) => (id = sid),
      onEvent: (ev) => {
        if (ev.type === "assistant" && ev.text === "agent-started") agentStarted = true;
      },
    });
    const clone = await until("the workspace", async () => {
      const p = id && join(project.stateDir, "sessions", id, "workspace", project.repoName);
      return p && existsSync(join(p, "README.md")) ? p : undefined;
    });
    // Setup takes 9 of the 10 minutes.
    clock.advance(9 * 60_000);
    writeFileSync(join(clone, "GO"), "");
    await until("the agent to start", async () => (agentStarted ? true : undefined));
    // One more minute ends the session: the agent did not get a fresh 10 minutes.
    clock.advance(60_000 + 1);
    clock.advance(5_000);
    const s = await running;
    expect(s, `${s.reason}`).toMatchObject({ state: "timed_out", infra_outcome: "timeout" });
    await project.close();
  }, 120_000);

  it("ends the session timed_out when the setup script runs into the timeout", async () => {
    const { project, clock } = await setUp("echo never");
    let setupStarted = false;
    const running = runSession(project, {
      routine: loadRoutine(project.root, "task"),
      onEvent: (ev) => {
        if (ev.type === "setup" && (ev as { phase?: string }).phase === "started") setupStarted = true;
      },
    });
    await until("the setup script to start", async () => (setupStarted ? true : undefined));
    clock.advance(10 * 60_000 + 1);
    clock.advance(5_000);
    const s = await running;
    expect(s, `${s.reason}`).toMatchObject({ state: "timed_out", infra_outcome: "timeout" });
    expect(s.reason).toContain("timeout (10m 00s) ran out while the setup script");
    await project.close();
  }, 120_000);
});
