/** An issue on a forge. Times are ms since the epoch. */
export interface Issue {
  repo: string;
  number: number;
  title: string;
  body: string;
  author: string;
  labels: string[];
  state: "open" | "closed";
  createdAt: number;
}

/** A pull request on a forge. `head` and `base` are branch names. */
export interface PullRequest {
  repo: string;
  number: number;
  title: string;
  body: string;
  author: string;
  head: string;
  base: string;
  draft: boolean;
  state: "open" | "closed" | "merged";
  sessionId: string | null;
  createdAt: number;
  updatedAt: number;
}

/** A comment on an issue or pull request. */
export interface Comment {
  id: string;
  repo: string;
  number: number;
  author: string;
  body: string;
  createdAt: number;
}

/** Where a repository lives on the forge: the git URL the runner fetches from and pushes to. */
export interface ForgeRepo {
  name: string;
  remoteUrl: string;
  defaultBranch: string;
  /** Tip of the default branch, when the forge knows it without a round trip. */
  defaultBranchSha?: string;
}

/** Fields of a new issue. */
export interface NewIssue {
  title: string;
  body: string;
  author: string;
  labels?: string[];
}

/** Fields of a new pull request. */
export interface NewPullRequest {
  title: string;
  body: string;
  head: string;
  base: string;
  draft: boolean;
  sessionId: string | null;
}

/**
 * The forge interface: everything nightshift asks of a code host. Two adapters implement it:
 * `local` (bare repositories on disk, the rest in the store; the embedded default) and
 * later `github`. Methods throw {@link ForgeError} for missing items and refused actions.
 */
export interface Forge {
  readonly kind: "local" | "github";
  /** Makes `name` ready on the forge and tells where to fetch and push. */
  repo(name: string): Promise<ForgeRepo>;
  createIssue(repo: string, issue: NewIssue): Promise<Issue>;
  getIssue(repo: string, number: number): Promise<Issue>;
  listIssues(repo: string, opts?: { state?: "open" | "closed" | "all" }): Promise<Issue[]>;
  createPullRequest(repo: string, pr: NewPullRequest): Promise<PullRequest>;
  getPullRequest(repo: string, number: number): Promise<PullRequest>;
  listPullRequests(
    repo: string,
    opts?: { state?: "open" | "closed" | "merged" | "all" },
  ): Promise<PullRequest[]>;
  /** The unified diff of a pull request (base...head), as `git diff` prints it. */
  pullRequestDiff(repo: string, number: number): Promise<string>;
  addComment(repo: string, number: number, comment: { author: string; body: string }): Promise<Comment>;
  listComments(repo: string, number: number): Promise<Comment[]>;
}

/** A forge request that cannot be met: an unknown issue, PR or repository. */
export class ForgeError extends Error {
  override name = "ForgeError";
}
