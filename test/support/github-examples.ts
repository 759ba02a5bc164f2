// Test-only helper: real GitHub webhook payloads from @octokit/webhooks-examples (a dev
// dependency). Nothing outside *.test.ts files may import this module.
import definitions from "@octokit/webhooks-examples/api.github.com/index.json" with { type: "json" };

/** A payload as parsed JSON. */
export type Payload = Record<string, any>;

interface Definition {
  name: string;
  examples: Payload[];
}

/**
 * The example payloads of one event, optionally only those of one action, deep-copied so a
 * test may change them. Test-only.
 *
 * @throws Error when the package has no example for that event and action.
 */
export function githubExamples(event: string, action?: string): Payload[] {
  const def = (definitions as unknown as Definition[]).find((d) => d.name === event);
  const found = (def?.examples ?? []).filter((p) => action === undefined || p.action === action);
  if (found.length === 0) {
    throw new Error(
      `nightshift tests: @octokit/webhooks-examples has no ${event}${action ? `.${action}` : ""} example`,
    );
  }
  return found.map((p) => structuredClone(p));
}

/** The first example payload of an event (and action). Test-only. */
export function githubExample(event: string, action?: string): Payload {
  return githubExamples(event, action)[0]!;
}
