/**
 * Prints every benchmark row with its target from the results the benchmarks just wrote to
 * bench/results/*.json, and with `--check` exits 1 when a target is missed or a result is
 * missing. Run by `bash scripts/bench` after the benchmarks; `node bench/summary.ts --check`
 * on its own re-reads the last results.
 *
 * Each row is a ratio against a baseline measured in the same run, or an absolute figure
 * (ms, % of a core, requests) where the target is absolute.
 */
import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const RESULTS = join(dirname(fileURLToPath(import.meta.url)), "results");

/** One row of the table: where its figure comes from and what it must be. */
interface Row {
  /** What is measured, as the table shows it. */
  name: string;
  /** The results file (bench/results/<file>.json). */
  file: string;
  /** The figure from that file's JSON; `undefined` when the result does not have it. */
  value(result: Record<string, unknown>): number | undefined;
  /** `max`: the figure must be at most `target`; `min`: at least. */
  bound: "max" | "min";
  target: number;
  /** How the figure and target are written: `×` ratio, `ms`, `%` of a core, `KiB`. */
  unit: "×" | "ms" | "%" | "KiB";
}

type Json = Record<string, unknown>;
const num = (v: unknown): number | undefined => (typeof v === "number" && Number.isFinite(v) ? v : undefined);
const at = (o: unknown, ...path: string[]): unknown =>
  path.reduce<unknown>((x, k) => (x && typeof x === "object" ? (x as Json)[k] : undefined), o);

/** Every row the README's benchmark table lists, with its target (issue 11's table). */
export const ROWS: Row[] = [
  {
    name: '`nightshift --version` vs `node -e ""`',
    file: "cli-start",
    value: (r) => num(at(r, "rows", "wrapperVersion", "ratio")),
    bound: "max",
    target: 2,
    unit: "×",
  },
  {
    name: "session start, `nightshift run` (CLI) vs clone --reference + switch",
    file: "session-start",
    value: (r) => num(at(r, "ratio", "cli")),
    bound: "max",
    target: 1.25,
    unit: "×",
  },
  {
    name: "session start, in-process vs clone --reference + switch",
    file: "session-start",
    value: (r) => num(at(r, "ratio", "inProcess")),
    bound: "max",
    target: 1.15,
    unit: "×",
  },
  {
    name: "webhook ingest, stored, throughput vs bare Hono 202",
    file: "webhook-ingest",
    value: (r) => num(at(r, "ratio", "throughput")),
    bound: "min",
    target: 0.5,
    unit: "×",
  },
  {
    name: "webhook ingest, stored, p99 latency",
    file: "webhook-ingest",
    value: (r) => num(at(r, "nightshift", "p99")),
    bound: "max",
    target: 50,
    unit: "ms",
  },
  {
    name: "scheduler, 10,000 routines, idle CPU at the 5 s tick (% of a core)",
    file: "scheduler",
    // Counting the 60 s full check of the routines folder, spread over its period.
    value: (r) => num(at(r, "rows", "idleCpuPercentWithFullCheck")),
    bound: "max",
    target: 0.5,
    unit: "%",
  },
  {
    name: "scheduler, 10,000 routines all due, fire lateness p99",
    file: "scheduler",
    value: (r) => num(at(r, "rows", "dueLatenessP99Ms")),
    bound: "max",
    target: 500,
    unit: "ms",
  },
  {
    name: "sandbox overhead, spawn → first event, Claude Code (added ms)",
    file: "sandbox-overhead",
    value: (r) => num(at(r, "spawnToFirstEvent", "claude", "addedMs")),
    bound: "max",
    target: 100,
    unit: "ms",
  },
  {
    name: "sandbox overhead, spawn → first event, command (added ms)",
    file: "sandbox-overhead",
    value: (r) => num(at(r, "spawnToFirstEvent", "command", "addedMs")),
    bound: "max",
    target: 100,
    unit: "ms",
  },
  {
    name: "agents page over 100,000 sessions, server time p95",
    file: "agents-view",
    value: (r) => num(at(r, "rows", "agents_page", "p95")),
    bound: "max",
    target: 100,
    unit: "ms",
  },
  {
    name: "event → browser latency through SSE, p95",
    file: "agents-view",
    value: (r) => num(at(r, "rows", "sse_latency", "p95")),
    bound: "max",
    target: 250,
    unit: "ms",
  },
  {
    name: "`serve` memory per open event stream (50 streams, sessions changing; added over one stream), KiB",
    file: "agents-view",
    value: (r) => num(at(r, "rows", "serve_rss_50_streams", "perStreamKiB")),
    bound: "max",
    target: 1024,
    unit: "KiB",
  },
  {
    name: "guard pass over 500 PRs: PRodder's requests ÷ nightshift's (fewest of the passes)",
    file: "guard-requests",
    value: (r) => {
      const passes = at(r, "passes");
      if (!Array.isArray(passes) || passes.length === 0) return undefined;
      const ratios = passes.map((p) => num(at(p, "ratio", "requests")));
      return ratios.every((x) => x !== undefined) ? Math.min(...(ratios as number[])) : undefined;
    },
    bound: "min",
    target: 20,
    unit: "×",
  },
];

const fmt = (v: number, unit: Row["unit"]): string =>
  unit === "×"
    ? `${v.toFixed(2)}×`
    : unit === "%"
      ? `${v.toFixed(2)} %`
      : unit === "KiB"
        ? `${v.toFixed(0)} KiB`
        : `${v.toFixed(1)} ms`;

/** Reads the results, prints the table; returns the number of rows missed or missing. */
export function summarise(print: (line: string) => void = console.log): number {
  const cache = new Map<string, Json | undefined>();
  const load = (file: string): Json | undefined => {
    if (!cache.has(file)) {
      const path = join(RESULTS, `${file}.json`);
      cache.set(file, existsSync(path) ? (JSON.parse(readFileSync(path, "utf8")) as Json) : undefined);
    }
    return cache.get(file);
  };
  let bad = 0;
  print("");
  print("| benchmark | measured | target | met |");
  print("| --- | --- | --- | --- |");
  for (const row of ROWS) {
    const result = load(row.file);
    const value = result ? row.value(result) : undefined;
    const target = `${row.bound === "max" ? "≤" : "≥"} ${fmt(row.target, row.unit)}`;
    if (value === undefined) {
      bad++;
      print(`| ${row.name} | no result (run node bench/${row.file}…) | ${target} | ✗ |`);
      continue;
    }
    const met = row.bound === "max" ? value <= row.target : value >= row.target;
    if (!met) bad++;
    print(`| ${row.name} | ${fmt(value, row.unit)} | ${target} | ${met ? "✓" : "✗"} |`);
  }
  return bad;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const missed = summarise();
  if (process.argv.includes("--check") && missed > 0) {
    console.error(`\nbench: ${missed} row(s) missed their target or have no result`);
    process.exitCode = 1;
  }
}
