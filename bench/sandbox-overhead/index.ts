/**
 * bench/sandbox-overhead: what the agent sandbox and the setup cache cost.
 *
 * Part 1, sandbox: from "start the agent" (wrapInvocation + spawn, as runSession does) to the
 * agent's first transcript event, sandboxed (@anthropic-ai/sandbox-runtime: bubblewrap + proxy)
 * versus `sandbox: none`, in the same run, rounds in rotating order. Two agents:
 *  - claude-code: the real Claude Code CLI (node_modules/.bin/claude) against the scripted
 *    model server on 127.0.0.1 (test/support/model-server.ts); its first event is `system/init`.
 *    Also measured: spawn → exit (the whole one-reply run).
 *  - command: `/bin/sh -c 'echo ready'`, whose first event is its one line: the sandbox's
 *    cost without Claude Code's own start-up (~hundreds of ms) in the figure.
 * Target: ≤ 150 ms added (sandboxed median − unsandboxed median). The first wrap of a process
 * also initialises the sandbox library (its proxy); that one-off cost is reported apart.
 *
 * Part 2, setup cache: whole sessions (runSession, command agent, sandboxed) on a repository with
 * an npm project whose dependencies are local tarballs (`--packages` packages of 50 files each),
 * so `npm ci --offline` needs no network. Per round, in rotating order:
 *  - baseline: an environment without a setup script;
 *  - miss: an environment with `setup: npm ci … # miss N`, a new N each time, so its hash has no
 *    entry yet (runs the script, stores node_modules and ~/.npm). Entries are not deleted
 *    between rounds: deleting thousands of files slows the next file creations on some
 *    filesystems (see bench/README.md, session-start), which would penalise whoever runs next;
 *  - hit: an environment with the same script and a constant hash whose entry exists (restores it).
 * Measured: runSession() called → `agent_spawned` event; plus the setup events' own durations.
 *
 * Usage: node bench/sandbox-overhead/index.ts [--iterations 7] [--packages 20] [--skip-claude] [--keep]
 * Writes bench/results/sandbox-overhead.json.
 */
