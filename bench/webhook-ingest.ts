/**
 * bench/webhook-ingest: how many signed GitHub deliveries per second nightshift's
 * `POST /v1/webhooks/github` stores (a delivery row and a run each, committed before the 202),
 * and its p50/p99 acknowledgement latency, against a bare Hono handler that does nothing
 * (`app.post("/x", c => c.body(null, 202))`). Both are served over real HTTP on 127.0.0.1 by
 * `@hono/node-server` in this process, in alternating rounds of the same requests; the load
 * comes from a child process (bench/lib/http-load.ts, Node's `fetch`) so it does not share the
 * server's event loop.
 *
 * After every nightshift round the store is checked: exactly N delivery rows (each with
 * `runs = 1`) and N runs for that round's delivery ids, or the round is reported as a mismatch
 * (exit code 1).
 *
 * Usage: node bench/webhook-ingest.ts [--requests 2000] [--concurrency 16] [--rounds 5]
 *          [--routines 1] [--keep]
 * Writes bench/results/webhook-ingest.json.
 */
import { fork } from "node:child_process";
import { randomUUID } from "node:crypto";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { type AddressInfo } from "node:net";
import { cpus, tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { performance } from "node:perf_hooks";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { type ServerType, serve } from "@hono/node-server";
import { sign } from "@octokit/webhooks-methods";
import { Hono } from "hono";
import { loadRoutines } from "../src/config/load.ts";
import { openProject, type Project } from "../src/project.ts";
import { createApp } from "../src/server/app.ts";
import { RateLimiter } from "../src/server/rate-limit.ts";
import { matchGithubEvent } from "../src/triggers/github/filter.ts";
import { summarizeGithubEvent } from "../src/triggers/github/summarize-event.ts";
import { githubExample } from "../test/support/github-examples.ts";
import { verifyGithubSignature } from "../src/triggers/github/verify-signature.ts";
import { fireRoutine } from "../src/queue/fire.ts";
import { recordWebhookDelivery } from "../src/store/webhook-deliveries.ts";
import type { LoadJob, LoadReport } from "./lib/http-load.ts";
import { commitRepo } from "./lib/git-repo.ts";
import { median, percentile } from "./lib/stats.ts";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");
const SECRET = "bench-webhook-secret";
const SECRET_VAR = "BENCH_GH_HOOK_SECRET";
const PLACEHOLDER = "@@DELIVERY@@";
const ROUND_DEADLINE_MS = 120_000;
const REQUEST_TIMEOUT_MS = 15_000;
/** Issue 11's targets: at least half the bare handler's throughput, p99 at most 50 ms. */
const TARGET = { throughputRatio: 0.5, p99Ms: 50 };

const { values: args } = parseArgs({
  options: {
    requests: { type: "string", default: "2000" },
    concurrency: { type: "string", default: "16" },
    rounds: { type: "string", default: "5" },
    routines: { type: "string", default: "1" },
    "keep-pending": { type: "boolean", default: false },
    keep: { type: "boolean", default: false },
    help: { type: "boolean", short: "h", default: false },
  },
});
if (args.help) {
  console.log(
    "usage: node bench/webhook-ingest.ts [--requests N] [--concurrency N] [--rounds N] [--routines N]\n" +
      "                                   [--keep-pending] [--keep]\n" +
      "  --requests N     deliveries per measured round (default 2000)\n" +
      "  --concurrency N  requests in flight (default 16)\n" +
      "  --rounds N       measured rounds per contender, alternating (default 5), after one warm-up each\n" +
      "  --routines N     routine files in the project (default 1: the one the deliveries match;\n" +
      "                   the others have an api trigger, which the handler parses but does not fire)\n" +
      "  --keep-pending   leave each round's runs pending (default: marked done after the round is\n" +
      "                   counted, as workers would, so every round starts without a backlog)\n" +
      "  --keep           keep the temporary folder (its path is printed)",
  );
  process.exit(0);
}
const REQUESTS = positive(args.requests, "--requests");
const CONCURRENCY = positive(args.concurrency, "--concurrency");
const ROUNDS = positive(args.rounds, "--rounds");
const ROUTINES = positive(args.routines, "--routines");
const WARMUP_REQUESTS = Math.min(REQUESTS, 300);

function positive(v: string, what: string): number {
  const n = Number(v);
  if (Number.isInteger(n) && n > 0) return n;
  console.error(`webhook-ingest: ${what} must be a positive whole number, got "${v}"`);
  process.exit(2);
}

// ---------------------------------------------------------------------------------------------
// Set-up

function writeRoutine(repo: string, name: string, frontMatter: string[]): void {
  writeFileSync(
    join(repo, ".nightshift", "routines", `${name}.md`),
    ["---", ...frontMatter, "---", "Review the pull request.", ""].join("\n"),
  );
}

/** A git repository with a `.nightshift/` project: one routine matching the deliveries. */
function makeProject(repo: string): void {
  mkdirSync(join(repo, ".nightshift", "routines"), { recursive: true });
  writeFileSync(join(repo, "README.md"), "# bench/webhook-ingest\n");
  writeFileSync(join(repo, ".nightshift", ".gitignore"), "state/\n");
  writeFileSync(
    join(repo, ".nightshift", "config.yaml"),
    ["webhooks:", "  github:", `    secrets_env: [${SECRET_VAR}]`, ""].join("\n"),
  );
  writeRoutine(repo, "review", [
    "agent: command",
    'command: "true"',
    "overlap: allow",
    "triggers:",
    "  - github:",
    "      events: [pull_request]",
    "      actions: [opened]",
    "      filters: {draft: false}",
  ]);
  for (let i = 1; i < ROUTINES; i++)
    writeRoutine(repo, `other-${String(i).padStart(5, "0")}`, [
      "agent: command",
      'command: "true"',
      "overlap: allow",
      "triggers:",
      "  - api: true",
    ]);
  commitRepo(repo);
}

function listen(app: Hono): Promise<ServerType> {
  return new Promise((resolve) => {
    const s = serve({ fetch: app.fetch, hostname: "127.0.0.1", port: 0 }, () => resolve(s));
  });
}

const urlOf = (s: ServerType, path: string) => `http://127.0.0.1:${(s.address() as AddressInfo).port}${path}`;

// ---------------------------------------------------------------------------------------------
// Rounds

type Contender = "nightshift" | "bare";

interface Round {
  contender: Contender;
  round: number;
  requests: number;
  ok: number;
  reqPerSec: number;
  p50: number;
  p99: number;
  max: number;
  /** CPU time of this (server) process per request, µs. */
  cpuUsPerReq: number;
  statuses: Record<string, number>;
  errors: string[];
  stored?: { deliveries: number; runs: number; verified: boolean };
  /** Pending runs of the routine when the round started (nightshift). */
  backlog?: number;
}

class Loader {
  #child = fork(join(ROOT, "bench", "lib", "http-load.ts"), [], {
    execArgv: ["--disable-warning=ExperimentalWarning"],
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });

  run(job: LoadJob): Promise<LoadReport> {
    return new Promise((resolve, reject) => {
      const onExit = (code: number | null) => reject(new Error(`load child exited ${code}`));
      this.#child.once("exit", onExit);
      this.#child.once("message", (m: LoadReport) => {
        this.#child.off("exit", onExit);
        resolve(m);
      });
      this.#child.send(job);
    });
  }

  close(): void {
    if (this.#child.connected) this.#child.send({ type: "exit" });
    const t = setTimeout(() => this.#child.kill(), 2_000);
    t.unref();
  }
}

async function signedRequests(tag: string, n: number, template: string) {
  const out: { id: string; signature: string }[] = [];
  for (let i = 0; i < n; i++) {
    const id = `${tag}-${String(i).padStart(6, "0")}-${randomUUID()}`;
    out.push({ id, signature: await sign(SECRET, template.replace(PLACEHOLDER, id)) });
  }
  return out;
}

async function countStored(project: Project, tag: string) {
  const db = project.store.db;
  const deliveries = await db
    .selectFrom("webhook_deliveries")
    .select((eb) => eb.fn.countAll<number>().as("n"))
    .where("source", "=", "github")
    .where("delivery_id", "like", `${tag}-%`)
    .where("runs", "=", 1)
    .executeTakeFirstOrThrow();
  const runs = await db
    .selectFrom("runs")
    .select((eb) => eb.fn.countAll<number>().as("n"))
    .where("trigger", "=", "github")
    .where("routine", "=", "review")
    .where("state", "=", "pending")
    .where("dedupe_key", "like", `github:${tag}-%`)
    .executeTakeFirstOrThrow();
  return { deliveries: Number(deliveries.n), runs: Number(runs.n) };
}

/** Pending runs of the matching routine (what `fireRoutine` counts on every delivery). */
async function backlogOf(project: Project): Promise<number> {
  const r = await project.store.db
    .selectFrom("runs")
    .select((eb) => eb.fn.countAll<number>().as("n"))
    .where("routine", "=", "review")
    .where("state", "=", "pending")
    .executeTakeFirstOrThrow();
  return Number(r.n);
}

/** Marks the pending runs done, untimed: what the worker pool does between bursts. */
async function drain(project: Project): Promise<void> {
  await project.store.db
    .updateTable("runs")
    .set({ state: "done", finished_at: Date.now() })
    .where("routine", "=", "review")
    .where("state", "=", "pending")
    .execute();
}

async function round(
  loader: Loader,
  contender: Contender,
  url: string,
  n: number,
  tag: string,
  template: string,
  project: Project,
): Promise<Round & { latencies: number[] }> {
  const requests = await signedRequests(tag, n, template); // signing is outside the timed loop
  const backlog = contender === "nightshift" ? await backlogOf(project) : undefined;
  const cpu0 = process.cpuUsage();
  const report = await loader.run({
    type: "job",
    url,
    headers: { "content-type": "application/json", "x-github-event": "pull_request" },
    template,
    placeholder: PLACEHOLDER,
    requests,
    idHeader: "x-github-delivery",
    signatureHeader: "x-hub-signature-256",
    concurrency: CONCURRENCY,
    deadlineMs: ROUND_DEADLINE_MS,
    requestTimeoutMs: REQUEST_TIMEOUT_MS,
  });
  const cpu = process.cpuUsage(cpu0);
  const sorted = [...report.latencies].sort((a, b) => a - b);
  const ok = report.statuses["202"] ?? 0;
  const r: Round & { latencies: number[] } = {
    contender,
    round: 0,
    requests: n,
    ok,
    reqPerSec: (ok / report.wallMs) * 1000,
    p50: percentile(sorted, 50),
    p99: percentile(sorted, 99),
    max: sorted[sorted.length - 1] ?? NaN,
    cpuUsPerReq: (cpu.user + cpu.system) / Math.max(1, report.latencies.length),
    statuses: report.statuses,
    errors: report.errors,
    latencies: report.latencies,
  };
  if (contender === "nightshift") {
    const stored = await countStored(project, tag);
    r.stored = { ...stored, verified: stored.deliveries === n && stored.runs === n && ok === n };
    r.backlog = backlog;
    if (!args["keep-pending"]) await drain(project);
    // "Durably stored" deliveries per second: only what the store holds counts.
    r.reqPerSec = (Math.min(stored.deliveries, stored.runs, ok) / report.wallMs) * 1000;
  } else if (ok !== n) {
    r.errors.push(`bare: ${ok} of ${n} answered 202`);
  }
  return r;
}

// ---------------------------------------------------------------------------------------------
// Breakdown: the handler's steps, in-process, one at a time

interface Step {
  what: string;
  us: number;
}

async function breakdown(project: Project, app: Hono, template: string, iterations: number): Promise<Step[]> {
  const steps: Step[] = [];
  const time = async (what: string, fn: (i: number) => unknown) => {
    const samples: number[] = [];
    for (let i = 0; i < iterations; i++) {
      const t0 = performance.now();
      await fn(i);
      samples.push((performance.now() - t0) * 1000);
    }
    steps.push({ what, us: median(samples) });
  };
  const raw = Buffer.from(template.replace(PLACEHOLDER, "breakdown"));
  const signature = await sign(SECRET, raw.toString("utf8"));
  const payload = JSON.parse(raw.toString("utf8")) as unknown;
  const routine = loadRoutines(project.root).routines.find((r) => r.name === "review")!;
  const trigger = routine.triggers[0]!;
  await time("verifyGithubSignature (HMAC-SHA256)", () => verifyGithubSignature([SECRET], raw, signature));
  await time("JSON.parse(body)", () => JSON.parse(raw.toString("utf8")));
  await time(`loadRoutines (${ROUTINES} file${ROUTINES === 1 ? "" : "s"})`, () => loadRoutines(project.root));
  await time("matchGithubEvent", () =>
    "github" in trigger ? matchGithubEvent(trigger, "pull_request", payload) : undefined,
  );
  await time("summarizeGithubEvent", () => summarizeGithubEvent("pull_request", "breakdown", payload));
  const db = project.store.db;
  // What the handler stores, as it stores it: one transaction, the delivery row (with its run
  // count) and its run.
  await time("store: one transaction (recordWebhookDelivery + fireRoutine)", async (i) => {
    const id = `breakdown-store-${i}`;
    const now = Date.now();
    await db.transaction().execute(async (trx) => {
      await recordWebhookDelivery(trx, {
        source: "github",
        deliveryId: id,
        event: "pull_request",
        now,
        runs: 1,
      });
      await fireRoutine(trx, { routine, trigger: "github", dedupeKey: `github:${id}:0`, context: "x", now });
    });
  });
  const signed = await signedRequests("breakdown-app", iterations, template);
  await time("whole handler without HTTP: app.request() (Hono in-process)", async (i) => {
    const { id, signature: sig } = signed[i]!;
    const res = await app.request("/v1/webhooks/github", {
      method: "POST",
      headers: {
        "content-type": "application/json",
        "x-github-event": "pull_request",
        "x-github-delivery": id,
        "x-hub-signature-256": sig,
      },
      body: template.replace(PLACEHOLDER, id),
    });
    if (res.status !== 202) throw new Error(`app.request answered ${res.status}`);
    await res.arrayBuffer();
  });
  return steps;
}

// ---------------------------------------------------------------------------------------------

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "nightshift-bench-webhook-ingest-"));
  const repo = join(dir, "repo");
  mkdirSync(repo);
  const servers: ServerType[] = [];
  let loader: Loader | undefined;
  let project: Project | undefined;
  const cleanup = async () => {
    loader?.close();
    for (const s of servers) await new Promise<void>((resolve) => s.close(() => resolve()));
    await project?.close();
    if (args.keep) console.log(`kept ${dir}`);
    else rmSync(dir, { recursive: true, force: true });
  };
  process.once("SIGINT", () => {
    void cleanup().finally(() => process.exit(130));
  });
  try {
    makeProject(repo);
    project = await openProject(repo);
    const app = createApp({
      project,
      baseUrl: "http://127.0.0.1",
      rateLimiter: new RateLimiter({ limit: 60, windowMs: 60_000, clock: project.clock }),
      env: { [SECRET_VAR]: SECRET },
    });
    const bare = new Hono();
    bare.post("/x", (c) => c.body(null, 202));
    const nsServer = await listen(app);
    const bareServer = await listen(bare);
    servers.push(nsServer, bareServer);
    const urls: Record<Contender, string> = {
      nightshift: urlOf(nsServer, "/v1/webhooks/github"),
      bare: urlOf(bareServer, "/x"),
    };

    const payload = githubExample("pull_request", "opened");
    payload.pull_request.draft = false;
    payload.pull_request.title = `bench delivery ${PLACEHOLDER}`;
    const template = JSON.stringify(payload);
    loader = new Loader();

    process.stdout.write(`warm-up (${WARMUP_REQUESTS} requests each) … `);
    const t = performance.now();
    for (const c of ["nightshift", "bare"] as const) {
      const w = await round(loader, c, urls[c], WARMUP_REQUESTS, `warm-${c}`, template, project);
      if (w.ok !== WARMUP_REQUESTS)
        throw new Error(`${c} warm-up: ${JSON.stringify(w.statuses)} ${w.errors.join("; ")}`);
    }
    console.log(`${(performance.now() - t).toFixed(0)} ms`);

    const rounds: Round[] = [];
    const all: Record<Contender, number[]> = { nightshift: [], bare: [] };
    for (let i = 0; i < ROUNDS; i++) {
      const order: Contender[] = i % 2 === 0 ? ["nightshift", "bare"] : ["bare", "nightshift"];
      const line: string[] = [];
      for (const c of order) {
        const r = await round(loader, c, urls[c], REQUESTS, `r${i + 1}-${c}`, template, project);
        r.round = i + 1;
        all[c].push(...r.latencies);
        const { latencies: _l, ...rest } = r;
        rounds.push(rest);
        const check = r.stored
          ? ` · stored ${r.stored.deliveries} deliveries/${r.stored.runs} runs ${r.stored.verified ? "✓" : "MISMATCH"}` +
            (args["keep-pending"] ? ` (backlog before: ${r.backlog})` : "")
          : "";
        line.push(`${c} ${r.reqPerSec.toFixed(0)} req/s p99 ${r.p99.toFixed(1)} ms${check}`);
      }
      console.log(`  round ${i + 1}/${ROUNDS}: ${line.join(" · ")}`);
    }

    const summary = (c: Contender) => {
      const rs = rounds.filter((r) => r.contender === c);
      const sorted = [...all[c]].sort((a, b) => a - b);
      return {
        reqPerSec: median(rs.map((r) => r.reqPerSec)),
        reqPerSecMin: Math.min(...rs.map((r) => r.reqPerSec)),
        reqPerSecMax: Math.max(...rs.map((r) => r.reqPerSec)),
        p50: percentile(sorted, 50),
        p99: percentile(sorted, 99),
        max: sorted[sorted.length - 1] ?? NaN,
        cpuUsPerReq: median(rs.map((r) => r.cpuUsPerReq)),
        samples: sorted.length,
      };
    };
    const ns = summary("nightshift");
    const bareS = summary("bare");
    const ratio = {
      throughput: ns.reqPerSec / bareS.reqPerSec,
      p99: ns.p99 / bareS.p99,
      p50: ns.p50 / bareS.p50,
    };
    const verified = rounds.filter((r) => r.contender === "nightshift").every((r) => r.stored?.verified);

    process.stdout.write("\nbreakdown (in-process, not part of the figures above) … ");
    const steps = await breakdown(project, app, template, 300);
    console.log("done");

    console.log(
      `\nwebhook-ingest · ${REQUESTS} requests × ${ROUNDS} rounds · concurrency ${CONCURRENCY} · ` +
        `${ROUTINES} routine file${ROUTINES === 1 ? "" : "s"} · ` +
        `${args["keep-pending"] ? "runs left pending" : "runs drained between rounds"} · body ${template.length} B · node ${process.version} · ${cpus().length} CPUs\n`,
    );
    const cols = (...c: string[]) =>
      `  ${c[0]!.padEnd(22)}${c
        .slice(1)
        .map((x) => x.padStart(11))
        .join("")}`;
    console.log(cols("", "req/s", "min", "max", "p50", "p99", "max lat", "cpu/req"));
    const row = (label: string, s: ReturnType<typeof summary>) =>
      console.log(
        cols(
          label,
          s.reqPerSec.toFixed(0),
          s.reqPerSecMin.toFixed(0),
          s.reqPerSecMax.toFixed(0),
          `${s.p50.toFixed(2)} ms`,
          `${s.p99.toFixed(2)} ms`,
          `${s.max.toFixed(1)} ms`,
          `${s.cpuUsPerReq.toFixed(0)} µs`,
        ),
      );
    row("nightshift (stored)", ns);
    row("bare Hono 202", bareS);
    console.log(
      `\n  ratio nightshift/bare: throughput ${ratio.throughput.toFixed(2)}× · p50 ${ratio.p50.toFixed(2)}× · p99 ${ratio.p99.toFixed(2)}×`,
    );
    const met = { throughput: ratio.throughput >= TARGET.throughputRatio, p99: ns.p99 <= TARGET.p99Ms };
    console.log(
      `  target: throughput ≥ ${TARGET.throughputRatio}× bare (${ratio.throughput.toFixed(2)}× ${met.throughput ? "✓" : "✗"}) · ` +
        `p99 ≤ ${TARGET.p99Ms} ms (${ns.p99.toFixed(1)} ms ${met.p99 ? "✓" : "✗"})`,
    );
    console.log(
      `  stored: ${verified ? "every round stored exactly N deliveries and N runs ✓" : "MISMATCH in at least one round (see above)"}`,
    );
    console.log("\n  handler steps (median µs per call, in-process):");
    for (const s of steps) console.log(`    ${s.us.toFixed(1).padStart(8)} µs  ${s.what}`);

    const result = {
      benchmark: "webhook-ingest",
      date: new Date().toISOString(),
      machine: { node: process.version, cpus: cpus().length, platform: process.platform },
      settings: {
        requests: REQUESTS,
        concurrency: CONCURRENCY,
        rounds: ROUNDS,
        routines: ROUTINES,
        keepPending: args["keep-pending"],
        warmupRequests: WARMUP_REQUESTS,
        bodyBytes: Buffer.byteLength(template),
      },
      unit: { latency: "ms", throughput: "req/s", cpu: "µs per request" },
      nightshift: ns,
      bare: bareS,
      ratio,
      target: TARGET,
      met,
      /** The figures to track, flat: nightshift's stored path against the bare Hono 202. */
      rows: {
        throughputRatio: ratio.throughput,
        p99Ms: ns.p99,
        p50Ms: ns.p50,
        reqPerSec: ns.reqPerSec,
        bareReqPerSec: bareS.reqPerSec,
        bareP99Ms: bareS.p99,
        cpuUsPerReq: ns.cpuUsPerReq,
        bareCpuUsPerReq: bareS.cpuUsPerReq,
      },
      verified,
      rounds,
      breakdown: steps,
    };
    const out = join(ROOT, "bench", "results", "webhook-ingest.json");
    mkdirSync(dirname(out), { recursive: true });
    writeFileSync(out, `${JSON.stringify(result, null, 2)}\n`);
    console.log(`\nwrote ${out}`);
    if (!verified) process.exitCode = 1;
  } finally {
    await cleanup();
  }
}

await main();
