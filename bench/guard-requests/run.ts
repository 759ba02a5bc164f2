/**
 * bench/guard-requests: how many HTTP requests one pass of nightshift's guard (`runGuard` over
 * the GitHub adapter: batched GraphQL reads, writes batched as aliased GraphQL mutations)
 * makes over 500 open pull requests, against
 * PRodder's pattern (REST, three reads per PR; bench/guard-requests/prodder.ts), on the same
 * fake GitHub (test/support/fake-github) seeded with the same state
 * (bench/guard-requests/scenario.ts). Both run in this process over real HTTP on 127.0.0.1.
 *
 * Each round, each contender (alternating which goes first) gets a fresh fake, seeded
 * identically, and makes three passes: a dry run, a first real pass (demotions, branch
 * updates) and a second real pass (the steady state a nightly guard sees). Requests are counted
 * on the fake (its request log) and in the client (nightshift: the report's `requests`;
 * PRodder: the same counting fetch); the two must agree. The actions each pass took and the
 * fake's state after it are checked, or the run is reported as a MISMATCH (exit code 1).
 *
 * Usage: node bench/guard-requests/run.ts [--prs 500] [--rounds 1] [--up-to-date] [--check]
 * Writes bench/results/guard-requests.json (guard-requests-<N>.json for other --prs).
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { cpus } from "node:os";
import { dirname, join } from "node:path";
import { performance } from "node:perf_hooks";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { GithubForge } from "../../src/forge/github/github-forge.ts";
import { systemClock } from "../../src/util/clock.ts";
import { runGuard } from "../../src/deque/guard/run.ts";
import { FakeGithub, fakeThrottle, type RequestLogEntry } from "../../test/support/fake-github/index.ts";
import { median } from "../lib/stats.ts";
import { Prodder } from "./prodder.ts";
import { REPO, type ScenarioMix, scenarioMix, seedScenario } from "./scenario.ts";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const TOKEN = "fake-token";
/** nightshift must make at least this many times fewer requests than PRodder, in every pass. */
const TARGET = 20;

const { values: args } = parseArgs({
  options: {
    prs: { type: "string", default: "500" },
    rounds: { type: "string", default: "1" },
    "up-to-date": { type: "boolean", default: false },
    check: { type: "boolean", default: false },
    help: { type: "boolean", short: "h", default: false },
  },
});
if (args.help) {
  console.log(
    "usage: node bench/guard-requests/run.ts [--prs N] [--rounds N] [--up-to-date] [--check]\n" +
      "  --prs N        open pull requests to seed (default 500): 10 % each conflicting, with a\n" +
      "                 failed check, behind main, red drafts; the rest clean\n" +
      "  --rounds N     rounds (default 1, about 2 minutes with 500 PRs); each gives every contender\n" +
      "                 a fresh, identically seeded fake and three passes (dry run, first, second)\n" +
      "  --up-to-date   main requires up-to-date branches, so GitHub says BEHIND (PRodder can then\n" +
      "                 see the PRs behind main; by default only nightshift's compare sees them)\n" +
      "  --check        exit 1 when nightshift makes fewer than 20× fewer requests than PRodder in\n" +
      "                 any pass",
  );
  process.exit(0);
}
const N = positive(args.prs, "--prs");
const ROUNDS = positive(args.rounds, "--rounds");
const UP_TO_DATE = args["up-to-date"];

function positive(v: string, what: string): number {
  const n = Number(v);
  if (Number.isInteger(n) && n > 0) return n;
  console.error(`guard-requests: ${what} must be a positive whole number, got "${v}"`);
  process.exit(2);
}

type Contender = "nightshift" | "prodder";
const PASSES = ["dry run", "first pass", "second pass"] as const;
type PassName = (typeof PASSES)[number];
type Actions = Partial<Record<"demote" | "update_branch" | "wait" | "none" | "skip", number>>;

interface PassResult {
  contender: Contender;
  round: number;
  pass: PassName;
  /** Requests in the fake's log during the pass. */
  requests: number;
  /** Requests the client counted (report `requests` / octokit hook). */
  clientRequests: number;
  reads: number;
  /** Requests that change something: REST non-GET and GraphQL mutation documents. */
  writes: number;
  /** Changes those requests carried: one per REST write, one per mutation field (alias). */
  changes: number;
  /** Requests by kind: `GET /repos/{o}/{r}/pulls/{n}`, GraphQL operation names. */
  byKind: Record<string, number>;
  /** Mutation fields by name (`addComment`, …) over the pass's GraphQL mutation documents. */
  byMutation: Record<string, number>;
  wallMs: number;
  actions: Actions;
  /** What was wrong with the pass (actions, state or counts not as expected); empty when verified. */
  problems: string[];
}

