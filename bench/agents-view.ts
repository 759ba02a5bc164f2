/**
 * bench/agents-view: the dashboard's agents page rendered from a store with 100,000 sessions
 * (server time: `app.request("/")` in this process, no network, p95 over the iterations),
 * next to a bare Hono handler that returns a small HTML page, in alternating iterations of the
 * same run; and the latency from a session state change written to the store to its `session`
 * event arriving in a real Chromium's `EventSource` on `/v1/events` (served over HTTP on
 * 127.0.0.1; both clocks are this machine's `Date.now()`).
 *
 *
 * And the memory of a real `nightshift serve` (bin/nightshift.js, the way a user starts it) on
 * a small temporary project on 127.0.0.1: its resident set (`VmRSS` of /proc/<pid>/status)
 * idle, then with `--streams` (50) concurrent `GET /v1/events` streams open — plain HTTP
 * clients in this process, each on its own connection, standing for 50 browsers — while this
 * process changes the state of 50 sessions in the store every 100 ms (every stream must
 * receive the changes). RSS is sampled every 200 ms; the figures are medians of the samples.
 * Per stream (the target) = (with N streams − with 1 stream, both while the states change) /
 * (N − 1), so the churn's own heap growth, which is not per connection, is not counted; the
 * figure counted from idle (churn included) is reported next to it.
 *
 * Usage: node bench/agents-view.ts [--sessions 100000] [--iterations 60] [--events 60] [--streams 50] [--keep]
 * Writes bench/results/agents-view.json. Targets (issue 12): page p95 ≤ 100 ms, SSE p95 ≤ 250 ms,
 * serve ≤ 1 MiB of resident memory per open event stream.
 */
