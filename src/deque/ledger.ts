import type { Forge, PullRequest } from "../forge/types.ts";

/**
 * The deque's ledger, read from the forge itself so that it survives a lost store and agrees
 * with what a human sees: which issue each nightshift pull request works on, which are open,
 * draft or ready, which were merged and which earlier attempts were closed. Every artifact is
 * tagged with the session id and the item number (branch `<prefix>issue-<n>-<session>`, the
 * session id the forge records for the PR, commit trailers `Nightshift-Session:` /
 * `Nightshift-Issue:`), so the ledger is a parse. Titles carry no tag: they are for people.
 */

/** The branch of an issue agent's session: `<prefix>issue-<n>-<session id>`. */
export function issueBranch(prefix: string, issueNumber: number, sessionId: string): string {
  return `${prefix}issue-${issueNumber}-${sessionId}`;
}

/** The issue number and session id in a branch made by {@link issueBranch}; `undefined` for other branches. */
export function parseIssueBranch(
  prefix: string,
  branch: string,
): { issue: number; sessionId: string } | undefined {
  if (!branch.startsWith(prefix)) return undefined;
  const m = /^issue-(\d+)-([A-Za-z0-9]+)$/.exec(branch.slice(prefix.length));
  return m ? { issue: Number(m[1]), sessionId: m[2]! } : undefined;
}

/** nightshift's pull requests in one repository, grouped the ways the deque asks. */
export interface Ledger {
  /** Open nightshift PRs per issue number (more than one would be a bug the ledger makes visible). */
  openByIssue: Map<number, PullRequest[]>;
  /** Closed, unmerged nightshift PRs per issue: earlier failed attempts, oldest first. */
  failedByIssue: Map<number, PullRequest[]>;
  /**
   * Merged nightshift PRs per issue, oldest first: the issue is resolved (see
   * {@link resolvedBy}). Read only with closed PRs (`closed: true`, the default).
   */
  mergedByIssue: Map<number, PullRequest[]>;
  /** Every open PR nightshift opened (see {@link openedByNightshift}). */
  open: PullRequest[];
  drafts: PullRequest[];
  ready: PullRequest[];
}

/**
 * Reads the ledger of `repo`: every pull request whose head branch is under `prefix`, every
 * page. Closed ones (earlier attempts) are read only with `closed: true` (the default): on a
 * long-lived repository they are most of the list, and PR agents and the judge need open ones.
 *
 * @throws {ForgeError} when the forge cannot list pull requests.
 */
export async function readLedger(
  forge: Forge,
  repo: string,
  prefix: string,
  opts: { closed?: boolean } = {},
): Promise<Ledger> {
  const all = await forge.listPullRequests(repo, { state: opts.closed === false ? "open" : "all" });
  const ledger: Ledger = {
    openByIssue: new Map(),
    failedByIssue: new Map(),
    mergedByIssue: new Map(),
    open: [],
    drafts: [],
    ready: [],
  };
  for (const pr of all.sort((a, b) => a.number - b.number)) {
    if (!openedByNightshift(prefix, pr)) continue;
    const tag = parseIssueBranch(prefix, pr.head);
    if (pr.state === "open") {
      ledger.open.push(pr);
      (pr.draft ? ledger.drafts : ledger.ready).push(pr);
      if (tag) push(ledger.openByIssue, tag.issue, pr);
    } else if (pr.state === "closed" && tag) {
      push(ledger.failedByIssue, tag.issue, pr);
    } else if (pr.state === "merged" && tag) {
      push(ledger.mergedByIssue, tag.issue, pr);
    }
  }
  return ledger;
}

/**
 * Whether nightshift opened `pr` for the session its branch names: the head is under the
 * prefix and ends with `-<session id>`, and the forge records that same session id on the PR
 * (the local forge in its store; GitHub in the body's hidden marker written when nightshift
 * opened it). A bare branch name — say one an agent pushed by hand, or a PR someone opened
 * from a `nightshift/…` branch — is never taken as a ledger entry.
 */
export function openedByNightshift(prefix: string, pr: PullRequest): boolean {
  if (!pr.head.startsWith(prefix) || !pr.sessionId) return false;
  return pr.head.endsWith(`-${pr.sessionId}`);
}

/**
 * The merged nightshift PR that resolves an issue, if any: its latest merged PR, unless an
 * allowlisted person commented on the issue after that PR last changed (on the local forge,
 * when nightshift saw it merged; on GitHub, its `updated_at`), which asks for another
 * attempt. An issue that stays open after its PR merged is thus left alone until someone
 * says what is missing; the next attempt's prompt gets that comment.
 *
 * @param comments - the issue's comments by allowlisted authors only.
 */
export function resolvedBy(
  merged: readonly PullRequest[] | undefined,
  comments: readonly { createdAt: number }[],
): PullRequest | undefined {
  if (!merged?.length) return undefined;
  const last = merged.reduce((a, b) => (b.updatedAt > a.updatedAt ? b : a));
  return comments.some((c) => c.createdAt > last.updatedAt) ? undefined : last;
}

/** The issue a nightshift PR works on, from its branch or its body's `Refs #n`. */
export function issueOfPullRequest(prefix: string, pr: PullRequest): number | undefined {
  return parseIssueBranch(prefix, pr.head)?.issue ?? refsIssue(pr.body);
}

/** The `Refs #n` line nightshift writes into a PR body (it never writes `Fixes`, so merging does not close the issue). */
export function refsIssue(body: string): number | undefined {
  const m = /^Refs #(\d+)\b/m.exec(body);
  return m ? Number(m[1]) : undefined;
}

function push<K, V>(map: Map<K, V[]>, key: K, value: V): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}
