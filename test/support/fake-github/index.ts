/**
 * Fake GitHub for tests and benchmarks: see README.md in this folder.
 *
 * ```ts
 * const fake = await FakeGithub.start();
 * await fake.createRepo("acme/widgets");
 * const forge = new GithubForge({ apiUrl: fake.url, token: "fake-token", gitUrl: fake.gitUrl.bind(fake), throttle: fakeThrottle() });
 * ```
 */
import Bottleneck from "bottleneck";
import type { GithubThrottleOptions } from "../../../src/forge/github/client.ts";

export { FakeGithub, type FakeGithubOptions, type RequestLogEntry } from "./fake-github.ts";
export type {
  FakeCheckRun,
  FakeComment,
  FakeIssue,
  FakePull,
  FakeRepo,
  FakeReviewThread,
  FakeStatus,
} from "./state.ts";

/**
 * Throttle options for a GithubForge talking to the fake: rate-limit waits of 1 ms per
 * second GitHub asks for, and no 1 s spacing between writes (GitHub's guidance, which the
 * throttling plugin enforces by default and which would only slow tests down here).
 */
export function fakeThrottle(): GithubThrottleOptions {
  const group = () => new Bottleneck.Group({ maxConcurrent: 1, minTime: 0 });
  return { retryAfterBaseMs: 1, groups: { write: group(), search: group(), notifications: group() } };
}