/** A request's kind: its GraphQL operation name, or method and path with numbers and shas as placeholders. */
function kindOf(r: RequestLogEntry): string {
  if (r.path === "/graphql") return `graphql ${r.operation ?? "(anonymous)"}`;
  const path = r.path
    .replace(/^\/repos\/[^/]+\/[^/]+/, "/repos/{o}/{r}")
    .replace(/\/[0-9a-f]{40}(?=\/|$)/, "/{sha}")
    .replace(/\/\d+(?=\/|$)/g, "/{n}");
  return `${r.method} ${path}`;
}

/** A request that changes something: a GraphQL mutation document (the fake records its fields) or a REST non-GET. */
const isWrite = (r: RequestLogEntry) =>
  r.path === "/graphql" ? r.mutations !== undefined : r.method !== "GET";
/** Changes a request carried: its mutation fields, or 1 for a REST write. */
const changesOf = (r: RequestLogEntry) =>
  r.path === "/graphql" ? (r.mutations?.length ?? 0) : isWrite(r) ? 1 : 0;

/** What each pass must do with {@link scenarioMix}: the guard's and PRodder's rules applied by hand. */
function expectedActions(c: Contender, pass: PassName, mix: ScenarioMix): Actions {
  const updates = c === "nightshift" || UP_TO_DATE ? mix.behind : 0;
  if (c === "nightshift") {
    if (pass === "second pass")
      return { skip: mix.drafts + mix.conflicting + mix.failing, none: mix.behind + mix.clean };
    return {
      demote: mix.conflicting + mix.failing,
      update_branch: mix.behind,
      skip: mix.drafts,
      none: mix.clean,
    };
  }
  // PRodder re-demotes every red draft on every pass, and sees "behind" only when GitHub says BEHIND.
  const demote = mix.conflicting + mix.failing + mix.drafts;
  if (pass === "second pass") return { demote, none: mix.behind + mix.clean };
  return { demote, update_branch: updates, none: mix.behind - updates + mix.clean };
}

function sameActions(a: Actions, b: Actions): boolean {
  const keys = new Set([...Object.keys(a), ...Object.keys(b)] as (keyof Actions)[]);
  return [...keys].every((k) => (a[k] ?? 0) === (b[k] ?? 0));
}

/** Drafts and heads moved on the fake: what a first pass must have changed. */
async function fakeState(fake: FakeGithub, heads: Map<number, string>) {
  const repo = fake.repo(REPO);
  const tips = await fake.git.branches(repo.bare);
  let drafts = 0;
  let moved = 0;
  let comments = 0;
  for (const item of repo.items.values()) {
    if (item.kind !== "pull") continue;
    if (item.draft) drafts++;
    if (tips.get(item.head) !== heads.get(item.number)) moved++;
    comments += item.comments.length;
  }
  return { drafts, moved, comments };
}

