/**
 * Processes a session starts do not outlive it, with or without the sandbox — including
 * children that leave the agent's process group (`setsid`) or daemonise (double fork), which
 * a process-group kill cannot reach. Real sessions (a `command` agent, real bubblewrap, real
 * git), the real CLI, and the processes found in /proc afterwards. Each case uses its own
 * `sleep` durations as markers, so processes of other test files are never counted.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { execa } from "execa";
import { afterAll, describe, expect, it } from "vitest";
import { loadRoutine } from "../../src/config/load.ts";
import { runAgentProcess } from "../../src/runner/agents/spawn.ts";
import type { AgentEvent } from "../../src/runner/transcript/events.ts";
import { openProject } from "../../src/project.ts";
import {
  containmentWarning,
  processContainment,
  resetProcessContainment,
} from "../../src/runner/sandbox/contain.ts";
import type { SandboxPolicy } from "../../src/runner/sandbox/policy.ts";
import { wrapInvocation } from "../../src/runner/sandbox/wrap.ts";
import { runSession } from "../../src/runner/session.ts";
import { runStep } from "../../src/runner/steps/test-step.ts";
import { readEvents } from "../../src/store/transcript.ts";
import { ManualClock, systemClock } from "../../src/util/clock.ts";
import { processesMatching, until } from "../support/processes.ts";
import { cleanupTemp, makeRepo, ROOT, tempDir, writeRoutine } from "../support/project.ts";

afterAll(cleanupTemp);

type Mode = "none" | "sandbox";
const MODES: Mode[] = ["none", "sandbox"];

/** Live processes whose command line is exactly `sleep <n>` for one of `markers`. */
function sleeping(...markers: number[]): number[] {
  const wanted = new Set(markers.map((n) => `sleep ${n}`));
  return processesMatching((c) => wanted.has(c)).map((p) => p.pid);
}

/** The process group and session of a live process (fields 5 and 6 of /proc/PID/stat). */
function groupAndSession(pid: number): [number, number] {
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8")
    .replace(/^.*\) /, "")
    .split(" ");
  return [Number(fields[2]), Number(fields[3])];
}

/** `environments:` of config.yaml: `box` is sandboxed or not, with an optional setup script. */
function config(mode: Mode, setup?: string): string {
  const lines = ["environments:", "  box:", `    sandbox: ${mode === "none" ? "none" : "on"}`];
  lines.push(`    network: ${mode === "none" ? "full" : "none"}`);
  if (setup) lines.push("    setup: |", ...setup.split("\n").map((l) => `      ${l}`));
  return `${lines.join("\n")}\n`;
}

/** A command that starts a `setsid` child and a double-forked daemon, then waits (`sleep <wait>`). */
const escaping = (a: number, b: number, wait: number) =>
  `setsid sleep ${a} & (setsid sh -c 'sleep ${b} &' &); sleep 0.3; echo started; sleep ${wait}`;

describe("with the timeout, every process the session started is gone", () => {
  for (const [i, mode] of MODES.entries()) {
    const [own, daemon, wait] = [7870 + 3 * i, 7871 + 3 * i, 7872 + 3 * i];
    it(`sandbox ${mode}: a setsid child and a double-forked daemon die with the agent (injected clock)`, async () => {
      const clock = new ManualClock();
      const repo = await makeRepo({ "README.md": "x\n", ".nightshift/config.yaml": config(mode) });
      writeRoutine(
        repo,
        "task",
        `agent: command\ncommand: ${JSON.stringify(escaping(own, daemon, wait))}\ntimeout: 8s\nenvironment: box`,
      );
      const project = await openProject(repo, { clock });
      let started!: () => void;
      const ready = new Promise<void>((r) => (started = r));
      const running = runSession(project, {
        routine: loadRoutine(repo, "task"),
        onEvent: (ev) => {
          if (ev.type === "assistant" && ev.text === "started") started();
        },
      });
      await ready;
      const escaped = sleeping(own, daemon);
      expect(escaped).toHaveLength(2);
      // They really left the agent's process group and session: a group kill misses them.
      const waiter = await until("the agent's own sleep", async () => sleeping(wait)[0], 30_000);
      const agent = groupAndSession(waiter);
      for (const pid of escaped) {
        const [group, session] = groupAndSession(pid);
        expect(group).not.toBe(agent[0]);
        expect(session).not.toBe(agent[1]);
      }
      const t0 = Date.now();
      clock.advance(8_000 + 1);
      const s = await running;
      expect(s, `${s.reason}`).toMatchObject({ state: "timed_out", infra_outcome: "timeout" });
      // Promptly: no waiting for the SIGKILL grace (the clock did not move) or for the children.
      expect(Date.now() - t0).toBeLessThan(15_000);
      expect(sleeping(own, daemon, wait)).toEqual([]);
      const kinds = (await readEvents<{ message?: string }>(project.store.db, s.id)).map(
        (e) => e.data.message ?? "",
      );
      expect(kinds.some((m) => m.startsWith("processes not contained"))).toBe(false);
      await project.close();
    });
  }

  it("sandbox none, the real CLI: `nightshift run` returns at the timeout and leaves no process behind", async () => {
    const repo = await makeRepo({ "README.md": "x\n", ".nightshift/config.yaml": config("none") });
    writeRoutine(
      repo,
      "escape",
      `agent: command\ncommand: ${JSON.stringify(escaping(787, 788, 7860))}\ntimeout: 2s\nenvironment: box`,
    );
    const t0 = Date.now();
    const r = await execa(
      process.execPath,
      [join(ROOT, "src", "cli", "main.ts"), "run", "escape", "--json"],
      {
        cwd: repo,
        reject: false,
        stdin: "ignore",
        timeout: 60_000,
      },
    );
    // Before the fix it returned only when `sleep 787` ended, 13 minutes later.
    expect(Date.now() - t0).toBeLessThan(30_000);
    expect(r.exitCode, r.stderr).toBe(1);
    expect(JSON.parse(r.stdout)).toMatchObject({ state: "timed_out", infra_outcome: "timeout" });
    expect(sleeping(787, 788, 7860)).toEqual([]);
  }, 90_000);
});

