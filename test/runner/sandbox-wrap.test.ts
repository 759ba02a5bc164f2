/**
 * The sandbox, end to end: the REAL Claude Code CLI (node_modules/.bin/claude), driven by the
 * scripted model server to run Bash commands that try to escape, spawned by runAgentProcess
 * inside wrapInvocation's sandbox. Every assertion is on the effect (a file on disk, a request
 * that reached a server, text that reached the model), and the same script run without the
 * sandbox shows each probe really would have worked.
 */
import { randomBytes } from "node:crypto";
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { claudeEnv, startModelServer, type ModelServer, type ScriptStep } from "../support/model-server.ts";
import { ClaudeStreamParser } from "../../src/runner/agents/claude-code.ts";
import { NIGHTSHIFT_ROOT } from "../../src/runner/agents/env.ts";
import { runAgentProcess } from "../../src/runner/agents/spawn.ts";
import type { AgentInvocation } from "../../src/runner/agents/types.ts";
import { systemClock } from "../../src/util/clock.ts";
import type { AgentEvent } from "../../src/runner/transcript/events.ts";
import { findExecutable, sandboxAvailable } from "../../src/runner/sandbox/availability.ts";
import type { SandboxPolicy } from "../../src/runner/sandbox/policy.ts";
import {
  resetSandbox,
  sandboxLoopbackUrl,
  shellQuote,
  wrapInvocation,
} from "../../src/runner/sandbox/wrap.ts";

const CLAUDE = join(NIGHTSHIFT_ROOT, "node_modules", ".bin", "claude");
const CANARY = "NIGHTSHIFT_TEST_CANARY_PARENT";
const SECRET = `-----BEGIN FAKE KEY ${randomBytes(8).toString("hex")}-----`;

const made: string[] = [];
function temp(prefix: string): string {
  const d = mkdtempSync(join(tmpdir(), `nightshift-sbx-${prefix}-`));
  made.push(d);
  return d;
}