async function runContender(c: Contender, round: number, mix: ScenarioMix): Promise<PassResult[]> {
  const fake = await FakeGithub.start();
  try {
    await seedScenario(fake, N, { upToDate: UP_TO_DATE });
    const repo = fake.repo(REPO);
    const tips = await fake.git.branches(repo.bare);
    const heads = new Map<number, string>();
    for (const item of repo.items.values())
      if (item.kind === "pull") heads.set(item.number, tips.get(item.head)!);
    const forge = new GithubForge({
      apiUrl: fake.url,
      token: TOKEN,
      gitUrl: (o, r) => fake.gitUrl(o, r),
      throttle: fakeThrottle(),
    });
    const prodder = new Prodder({ apiUrl: fake.url, token: TOKEN, throttle: fakeThrottle() });
    const [owner, name] = REPO.split("/") as [string, string];

    const out: PassResult[] = [];
    for (const pass of PASSES) {
      const dryRun = pass === "dry run";
      const from = fake.requests.length;
      const t = performance.now();
      let actions: Actions;
      let clientRequests: number;
      let errors: string[];
      if (c === "nightshift") {
        const report = await runGuard(forge, { repos: [REPO], dryRun, clock: systemClock });
        clientRequests = report.requests ?? NaN;
        actions = Object.fromEntries(
          (["demote", "update_branch", "wait", "none", "skip"] as const)
            .map((k) => [k, report.totals[k]] as const)
            .filter(([, v]) => v > 0),
        );
        errors = [
          ...report.repoErrors.map((e) => e.error),
          ...report.items.flatMap((it) => (it.error !== undefined ? [it.error] : [])),
        ];
      } else {
        const report = await prodder.pass(owner, name, dryRun);
        clientRequests = report.requests;
        actions = Object.fromEntries(
          (["demote", "update_branch", "wait", "none"] as const)
            .map((k) => [k, report.totals[k]] as const)
            .filter(([, v]) => v > 0),
        );
        errors = report.items.flatMap((it) => (it.error !== undefined ? [`#${it.number}: ${it.error}`] : []));
      }
      const wallMs = performance.now() - t;
      const log = fake.requests.slice(from);
      const byKind: Record<string, number> = {};
      for (const r of log) byKind[kindOf(r)] = (byKind[kindOf(r)] ?? 0) + 1;
      const writes = log.filter(isWrite).length;
      const changes = log.reduce((n, r) => n + changesOf(r), 0);
      const byMutation: Record<string, number> = {};
      for (const f of log.flatMap((r) => r.mutations ?? [])) byMutation[f] = (byMutation[f] ?? 0) + 1;

      const problems = [...errors];
      const want = expectedActions(c, pass, mix);
      if (!sameActions(actions, want))
        problems.push(`actions ${JSON.stringify(actions)}, expected ${JSON.stringify(want)}`);
      if (clientRequests !== log.length)
        problems.push(`client counted ${clientRequests} requests, the fake logged ${log.length}`);
      const failed = log.filter((r) => r.status >= 400);
      if (failed.length > 0)
        problems.push(`${failed.length} requests failed, e.g. ${JSON.stringify(failed[0])}`);
      if (dryRun && writes > 0) problems.push(`dry run wrote ${writes} times`);
      if (pass !== "dry run") {
        const s = await fakeState(fake, heads);
        const wantState = {
          drafts: mix.drafts + mix.conflicting + mix.failing,
          moved: c === "nightshift" || UP_TO_DATE ? mix.behind : 0,
          comments: c === "nightshift" ? mix.conflicting + mix.failing : 0,
        };
        if (JSON.stringify(s) !== JSON.stringify(wantState))
          problems.push(`fake state ${JSON.stringify(s)}, expected ${JSON.stringify(wantState)}`);
      }
      out.push({
        contender: c,
        round,
        pass,
        requests: log.length,
        clientRequests,
        reads: log.length - writes,
        writes,
        changes,
        byKind,
        byMutation,
        wallMs,
        actions,
        problems,
      });
    }
    if (fake.unhandled.length > 0 || fake.rejectedDocuments.length > 0) {
      out[out.length - 1]!.problems.push(
        `fake honesty logs not empty: unhandled ${JSON.stringify(fake.unhandled)}, ` +
          `rejected documents ${fake.rejectedDocuments.length}`,
      );
    }
    return out;
  } finally {
    await fake.close();
  }
}

/** One small untimed pass of each contender, so module loading and GitHub's schema build are not timed. */
async function warmUp(): Promise<void> {
  const fake = await FakeGithub.start();
  try {
    await seedScenario(fake, 20, { upToDate: false });
    const forge = new GithubForge({ apiUrl: fake.url, token: TOKEN, throttle: fakeThrottle() });
    await runGuard(forge, { repos: [REPO], dryRun: true, clock: systemClock });
    await new Prodder({ apiUrl: fake.url, token: TOKEN, throttle: fakeThrottle() }).pass(
      "acme",
      "widgets",
      true,
    );
  } finally {
    await fake.close();
  }
}

