/**
 * bench/scheduler: what the daemon's scheduler costs with many routines (default 10,000), all
 * scheduled every minute, measured in-process with a ManualClock (no real minutes pass).
 *
 * Each "daemon tick" is the daemon's own tick: `createDaemonScheduler(project).tick()` from
 * src/daemon/daemon-scheduler.ts, the function `nightshift serve` calls every 5 s — the routines
 * folder brought up to date by its `RoutineWatcher` (only files with a watch event are read),
 * `tickSchedules()`, `markLateRuns()` and the log lines (written to a discarding stream), then,
 * every 60 s of clock time, the watcher's full check (stats every file). The ticks follow the daemon's 5-second cadence in clock
 * time: one first tick (every cursor is created, nothing fires), then per simulated minute one
 * tick just after the minute (every routine has a slot due: N runs are inserted) and a few idle
 * ticks 5 s apart (nothing due).
 *
 * Measured:
 *  - wall and CPU time (`process.cpuUsage()`) of each part of each tick, and the store queries
 *    it made (a Kysely plugin on the handle the scheduler gets counts and times them, BEGIN and
 *    COMMIT included);
 *  - fire lateness of every routine in a due tick: wall time from the start of the tick (the
 *    moment the daemon's timer fires and the routines are refreshed) to the end of
 *    `tickSchedules`, by when the tick's one transaction has committed every run — what the
 *    scheduler adds on top of the tick interval. Target: p99 ≤ 500 ms;
 *  - the idle CPU share: CPU time of an idle tick / the 5 s tick interval. Target ≤ 0.5 % of a
 *    core. Also shown with the watcher's 60 s full check spread over the minute;
 *  - queries per fire in a due tick;
 *  - `loadRoutines`, a full check of the watcher, and `compileSchedule` of every routine on
 *    their own.
 *
 * Usage: node bench/scheduler.ts [--routines 10000] [--due-ticks 3] [--idle-ticks 3] [--keep]
 * Writes bench/results/scheduler.json (`rows.idleCpuPercent`, `rows.dueLatenessP99Ms`,
 * `rows.queriesPerFire`, with `targets`).
 */
