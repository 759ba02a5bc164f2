import { describe, expect, it } from "vitest";
import type { WebhookCondition } from "./config-schema.ts";
import { WebhookConditionSchema } from "./config-schema.ts";
import { matchConditions } from "./conditions.ts";

const sentryIssue = {
  action: "created",
  data: {
    issue: {
      level: "error",
      project: { slug: "api" },
      count: "17",
      tags: ["backend", "p1"],
      assignedTo: null,
    },
  },
};

const c = (...raw: unknown[]): WebhookCondition[] => raw.map((r) => WebhookConditionSchema.parse(r));

describe("matchConditions", () => {
  it("matches when there are no conditions", () => {
    expect(matchConditions(undefined, sentryIssue)).toEqual({ match: true });
    expect(matchConditions([], null)).toEqual({ match: true });
  });

  it("equals: deep, typed equality", () => {
    expect(matchConditions(c({ path: "data.issue.level", equals: "error" }), sentryIssue).match).toBe(true);
    expect(
      matchConditions(c({ path: "data.issue.project", equals: { slug: "api" } }), sentryIssue).match,
    ).toBe(true);
    expect(matchConditions(c({ path: "data.issue.count", equals: 17 }), sentryIssue)).toEqual({
      match: false,
      reason: 'condition 1 (data.issue.count equals 17): got "17"',
    });
    expect(matchConditions(c({ path: "data.issue.assignedTo", equals: null }), sentryIssue).match).toBe(true);
    expect(matchConditions(c({ path: "data.issue.missing", equals: null }), sentryIssue).match).toBe(false);
  });

  it("in: one of several values", () => {
    expect(matchConditions(c({ path: "data.issue.level", in: ["error", "fatal"] }), sentryIssue).match).toBe(
      true,
    );
    expect(matchConditions(c({ path: "data.issue.level", in: ["fatal"] }), sentryIssue)).toEqual({
      match: false,
      reason: 'condition 1 (data.issue.level in ["fatal"]): got "error"',
    });
  });

  it("matches: a regular expression on strings, numbers and booleans", () => {
    expect(
      matchConditions(c({ path: "data.issue.project.slug", matches: "^(api|web)$" }), sentryIssue).match,
    ).toBe(true);
    expect(matchConditions(c({ path: "data.issue.count", matches: "^\\d+$" }), sentryIssue).match).toBe(true);
    expect(matchConditions(c({ path: "data.issue.level", matches: "^ERROR$" }), sentryIssue).match).toBe(
      false,
    );
    expect(matchConditions(c({ path: "data.issue.project", matches: "api" }), sentryIssue).match).toBe(false);
  });

  it("exists: present (null counts) or absent", () => {
    expect(matchConditions(c({ path: "data.issue.assignedTo", exists: true }), sentryIssue).match).toBe(true);
    expect(matchConditions(c({ path: "data.issue.resolved", exists: false }), sentryIssue).match).toBe(true);
    expect(matchConditions(c({ path: "data.issue.level", exists: false }), sentryIssue)).toEqual({
      match: false,
      reason: 'condition 1 (data.issue.level exists: false): got "error"',
    });
  });

  it("indexes arrays with numeric segments", () => {
    expect(matchConditions(c({ path: "data.issue.tags.1", equals: "p1" }), sentryIssue).match).toBe(true);
    expect(matchConditions(c({ path: "data.issue.tags.2", exists: false }), sentryIssue).match).toBe(true);
    expect(matchConditions(c({ path: "data.issue.tags.length", exists: true }), sentryIssue).match).toBe(
      false,
    );
  });

  it("does not reach inherited properties", () => {
    expect(matchConditions(c({ path: "data.constructor", exists: true }), sentryIssue).match).toBe(false);
    expect(matchConditions(c({ path: "data.__proto__", exists: true }), sentryIssue).match).toBe(false);
  });

  it("all conditions must hold; the reason names the first failure, 1-based", () => {
    const cs = c({ path: "action", equals: "created" }, { path: "data.issue.level", equals: "fatal" });
    expect(matchConditions(cs, sentryIssue)).toEqual({
      match: false,
      reason: 'condition 2 (data.issue.level equals "fatal"): got "error"',
    });
  });

  it("a missing path fails and says so", () => {
    expect(matchConditions(c({ path: "data.nope.deeper", equals: 1 }), sentryIssue)).toEqual({
      match: false,
      reason: "condition 1 (data.nope.deeper equals 1): path not found",
    });
    expect(matchConditions(c({ path: "a", equals: 1 }), "not an object").match).toBe(false);
  });
});
