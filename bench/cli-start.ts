/**
 * bench/cli-start: how long the `nightshift` CLI takes to start and do a trivial command, as a
 * ratio to `node -e ""` (Node's own start-up) measured in the same run. Target: ≤ 2× (medians)
 * for `--version`, through bin/nightshift.js and through the ./nightshift wrapper.
 *
 * Rows, each a child process from spawn to exit, in rotating order within every round:
 *  - `node -e ""`: the baseline;
 *  - `node bin/nightshift.js --version`: the entry point, which runs the bundle (dist/) when it
 *    is fresh;
 *  - `./nightshift --version`: the checkout's wrapper (bash, scripts/env.sh, then the above);
 *  - `node bin/nightshift.js sessions list`: a command that opens the project (store, forge) on
 *    an initialised project with no sessions (`nightshift init` in a temporary git repository);
 *  - `node src/cli/main.ts --version` and `… sessions list` with `NIGHTSHIFT_SOURCES=1`: the
 *    TypeScript sources, which the tests run, for comparison.
 *
 * The bundle is built (scripts/build.mjs) before the warm-up; when a source file changes during
 * the run (someone editing the checkout) it is rebuilt before the next round, and the report
 * says how often. Every command's exit status and output is checked in the warm-up.
 *
 * Usage: node bench/cli-start.ts [--iterations 21] [--warmup 3] [--keep] [--check]
 * Writes bench/results/cli-start.json.
 */
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { cpus, tmpdir } from "node:os";
import { delimiter, dirname, join } from "node:path";
import { performance } from "node:perf_hooks";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { median, percentile } from "./lib/stats.ts";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");
const TARGET = 2;

const { values: args } = parseArgs({
  options: {
    iterations: { type: "string", default: "21" },
    warmup: { type: "string", default: "3" },
    keep: { type: "boolean", default: false },
    check: { type: "boolean", default: false },
    help: { type: "boolean", short: "h", default: false },
  },
});
if (args.help) {
  console.log(
    "usage: node bench/cli-start.ts [--iterations N] [--warmup N] [--keep] [--check]\n" +
      "  --iterations N  measured rounds (default 21); every row runs once per round\n" +
      "  --warmup N      unmeasured rounds first (default 3; fills the compile cache)\n" +
      "  --keep          keep the temporary project (its path is printed)\n" +
      "  --check         exit 1 when a `--version` row's median ratio is above the target",
  );
  process.exit(0);
}
const ITERATIONS = whole(args.iterations, "--iterations", 1);
const WARMUP = whole(args.warmup, "--warmup", 0);

function whole(v: string, what: string, min: number): number {
  const n = Number(v);
  if (Number.isInteger(n) && n >= min) return n;
  console.error(`cli-start: ${what} must be a whole number ≥ ${min}, got "${v}"`);
  process.exit(2);
}

interface Row {
  key: string;
  label: string;
  argv: string[];
  env?: Record<string, string>;
  /** The ratio target, when the row has one. */
  target?: number;
  /** What stdout must contain in the warm-up. */
  expect: string;
}

interface Stats {
  samples: number[];
  median: number;
  p90: number;
  min: number;
  max: number;
}

function stats(samples: number[]): Stats {
  const sorted = [...samples].sort((a, b) => a - b);
  return {
    samples: samples.map((x) => Math.round(x * 100) / 100),
    median: median(samples),
    p90: percentile(sorted, 90),
    min: sorted[0]!,
    max: sorted[sorted.length - 1]!,
  };
}

const fmt = (ms: number) => `${ms.toFixed(1)} ms`;

/** Runs `argv` to completion; returns its wall time, stdout and status. */
function run(
  argv: string[],
  env: NodeJS.ProcessEnv,
  cwd: string,
): { ms: number; out: string; status: number | null; err: string } {
  const t = performance.now();
  const r = spawnSync(argv[0]!, argv.slice(1), {
    cwd,
    env,
    encoding: "utf8",
    stdio: ["ignore", "pipe", "pipe"],
  });
  const ms = performance.now() - t;
  return { ms, out: r.stdout ?? "", err: r.stderr ?? "", status: r.status };
}