import { baseReadPaths } from "../../src/runner/sandbox/session-policy.ts";
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { cpus, tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { performance } from "node:perf_hooks";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { loadRoutine } from "../../src/config/load.ts";
import { ClaudeStreamParser } from "../../src/runner/agents/claude-code.ts";
import { runAgentProcess } from "../../src/runner/agents/spawn.ts";
import type { AgentInvocation, OutputParser } from "../../src/runner/agents/types.ts";
import { openProject } from "../../src/project.ts";
import { sandboxAvailable } from "../../src/runner/sandbox/availability.ts";
import type { SandboxPolicy } from "../../src/runner/sandbox/policy.ts";
import { resetSandbox, sandboxLoopbackUrl, wrapInvocation } from "../../src/runner/sandbox/wrap.ts";
import { runSession } from "../../src/runner/session.ts";
import { systemClock } from "../../src/util/clock.ts";
import { claudeEnv, startModelServer, type ModelServer } from "../../test/support/model-server.ts";
import { commitRepo } from "../lib/git-repo.ts";
import { median } from "../lib/stats.ts";
import { writeNpmFixture } from "./npm-fixture.ts";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const CLAUDE = join(ROOT, "node_modules", ".bin", "claude");
const TARGET_ADDED_MS = 150;

const { values: args } = parseArgs({
  options: {
    iterations: { type: "string", default: "7" },
    packages: { type: "string", default: "20" },
    "skip-claude": { type: "boolean", default: false },
    keep: { type: "boolean", default: false },
    help: { type: "boolean", short: "h", default: false },
  },
});
if (args.help) {
  console.log(
    "usage: node bench/sandbox-overhead/index.ts [--iterations N] [--packages N] [--skip-claude] [--keep]\n" +
      "  --iterations N  measured rounds (default 7), after one warm-up of each contender\n" +
      "  --packages N    npm packages (50 files each) that the setup script installs (default 20)\n" +
      "  --skip-claude   measure the sandbox with the command agent only\n" +
      "  --keep          keep the temporary folder (its path is printed)",
  );
  process.exit(0);
}
const ITERATIONS = positive(args.iterations, "--iterations");
const PACKAGES = positive(args.packages, "--packages");

function positive(v: string, what: string): number {
  const n = Number(v);
  if (Number.isInteger(n) && n > 0) return n;
  console.error(`sandbox-overhead: ${what} must be a positive whole number, got "${v}"`);
  process.exit(2);
}

interface Stats {
  samples: number[];
  median: number;
  min: number;
  max: number;
}
const stats = (xs: number[]): Stats => ({
  samples: xs.map((x) => Math.round(x * 10) / 10),
  median: median(xs),
  min: Math.min(...xs),
  max: Math.max(...xs),
});
const fmt = (ms: number) => `${ms.toFixed(0)} ms`;

// ---------------------------------------------------------------------------------------------
// Part 1: spawn → first event

type Agent = "claude" | "command";
type Mode = SandboxPolicy["mode"];

interface Spawned {
  /** wrap + spawn → first agent event (ms). */
  firstEventMs: number;
  /** wrap + spawn → exit (ms). */
  exitMs: number;
  /** wrapInvocation alone (ms). */
  wrapMs: number;
}

let runCounter = 0;

async function spawnOnce(dir: string, agent: Agent, mode: Mode, model?: ModelServer): Promise<Spawned> {
  const base = join(dir, `run-${++runCounter}`);
  const workspace = join(base, "workspace");
  const home = join(base, "home");
  const tmp = join(base, "tmp");
  for (const d of [workspace, home, tmp]) mkdirSync(d, { recursive: true });
  execFileSync("git", ["init", "-q", workspace]);
  let inv: AgentInvocation;
  let parser: OutputParser;
  const allowedDomains: string[] = [];
  if (agent === "claude") {
    const env: Record<string, string> = { ...claudeEnv(model!, home), TMPDIR: tmp, CLAUDE_CODE_TMPDIR: tmp };
    if (mode === "sandbox") {
      const loop = sandboxLoopbackUrl(model!.url);
      env.ANTHROPIC_BASE_URL = loop.url;
      allowedDomains.push(loop.allow);
    }
    inv = {
      command: CLAUDE,
      args: [
        "-p",
        "Say ok.",
        "--output-format",
        "stream-json",
        "--verbose",
        "--permission-mode",
        "bypassPermissions",
        "--tools",
        "Bash",
        "--strict-mcp-config",
        "--max-turns",
        "2",
      ],
      env,
      cwd: workspace,
    };
    parser = new ClaudeStreamParser();
  } else {
    inv = {
      command: "/bin/sh",
      args: ["-c", "echo ready"],
      env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: home, TMPDIR: tmp },
      cwd: workspace,
    };
    parser = {
      line: (text) => (text.trim() ? [{ type: "assistant", text }] : []),
      end: () => [{ type: "result", isError: false }],
    };
  }
  // The sessions' read policy: denied by default, the system folders and the toolchain readable.
  const policy: SandboxPolicy = {
    mode,
    workspace,
    home,
    tmp,
    allowedDomains,
    readPaths: baseReadPaths(),
    denyRead: [],
  };
  const t0 = performance.now();
  const wrapped = await wrapInvocation(inv, policy);
  const wrapMs = performance.now() - t0;
  let first: number | undefined;
  try {
    const r = await runAgentProcess(wrapped.invocation, {
      parser,
      onEvent: (ev) => {
        if (first === undefined && ev.type !== "stderr") first = performance.now() - t0;
      },
      clock: systemClock,
      timeoutMs: 120_000,
    });
    const exitMs = performance.now() - t0;
    if (r.exitCode !== 0) throw new Error(`${agent} (${mode}) exited with ${r.exitCode ?? r.signal}`);
    if (first === undefined) throw new Error(`${agent} (${mode}) printed no event`);
    return { firstEventMs: first, exitMs, wrapMs };
  } finally {
    await wrapped.release();
  }
}

// ---------------------------------------------------------------------------------------------
// Part 2: setup cache

const SETUP = "npm ci --offline --no-audit --no-fund --no-update-notifier --loglevel=error";

