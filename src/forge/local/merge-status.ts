import { existsSync } from "node:fs";
import type { Selectable } from "kysely";
import type { ForgePullRequestsTable } from "../../store/schema.ts";
import { selectChecks, selectPullRequests, updatePullRequest } from "../../store/forge-items.ts";
import { git, gitMaybe } from "../../util/git.ts";
import type { CheckResult, PullRequestStatus } from "../types.ts";
import { CI_CHECK } from "./ci-command.ts";
import { mergeTree } from "./merge-tree.ts";
import { toCheck } from "./rows.ts";
import { barePath, branchTips, type LocalForgeState, mapLimit } from "./state.ts";

/** Conclusions that let a pull request merge (GitHub treats `neutral` and `skipped` as passing). */
const PASSING = new Set(["success", "neutral", "skipped"]);

/**
 * Marks merged, in the store, every open pull request whose head commit is reachable from
 * its base: someone merged it by hand (GitHub does the same when a PR's commits land on its
 * base by a push). The base is the forge's branch or, when that is older, the source
 * repository's branch of the same name, which the forge publishes only before a session:
 * a merge made in your repository counts at once. A PR whose head branch is gone cannot be
 * told apart and stays open. Merged is final, as on GitHub.
 */
export async function settleMerged(s: LocalForgeState, repo: string): Promise<void> {
  const rows = await selectPullRequests(s.db, repo, "open");
  if (rows.length === 0) return;
  const bare = barePath(s, repo);
  const tips = await branchTips(s, repo);
  const source = s.sources.get(repo);
  const sourceTips = new Map<string, string | undefined>();
  const sourceTip = async (base: string) => {
    if (!source || !existsSync(source.path)) return undefined;
    if (!sourceTips.has(base))
      sourceTips.set(
        base,
        await gitMaybe(source.path, ["rev-parse", "--verify", "--quiet", `refs/heads/${base}^{commit}`]),
      );
    return sourceTips.get(base);
  };
  const reachable = async (cwd: string, head: string, base: string | undefined) =>
    base !== undefined &&
    (head === base ||
      (await git(cwd, ["merge-base", "--is-ancestor", head, base]).then(
        () => true,
        () => false,
      )));
  const merged = await mapLimit(rows, 8, async (r) => {
    const head = tips.get(r.head);
    if (!head) return false;
    if (await reachable(bare, head, tips.get(r.base))) return true;
    const mine = await sourceTip(r.base);
    // The source may not have the head commit at all: then it was not merged there.
    return mine !== undefined && mine !== tips.get(r.base) && (await reachable(source!.path, head, mine));
  });
  const now = s.clock.now();
  for (const [i, r] of rows.entries())
    if (merged[i]) await updatePullRequest(s.db, repo, r.number, { state: "merged", updated_at: now });
}

/**
 * Every open pull request (or those in `numbers`) with what the guard and the judge decide
 * on, computed with git in the bare repository:
 * - `mergeable`: `git merge-tree --write-tree <base> <head>` merges cleanly (git ≥ 2.38);
 * - `behindBy`: `git rev-list --count <head>..<base>`;
 * - diff size: `git diff --numstat <base>...<head>` (binary files count as changed files only);
 * - `checks`: those recorded for the head commit; with `forge.ci` set and no `ci` result
 *   yet, a `queued` required `ci` check;
 * - `mergeState`, first that applies: `draft`; `dirty` (conflicts); `behind`; `unstable`
 *   (a completed check concluded other than `success`/`neutral`/`skipped`); `blocked` (a
 *   required check has not completed); `clean`. (GitHub says `blocked` rather than
 *   `unstable` when the failing check is required; the checks themselves tell both apart.)
 * A PR whose head or base branch is gone reports `mergeable: null`, `mergeState: "unknown"`.
 *
 * @throws {ForgeError} when git is older than 2.38.
 */
export async function listPullRequestStatuses(
  s: LocalForgeState,
  repo: string,
  opts: { numbers?: number[] } = {},
): Promise<PullRequestStatus[]> {
  await settleMerged(s, repo);
  let rows = await selectPullRequests(s.db, repo, "open");
  if (opts.numbers) {
    const wanted = new Set(opts.numbers);
    rows = rows.filter((r) => wanted.has(r.number));
  }
  if (rows.length === 0) return [];
  const bare = barePath(s, repo);
  const tips = await branchTips(s, repo);
  const shas = rows.map((r) => tips.get(r.head)).filter((x): x is string => x !== undefined);
  const checks = new Map<string, CheckResult[]>();
  for (const c of await selectChecks(s.db, repo, shas)) {
    const list = checks.get(c.sha) ?? [];
    list.push(toCheck(c));
    checks.set(c.sha, list);
  }
  return mapLimit(rows, 8, (r) => status(s, bare, r, tips, checks));
}

async function status(
  s: LocalForgeState,
  bare: string,
  r: Selectable<ForgePullRequestsTable>,
  tips: Map<string, string>,
  checksBySha: Map<string, CheckResult[]>,
): Promise<PullRequestStatus> {
  const headSha = tips.get(r.head);
  const baseSha = tips.get(r.base);
  const checks = headSha ? [...(checksBySha.get(headSha) ?? [])] : [];
  if (headSha && s.ci && !checks.some((c) => c.name === CI_CHECK))
    checks.push({ name: CI_CHECK, status: "queued", conclusion: null, required: true });
  checks.sort((a, b) => a.name.localeCompare(b.name));
  const base = {
    repo: r.repo,
    number: r.number,
    title: r.title,
    author: r.author,
    head: r.head,
    base: r.base,
    headSha: headSha ?? "",
    draft: r.draft === 1,
    checks,
    labels: JSON.parse(r.labels) as string[],
    createdAt: Number(r.created_at),
    updatedAt: Number(r.updated_at),
  };
  if (!headSha || !baseSha) {
    return {
      ...base,
      mergeable: null,
      mergeState: "unknown",
      behindBy: null,
      additions: 0,
      deletions: 0,
      changedFiles: 0,
    };
  }
  const [merge, behind, numstat] = await Promise.all([
    mergeTree(bare, baseSha, headSha),
    git(bare, ["rev-list", "--count", `${headSha}..${baseSha}`]),
    gitMaybe(bare, ["diff", "--numstat", `${baseSha}...${headSha}`]),
  ]);
  const behindBy = Number(behind);
  const size = diffSize(numstat ?? "");
  const mergeState =
    r.draft === 1
      ? "draft"
      : !merge.clean
        ? "dirty"
        : behindBy > 0
          ? "behind"
          : checks.some((c) => c.status === "completed" && !PASSING.has(c.conclusion ?? ""))
            ? "unstable"
            : checks.some((c) => c.required && c.status !== "completed")
              ? "blocked"
              : "clean";
  return { ...base, mergeable: merge.clean, mergeState, behindBy, ...size };
}

/** Additions, deletions and files of `git diff --numstat` output (binary files: `-` counts). */
function diffSize(numstat: string): { additions: number; deletions: number; changedFiles: number } {
  let additions = 0;
  let deletions = 0;
  let changedFiles = 0;
  for (const line of numstat.split("\n")) {
    const [a, d] = line.split("\t");
    if (a === undefined || d === undefined) continue;
    changedFiles++;
    additions += Number(a) || 0;
    deletions += Number(d) || 0;
  }
  return { additions, deletions, changedFiles };
}