import { mkdirSync, mkdtempSync, readdirSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import { cpus, tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { performance } from "node:perf_hooks";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import {
  type KyselyPlugin,
  type PluginTransformQueryArgs,
  type PluginTransformResultArgs,
  type QueryResult,
  type RootOperationNode,
  type UnknownRow,
} from "kysely";
import { loadRoutines } from "../src/config/load.ts";
import {
  createDaemonScheduler,
  type DaemonScheduler,
  type TickPhase,
} from "../src/daemon/daemon-scheduler.ts";
import { createLogger } from "../src/daemon/logger.ts";
import { RoutineWatcher } from "../src/daemon/routine-watch.ts";
import { openProject, type Project } from "../src/project.ts";
import { compileSchedule } from "../src/scheduler/schedule.ts";
import { ManualClock } from "../src/util/clock.ts";
import { commitRepo } from "./lib/git-repo.ts";
import { median, percentile } from "./lib/stats.ts";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");
/** The daemon's tick interval (src/daemon/serve.ts `tickMs` default). */
const TICK_MS = 5_000;
/** Seconds after the minute the due tick happens (the daemon's timer is not aligned to minutes). */
const DUE_OFFSET_MS = 2_000;
/** The targets of issue 11. */
const TARGETS = { idleCpuPercent: 0.5, dueLatenessP99Ms: 500 };
/** Every one of these fires every minute; the mix exercises steps, ranges and time zones. */
const SCHEDULES: string[][] = [
  ['  - schedule: "* * * * *"'],
  ['  - schedule: "*/1 * * * *"'],
  ['  - schedule: "0-59 * * * *"'],
  ['  - schedule: "* * * * *"', "    timezone: Europe/Berlin"],
  ['  - schedule: "* 0-23 * * *"', "    timezone: America/New_York"],
];

const { values: args } = parseArgs({
  options: {
    routines: { type: "string", default: "10000" },
    "due-ticks": { type: "string", default: "3" },
    "idle-ticks": { type: "string", default: "3" },
    keep: { type: "boolean", default: false },
    help: { type: "boolean", short: "h", default: false },
  },
});
if (args.help) {
  console.log(
    "usage: node bench/scheduler.ts [--routines N] [--due-ticks N] [--idle-ticks N] [--keep]\n" +
      "  --routines N    routine files, every one scheduled every minute (default 10000)\n" +
      "  --due-ticks N   simulated minutes: ticks where every routine has a slot due (default 3)\n" +
      "  --idle-ticks N  idle ticks (nothing due) after each due tick, 5 s apart (default 3, at most 11)\n" +
      "  --keep          keep the temporary folder (its path is printed)",
  );
  process.exit(0);
}
const ROUTINES = positive(args.routines, "--routines");
const DUE_TICKS = positive(args["due-ticks"], "--due-ticks");
const IDLE_TICKS = Math.min(11, positive(args["idle-ticks"], "--idle-ticks"));

function positive(v: string, what: string): number {
  const n = Number(v);
  if (Number.isInteger(n) && n > 0) return n;
  console.error(`scheduler: ${what} must be a positive whole number, got "${v}"`);
  process.exit(2);
}

// ---------------------------------------------------------------------------------------------
// Set-up

function makeProject(repo: string, n: number): void {
  const routinesDir = join(repo, ".nightshift", "routines");
  mkdirSync(routinesDir, { recursive: true });
  writeFileSync(join(repo, "README.md"), "# bench/scheduler\n");
  writeFileSync(join(repo, ".nightshift", ".gitignore"), "state/\n");
  for (let i = 0; i < n; i++) {
    writeFileSync(
      join(routinesDir, `every-minute-${String(i).padStart(5, "0")}.md`),
      [
        "---",
        `description: bench/scheduler routine ${i}`,
        "agent: command",
        'command: "true"',
        "overlap: allow",
        "triggers:",
        ...SCHEDULES[i % SCHEDULES.length]!,
        "---",
        "Do nothing.",
        "",
      ].join("\n"),
    );
  }
  // The routine files stay untracked: the daemon reads them from the working tree.
  commitRepo(repo, ["README.md"]);
}

// ---------------------------------------------------------------------------------------------
// Timing: a Kysely plugin on the handle tickSchedules gets

/** Counts and times every query. */
class QueryTimer implements KyselyPlugin {
  queries = 0;
  queryMs = 0;
  #started = new WeakMap<object, number>();

  reset(): void {
    this.queries = 0;
    this.queryMs = 0;
  }

  transformQuery(args: PluginTransformQueryArgs): RootOperationNode {
    this.#started.set(args.queryId, performance.now());
    return args.node;
  }

  async transformResult(args: PluginTransformResultArgs): Promise<QueryResult<UnknownRow>> {
    const end = performance.now();
    const s = this.#started.get(args.queryId);
    if (s !== undefined) {
      this.queries++;
      this.queryMs += end - s;
    }
    return args.result;
  }
}

// ---------------------------------------------------------------------------------------------
// One daemon tick

interface Part {
  wallMs: number;
  cpuMs: number;
}

interface Tick {
  kind: "first" | "due" | "idle";
  at: string;
  load: Part;
  schedule: Part;
  watchdog: Part;
  /** The watcher's periodic full check, after the fires (empty most ticks). */
  check: Part;
  total: Part;
  queries: number;
  queryMs: number;
  fired: number;
  missed: number;
  warnings: number;
  lateMarked: number;
  /** ms from the tick's start to each run's commit (due ticks). */
  lateness: number[];
}

function timed<T>(fn: () => T): { value: T; part: Part; start: number } {
  const cpu0 = process.cpuUsage();
  const start = performance.now();
  const value = fn();
  const wallMs = performance.now() - start;
  const cpu = process.cpuUsage(cpu0);
  return { value, part: { wallMs, cpuMs: (cpu.user + cpu.system) / 1000 }, start };
}

/** Times the phases of a tick through the scheduler's probe. */
class PhaseTimer {
  parts = new Map<TickPhase, Part>();
  starts = new Map<TickPhase, { wall: number; cpu: NodeJS.CpuUsage }>();
  ends = new Map<TickPhase, number>();

  probe = (phase: TickPhase, edge: "start" | "end"): void => {
    if (edge === "start") {
      this.starts.set(phase, { wall: performance.now(), cpu: process.cpuUsage() });
      return;
    }
    const s = this.starts.get(phase)!;
    const end = performance.now();
    const cpu = process.cpuUsage(s.cpu);
    this.ends.set(phase, end);
    this.parts.set(phase, { wallMs: end - s.wall, cpuMs: (cpu.user + cpu.system) / 1000 });
  };

  reset(): void {
    this.parts.clear();
    this.starts.clear();
    this.ends.clear();
  }
}

/** One tick of the daemon's scheduler (the function `nightshift serve` calls), each part timed. */
async function daemonTick(
  scheduler: DaemonScheduler,
  timer: QueryTimer,
  phases: PhaseTimer,
  kind: Tick["kind"],
): Promise<Tick> {
  timer.reset();
  phases.reset();
  const cpu0 = process.cpuUsage();
  const wall0 = performance.now();
  const { now, report, loadErrors, late } = await scheduler.tick();
  const wallEnd = performance.now();
  const cpu = process.cpuUsage(cpu0);
  if (loadErrors.length)
    throw new Error(`invalid routine files: ${loadErrors.map((e) => e.message).join("; ")}`);
  const tickStart = phases.starts.get("load")!.wall;
  // Every run of the tick is committed by the one transaction that ends within tickSchedules.
  const committed = phases.ends.get("schedule")! - tickStart;
  return {
    kind,
    at: new Date(now).toISOString(),
    load: phases.parts.get("load")!,
    schedule: phases.parts.get("schedule")!,
    watchdog: phases.parts.get("watchdog")!,
    check: phases.parts.get("check")!,
    total: { wallMs: wallEnd - wall0, cpuMs: (cpu.user + cpu.system) / 1000 },
    queries: timer.queries,
    queryMs: timer.queryMs,
    fired: report.fired.length,
    missed: report.missed.length,
    warnings: report.warnings.length,
    lateMarked: late.length,
    lateness: report.fired.filter((f) => f.outcome === "queued").map(() => committed),
  };
}

// ---------------------------------------------------------------------------------------------
// Report helpers

const ms = (x: number) => (x >= 100 ? `${x.toFixed(0)} ms` : `${x.toFixed(1)} ms`);
const pct = (x: number) => `${(x * 100).toFixed(x < 0.1 ? 2 : 1)}%`;

async function main(): Promise<void> {
  const wall0 = performance.now();
  const dir = mkdtempSync(join(tmpdir(), "nightshift-bench-scheduler-"));
  const repo = join(dir, "repo");
  mkdirSync(repo);
  let project: Project | undefined;
  let scheduler: DaemonScheduler | undefined;
  const cleanup = async () => {
    scheduler?.close();
    await project?.close();
    if (args.keep) console.log(`kept ${dir}`);
    else rmSync(dir, { recursive: true, force: true });
  };
  process.once("SIGINT", () => {
    void cleanup().finally(() => process.exit(130));
  });
  try {
    process.stdout.write(`writing ${ROUTINES} routine files … `);
    let t = performance.now();
    makeProject(repo, ROUTINES);
    console.log(ms(performance.now() - t));

    const start = Date.UTC(2026, 0, 1, 0, 0, DUE_OFFSET_MS / 1000);
    const clock = new ManualClock(start);
    process.stdout.write("openProject (loads every routine once) … ");
    t = performance.now();
    project = await openProject(repo, { clock });
    console.log(ms(performance.now() - t));

    // loadRoutines and compileSchedule on their own. "changed": every routine file gets a new
    // mtime first (untimed), so loadRoutines reads and parses them all, as after an edit or on a
    // start; "unchanged": what the daemon's ticks see (loadRoutines may reuse parsed files).
    const routinesDir = join(repo, ".nightshift", "routines");
    const files = readdirSync(routinesDir).map((f) => join(routinesDir, f));
    const loadsChanged: Part[] = [];
    const loadsUnchanged: Part[] = [];
    for (let i = 0; i < 3; i++) {
      const when = new Date(Date.UTC(2025, 0, 1, 0, 0, i));
      for (const f of files) utimesSync(f, when, when);
      loadsChanged.push(timed(() => loadRoutines(project!.root)).part);
      loadsUnchanged.push(timed(() => loadRoutines(project!.root)).part);
    }
    const routines = loadRoutines(project.root).routines;
    if (routines.length !== ROUTINES) throw new Error(`loaded ${routines.length} of ${ROUTINES} routines`);
    const compile = timed(() => {
      for (const r of routines)
        for (const tr of r.triggers)
          if ("schedule" in tr)
            compileSchedule(tr, { minIntervalMs: project!.config.scheduler.min_interval });
    }).part;
    // The watcher on its own: its first refresh reads every file; a full check (every 60 s of
    // clock time) lists the folder and stats every file, reading none when nothing changed.
    const watchClock = new ManualClock(start);
    const watcher = new RoutineWatcher(project.root, { clock: watchClock });
    const watchInitial = timed(() => watcher.refresh()).part;
    watchClock.advance(60_000);
    const watchFull = timed(() => watcher.refresh()).part;
    const watchIdle = timed(() => watcher.refresh()).part;
    if (watcher.stats.parses !== ROUTINES || watcher.stats.fullChecks !== 2)
      throw new Error(`watcher: ${JSON.stringify(watcher.stats)}`);
    watcher.close();
    const med = (ps: Part[]) => ({
      wallMs: median(ps.map((p) => p.wallMs)),
      cpuMs: median(ps.map((p) => p.cpuMs)),
    });
    const alone = {
      loadChanged: med(loadsChanged),
      loadUnchanged: med(loadsUnchanged),
      compileSchedules: compile,
      watcherFirstRefresh: watchInitial,
      watcherFullCheck: watchFull,
      watcherRefreshUnchanged: watchIdle,
    };
    console.log(
      `loadRoutines alone: files changed ${ms(alone.loadChanged.wallMs)}, unchanged ${ms(alone.loadUnchanged.wallMs)}` +
        ` · compileSchedule ×${ROUTINES}: ${ms(compile.wallMs)}` +
        ` · watcher: first refresh ${ms(watchInitial.wallMs)}, full check ${ms(watchFull.wallMs)}, refresh without events ${ms(watchIdle.wallMs)}`,
    );

    const timer = new QueryTimer();
    const phases = new PhaseTimer();
    // The daemon's own scheduler, on a handle that counts queries; log lines are written (as the
    // daemon does) to a stream that discards them.
    const discard = { write: () => undefined };
    scheduler = createDaemonScheduler(project, {
      logger: createLogger({ destination: discard, pretty: false, level: "info" }),
      cancelRunning: () => 0,
      db: project.store.db.withPlugin(timer),
      probe: phases.probe,
    });
    const ticks: Tick[] = [];
    const show = (k: Tick) =>
      console.log(
        `  ${k.kind.padEnd(5)} ${k.at}: ${ms(k.total.wallMs).padStart(9)} (load ${ms(k.load.wallMs)}, ` +
          `schedule ${ms(k.schedule.wallMs)}, watchdog ${ms(k.watchdog.wallMs)}, full check ${ms(k.check.wallMs)}) · ` +
          `cpu ${ms(k.total.cpuMs)} · ${k.queries} queries · fired ${k.fired}`,
      );
    const first = await daemonTick(scheduler, timer, phases, "first");
    ticks.push(first);
    show(first);
    if (first.fired !== 0 || first.warnings !== 0)
      throw new Error(`first tick fired ${first.fired}, ${first.warnings} warnings`);
    for (let m = 1; m <= DUE_TICKS; m++) {
      clock.advance(start + m * 60_000 - clock.now());
      const due = await daemonTick(scheduler, timer, phases, "due");
      ticks.push(due);
      show(due);
      if (due.fired !== ROUTINES || due.lateness.length !== ROUTINES || due.missed || due.warnings)
        throw new Error(
          `due tick: fired ${due.fired}, ${due.lateness.length} runs inserted, ${due.missed} missed, ${due.warnings} warnings; expected ${ROUTINES} fired`,
        );
      for (let i = 0; i < IDLE_TICKS; i++) {
        clock.advance(TICK_MS);
        const idle = await daemonTick(scheduler, timer, phases, "idle");
        ticks.push(idle);
        show(idle);
        if (idle.fired !== 0) throw new Error(`idle tick fired ${idle.fired}`);
      }
    }
    const stored = await project.store.db
      .selectFrom("runs")
      .select((eb) => eb.fn.countAll<number>().as("n"))
      .where("trigger", "=", "schedule")
      .where("state", "=", "pending")
      .executeTakeFirstOrThrow();
    if (Number(stored.n) !== ROUTINES * DUE_TICKS)
      throw new Error(`${stored.n} runs stored, expected ${ROUTINES * DUE_TICKS}`);

    // -----------------------------------------------------------------------------------------
    const of = (kind: Tick["kind"]) => ticks.filter((k) => k.kind === kind);
    const dueTicks = of("due");
    const idleTicks = of("idle");
    const lateness = dueTicks.flatMap((k) => k.lateness).sort((a, b) => a - b);
    const summarize = (ks: Tick[], part: (k: Tick) => Part) => ({
      wallMs: median(ks.map((k) => part(k).wallMs)),
      wallMaxMs: Math.max(...ks.map((k) => part(k).wallMs)),
      cpuMs: median(ks.map((k) => part(k).cpuMs)),
    });
    const rows = {
      loadRoutines: summarize(ticks, (k) => k.load),
      scheduleDue: summarize(dueTicks, (k) => k.schedule),
      scheduleIdle: summarize(idleTicks, (k) => k.schedule),
      watchdog: summarize(ticks, (k) => k.watchdog),
      watcherCheck: summarize(ticks, (k) => k.check),
      tickFirst: summarize([first], (k) => k.total),
      tickDue: summarize(dueTicks, (k) => k.total),
      tickIdle: summarize(idleTicks, (k) => k.total),
    };
    const queriesDue = median(dueTicks.map((k) => k.queries));
    const queriesIdle = median(idleTicks.map((k) => k.queries));
    const queryMsDue = median(dueTicks.map((k) => k.queryMs));
    const queryMsIdle = median(idleTicks.map((k) => k.queryMs));
    const late = {
      p50: percentile(lateness, 50),
      p99: percentile(lateness, 99),
      max: lateness[lateness.length - 1]!,
      first: lateness[0]!,
      samples: lateness.length,
    };
    const idleShare = {
      /** CPU of an idle tick / the 5 s interval, as the brief defines it. */
      perInterval: rows.tickIdle.cpuMs / TICK_MS,
      /** The daemon waits 5 s after a tick ends: the real period is 5 s + the tick's wall time. */
      perPeriod: rows.tickIdle.cpuMs / (TICK_MS + rows.tickIdle.wallMs),
      /** Without refreshing the routines. */
      withoutLoad: (rows.tickIdle.cpuMs - median(idleTicks.map((k) => k.load.cpuMs))) / TICK_MS,
      /** Over a minute of idle ticks, one of which also does the watcher's 60 s full check. */
      withFullCheck: (rows.tickIdle.cpuMs * (60_000 / TICK_MS) + watchFull.cpuMs) / 60_000,
    };
    const firedDue = dueTicks.reduce((n, k) => n + k.fired, 0);
    const headline = {
      /** CPU of an idle tick / the 5 s interval, in % of one core. Target ≤ 0.5. */
      idleCpuPercent: idleShare.perInterval * 100,
      /** The same with the watcher's 60 s full check spread over the minute, %. */
      idleCpuPercentWithFullCheck: idleShare.withFullCheck * 100,
      /** p99 of the fire lateness in the ticks where every routine is due, ms. Target ≤ 500. */
      dueLatenessP99Ms: late.p99,
      /** Store statements (BEGIN and COMMIT included) per run fired in the due ticks. */
      queriesPerFire: dueTicks.reduce((n, k) => n + k.queries, 0) / Math.max(1, firedDue),
    };

    console.log(
      `\nscheduler · ${ROUTINES} routines, every one due every minute · ${DUE_TICKS} due + ` +
        `${idleTicks.length} idle ticks · node ${process.version} · ${cpus().length} CPUs\n`,
    );
    const cols = (...c: string[]) =>
      `  ${c[0]!.padEnd(34)}${c
        .slice(1)
        .map((x) => x.padStart(12))
        .join("")}`;
    console.log(cols("", "wall", "max wall", "cpu", "queries", "in queries"));
    const row = (label: string, s: ReturnType<typeof summarize>, q = "", qm = "") =>
      console.log(cols(label, ms(s.wallMs), ms(s.wallMaxMs), ms(s.cpuMs), q, qm));
    row("daemon tick, every routine due", rows.tickDue);
    row("  routines refresh (watcher)", rows.loadRoutines);
    row("  tickSchedules, all due", rows.scheduleDue, String(queriesDue), ms(queryMsDue));
    row("  markLateRuns (every tick)", rows.watchdog);
    row("  watcher full check (after firing)", rows.watcherCheck);
    row("daemon tick, idle (nothing due)", rows.tickIdle);
    row("  tickSchedules, idle", rows.scheduleIdle, String(queriesIdle), ms(queryMsIdle));
    row("first tick (creates cursors)", rows.tickFirst, String(first.queries), ms(first.queryMs));
    const perFile = (x: number) => `${((x / ROUTINES) * 1000).toFixed(0)} µs/file`;
    console.log(
      `\n  alone (wall / cpu, median of 3):\n` +
        `    loadRoutines, every file changed   ${ms(alone.loadChanged.wallMs)} / ${ms(alone.loadChanged.cpuMs)} (${perFile(alone.loadChanged.wallMs)})\n` +
        `    loadRoutines, files unchanged      ${ms(alone.loadUnchanged.wallMs)} / ${ms(alone.loadUnchanged.cpuMs)} (${perFile(alone.loadUnchanged.wallMs)})\n` +
        `    compileSchedule of every trigger   ${ms(compile.wallMs)} / ${ms(compile.cpuMs)} (cached by tickSchedules per schedule)\n` +
        `    watcher first refresh (reads all)  ${ms(watchInitial.wallMs)} / ${ms(watchInitial.cpuMs)}\n` +
        `    watcher full check, no change      ${ms(watchFull.wallMs)} / ${ms(watchFull.cpuMs)} (every 60 s)\n` +
        `    watcher refresh, no event          ${ms(watchIdle.wallMs)} / ${ms(watchIdle.cpuMs)} (every tick)`,
    );
    // Where tickSchedules spends its CPU: the store queries (timed by the plugin: query
    // building, SQL compilation, better-sqlite3) and the rest (schedules are compiled once).
    const split = (sched: ReturnType<typeof summarize>, queryMs: number) => {
      const rest = sched.cpuMs - queryMs;
      return `store queries (wall) ${ms(queryMs)} · rest ${ms(Math.max(0, rest))}`;
    };
    console.log(
      `\n  tickSchedules cpu, idle: ${ms(rows.scheduleIdle.cpuMs)} = ${split(rows.scheduleIdle, queryMsIdle)}`,
    );
    console.log(
      `  tickSchedules cpu, due:  ${ms(rows.scheduleDue.cpuMs)} = ${split(rows.scheduleDue, queryMsDue)}`,
    );
    console.log(
      `\n  fire lateness (tick start → run committed), ${late.samples} fires over ${DUE_TICKS} due ticks:` +
        ` p50 ${ms(late.p50)} · p99 ${ms(late.p99)} · max ${ms(late.max)} (first fire at ${ms(late.first)})`,
    );
    console.log(
      `  idle CPU share at the ${TICK_MS / 1000} s tick: ${pct(idleShare.perInterval)} of a core` +
        ` (${pct(idleShare.perPeriod)} per real period of 5 s + tick; ${pct(idleShare.withFullCheck)} with the 60 s full check spread over the minute)`,
    );
    const verdict = (v: number, target: number) => (v <= target ? "meets" : "MISSES");
    console.log(
      `\n  targets: idle CPU ${headline.idleCpuPercent.toFixed(2)} % of a core (≤ ${TARGETS.idleCpuPercent} %: ${verdict(headline.idleCpuPercent, TARGETS.idleCpuPercent)})` +
        ` · all-due fire lateness p99 ${ms(headline.dueLatenessP99Ms)} (≤ ${TARGETS.dueLatenessP99Ms} ms: ${verdict(headline.dueLatenessP99Ms, TARGETS.dueLatenessP99Ms)})` +
        ` · ${headline.queriesPerFire.toFixed(4)} queries per fire`,
    );

    const strip = ({ lateness: l, ...k }: Tick) => {
      const sorted = [...l].sort((a, b) => a - b);
      return {
        ...k,
        runsInserted: l.length,
        ...(l.length ? { latenessP50: percentile(sorted, 50), latenessP99: percentile(sorted, 99) } : {}),
      };
    };
    const result = {
      benchmark: "scheduler",
      date: new Date().toISOString(),
      machine: { node: process.version, cpus: cpus().length, platform: process.platform },
      settings: { routines: ROUTINES, dueTicks: DUE_TICKS, idleTicksPerMinute: IDLE_TICKS, tickMs: TICK_MS },
      unit: "ms",
      targets: TARGETS,
      rows: { ...headline, ...rows },
      queries: { due: queriesDue, idle: queriesIdle, first: first.queries },
      queryMs: { due: queryMsDue, idle: queryMsIdle, first: first.queryMs },
      alone,
      lateness: late,
      idleCpuShare: idleShare,
      ticks: ticks.map(strip),
      totalMs: performance.now() - wall0,
    };
    const out = join(ROOT, "bench", "results", "scheduler.json");
    mkdirSync(dirname(out), { recursive: true });
    writeFileSync(out, `${JSON.stringify(result, null, 2)}\n`);
    console.log(`\n  whole run ${ms(performance.now() - wall0)} · wrote ${out}`);
  } finally {
    await cleanup();
  }
}

await main();