function writeConfig(repo: string, missRound: number): void {
  writeFileSync(
    join(repo, ".nightshift", "config.yaml"),
    [
      "environments:",
      "  plain:",
      "    network: none",
      "  npm-miss:",
      "    network: none",
      `    setup: ${JSON.stringify(`${SETUP} # miss ${missRound}`)}`,
      "  npm-hit:",
      "    network: none",
      `    setup: ${JSON.stringify(SETUP)}`,
      "",
    ].join("\n"),
  );
}

let missRound = 0;

async function setupProject(dir: string): Promise<string> {
  const repo = join(dir, "npm-repo");
  mkdirSync(join(repo, ".nightshift", "routines"), { recursive: true });
  writeNpmFixture(repo, PACKAGES);
  writeFileSync(join(repo, ".gitignore"), "node_modules/\n.nightshift/state/\n");
  writeConfig(repo, missRound);
  for (const [name, env] of [
    ["baseline", "plain"],
    ["setup-miss", "npm-miss"],
    ["setup-hit", "npm-hit"],
  ])
    writeFileSync(
      join(repo, ".nightshift", "routines", `${name}.md`),
      `---\nagent: command\ncommand: "true"\nenvironment: ${env}\n---\nNothing.\n`,
    );
  commitRepo(repo);
  return repo;
}

interface SessionTiming {
  /** runSession() → agent_spawned (ms). */
  startMs: number;
  /** The setup events' own duration: the script (miss) or the restore (hit), ms. */
  setupMs?: number;
  /** Saving the script's result into the cache (miss only), ms. */
  storeMs?: number;
}

async function timedSession(repo: string, expect: "none" | "miss" | "hit"): Promise<SessionTiming> {
  if (expect === "miss") writeConfig(repo, ++missRound);
  const project = await openProject(repo);
  try {
    const routineName = { none: "baseline", miss: "setup-miss", hit: "setup-hit" }[expect];
    const routine = loadRoutine(repo, routineName);
    let spawnedAt: number | undefined;
    let setupMs: number | undefined;
    let storeMs: number | undefined;
    const phases: string[] = [];
    const t0 = performance.now();
    const s = await runSession(project, {
      routine,
      onEvent: (ev) => {
        if (ev.type === "agent_spawned" && spawnedAt === undefined) spawnedAt = performance.now() - t0;
        if (ev.type === "setup") {
          phases.push(ev.phase);
          if (ev.durationMs !== undefined) setupMs = ev.durationMs;
          const stored = /stored in the setup cache in (\d+) ms/.exec(ev.detail ?? "");
          if (stored) storeMs = Number(stored[1]);
        }
      },
    });
    if (s.state !== "succeeded") throw new Error(`${routineName} session ${s.id} ${s.state}: ${s.reason}`);
    const want = { none: "", miss: "started,finished", hit: "restored" }[expect];
    if (phases.join(",") !== want)
      throw new Error(`expected setup ${want || "none"}, saw ${phases.join(",")}`);
    if (
      expect !== "none" &&
      !existsSync(join(s.workspace_path!, "workspace", "npm-repo", "node_modules", "fx-pkg1"))
    )
      throw new Error(`session ${s.id}: node_modules missing after setup`);
    return {
      startMs: spawnedAt!,
      ...(setupMs !== undefined ? { setupMs } : {}),
      ...(storeMs !== undefined ? { storeMs } : {}),
    };
  } finally {
    await project.close();
  }
}

/** Runs the `setup-hit` routine once so its hash has an entry (a miss, not timed). */
async function firstHitEntry(repo: string): Promise<void> {
  const project = await openProject(repo);
  try {
    const s = await runSession(project, { routine: loadRoutine(repo, "setup-hit") });
    if (s.state !== "succeeded") throw new Error(`setup-hit session ${s.id} ${s.state}: ${s.reason}`);
  } finally {
    await project.close();
  }
}

// ---------------------------------------------------------------------------------------------