/** A loopback HTTP server that records the paths it was asked for. */
async function recordingServer(): Promise<{ port: number; hits: string[]; close(): Promise<void> }> {
  const hits: string[] = [];
  const server: Server = createServer((req, res) => {
    hits.push(req.url ?? "");
    res.end("reached\n");
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return {
    port: (server.address() as AddressInfo).port,
    hits,
    close: () =>
      new Promise((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

interface Probe {
  outside: string;
  secretHome: string;
  blockedPort: number;
  allowedPort: number;
}

/** One Bash tool call per probe; the tool results are read back by their order. */
function script(p: Probe): ScriptStep[] {
  const bash = (command: string): ScriptStep => ({ tool: "Bash", input: { command, description: "probe" } });
  return [
    bash(`echo escaped > ${shellQuote(p.outside)}; echo inside > in-workspace.txt`),
    bash(
      `cat ${shellQuote(join(p.secretHome, ".ssh", "id_test"))}; ls -a ${shellQuote(join(p.secretHome, ".ssh"))}`,
    ),
    bash(
      `curl -s -m 5 http://localhost.:${p.blockedPort}/via-proxy; echo "proxy-exit=$?"; ` +
        `curl -s -m 5 --noproxy '*' http://127.0.0.1:${p.blockedPort}/direct; echo "direct-exit=$?"`,
    ),
    bash(`curl -s -m 5 http://localhost.:${p.allowedPort}/allowed; echo "allowed-exit=$?"`),
    bash("env | sort"),
    { text: "Probes done." },
  ];
}

interface Outcome {
  events: AgentEvent[];
  results: string[];
  exitCode: number | null;
  model: ModelServer;
  blocked: Awaited<ReturnType<typeof recordingServer>>;
  allowed: Awaited<ReturnType<typeof recordingServer>>;
  probe: Probe;
  workspace: string;
}

async function runProbes(mode: SandboxPolicy["mode"]): Promise<Outcome> {
  const base = temp(mode);
  const workspace = join(base, "workspace");
  mkdirSync(workspace);
  execFileSync("git", ["init", "-q", workspace]);
  const secretHome = join(base, "host-home");
  mkdirSync(join(secretHome, ".ssh"), { recursive: true });
  writeFileSync(join(secretHome, ".ssh", "id_test"), `${SECRET}\n`);
  const blocked = await recordingServer();
  const allowed = await recordingServer();
  const probe: Probe = {
    outside: join(tmpdir(), `outside-${randomBytes(6).toString("hex")}`),
    secretHome,
    blockedPort: blocked.port,
    allowedPort: allowed.port,
  };
  made.push(probe.outside);
  const model = await startModelServer({ anthropic: script(probe) });
  const home = join(base, "agent-home");
  const tmp = join(base, "tmp");
  mkdirSync(tmp);
  const env: Record<string, string> = { ...claudeEnv(model, home), TMPDIR: tmp, CLAUDE_CODE_TMPDIR: tmp };
  const modelUrl = sandboxLoopbackUrl(model.url);
  if (mode === "sandbox") env.ANTHROPIC_BASE_URL = modelUrl.url;
  const inv: AgentInvocation = {
    command: CLAUDE,
    args: [
      "-p",
      "Run the probes.",
      "--output-format",
      "stream-json",
      "--verbose",
      "--permission-mode",
      "bypassPermissions",
      "--tools",
      "Bash",
      "--max-turns",
      "10",
    ],
    env,
    cwd: workspace,
  };
  const policy: SandboxPolicy = {
    mode,
    workspace,
    home,
    tmp,
    allowedDomains: [modelUrl.allow, `localhost:${allowed.port}`],
    denyRead: [join(secretHome, ".ssh")],
  };
  const wrapped = await wrapInvocation(inv, policy);
  const events: AgentEvent[] = [];
  try {
    const r = await runAgentProcess(wrapped.invocation, {
      parser: new ClaudeStreamParser(),
      onEvent: (e) => {
        events.push(e);
      },
      clock: systemClock,
      timeoutMs: 90_000,
    });
    const results = events.flatMap((e) => (e.type === "tool_result" ? [e.output] : []));
    return { events, results, exitCode: r.exitCode, model, blocked, allowed, probe, workspace };
  } finally {
    await wrapped.release();
  }
}

let sandboxed: Outcome;
let control: Outcome;

beforeAll(async () => {
  process.env[CANARY] = "leaked";
  // Never skip silently: without bubblewrap & co this fails, saying what to install.
  const avail = await sandboxAvailable();
  if (!avail.ok) throw new Error(`sandbox tests cannot run: ${avail.reason}`);
  sandboxed = await runProbes("sandbox");
  control = await runProbes("none");
}, 180_000);

afterAll(async () => {
  delete process.env[CANARY];
  for (const o of [sandboxed, control]) {
    if (!o) continue;
    await o.model.close();
    await o.blocked.close();
    await o.allowed.close();
  }
  await resetSandbox();
  for (const d of made.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe("a sandboxed Claude Code run", () => {
  it("ran every probe and finished", { timeout: 60_000 }, () => {
    const stderr = sandboxed.events.filter((e) => e.type === "stderr");
    expect(sandboxed.exitCode, JSON.stringify(stderr)).toBe(0);
    expect(sandboxed.model.remaining("anthropic")).toBe(0);
    expect(sandboxed.results).toHaveLength(5);
    expect(sandboxed.events.at(-1)).toMatchObject({ type: "result", isError: false, text: "Probes done." });
  });

  it("cannot write outside the workspace, but can inside it", { timeout: 60_000 }, () => {
    expect(existsSync(sandboxed.probe.outside)).toBe(false);
    expect(sandboxed.results[0]).toContain("Read-only file system");
    expect(existsSync(join(sandboxed.workspace, "in-workspace.txt"))).toBe(true);
    // Control: unsandboxed, the same command escapes.
    expect(existsSync(control.probe.outside)).toBe(true);
  });

  it("cannot read a denied ~/.ssh, and its content never reaches the model", { timeout: 60_000 }, () => {
    const sentToModel = (o: Outcome) => o.model.requests.some((r) => r.raw.includes(SECRET));
    expect(sentToModel(sandboxed)).toBe(false);
    // `ls -a` of the denied folder lists nothing (the probe prints it after the `cat`).
    const listing = (sandboxed.results[1] ?? "").split("\n").map((l) => l.trim());
    expect(listing).not.toContain("id_test");
    expect(listing).toContain("..");
    expect(sentToModel(control)).toBe(true);
  });

  it(
    "cannot reach a loopback server that is not allowlisted, through the proxy or directly",
    { timeout: 60_000 },
    () => {
      expect(sandboxed.blocked.hits).toEqual([]);
      expect(sandboxed.results[2]).not.toContain("reached");
      // Control: unsandboxed there is no proxy (and `localhost.` does not resolve), but the
      // direct request lands.
      expect(control.blocked.hits).toEqual(["/direct"]);
    },
  );

  it("reaches an allowlisted server through the proxy", { timeout: 60_000 }, () => {
    expect(sandboxed.allowed.hits).toEqual(["/allowed"]);
    expect(sandboxed.results[3]).toContain("reached");
  });

  it("sees only the agent's environment, not the orchestrator's", { timeout: 60_000 }, () => {
    const env = sandboxed.results[4] ?? "";
    // The model received the listing: it really is what ran inside.
    expect(sandboxed.model.requests.some((r) => r.raw.includes("SANDBOX_RUNTIME=1"))).toBe(true);
    expect(env).not.toContain(CANARY);
    const names = new Set(
      env
        .split("\n")
        .map((l) => /^([A-Za-z_][A-Za-z0-9_]*)=/.exec(l)?.[1])
        .filter((n): n is string => n !== undefined),
    );
    const agentVars = Object.keys(claudeEnv(sandboxed.model, join(sandboxed.workspace, "unused")));
    for (const n of agentVars) expect(names.has(n), n).toBe(true);
    // Anything else is the sandbox's own (proxy settings) or the shells'.
    const extra = [...names].filter((n) => !agentVars.includes(n) && n !== "CLAUDE_CODE_TMPDIR");
    const allowedExtra =
      /^(SANDBOX_RUNTIME|.*_PROXY.*|[a-z]+_proxy|CLOUDSDK_PROXY_.*|GIT_SSH_COMMAND|GIT_CONFIG_.*|JAVA_TOOL_OPTIONS|CLAUDE_CODE_HOST_.*|CLAUDECODE|CLAUDE_[A-Z_]+|AI_AGENT|PWD|OLDPWD|SHLVL|_|COREPACK_.*|NoDefaultCurrentDirectoryInExePath|GIT_EDITOR|SHELL|OTEL_.*)$/;
    expect(extra.filter((n) => !allowedExtra.test(n))).toEqual([]);
  });
});

/** Runs `script` with bash inside the sandbox and returns its exit code and output. */
async function sandboxedBash(
  script: string,
  extraArgs: string[] = [],
  reads: Pick<SandboxPolicy, "readPaths" | "denyRead"> = { denyRead: [] },
): Promise<{ code: number | null; out: string; workspace: string }> {
  const base = temp("bash");
  const workspace = join(base, "ws");
  mkdirSync(workspace);
  execFileSync("git", ["init", "-q", workspace]);
  const policy: SandboxPolicy = {
    mode: "sandbox",
    workspace,
    home: join(base, "home"),
    tmp: join(base, "tmp"),
    allowedDomains: [],
    ...reads,
  };
  const inv: AgentInvocation = {
    command: "bash",
    args: ["-c", script, "probe", ...extraArgs],
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: policy.home },
    cwd: workspace,
  };
  const w = await wrapInvocation(inv, policy);
  try {
    const r = spawnSync(w.invocation.command, w.invocation.args, {
      cwd: w.invocation.cwd,
      env: w.invocation.env,
      encoding: "utf8",
      timeout: 30_000,
    });
    return { code: r.status, out: `${r.stdout}${r.stderr}`, workspace };
  } finally {
    await w.release();
    await w.release(); // idempotent
  }
}

describe("wrapInvocation", () => {
  it("with mode none, runs the invocation unconfined in its own PID namespace", async () => {
    const inv: AgentInvocation = { command: "x", args: ["y"], env: { A: "1" }, cwd: "/" };
    const w = await wrapInvocation(inv, {
      mode: "none",
      workspace: "relative/is/not/checked",
      home: "",
      tmp: "",
      allowedDomains: [],
      denyRead: [],
    });
    // bubblewrap is PID 1 of a new namespace over the same filesystem (test/security/ checks
    // that nothing outlives it); the command, environment and cwd are unchanged.
    expect(w.invocation).toEqual({
      command: findExecutable("bwrap"),
      args: ["--dev-bind", "/", "/", "--unshare-pid", "--die-with-parent", "--proc", "/proc", "--", "x", "y"],
      env: { A: "1" },
      cwd: "/",
    });
    expect(w.warning).toBeUndefined();
    await w.release();
  });

  it("refuses relative paths, which the library would resolve against the orchestrator", async () => {
    const inv: AgentInvocation = { command: "true", args: [], env: {}, cwd: "/" };
    await expect(
      wrapInvocation(inv, {
        mode: "sandbox",
        workspace: "ws",
        home: "/h",
        tmp: "/t",
        allowedDomains: [],
        denyRead: [],
      }),
    ).rejects.toThrow('workspace must be an absolute path, got "ws"');
  });

  it("with readPaths, reads only those, the workspace, HOME and TMPDIR; denyRead wins inside them", async () => {
    const outside = temp("outside");
    writeFileSync(join(outside, "secret.txt"), "outside-secret");
    const listed = temp("listed");
    writeFileSync(join(listed, "tool.txt"), "tool-ok");
    mkdirSync(join(listed, "private"));
    writeFileSync(join(listed, "private", "key"), "listed-secret");
    const r = await sandboxedBash(
      `cat ${outside}/secret.txt; cat ${listed}/tool.txt; cat ${listed}/private/key; ls /usr/bin/env; echo mine > own.txt && cat own.txt`,
      [],
      {
        readPaths: ["/usr", "/bin", "/lib", "/lib64", "/etc", NIGHTSHIFT_ROOT, listed].filter((p) =>
          existsSync(p),
        ),
        denyRead: [join(listed, "private")],
      },
    );
    expect(r.out).not.toContain("outside-secret");
    expect(r.out).not.toContain("listed-secret");
    expect(r.out).toContain("tool-ok");
    expect(r.out).toContain("/usr/bin/env");
    expect(r.out).toContain("mine");
  }, 60_000);

  it("leaves SIGINT and SIGTERM to nightshift: the library's handlers that would stop the proxy are removed", async () => {
    await resetSandbox();
    const before = ["SIGINT", "SIGTERM"].map((s) => process.listenerCount(s));
    const r = await sandboxedBash("echo wrapped");
    expect(r.out).toContain("wrapped");
    expect(["SIGINT", "SIGTERM"].map((s) => process.listenerCount(s))).toEqual(before);
    // sandbox-runtime's handler (it calls reset() on the first signal) is not among them.
    for (const s of ["SIGINT", "SIGTERM"] as const)
      expect(process.listeners(s).map((l) => l.name)).not.toContain("cleanupHandler");
  }, 60_000);

  it("denies the library's shared default write folder /tmp/claude", async () => {
    mkdirSync("/tmp/claude", { recursive: true });
    const marker = `/tmp/claude/from-sandbox-${randomBytes(4).toString("hex")}`;
    try {
      const r = await sandboxedBash(`touch ${marker}; echo rc=$?`);
      expect(r.out).toContain("Read-only file system");
      expect(existsSync(marker)).toBe(false);
    } finally {
      rmSync(marker, { force: true });
      // /tmp/claude stays: sandboxes wrapped meanwhile by other test files deny it by path, and
      // bubblewrap fails on a deny whose folder vanished between the wrap and the spawn.
    }
  }, 60_000);

  it("passes a long argv, which quoted into the wrapped command would pass 128 KiB (via a file in tmp)", async () => {
    // Linux limits ONE argument to 128 KiB; the wrap nests the command in quoted shell strings.
    const big = `${"x'".repeat(60_000)}'"$(touch /tmp/nope)`;
    const r = await sandboxedBash('printf %s "$1" | wc -c; printf %s "$1" | tail -c 20', [big]);
    expect(r.code).toBe(0);
    expect(r.out).toContain(String(Buffer.byteLength(big)));
    expect(r.out).toContain(`'"$(touch /tmp/nope)`);
    expect(existsSync("/tmp/nope")).toBe(false);
  }, 60_000);
});

describe("sandboxLoopbackUrl", () => {
  it("routes loopback URLs through the proxy as localhost.", () => {
    expect(sandboxLoopbackUrl("http://127.0.0.1:4321")).toEqual({
      url: "http://localhost.:4321",
      allow: "localhost:4321",
    });
    expect(sandboxLoopbackUrl("https://api.anthropic.com")).toEqual({
      url: "https://api.anthropic.com",
      allow: "api.anthropic.com:443",
    });
  });
});