describe("the setup script's and the test step's escaped children", () => {
  for (const [i, mode] of MODES.entries()) {
    const [own, daemon] = [7880 + 2 * i, 7881 + 2 * i];
    it(`sandbox ${mode}: a setup script that leaves daemons behind finishes, and they are gone`, async () => {
      const repo = await makeRepo({ "README.md": "x\n" });
      writeRoutine(repo, "task", 'agent: command\ncommand: "echo agent ran"\nenvironment: box');
      writeFileSync(
        join(repo, ".nightshift", "config.yaml"),
        config(mode, `setsid sleep ${own} &\n(setsid sh -c 'sleep ${daemon} &' &)\nsleep 0.3\necho set up`),
      );
      const project = await openProject(repo);
      const s = await runSession(project, { routine: loadRoutine(repo, "task") });
      expect(s, `${s.reason}`).toMatchObject({ state: "succeeded", infra_outcome: "ok" });
      const setup = (await readEvents<{ type: string; exitCode?: number }>(project.store.db, s.id))
        .map((e) => e.data)
        .filter((d) => d.type === "setup");
      expect(setup).toContainEqual(expect.objectContaining({ exitCode: 0 }));
      expect(sleeping(own, daemon)).toEqual([]);
      await project.close();
    }, 90_000);

    const [stepOwn, stepDaemon] = [7890 + 2 * i, 7891 + 2 * i];
    it(`sandbox ${mode}: a test command that leaves daemons behind returns its output, and they are gone`, async () => {
      const dir = tempDir();
      const workspace = await makeRepo({ "README.md": "x\n" }, join(dir, "workspace"));
      const policy: SandboxPolicy = {
        mode,
        workspace,
        home: join(dir, "home"),
        tmp: join(dir, "tmp"),
        allowedDomains: [],
        denyRead: [],
      };
      const step = await runStep({
        command: `setsid sleep ${stepOwn} & (setsid sh -c 'sleep ${stepDaemon} &' &); sleep 0.3; echo tests pass`,
        cwd: workspace,
        env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: policy.home },
        policy,
        clock: systemClock,
        timeoutMs: 60_000,
      });
      expect(step).toMatchObject({ exitCode: 0, output: "tests pass", timedOut: false });
      expect(sleeping(stepOwn, stepDaemon)).toEqual([]);
    });
  }
});

describe("where no PID namespace can be made", () => {
  it("the runner stops waiting for pipes an escaped child holds, and says so", async () => {
    const events: AgentEvent[] = [];
    const t0 = Date.now();
    try {
      const r = await runAgentProcess(
        {
          command: "sh",
          args: ["-c", "setsid sleep 7899 & sleep 0.3; echo hi"],
          env: { PATH: process.env.PATH ?? "" },
          cwd: "/",
        },
        {
          parser: { line: (text) => [{ type: "unparsed", line: text }], end: () => [] },
          onEvent: (ev) => {
            events.push(ev);
          },
          clock: systemClock,
          timeoutMs: 60_000,
          pipeGraceMs: 300,
        },
      );
      expect(r).toMatchObject({ exitCode: 0, timedOut: false });
      expect(Date.now() - t0).toBeLessThan(10_000);
      expect(events).toContainEqual({ type: "unparsed", line: "hi" });
      expect(events).toContainEqual(
        expect.objectContaining({
          type: "stderr",
          text: expect.stringContaining("still held its output open"),
        }),
      );
      // Without a namespace the escaped child does outlive the run: the transcript warns of it.
      expect(sleeping(7899)).toHaveLength(1);
    } finally {
      for (const pid of sleeping(7899)) process.kill(pid, "SIGKILL");
    }
  });

  it("an unsandboxed invocation runs as it is, with a warning for the transcript", async () => {
    const path = process.env.PATH;
    try {
      process.env.PATH = "/nonexistent";
      resetProcessContainment();
      const how = await processContainment();
      expect(how).toMatchObject({ kind: "process-group", why: "bubblewrap (bwrap) is not on PATH" });
      const inv = { command: "agent", args: ["--go"], env: {}, cwd: "/" };
      const w = await wrapInvocation(inv, {
        mode: "none",
        workspace: "/w",
        home: "/h",
        tmp: "/t",
        allowedDomains: [],
        denyRead: [],
      });
      expect(w.invocation).toBe(inv);
      expect(w.warning).toBe(containmentWarning(how));
      expect(w.warning).toMatch(/^processes not contained: bubblewrap \(bwrap\) is not on PATH; .*setsid/);
    } finally {
      process.env.PATH = path;
      resetProcessContainment();
    }
  });
});