/** Whether a source file (tests aside) or package-lock.json is newer than dist/.stamp — the rule of bin/nightshift.js. */
function bundleStale(): boolean {
  const stamp = statSync(join(ROOT, "dist", ".stamp"), { throwIfNoEntry: false });
  if (!stamp || !statSync(join(ROOT, "dist", "main.js"), { throwIfNoEntry: false })) return true;
  if (statSync(join(ROOT, "package-lock.json")).mtimeMs > stamp.mtimeMs) return true;
  const newer = (dir: string): boolean =>
    readdirSync(dir, { withFileTypes: true }).some((e) =>
      e.isDirectory()
        ? newer(join(dir, e.name))
        : !e.name.endsWith(".test.ts") && statSync(join(dir, e.name)).mtimeMs > stamp.mtimeMs,
    );
  return newer(join(ROOT, "src"));
}

function buildBundle(): number {
  const r = run([process.execPath, join(ROOT, "scripts", "build.mjs"), "--quiet"], process.env, ROOT);
  if (r.status !== 0) throw new Error(`cli-start: scripts/build.mjs failed:\n${r.err}`);
  return r.ms;
}

function main(): void {
  const dir = mkdtempSync(join(tmpdir(), "nightshift-bench-cli-start-"));
  const cleanup = () => {
    if (args.keep) console.log(`kept ${dir}`);
    else rmSync(dir, { recursive: true, force: true });
  };
  try {
    // The same Node for every row: the wrapper's scripts/env.sh finds it first on PATH.
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      PATH: `${dirname(process.execPath)}${delimiter}${process.env.PATH ?? ""}`,
    };
    delete env.NIGHTSHIFT_SOURCES;
    delete env.NIGHTSHIFT_BUNDLE_FRESH;
    const project = join(dir, "project");
    mkdirSync(project);
    const git = run(["git", "init", "--quiet", "--initial-branch=main", project], env, dir);
    if (git.status !== 0) throw new Error(`cli-start: git init failed: ${git.err}`);

    process.stdout.write("building the bundle (scripts/build.mjs) … ");
    console.log(fmt(buildBundle()));
    const init = run([process.execPath, join(ROOT, "bin", "nightshift.js"), "init"], env, project);
    if (init.status !== 0) throw new Error(`cli-start: nightshift init failed: ${init.err}`);

    const node = process.execPath;
    const bin = join(ROOT, "bin", "nightshift.js");
    const sources = { NIGHTSHIFT_SOURCES: "1" };
    const rows: Row[] = [
      { key: "node", label: 'node -e ""', argv: [node, "-e", ""], expect: "" },
      {
        key: "binVersion",
        label: "node bin/nightshift.js --version",
        argv: [node, bin, "--version"],
        target: TARGET,
        expect: "0.1.0",
      },
      {
        key: "wrapperVersion",
        label: "./nightshift --version",
        argv: [join(ROOT, "nightshift"), "--version"],
        target: TARGET,
        expect: "0.1.0",
      },
      {
        key: "binSessionsList",
        label: "node bin/nightshift.js sessions list",
        argv: [node, bin, "sessions", "list"],
        expect: "no sessions yet",
      },
      {
        key: "sourcesVersion",
        label: "node src/cli/main.ts --version",
        argv: [node, join(ROOT, "src", "cli", "main.ts"), "--version"],
        expect: "0.1.0",
      },
      {
        key: "sourcesSessionsList",
        label: "NIGHTSHIFT_SOURCES=1 … sessions list",
        argv: [node, bin, "sessions", "list"],
        env: sources,
        expect: "no sessions yet",
      },
    ];
    const envOf = (r: Row) => (r.env ? { ...env, ...r.env } : env);

    let rebuilds = 0;
    const fresh = () => {
      if (!bundleStale()) return;
      buildBundle();
      rebuilds++;
    };
    process.stdout.write(`warm-up (${WARMUP} rounds, checking every command's output) … `);
    for (let i = 0; i < Math.max(1, WARMUP); i++) {
      fresh();
      for (const r of rows) {
        const out = run(r.argv, envOf(r), project);
        if (out.status !== 0 || !out.out.includes(r.expect))
          throw new Error(
            `cli-start: \`${r.label}\` exited ${out.status}, stdout ${JSON.stringify(out.out)}\n${out.err}`,
          );
      }
    }
    console.log("done");

    const samples: Record<string, number[]> = Object.fromEntries(rows.map((r) => [r.key, []]));
    for (let i = 0; i < ITERATIONS; i++) {
      fresh();
      // Rotate the order so no row always runs right after the same other one.
      for (let k = 0; k < rows.length; k++) {
        const r = rows[(i + k) % rows.length]!;
        const out = run(r.argv, envOf(r), project);
        if (out.status !== 0) throw new Error(`cli-start: \`${r.label}\` exited ${out.status}\n${out.err}`);
        samples[r.key]!.push(out.ms);
      }
      if (process.stdout.isTTY) process.stdout.write(`\r  round ${i + 1}/${ITERATIONS}`);
    }
    process.stdout.write(process.stdout.isTTY ? "\n" : `  ${ITERATIONS} rounds done\n`);

    const base = stats(samples.node!);
    const result: Record<
      string,
      Stats & { label: string; ratio: number; minRatio: number; target?: number; met?: boolean }
    > = {};
    for (const r of rows) {
      const s = stats(samples[r.key]!);
      result[r.key] = {
        label: r.label,
        ...s,
        ratio: s.median / base.median,
        minRatio: s.min / base.min,
        ...(r.target !== undefined ? { target: r.target, met: s.median / base.median <= r.target } : {}),
      };
    }

    const cols = (a: string, b: string, c: string, d: string, e: string, f: string, g: string) =>
      `  ${a.padEnd(40)}${b.padStart(10)}${c.padStart(10)}${d.padStart(10)}${e.padStart(8)}${f.padStart(11)}${g.padStart(9)}`;
    console.log(`\ncli-start · ${ITERATIONS} rounds · node ${process.version} · ${cpus().length} CPUs\n`);
    console.log(cols("", "median", "p90", "min", "ratio", "min ratio", "target"));
    for (const r of rows) {
      const s = result[r.key]!;
      const target = s.target === undefined ? "" : `≤ ${s.target}× ${s.met ? "MET" : "MISSED"}`;
      console.log(
        cols(
          s.label,
          fmt(s.median),
          fmt(s.p90),
          fmt(s.min),
          `${s.ratio.toFixed(2)}×`,
          `${s.minRatio.toFixed(2)}×`,
          "",
        ) + (target ? `  ${target}` : ""),
      );
    }
    if (rebuilds > 0)
      console.log(
        `\n  note: sources changed during the run; the bundle was rebuilt ${rebuilds} time(s) between rounds`,
      );
    const noisy = rows.some((r) => result[r.key]!.p90 > 1.5 * result[r.key]!.min);
    if (noisy)
      console.log(
        "\n  note: some rows vary by more than 1.5× (p90 against min): other load on the machine.\n" +
          "  The min ratio (quietest sample of each row) is the better guide then.",
      );

    const out = join(ROOT, "bench", "results", "cli-start.json");
    mkdirSync(dirname(out), { recursive: true });
    writeFileSync(
      out,
      `${JSON.stringify(
        {
          benchmark: "cli-start",
          date: new Date().toISOString(),
          machine: { node: process.version, cpus: cpus().length, platform: process.platform },
          iterations: ITERATIONS,
          warmup: WARMUP,
          unit: "ms",
          baseline: "node",
          target: TARGET,
          rebuilds,
          noisy,
          rows: result,
        },
        null,
        2,
      )}\n`,
    );
    console.log(`\nwrote ${out}`);
    if (args.check && rows.some((r) => result[r.key]!.met === false)) process.exitCode = 1;
  } finally {
    cleanup();
  }
}

main();
