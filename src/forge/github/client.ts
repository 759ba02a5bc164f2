import { randomUUID } from "node:crypto";
import { createAppAuth } from "@octokit/auth-app";
import { retry } from "@octokit/plugin-retry";
import { throttling, type ThrottlingOptions } from "@octokit/plugin-throttling";
import { Octokit } from "@octokit/rest";

/** Octokit with the throttling and retry plugins, as nightshift uses it. */
export const NightshiftOctokit = Octokit.plugin(throttling, retry);
export type NightshiftOctokit = InstanceType<typeof NightshiftOctokit>;

/** A GitHub App installation to act as (`@octokit/auth-app`). */
export interface GithubAppCredentials {
  appId: number | string;
  /** PEM text of the App's private key (not a path). */
  privateKey: string;
  installationId: number;
}

/**
 * How the client waits and retries. GitHub's own guidance is the default: wait for the
 * rate-limit reset (`x-ratelimit-reset`) or `retry-after` and retry; keep at least 1 s between
 * mutating requests (the throttling plugin's `write` group, which GraphQL requests also pass).
 */
export interface GithubThrottleOptions {
  /**
   * Milliseconds per second of `retry-after`/reset wait (throttling's `retryAfterBaseValue`,
   * also used for the retry plugin's back-off on 5xx). Default 1000; tests pass 1.
   */
  retryAfterBaseMs?: number;
  /** Retries after a primary or secondary rate limit. Default 2. */
  maxRateLimitRetries?: number;
  /** A longer wait than this (seconds) fails at once instead of holding the caller. Default 900. */
  maxRetryAfterSeconds?: number;
  /**
   * Bottleneck groups that replace the throttling plugin's `write`/`search`/`notifications`
   * pacing (1 s, 2 s, 3 s between requests). Only tests against a fake pass these.
   */
  groups?: Pick<ThrottlingOptions, "write" | "search" | "notifications">;
}

export interface ClientOptions {
  /** REST base URL: `https://api.github.com`, or `https://HOST/api/v3` for GitHub Enterprise Server. */
  apiUrl: string;
  token?: string;
  app?: GithubAppCredentials;
  throttle?: GithubThrottleOptions;
  /**
   * Called for every HTTP request that leaves the process. Counted at `fetch`, below octokit's
   * hooks, so throttling/retry repeats and App token requests are included.
   */
  onRequest?: () => void;
  /** Where throttling/retry warnings go; defaults to silence (callers log the errors they get). */
  log?: { warn: (msg: string) => void };
}

/**
 * Builds the Octokit client: PAT (`auth: token`) or App installation (`createAppAuth`), the
 * throttling plugin (retry after primary/secondary rate limits, up to `maxRateLimitRetries`
 * times) and the retry plugin (5xx). Every fetch is counted through `onRequest`.
 *
 * @throws {Error} when neither `token` nor `app` is given.
 */
export function createOctokit(opts: ClientOptions): NightshiftOctokit {
  if (!opts.token && !opts.app) {
    throw new Error("GitHub client: give a token or GitHub App credentials");
  }
  const t = opts.throttle ?? {};
  const base = t.retryAfterBaseMs ?? 1000;
  const maxRetries = t.maxRateLimitRetries ?? 2;
  const maxWait = t.maxRetryAfterSeconds ?? 900;
  const warn = opts.log?.warn ?? (() => {});
  const onLimit =
    (kind: string) =>
    (retryAfter: number, options: { method: string; url: string }, _o: unknown, retryCount: number) => {
      const retry = retryCount < maxRetries && retryAfter <= maxWait;
      warn(
        `GitHub ${kind} rate limit on ${options.method} ${options.url}: ${retry ? `retrying in ${retryAfter}s (retry ${retryCount + 1}/${maxRetries})` : "giving up"}`,
      );
      return retry;
    };
  const countingFetch: typeof fetch = (input, init) => {
    opts.onRequest?.();
    return fetch(input, init);
  };
  const silent = {
    debug: () => {},
    info: () => {},
    warn: (m: string) => warn(m),
    error: (m: string) => warn(m),
  };
  return new NightshiftOctokit({
    baseUrl: opts.apiUrl.replace(/\/+$/, ""),
    userAgent: "nightshift",
    log: silent,
    request: { fetch: countingFetch },
    ...(opts.app
      ? {
          authStrategy: createAppAuth,
          auth: {
            appId: opts.app.appId,
            privateKey: opts.app.privateKey,
            installationId: opts.app.installationId,
          },
        }
      : { auth: opts.token }),
    throttle: {
      // Own limiter queues per client (the plugin keys its Bottleneck groups by this id).
      id: `nightshift-${randomUUID()}`,
      retryAfterBaseValue: base,
      onRateLimit: onLimit("primary"),
      onSecondaryRateLimit: onLimit("secondary"),
      ...t.groups,
    },
    retry: { retryAfterBaseValue: base },
  });
}
