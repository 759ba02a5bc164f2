/**
 * The baseline of bench/guard-requests: PRodder's request pattern (the guard of the field
 * report in /work/shared/seeds/000_*, described in DESIGN.md "Lessons from the field") as a
 * small octokit REST client. Per open pull request, one after the other:
 *
 * - `GET /repos/{o}/{r}/pulls/{n}` for `mergeable` and `mergeable_state`;
 * - `GET /repos/{o}/{r}/commits/{sha}/status` (combined status);
 * - `GET /repos/{o}/{r}/commits/{sha}/check-runs` (first page only, 100 runs);
 *
 * after listing them with `GET /repos/{o}/{r}/pulls?state=open` (every page of 100). Its rules:
 * demote (GraphQL `convertPullRequestToDraft`, REST has no endpoint for it) when `mergeable`
 * is false or `mergeable_state` is `dirty`, the combined state is `failure`/`error`, or a
 * completed check run concluded `failure`, `timed_out`, `cancelled`, `action_required` or
 * `stale`; wait while `mergeable` is null; `PUT …/update-branch` with `expected_head_sha`
 * when `mergeable_state` is `behind` (which GitHub reports only when branch protection
 * requires up-to-date branches); otherwise nothing (review-only blocks are ignored). Drafts
 * are not skipped: a red draft is demoted again on every run. No comment is written.
 */
import {
  createOctokit,
  type GithubThrottleOptions,
  type NightshiftOctokit,
} from "../../src/forge/github/client.ts";

/** Conclusions PRodder demotes for. */
const FAILING = new Set(["failure", "timed_out", "cancelled", "action_required", "stale"]);

const CONVERT_TO_DRAFT = /* GraphQL */ `
  mutation ProdderConvertToDraft($id: ID!) {
    convertPullRequestToDraft(input: { pullRequestId: $id }) {
      pullRequest {
        isDraft
      }
    }
  }
`;

export type ProdderAction = "demote" | "update_branch" | "wait" | "none";

/** What one PRodder pass did. */
export interface ProdderReport {
  dryRun: boolean;
  items: { number: number; draft: boolean; action: ProdderAction; error?: string }[];
  totals: Record<ProdderAction, number> & { errors: number };
  /** HTTP requests the client sent (every fetch, retries included). */
  requests: number;
}

/**
 * A PRodder-style client. It uses the same octokit stack as nightshift's GitHub adapter
 * (`createOctokit`: `@octokit/rest` with the throttling and retry plugins, every fetch
 * counted), so wall times differ by request pattern only, not by client overhead.
 */
export class Prodder {
  readonly #octokit: NightshiftOctokit;
  #requests = 0;

  constructor(opts: { apiUrl: string; token: string; throttle?: GithubThrottleOptions }) {
    this.#octokit = createOctokit({
      apiUrl: opts.apiUrl,
      token: opts.token,
      ...(opts.throttle ? { throttle: opts.throttle } : {}),
      onRequest: () => {
        this.#requests++;
      },
    });
  }

  get requestCount(): number {
    return this.#requests;
  }

  /** One pass over the open pull requests of `owner/repo`; writes nothing when `dryRun`. */
  async pass(owner: string, repo: string, dryRun: boolean): Promise<ProdderReport> {
    const before = this.#requests;
    const ok = this.#octokit;
    const open = await ok.paginate(ok.rest.pulls.list, { owner, repo, state: "open", per_page: 100 });
    const items: ProdderReport["items"] = [];
    for (const listed of open) {
      const number = listed.number;
      const { data: pr } = await ok.rest.pulls.get({ owner, repo, pull_number: number });
      const sha = pr.head.sha;
      const { data: combined } = await ok.rest.repos.getCombinedStatusForRef({ owner, repo, ref: sha });
      const { data: runs } = await ok.rest.checks.listForRef({ owner, repo, ref: sha, per_page: 100 });

      const failedRun = runs.check_runs.some(
        (r) => r.status === "completed" && r.conclusion !== null && FAILING.has(r.conclusion),
      );
      const action: ProdderAction =
        pr.mergeable === false ||
        pr.mergeable_state === "dirty" ||
        combined.state === "failure" ||
        combined.state === "error" ||
        failedRun
          ? "demote"
          : pr.mergeable === null
            ? "wait"
            : pr.mergeable_state === "behind"
              ? "update_branch"
              : "none";
      const item: ProdderReport["items"][number] = { number, draft: pr.draft ?? false, action };
      if (!dryRun) {
        try {
          if (action === "demote") await ok.graphql(CONVERT_TO_DRAFT, { id: pr.node_id });
          else if (action === "update_branch")
            await ok.rest.pulls.updateBranch({ owner, repo, pull_number: number, expected_head_sha: sha });
        } catch (err) {
          item.error = err instanceof Error ? err.message : String(err);
        }
      }
      items.push(item);
    }
    const totals: ProdderReport["totals"] = { demote: 0, update_branch: 0, wait: 0, none: 0, errors: 0 };
    for (const it of items) {
      totals[it.action]++;
      if (it.error !== undefined) totals.errors++;
    }
    return { dryRun, items, totals, requests: this.#requests - before };
  }
}
