/**
 * The environment's memory limit, enforced on the real agent process by whatever this machine
 * offers (cgroup v2 through systemd-run, else RLIMIT_DATA; see src/runner/sandbox/memory.ts):
 * an agent that allocates past the limit fails, the same agent under a larger limit succeeds,
 * sandboxed and not; the real Claude Code CLI runs under a realistic limit.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { parseMemorySize } from "../../src/config/environment-schema.ts";
import { ConfigErrors } from "../../src/config/errors.ts";
import { loadProjectConfig, loadRoutine } from "../../src/config/load.ts";
import { openProject } from "../../src/project.ts";
import { memoryEnforcement } from "../../src/runner/sandbox/memory.ts";
import { runSession } from "../../src/runner/session.ts";
import { readEvents } from "../../src/store/transcript.ts";
import { startModelServer } from "../support/model-server.ts";
import { cleanupTemp, makeRepo, writeRoutine } from "../support/project.ts";

afterAll(cleanupTemp);

/** Allocates and touches 640 MiB in 16 MiB buffers, then reports it. */
const ALLOCATE = `node -e "const a = []; for (let i = 0; i < 40; i++) a.push(Buffer.alloc(16 << 20, 1)); console.log('allocated', a.length * 16, 'MiB')"`;

async function session(
  memory: string,
  sandbox: "on" | "none",
  agent = `agent: command\ncommand: ${JSON.stringify(ALLOCATE)}`,
  hostEnv?: NodeJS.ProcessEnv,
) {
  const repo = await makeRepo({ "README.md": "x\n" });
  writeRoutine(repo, "job", `${agent}\nenvironment: limited\ntimeout: 2m`);
  writeFileSync(
    join(repo, ".nightshift", "config.yaml"),
    `environments:\n  limited:\n    network: none\n    sandbox: ${sandbox}\n    memory: ${memory}\n`,
  );
  const project = await openProject(repo);
  const s = await runSession(project, { routine: loadRoutine(repo, "job"), ...(hostEnv ? { hostEnv } : {}) });
  const events = (await readEvents<Record<string, unknown>>(project.store.db, s.id)).map((e) => e.data);
  await project.close();
  return { s, events };
}

describe("memory limit", () => {
  it("is enforced here (cgroup or RLIMIT_DATA), and the transcript says which when it is per process", async () => {
    const how = await memoryEnforcement();
    // This test machine runs Linux with bash: some mechanism must hold.
    expect(how.kind).not.toBe("none");
    const { events } = await session("1g", "on");
    const warnings = events.filter((e) => e.type === "warning").map((e) => String(e.message));
    if (how.kind === "rlimit")
      expect(warnings).toContainEqual(
        expect.stringMatching(
          /^memory limit 1 GiB enforced per process \(RLIMIT_DATA\), not for the agent's process tree: /,
        ),
      );
    else expect(warnings.filter((w) => w.startsWith("memory limit"))).toEqual([]);
  }, 60_000);

  for (const sandbox of ["on", "none"] as const) {
    it(`stops an agent that allocates past it, and lets it run under a larger one (sandbox: ${sandbox})`, async () => {
      // Node 24 alone needs about 580 MiB of RLIMIT_DATA to start (V8's reservations count), so
      // 1g lets it start and then refuses the 640 MiB; 2g holds both.
      const over = await session("1g", sandbox);
      expect(over.s).toMatchObject({ state: "failed", infra_outcome: "ok", task_outcome: "agent_error" });
      const overText = JSON.stringify(over.events);
      expect(overText).not.toContain("allocated 640 MiB");
      if ((await memoryEnforcement()).kind === "rlimit")
        expect(overText).toContain("ERR_MEMORY_ALLOCATION_FAILED");

      const under = await session("2g", sandbox);
      expect(under.s, under.s.reason ?? "").toMatchObject({ state: "succeeded" });
      expect(under.events).toContainEqual({ type: "assistant", text: "allocated 640 MiB" });
    }, 60_000);
  }

  it("lets the real Claude Code CLI run under a 2g limit, sandboxed", async () => {
    const model = await startModelServer({
      anthropic: [{ tool: "Bash", input: { command: "ulimit -d" } }, { text: "Checked." }],
    });
    try {
      const { s } = await session("2g", "on", "agent: claude-code\nallowed_tools: [Bash]", {
        PATH: process.env.PATH,
        ANTHROPIC_BASE_URL: model.url,
        ANTHROPIC_API_KEY: "sk-ant-test-dummy",
      });
      expect(s, s.reason ?? "").toMatchObject({ state: "succeeded", infra_outcome: "ok" });
      if ((await memoryEnforcement()).kind === "rlimit") {
        // The limit reached the agent's own shell: `ulimit -d` (KiB) came back to the model.
        expect(model.requests.some((r) => r.raw.includes(String(2 * 1024 * 1024)))).toBe(true);
      }
    } finally {
      await model.close();
    }
  }, 90_000);

  it("parses sizes with binary units and rejects nonsense with a located error", async () => {
    expect(parseMemorySize("2g")).toBe(2 * 1024 ** 3);
    expect(parseMemorySize("512M")).toBe(512 * 1024 ** 2);
    expect(parseMemorySize("1.5GiB")).toBe(1.5 * 1024 ** 3);
    expect(parseMemorySize("64mb")).toBe(64 * 1024 ** 2);
    expect(parseMemorySize("4096")).toBe(4096);
    expect(parseMemorySize(1e9)).toBe(1e9);
    expect(parseMemorySize("lots")).toBeUndefined();
    expect(parseMemorySize("2gg")).toBeUndefined();
    const repo = await makeRepo({ "README.md": "x\n" });
    mkdirSync(join(repo, ".nightshift"));
    writeFileSync(join(repo, ".nightshift", "config.yaml"), "environments:\n  small:\n    memory: 10m\n");
    let err: unknown;
    try {
      loadProjectConfig(repo);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigErrors);
    expect((err as Error).message).toMatch(
      /config\.yaml:3:13: environments\.small\.memory: must be a size of at least 64m such as "512m", "2g" or a number of bytes; got "10m"/,
    );
  });
});