import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { get as httpGet } from "node:http";
import type { AddressInfo } from "node:net";
import { cpus, tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { performance } from "node:perf_hooks";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { type ServerType, serve } from "@hono/node-server";
import { Hono } from "hono";
import { launchChromium } from "../test/support/browser.ts";
import type { Insertable } from "kysely";
import { openProject } from "../src/project.ts";
import type { ForgePullRequestsTable } from "../src/store/schema.ts";
import { createApp } from "../src/server/app.ts";
import { RateLimiter } from "../src/server/rate-limit.ts";
import { commitRepo } from "./lib/git-repo.ts";
import { percentile } from "./lib/stats.ts";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");
const TARGET = { pageP95Ms: 100, sseP95Ms: 250, servePerStreamKiB: 1024 };

const { values: args } = parseArgs({
  options: {
    sessions: { type: "string", default: "100000" },
    iterations: { type: "string", default: "60" },
    events: { type: "string", default: "60" },
    streams: { type: "string", default: "50" },
    keep: { type: "boolean", default: false },
  },
});
const positive = (v: string, what: string): number => {
  const n = Number(v);
  if (Number.isInteger(n) && n > 0) return n;
  console.error(`agents-view: ${what} must be a positive whole number, got "${v}"`);
  process.exit(2);
};
const SESSIONS = positive(args.sessions, "--sessions");
const ITERATIONS = positive(args.iterations, "--iterations");
const EVENTS = positive(args.events, "--events");
const STREAMS = positive(args.streams, "--streams");

const dir = mkdtempSync(join(tmpdir(), "nightshift-bench-agents-"));
const repo = join(dir, "repo");
mkdirSync(join(repo, ".nightshift", "routines"), { recursive: true });
writeFileSync(join(repo, "README.md"), "# bench/agents-view\n");
writeFileSync(join(repo, ".nightshift", ".gitignore"), "state/\n");
for (const name of ["triage", "nightly", "deps", "docs"])
  writeFileSync(
    join(repo, ".nightshift", "routines", `${name}.md`),
    `---\nagent: command\ncommand: "true"\ntriggers:\n  - schedule: daily\n---\nDo it.\n`,
  );
commitRepo(repo);
const project = await openProject(repo);
const db = project.store.db;

// ---- 100,000 sessions: mostly finished, a few working and waiting, some with PRs.
const now = Date.now();
const t0 = performance.now();
const STATES = ["succeeded", "succeeded", "succeeded", "failed", "cancelled", "timed_out"] as const;
const BATCH = 500;
let prNumber = 0;
for (let start = 0; start < SESSIONS; start += BATCH) {
  const rows: Record<string, unknown>[] = [];
  const prs: Insertable<ForgePullRequestsTable>[] = [];
  for (let i = start; i < Math.min(SESSIONS, start + BATCH); i++) {
    const state =
      i >= SESSIONS - 20 ? "running" : i >= SESSIONS - 25 ? "needs_input" : STATES[i % STATES.length]!;
    const withPr = state === "succeeded" && i % 10 === 0;
    if (withPr) prNumber++;
    rows.push({
      id: `b${i.toString(36).padStart(8, "0")}`,
      routine: ["triage", "nightly", "deps", "docs"][i % 4]!,
      agent: "claude-code",
      model: "claude-sonnet-4-5",
      state: state as never,
      infra_outcome: state === "succeeded" ? ("ok" as const) : null,
      task_outcome: withPr ? ("pr_opened" as const) : state === "succeeded" ? ("no_changes" as const) : null,
      reason: state === "failed" ? "the agent exited with code 1" : null,
      trigger: "schedule",
      issue_number: null,
      input_text: null,
      repo: withPr ? project.repoName : null,
      pr_number: withPr ? prNumber : null,
      input_tokens: 10_000 + (i % 5000),
      output_tokens: 2_000,
      cache_read_tokens: 40_000,
      cache_creation_tokens: 1_000,
      context_tokens: 60_000 + (i % 90_000),
      cost_usd: 0.05 + (i % 100) / 1000,
      created_at: now - (SESSIONS - i) * 60_000,
      started_at: now - (SESSIONS - i) * 60_000 + 1_000,
      finished_at:
        state === "running" || state === "needs_input" ? null : now - (SESSIONS - i) * 60_000 + 300_000,
    });
    if (withPr && prNumber % 2 === 0)
      prs.push({
        repo: project.repoName,
        number: prNumber,
        title: `PR ${prNumber}`,
        body: "",
        author: "nightshift",
        head: `nightshift/b${i}`,
        base: "main",
        draft: 1,
        state: prNumber % 4 === 0 ? ("open" as const) : ("merged" as const),
        session_id: null,
        labels: "[]",
        created_at: now,
        updated_at: now,
      });
  }
  await db.transaction().execute(async (tx) => {
    await tx
      .insertInto("sessions")
      .values(rows as never)
      .execute();
    if (prs.length) await tx.insertInto("forge_pull_requests").values(prs).execute();
  });
}
const seedMs = performance.now() - t0;
console.log(`seeded ${SESSIONS} sessions in ${(seedMs / 1000).toFixed(1)} s`);

const app = createApp({
  project,
  baseUrl: "http://127.0.0.1",
  rateLimiter: new RateLimiter({ limit: 1_000_000, windowMs: 60_000, clock: project.clock }),
  env: {},
});
const bare = new Hono();
const BARE_PAGE = `<!doctype html><html><body><h1>Agents</h1>${"<p>row</p>".repeat(50)}</body></html>`;
bare.get("/", (c) => c.html(BARE_PAGE));

// ---- page render: alternating iterations after a warm-up.
const page: number[] = [];
const bareTimes: number[] = [];
let pageBytes = 0;
for (let i = 0; i < 5; i++) {
  await (await app.request("/")).text();
  await (await bare.request("/")).text();
}
for (let i = 0; i < ITERATIONS; i++) {
  let s = performance.now();
  const body = await (await app.request("/")).text();
  page.push(performance.now() - s);
  pageBytes = body.length;
  if (!body.includes('data-group="needs_input"'))
    throw new Error("the agents page did not render its groups");
  s = performance.now();
  await (await bare.request("/")).text();
  bareTimes.push(performance.now() - s);
}

// ---- event → browser latency over SSE.
const server: ServerType = await new Promise((resolve) => {
  const s = serve({ fetch: app.fetch, hostname: "127.0.0.1", port: 0 }, () => resolve(s));
});
const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
const browser = await launchChromium();
const tab = await browser.newPage();
await tab.goto(`${url}/assets/dashboard.css`);
await tab.evaluate(`new Promise((resolve) => {
  window.received = {};
  const es = new EventSource("/v1/events");
  es.addEventListener("session", (e) => { const d = JSON.parse(e.data); window.received[d.session_id + ":" + d.state] = Date.now(); });
  es.addEventListener("ready", () => resolve());
})`);
const sse: number[] = [];
const target = "b" + (SESSIONS - 1).toString(36).padStart(8, "0");
for (let i = 0; i < EVENTS; i++) {
  const state = i % 2 === 0 ? "finishing" : "running";
  await new Promise((r) => setTimeout(r, 20 + Math.random() * 100));
  const wrote = Date.now();
  await db.updateTable("sessions").set({ state }).where("id", "=", target).execute();
  const key = `${target}:${state}`;
  const got = (await tab
    .waitForFunction(`window.received[${JSON.stringify(key)}]`, undefined, { timeout: 5_000 })
    .then((h) => h.jsonValue())) as number;
  await tab.evaluate(`delete window.received[${JSON.stringify(key)}]`);
  sse.push(got - wrote);
}
await browser.close();
(server as { closeAllConnections?: () => void }).closeAllConnections?.();
server.close();
await project.close();

// ---- memory of a real `nightshift serve` with STREAMS open `GET /v1/events` streams.
const serveMemory = await measureServeMemory();
if (!args.keep) rmSync(dir, { recursive: true, force: true });
else console.log(`kept ${dir}`);

// ---- report
const sorted = (xs: number[]) => [...xs].sort((a, b) => a - b);
const summary = (xs: number[]) => {
  const s = sorted(xs);
  return {
    p50: round(percentile(s, 50)),
    p95: round(percentile(s, 95)),
    max: round(s.at(-1)!),
    samples: xs.map(round),
  };
};
const round = (x: number) => Math.round(x * 100) / 100;
const rows = {
  agents_page: {
    label: `GET / (agents page) over ${SESSIONS} sessions, server time`,
    unit: "ms",
    bytes: pageBytes,
    ...summary(page),
  },
  bare_hono: { label: "bare Hono handler (small HTML page), server time", unit: "ms", ...summary(bareTimes) },
  sse_latency: { label: "store write → Chromium EventSource `session` event", unit: "ms", ...summary(sse) },
  serve_rss_50_streams: {
    label: `\`nightshift serve\` resident memory (VmRSS), idle and with ${STREAMS} open GET /v1/events streams while sessions change state`,
    unit: "MiB",
    ...serveMemory,
  },
};
const ratio = round(rows.agents_page.p95 / Math.max(0.01, rows.bare_hono.p95));
const result = {
  benchmark: "agents-view",
  date: new Date().toISOString(),
  machine: { node: process.version, cpus: cpus().length, platform: process.platform },
  sessions: SESSIONS,
  iterations: ITERATIONS,
  events: EVENTS,
  seed_seconds: round(seedMs / 1000),
  target: TARGET,
  page_p95_ratio_to_bare: ratio,
  met: {
    page: rows.agents_page.p95 <= TARGET.pageP95Ms,
    sse: rows.sse_latency.p95 <= TARGET.sseP95Ms,
    serve_memory: serveMemory.perStreamKiB <= TARGET.servePerStreamKiB,
  },
  rows,
};
mkdirSync(join(ROOT, "bench", "results"), { recursive: true });
writeFileSync(join(ROOT, "bench", "results", "agents-view.json"), `${JSON.stringify(result, null, 2)}\n`);
console.log(
  `agents page p95 ${rows.agents_page.p95} ms (p50 ${rows.agents_page.p50}; bare ${rows.bare_hono.p95} ms; ratio ${ratio}) — target ≤ ${TARGET.pageP95Ms} ms: ${result.met.page ? "met" : "MISSED"}`,
);
console.log(
  `SSE event → browser p95 ${rows.sse_latency.p95} ms (p50 ${rows.sse_latency.p50}) — target ≤ ${TARGET.sseP95Ms} ms: ${result.met.sse ? "met" : "MISSED"}`,
);
console.log(
  `serve RSS idle ${serveMemory.idleMiB} MiB; 1 event stream with states changing ${serveMemory.oneStreamMiB} MiB; ${STREAMS} streams ${serveMemory.withStreamsMiB} MiB (peak ${serveMemory.peakMiB}; ×${serveMemory.ratioToIdle} of idle): ${serveMemory.perStreamKiB} KiB per added stream (${serveMemory.perStreamVsIdleKiB} KiB per stream counting from idle, churn included) — target ≤ 1 MiB (${TARGET.servePerStreamKiB} KiB) per open stream: ${result.met.serve_memory ? "met" : "MISSED"}`,
);
process.exit(result.met.page && result.met.sse && result.met.serve_memory ? 0 : 1);

/** Resident memory of process `pid` in KiB (`VmRSS` of /proc/<pid>/status). */
function rssKiB(pid: number): number {
  const m = /^VmRSS:\s+(\d+)\s+kB$/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  if (!m) throw new Error(`agents-view: /proc/${pid}/status has no VmRSS line (is ${pid} running?)`);
  return Number(m[1]);
}

/** Median RSS (KiB) of `pid` over `ms`, sampled every 200 ms, with the peak. */
async function sampleRss(
  pid: number,
  ms: number,
): Promise<{ median: number; peak: number; samples: number[] }> {
  const samples: number[] = [];
  const until = performance.now() + ms;
  do {
    samples.push(rssKiB(pid));
    await new Promise((r) => setTimeout(r, 200));
  } while (performance.now() < until);
  const s = [...samples].sort((a, b) => a - b);
  return { median: percentile(s, 50), peak: s.at(-1)!, samples };
}

/** An open `GET /v1/events` stream on its own connection, counting the `session` events it got. */
interface EventStream {
  sessionEvents: number;
  close(): void;
}

function openEventStream(base: string): Promise<EventStream> {
  return new Promise((resolve, reject) => {
    const req = httpGet(
      `${base}/v1/events`,
      { agent: false, headers: { accept: "text/event-stream" } },
      (res) => {
        if (res.statusCode !== 200) {
          reject(new Error(`agents-view: GET /v1/events answered ${res.statusCode}`));
          res.resume();
          return;
        }
        res.setEncoding("utf8");
        const stream: EventStream = { sessionEvents: 0, close: () => req.destroy() };
        let buf = "";
        let ready = false;
        res.on("data", (chunk: string) => {
          buf += chunk;
          let end: number;
          while ((end = buf.indexOf("\n\n")) >= 0) {
            const frame = buf.slice(0, end);
            buf = buf.slice(end + 2);
            if (/^event: ready$/m.test(frame) && !ready) {
              ready = true;
              resolve(stream);
            }
            if (/^event: session$/m.test(frame)) stream.sessionEvents++;
          }
        });
        res.on("error", () => undefined);
      },
    );
    req.on("error", reject);
  });
}

/**
 * Starts `nightshift serve` on a fresh project with 50 finished sessions, measures its RSS idle,
 * with one event stream open, and with {@link STREAMS} streams open, while the sessions'
 * states change every 100 ms; stops it. Figures in MiB (per stream in KiB).
 */
async function measureServeMemory() {
  const serveRepo = join(dir, "serve-repo");
  mkdirSync(join(serveRepo, ".nightshift", "routines"), { recursive: true });
  writeFileSync(join(serveRepo, "README.md"), "# bench/agents-view serve memory\n");
  writeFileSync(join(serveRepo, ".nightshift", ".gitignore"), "state/\n");
  commitRepo(serveRepo);
  const p = await openProject(serveRepo);
  const ids = Array.from({ length: 50 }, (_, i) => `m${i.toString().padStart(7, "0")}`);
  const t = Date.now();
  await p.store.db
    .insertInto("sessions")
    .values(
      ids.map((id, i) => ({
        id,
        routine: "dispatch",
        agent: "command",
        model: null,
        state: "succeeded" as const,
        infra_outcome: "ok" as const,
        task_outcome: "no_changes" as const,
        reason: null,
        trigger: "dispatch",
        issue_number: null,
        input_text: null,
        repo: null,
        pr_number: null,
        created_at: t - i * 1000,
        started_at: t - i * 1000,
        finished_at: t - i * 1000 + 500,
      })) as never,
    )
    .execute();
  const child = spawn(process.execPath, [join(ROOT, "bin", "nightshift.js"), "serve", "--port", "0"], {
    cwd: serveRepo,
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, NIGHTSHIFT_LOG_LEVEL: "warn" },
  });
  let stderr = "";
  child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<void>((r) => child.once("exit", () => r()));
  const streams: EventStream[] = [];
  try {
    const base = await new Promise<string>((resolve, reject) => {
      let out = "";
      const timer = setTimeout(
        () => reject(new Error(`agents-view: nightshift serve printed no URL in 30 s; stderr: ${stderr}`)),
        30_000,
      );
      child.stdout.on("data", (d: Buffer) => {
        out += d.toString();
        const line = out.split("\n")[0]?.trim();
        if (out.includes("\n") && line) {
          clearTimeout(timer);
          resolve(line.replace(/\/$/, ""));
        }
      });
      child.once("exit", (code) =>
        reject(new Error(`agents-view: nightshift serve exited (${code}): ${stderr}`)),
      );
    });
    const pid = child.pid!;
    await new Promise((r) => setTimeout(r, 2_000));
    const idle = await sampleRss(pid, 3_000);
    let flip = 0;
    const churn = async () => {
      flip++;
      await p.store.db
        .updateTable("sessions")
        .set({ state: flip % 2 ? ("failed" as const) : ("succeeded" as const) })
        .where("id", "in", ids)
        .execute();
    };
    let churning = true;
    const churner = (async () => {
      while (churning) {
        await churn();
        await new Promise((r) => setTimeout(r, 100));
      }
    })();
    // Baseline: one stream open while the states change, long enough for the churn's own heap
    // growth (queries, JSON) to settle; what more streams add on top is their cost.
    streams.push(await openEventStream(base));
    await new Promise((r) => setTimeout(r, 4_000));
    const one = await sampleRss(pid, 4_000);
    while (streams.length < STREAMS) streams.push(await openEventStream(base));
    await new Promise((r) => setTimeout(r, 1_000));
    const open = await sampleRss(pid, 6_000);
    churning = false;
    await churner;
    await new Promise((r) => setTimeout(r, 500));
    const starved = streams.filter((s) => s.sessionEvents === 0).length;
    if (starved)
      throw new Error(`agents-view: ${starved} of ${STREAMS} event streams received no session event`);
    const minEvents = Math.min(...streams.map((s) => s.sessionEvents));
    // (`round` below is declared after this runs.)
    const r2 = (x: number) => Math.round(x * 100) / 100;
    const mib = (k: number) => r2(k / 1024);
    return {
      idleMiB: mib(idle.median),
      oneStreamMiB: mib(one.median),
      withStreamsMiB: mib(open.median),
      peakMiB: mib(open.peak),
      perStreamKiB: r2((open.median - one.median) / (STREAMS - 1)),
      perStreamVsIdleKiB: r2((open.median - idle.median) / STREAMS),
      ratioToIdle: r2(open.median / idle.median),
      streams: STREAMS,
      stateChanges: flip * ids.length,
      minSessionEventsPerStream: minEvents,
      entry: "bin/nightshift.js serve",
      samplesKiB: { idle: idle.samples, oneStream: one.samples, withStreams: open.samples },
    };
  } finally {
    for (const s of streams) s.close();
    child.kill("SIGTERM");
    const killer = setTimeout(() => child.kill("SIGKILL"), 10_000);
    await exited;
    clearTimeout(killer);
    await p.close();
  }
}