async function main(): Promise<void> {
  const mix = scenarioMix(N);
  process.stdout.write("warm-up … ");
  const t = performance.now();
  await warmUp();
  console.log(`${(performance.now() - t).toFixed(0)} ms`);

  const results: PassResult[] = [];
  for (let round = 1; round <= ROUNDS; round++) {
    const order: Contender[] = round % 2 === 1 ? ["nightshift", "prodder"] : ["prodder", "nightshift"];
    const line: string[] = [];
    for (const c of order) {
      const rs = await runContender(c, round, mix);
      results.push(...rs);
      const bad = rs.some((r) => r.problems.length > 0);
      line.push(
        `${c} ${rs.map((r) => `${r.requests} req/${r.wallMs.toFixed(0)} ms`).join(", ")}${bad ? " MISMATCH" : " ✓"}`,
      );
    }
    console.log(`  round ${round}/${ROUNDS}: ${line.join(" · ")}`);
  }

  const summary = (c: Contender, pass: PassName) => {
    const rs = results.filter((r) => r.contender === c && r.pass === pass);
    const first = rs[0]!;
    return {
      requests: first.requests,
      /** Whether every round made the same number of requests (they are deterministic). */
      stable: rs.every((r) => r.requests === first.requests),
      perPr: first.requests / N,
      reads: first.reads,
      writes: first.writes,
      changes: first.changes,
      byKind: first.byKind,
      byMutation: first.byMutation,
      wallMs: median(rs.map((r) => r.wallMs)),
      wallMsMin: Math.min(...rs.map((r) => r.wallMs)),
      wallMsMax: Math.max(...rs.map((r) => r.wallMs)),
      actions: first.actions,
    };
  };
  const passes = PASSES.map((pass) => {
    const ns = summary("nightshift", pass);
    const pr = summary("prodder", pass);
    return {
      pass,
      nightshift: ns,
      prodder: pr,
      ratio: { requests: pr.requests / ns.requests, wall: pr.wallMs / ns.wallMs },
    };
  });
  const problems = results.flatMap((r) =>
    r.problems.map((p) => `${r.contender} round ${r.round} ${r.pass}: ${p}`),
  );
  const unstable = passes.flatMap((p) =>
    (["nightshift", "prodder"] as const).filter((c) => !p[c].stable).map((c) => `${c} ${p.pass}`),
  );
  for (const u of unstable) problems.push(`${u}: request counts differ between rounds`);
  const targetPasses = passes;
  const targetMet = targetPasses.every((p) => p.ratio.requests >= TARGET);

  console.log(
    `\nguard-requests · ${N} open PRs: ${mix.conflicting} conflicting, ${mix.failing} with a failed check, ` +
      `${mix.behind} behind main, ${mix.drafts} red drafts, ${mix.clean} clean · main ` +
      `${UP_TO_DATE ? "requires" : "does not require"} up-to-date branches · ${ROUNDS} round${ROUNDS === 1 ? "" : "s"} · ` +
      `node ${process.version} · ${cpus().length} CPUs\n`,
  );
  const widths = [10, 8, 8, 8, 10, 15];
  const cols = (c: string[]) =>
    `  ${c[0]!.padEnd(13)}${c[1]!.padEnd(12)}${c
      .slice(2, 8)
      .map((x, i) => x.padStart(widths[i]!))
      .join("")}   ${c[8] ?? ""}`;
  console.log(cols(["pass", "", "requests", "per PR", "reads", "writes", "wall", "min–max", "actions"]));
  const fmtActions = (a: Actions) =>
    Object.entries(a)
      .map(([k, v]) => `${v} ${k}`)
      .join(", ");
  for (const p of passes) {
    for (const c of ["nightshift", "prodder"] as const) {
      const s = p[c];
      console.log(
        cols([
          c === "nightshift" ? p.pass : "",
          c === "nightshift" ? "nightshift" : "PRodder",
          String(s.requests),
          s.perPr.toFixed(2),
          String(s.reads),
          String(s.writes),
          `${s.wallMs.toFixed(0)} ms`,
          `${s.wallMsMin.toFixed(0)}–${s.wallMsMax.toFixed(0)}`,
          fmtActions(s.actions),
        ]),
      );
    }
    const meets =
      p.ratio.requests >= TARGET ? `  (target ≥ ${TARGET}× met)` : `  (target ≥ ${TARGET}× MISSED)`;
    console.log(
      cols([
        "",
        "ratio",
        `${p.ratio.requests.toFixed(1)}×`,
        "",
        "",
        "",
        `${p.ratio.wall.toFixed(1)}×`,
        "",
        meets.trim(),
      ]),
    );
  }
  console.log("\n  requests by kind (first round):");
  for (const p of passes) {
    for (const c of ["nightshift", "prodder"] as const) {
      const kinds = Object.entries(p[c].byKind)
        .sort((a, b) => b[1] - a[1])
        .map(([k, v]) => `${v} ${k}`)
        .join(" · ");
      console.log(
        `    ${p.pass.padEnd(12)}${(c === "nightshift" ? "nightshift" : "PRodder").padEnd(12)}${kinds}`,
      );
      const fields = Object.entries(p[c].byMutation)
        .sort((a, b) => b[1] - a[1])
        .map(([k, v]) => `${v} ${k}`)
        .join(" · ");
      if (fields) console.log(`${" ".repeat(28)}${p[c].changes} changes in ${p[c].writes} writes: ${fields}`);
    }
  }
  console.log(
    problems.length === 0
      ? "\n  verified: every pass took the expected actions, left the expected state, and client and fake counts agree ✓"
      : `\n  MISMATCH:\n${problems.map((p) => `    ${p}`).join("\n")}`,
  );

  const result = {
    benchmark: "guard-requests",
    date: new Date().toISOString(),
    machine: { node: process.version, cpus: cpus().length, platform: process.platform },
    settings: { prs: N, rounds: ROUNDS, upToDate: UP_TO_DATE, mix },
    unit: { wall: "ms", requests: "HTTP requests per pass" },
    target: { ratio: TARGET, appliesTo: targetPasses.map((p) => p.pass), met: targetMet },
    passes,
    verified: problems.length === 0,
    problems,
    samples: results,
  };
  const file =
    N === 500 && !UP_TO_DATE
      ? "guard-requests.json"
      : `guard-requests-${N}${UP_TO_DATE ? "-up-to-date" : ""}.json`;
  const out = join(ROOT, "bench", "results", file);
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, `${JSON.stringify(result, null, 2)}\n`);
  console.log(`\nwrote ${out}`);
  if (problems.length > 0 || (args.check && !targetMet)) process.exitCode = 1;
}

await main();