async function main(): Promise<void> {
  const avail = await sandboxAvailable();
  if (!avail.ok) throw new Error(`the sandbox cannot run here: ${avail.reason}`);
  const dir = mkdtempSync(join(tmpdir(), "nightshift-bench-sandbox-"));
  const model = await startModelServer({ anthropic: [] });
  const cleanup = () => {
    if (args.keep) console.log(`kept ${dir}`);
    else rmSync(dir, { recursive: true, force: true });
  };
  try {
    // The first wrap of a process initialises the library (proxy servers): measured once, apart.
    const cold = await spawnOnce(dir, "command", "sandbox");
    const agents: Agent[] = args["skip-claude"] ? ["command"] : ["claude", "command"];
    const contenders = agents.flatMap((a) => (["sandbox", "none"] as Mode[]).map((m) => [a, m] as const));
    process.stdout.write("warm-up … ");
    for (const [a, m] of contenders) await spawnOnce(dir, a, m, model);
    console.log("done");
    const samples = new Map<string, Spawned[]>(contenders.map(([a, m]) => [`${a}/${m}`, []]));
    for (let i = 0; i < ITERATIONS; i++) {
      const row: string[] = [];
      for (let k = 0; k < contenders.length; k++) {
        const [a, m] = contenders[(i + k) % contenders.length]!;
        const r = await spawnOnce(dir, a, m, model);
        samples.get(`${a}/${m}`)!.push(r);
        row.push(`${a}/${m} ${fmt(r.firstEventMs)}`);
      }
      console.log(`  round ${i + 1}/${ITERATIONS}: ${row.join(" · ")}`);
    }

    process.stdout.write(`\nsetup cache: generating an npm project with ${PACKAGES} local packages … `);
    const repo = await setupProject(dir);
    await timedSession(repo, "none"); // publishes the forge repo, makes the mirror
    await timedSession(repo, "miss");
    await firstHitEntry(repo);
    await timedSession(repo, "hit");
    console.log("warmed up");
    const setupSamples = {
      baseline: [] as SessionTiming[],
      miss: [] as SessionTiming[],
      hit: [] as SessionTiming[],
    };
    const setupContenders: [keyof typeof setupSamples, () => Promise<SessionTiming>][] = [
      ["baseline", () => timedSession(repo, "none")],
      ["miss", () => timedSession(repo, "miss")],
      ["hit", () => timedSession(repo, "hit")],
    ];
    for (let i = 0; i < ITERATIONS; i++) {
      const row: string[] = [];
      for (let k = 0; k < setupContenders.length; k++) {
        const [key, fn] = setupContenders[(i + k) % setupContenders.length]!;
        const r = await fn();
        setupSamples[key].push(r);
        row.push(`${key} ${fmt(r.startMs)}`);
      }
      console.log(`  round ${i + 1}/${ITERATIONS}: ${row.join(" · ")}`);
    }

    // Report.
    const cols = (...c: string[]) =>
      `  ${c[0]!.padEnd(34)}${c
        .slice(1)
        .map((x) => x.padStart(11))
        .join("")}`;
    console.log(
      `\nsandbox-overhead · ${ITERATIONS} rounds · node ${process.version} · ${cpus().length} CPUs\n\n` +
        "  agent spawn → first transcript event (wrapInvocation + spawn → first parsed event)\n",
    );
    console.log(cols("", "median", "min", "max", "ratio", "added"));
    const part1: Record<string, unknown> = {};
    const added: Record<string, number> = {};
    for (const a of agents) {
      const none = stats(samples.get(`${a}/none`)!.map((s) => s.firstEventMs));
      const sbx = stats(samples.get(`${a}/sandbox`)!.map((s) => s.firstEventMs));
      added[a] = sbx.median - none.median;
      const label = a === "claude" ? "claude-code" : "command";
      console.log(
        cols(
          `${label}, sandboxed`,
          fmt(sbx.median),
          fmt(sbx.min),
          fmt(sbx.max),
          `${(sbx.median / none.median).toFixed(2)}×`,
          `+${fmt(added[a])}`,
        ),
      );
      console.log(
        cols(`${label}, none (baseline)`, fmt(none.median), fmt(none.min), fmt(none.max), "1.00×", ""),
      );
      const exitNone = stats(samples.get(`${a}/none`)!.map((s) => s.exitMs));
      const exitSbx = stats(samples.get(`${a}/sandbox`)!.map((s) => s.exitMs));
      const wrap = stats(samples.get(`${a}/sandbox`)!.map((s) => s.wrapMs));
      part1[a] = {
        sandboxed: sbx,
        none,
        addedMs: added[a],
        exit: { sandboxed: exitSbx, none: exitNone },
        wrapMs: wrap,
      };
      console.log(cols("  of which wrapInvocation", fmt(wrap.median), fmt(wrap.min), fmt(wrap.max), "", ""));
      if (a === "claude") {
        console.log(
          cols(
            "  whole run (→ exit), sandboxed",
            fmt(exitSbx.median),
            fmt(exitSbx.min),
            fmt(exitSbx.max),
            `${(exitSbx.median / exitNone.median).toFixed(2)}×`,
            `+${fmt(exitSbx.median - exitNone.median)}`,
          ),
        );
        console.log(
          cols(
            "  whole run (→ exit), none",
            fmt(exitNone.median),
            fmt(exitNone.min),
            fmt(exitNone.max),
            "1.00×",
            "",
          ),
        );
      }
    }
    const worst = Math.max(...Object.values(added));
    console.log(
      `\n  target ≤ ${TARGET_ADDED_MS} ms added (sandboxed median − unsandboxed median): ${worst <= TARGET_ADDED_MS ? "MET" : "MISSED"} (${Object.entries(
        added,
      )
        .map(([a, ms]) => `${a} +${ms.toFixed(0)} ms`)
        .join(", ")})`,
    );
    console.log(
      `  first wrap in a process (initialises the sandbox library and its proxy): ${fmt(cold.wrapMs)}`,
    );

    const b = stats(setupSamples.baseline.map((s) => s.startMs));
    const miss = stats(setupSamples.miss.map((s) => s.startMs));
    const hit = stats(setupSamples.hit.map((s) => s.startMs));
    const missSetup = stats(setupSamples.miss.map((s) => s.setupMs ?? 0));
    const hitSetup = stats(setupSamples.hit.map((s) => s.setupMs ?? 0));
    const missStore = stats(setupSamples.miss.map((s) => s.storeMs ?? 0));
    console.log(
      `\n  setup cache: runSession() → agent spawned, sandboxed, \`${SETUP}\` of ${PACKAGES} packages (${PACKAGES * 50 + PACKAGES} files)\n`,
    );
    console.log(cols("", "median", "min", "max", "ratio", "setup part"));
    console.log(cols("no setup script (baseline)", fmt(b.median), fmt(b.min), fmt(b.max), "1.00×", ""));
    console.log(
      cols(
        "cache miss (runs, stores)",
        fmt(miss.median),
        fmt(miss.min),
        fmt(miss.max),
        `${(miss.median / b.median).toFixed(2)}×`,
        fmt(missSetup.median),
      ),
    );
    console.log(
      cols(
        "cache hit (restores)",
        fmt(hit.median),
        fmt(hit.min),
        fmt(hit.max),
        `${(hit.median / b.median).toFixed(2)}×`,
        fmt(hitSetup.median),
      ),
    );
    console.log(
      `\n  hit vs miss: ${(hit.median / miss.median).toFixed(2)}× the session start (${fmt(miss.median - hit.median)} saved); ` +
        `setup part ${fmt(hitSetup.median)} restore vs ${fmt(missSetup.median)} script + ${fmt(missStore.median)} storing the result`,
    );

    const result = {
      benchmark: "sandbox-overhead",
      date: new Date().toISOString(),
      machine: { node: process.version, cpus: cpus().length, platform: process.platform },
      iterations: ITERATIONS,
      unit: "ms",
      spawnToFirstEvent: part1,
      targetAddedMs: TARGET_ADDED_MS,
      met: worst <= TARGET_ADDED_MS,
      firstWrapMs: cold.wrapMs,
      setupCache: {
        script: SETUP,
        packages: PACKAGES,
        baseline: b,
        miss,
        hit,
        setupPart: { miss: missSetup, missStore, hit: hitSetup },
        ratio: {
          miss: miss.median / b.median,
          hit: hit.median / b.median,
          hitVsMiss: hit.median / miss.median,
        },
      },
    };
    const out = join(ROOT, "bench", "results", "sandbox-overhead.json");
    mkdirSync(dirname(out), { recursive: true });
    writeFileSync(out, `${JSON.stringify(result, null, 2)}\n`);
    console.log(`\nwrote ${out}`);
  } finally {
    await model.close();
    await resetSandbox();
    cleanup();
  }
}

await main();
