import { ForgeError } from "../types.ts";
import type { RepoId } from "./mapping.ts";

/**
 * A GitHub request that failed, as a {@link ForgeError}: what was attempted, where, and what
 * to do next. `status` is the HTTP status (0 when no reply came), `type` GitHub's GraphQL error
 * type (`NOT_FOUND`, `FORBIDDEN`, `RATE_LIMITED`, …) when there was one.
 */
export class GithubForgeError extends ForgeError {
  override name = "GithubForgeError";
  readonly status: number;
  readonly type: string | undefined;

  constructor(message: string, status: number, type?: string, options?: ErrorOptions) {
    super(message, options);
    this.status = status;
    this.type = type;
  }
}

/** A repository, or pull request #`number` of it, that GitHub does not show: HTTP 404, `NOT_FOUND`. */
export function notFoundError(id: RepoId, number?: number): GithubForgeError {
  return new GithubForgeError(
    number === undefined
      ? `GitHub: repository ${id.full} not found, or the credentials cannot see it`
      : `GitHub: pull request #${number} of ${id.full} not found`,
    404,
    "NOT_FOUND",
  );
}

interface HttpErrorLike {
  name: string;
  status: number;
  message: string;
  response?: { headers?: Record<string, string | number | undefined>; data?: unknown };
}

/** octokit's `GraphqlResponseError`: GitHub answered HTTP 200 with `errors` (and the `data` that resolved). */
export interface GraphqlErrorLike {
  name: "GraphqlResponseError";
  message: string;
  errors?: { type?: string; message: string; path?: (string | number)[] }[];
  data?: unknown;
}

function isHttpError(e: unknown): e is HttpErrorLike {
  return e instanceof Error && typeof (e as { status?: unknown }).status === "number";
}

/** Whether `e` is octokit's `GraphqlResponseError` (a GraphQL reply with `errors`, HTTP 200). */
export function isGraphqlError(e: unknown): e is GraphqlErrorLike {
  return e instanceof Error && e.name === "GraphqlResponseError";
}

/** GitHub's `message` and `errors[].message` from a REST error body. */
function restDetail(e: HttpErrorLike): string {
  const data = e.response?.data as
    { message?: string; errors?: ({ message?: string; code?: string } | string)[] } | undefined;
  const parts = [data?.message ?? e.message];
  for (const x of data?.errors ?? []) {
    const m = typeof x === "string" ? x : (x.message ?? x.code);
    if (m) parts.push(m);
  }
  return parts.filter(Boolean).join("; ");
}

/**
 * A {@link GithubForgeError} for GraphQL errors GitHub answered (HTTP 200 with `errors`): the
 * whole reply's, or one alias's of a batched mutation. The first error's `type` decides what
 * to do next; the messages are joined, with any of `secrets` replaced by `[redacted]`.
 * `fallback` is the message when `errors` is empty.
 */
export function fromGraphqlErrors(
  errors: readonly { type?: string; message: string }[],
  what: string,
  opts: { credentials: string; secrets: readonly string[] },
  fallback = "GitHub answered with errors",
): GithubForgeError {
  const redact = (s: string) =>
    opts.secrets.reduce((t, sec) => (sec ? t.split(sec).join("[redacted]") : t), s);
  const type = errors.find((e) => e.type)?.type;
  const detail = redact(errors.map((e) => e.message).join("; ") || fallback);
  const next =
    type === "NOT_FOUND"
      ? "check the repository and number, and that the credentials can see the repository"
      : type === "FORBIDDEN" || type === "INSUFFICIENT_SCOPES"
        ? `the credentials lack a permission; ${opts.credentials}`
        : type === "RATE_LIMITED"
          ? "GitHub's GraphQL rate limit is spent; wait for the hourly reset"
          : type === "UNPROCESSABLE"
            ? "GitHub refused the change as given"
            : "this is a bug in nightshift's query or a GitHub change; report it with this message";
  return new GithubForgeError(
    `GitHub: ${what} failed (GraphQL ${type ?? "error"}): ${detail}; ${next}`,
    200,
    type,
  );
}

/**
 * Turns an octokit failure (`RequestError`, `GraphqlResponseError`, a network error) into a
 * {@link GithubForgeError}. `what` says what was being done ("listing issues of acme/widgets"),
 * `credentials` how to fix credentials ("set GITHUB_TOKEN to …"). Any of `secrets` found in
 * GitHub's text is replaced by `[redacted]`; messages never carry the token.
 * Errors that are already {@link ForgeError}s pass through.
 */
export function toForgeError(
  err: unknown,
  what: string,
  opts: { credentials: string; secrets: readonly string[] },
): ForgeError {
  if (err instanceof ForgeError) return err;
  const redact = (s: string) =>
    opts.secrets.reduce((t, sec) => (sec ? t.split(sec).join("[redacted]") : t), s);
  if (isGraphqlError(err)) return fromGraphqlErrors(err.errors ?? [], what, opts, err.message);
  if (isHttpError(err)) {
    const detail = redact(restDetail(err));
    const s = err.status;
    const headers = err.response?.headers ?? {};
    let next: string;
    if (s === 401) next = `the token is invalid or expired; ${opts.credentials}`;
    else if (
      (s === 403 || s === 429) &&
      (headers["x-ratelimit-remaining"] === "0" || /rate limit/i.test(detail))
    ) {
      const reset = Number(headers["x-ratelimit-reset"]);
      next = `GitHub's rate limit is spent${Number.isFinite(reset) && reset > 0 ? ` until ${new Date(reset * 1000).toISOString()}` : ""}; wait and try again`;
    } else if (s === 403) next = `the credentials lack permission for this; ${opts.credentials}`;
    else if (s === 404)
      next = `the repository or item does not exist, or the credentials cannot see it; ${opts.credentials}`;
    else if (s === 422) next = "GitHub refused the request as given";
    else if (s >= 500) next = "GitHub had a server error; try again later";
    else next = "see GitHub's message";
    return new GithubForgeError(`GitHub: ${what} failed (HTTP ${s}): ${detail}; ${next}`, s);
  }
  const message = err instanceof Error ? err.message : String(err);
  if (/rate limit/i.test(message)) {
    // The throttling plugin's own error for a GraphQL `RATE_LIMITED` reply (HTTP 200).
    return new GithubForgeError(
      `GitHub: ${what} failed: ${redact(message)}; GitHub's rate limit is spent, wait for the reset and try again`,
      200,
      "RATE_LIMITED",
    );
  }
  return new GithubForgeError(`GitHub: ${what} failed: ${redact(message)}; check the network and api_url`, 0);
}
