import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { SelectionSchema, type SelectionConfig } from "./schema.ts";
import { selectItems } from "./strategies.ts";

const HOUR = 3_600_000;

function issues(input: unknown): string[] {
  const r = SelectionSchema.safeParse(input);
  if (r.success) throw new Error("expected the select block to be rejected");
  return r.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`);
}

describe("SelectionSchema", () => {
  it("fills in oldest, limit 1 and a 24 h cooldown", () => {
    expect(SelectionSchema.parse({})).toEqual({ strategy: "oldest", limit: 1, cooldown: 24 * HOUR });
  });

  it("reads the documented routine block", () => {
    const front = parse(`
select:
  strategy: most-blocking   # oldest | newest | random | smallest | most-blocking
  limit: 3
  labels: { include: [agent], exclude: [wontfix] }
  repos: [.]
  authors: [alice, "dependabot[bot]"]   # a bot needs quotes inside [ ]
  cooldown: 1h30m
`) as { select: unknown };
    const config: SelectionConfig = SelectionSchema.parse(front.select);
    expect(config).toEqual({
      strategy: "most-blocking",
      limit: 3,
      labels: { include: ["agent"], exclude: ["wontfix"] },
      repos: ["."],
      authors: ["alice", "dependabot[bot]"],
      cooldown: 1.5 * HOUR,
    });
  });

  it("feeds selectItems directly", () => {
    const config = SelectionSchema.parse({ strategy: "newest", limit: 1, labels: { include: ["agent"] } });
    const base = { repo: "acme/w", title: "", body: "", author: "alice", labels: ["agent"] };
    const queue = [
      { ...base, number: 1, createdAt: 1 },
      { ...base, number: 2, createdAt: 2 },
      { ...base, number: 3, createdAt: 3, labels: [] },
    ];
    const r = selectItems(queue, {
      ...config,
      rotation: { attempts: [], now: 10, cooldownMs: config.cooldown },
    });
    expect(r.selected.map((i) => i.number)).toEqual([2]);
  });

  it("accepts 0 and seconds for cooldown", () => {
    expect(SelectionSchema.parse({ cooldown: 0 }).cooldown).toBe(0);
    expect(SelectionSchema.parse({ cooldown: "0" }).cooldown).toBe(0);
    expect(SelectionSchema.parse({ cooldown: 90 }).cooldown).toBe(90_000);
    expect(SelectionSchema.parse({ cooldown: "2d" }).cooldown).toBe(48 * HOUR);
  });

  it.each([
    [{ strategy: "biggest" }, "strategy: must be one of oldest, newest, random, smallest, most-blocking"],
    [{ limit: 0 }, "limit: must be a whole number, 1 or more"],
    [{ limit: 1.5 }, "limit: must be a whole number, 1 or more"],
    [{ limit: "2" }, "limit: must be a whole number, 1 or more"],
    [
      { cooldown: "soon" },
      'cooldown: must be a duration such as "90s", "30m", "2h" or "7d" (a bare number is seconds), or 0 to turn rotation off; got "soon"',
    ],
    [
      { authors: ["@alice"] },
      'authors.0: must be a GitHub login without "@", such as "octocat" or "dependabot[bot]"',
    ],
    [
      { authors: [] },
      "authors: needs at least one login; leave authors out to take items by anyone on the allowlist",
    ],
    [{ repos: [""] }, "repos.0: a repository cannot be empty"],
    [
      { labels: { include: ["agent"], exclude: ["Agent"] } },
      'labels.exclude: label "agent" is both included and excluded, so no item could match',
    ],
  ])("rejects %j", (input, message) => {
    expect(issues(input)).toEqual([message]);
  });

  it("rejects unknown keys, at the top and inside labels", () => {
    expect(issues({ strategy: "oldest", order: "asc" })).toEqual([': Unrecognized key: "order"']);
    expect(issues({ labels: { includes: ["agent"] } })).toEqual(['labels: Unrecognized key: "includes"']);
  });
});
