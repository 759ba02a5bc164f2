import { describe, expect, it } from "vitest";
import { GITHUB_EVENT_ACTIONS } from "./events.ts";
import { GithubTriggerSchema, matchGithubEvent, type GithubTrigger } from "./filter.ts";
import { githubExample, githubExamples } from "../../../test/support/github-examples.ts";

/** Parses a trigger the way a routine file would be validated. */
const trigger = (github: Record<string, unknown>): GithubTrigger => GithubTriggerSchema.parse({ github });

const matches = (t: GithubTrigger, event: string, payload: unknown) =>
  matchGithubEvent(t, event, payload).match;

function reason(t: GithubTrigger, event: string, payload: unknown): string {
  const r = matchGithubEvent(t, event, payload);
  if (r.match) throw new Error("expected no match");
  return r.reason;
}

describe("GithubTriggerSchema", () => {
  it("accepts a full trigger", () => {
    const t = trigger({
      events: ["pull_request"],
      actions: ["opened", "synchronize"],
      filters: {
        authors: ["octocat", "dependabot[bot]"],
        title: "/^fix/i",
        base_branches: ["main", "release/*"],
        labels_include: ["agent"],
        labels_exclude: ["wip"],
        draft: false,
        merged: false,
      },
    });
    expect(t.github.filters?.base_branches).toEqual(["main", "release/*"]);
  });

  it.each([
    ["an unknown key beside github", { github: { events: ["push"] }, extra: 1 }, /extra|Unrecognized/i],
    ["an unknown key in github", { github: { events: ["push"], event: "push" } }, /event|Unrecognized/i],
    [
      "an unknown filter",
      { github: { events: ["pull_request"], filters: { label: ["x"] } } },
      /label|Unrecognized/i,
    ],
    ["an unknown event", { github: { events: ["pull_requests"] } }, /must be one of pull_request/],
    ["no events", { github: { events: [] } }, /at least one event/],
    [
      "an action of no listed event",
      { github: { events: ["issues"], actions: ["synchronize"] } },
      /not an action of issues/,
    ],
    [
      "the non-existent merged action",
      { github: { events: ["pull_request"], actions: ["merged"] } },
      /use actions \[closed\] with filters.merged: true/,
    ],
    ["actions on push", { github: { events: ["push"], actions: ["created"] } }, /push: \(none\)/],
    [
      "draft on push only",
      { github: { events: ["push"], filters: { draft: false } } },
      /does not apply to push/,
    ],
    [
      "merged on issues only",
      { github: { events: ["issues"], filters: { merged: true } } },
      /applies to pull_request/,
    ],
    [
      "title on check_run only",
      { github: { events: ["check_run"], filters: { title: "x" } } },
      /does not apply to check_run/,
    ],
    [
      "an invalid title regex",
      { github: { events: ["issues"], filters: { title: "/(/" } } },
      /not a valid regular expression/,
    ],
    [
      "a stateful g flag",
      { github: { events: ["issues"], filters: { title: "/x/g" } } },
      /flags may only be/,
    ],
    [
      "an @-prefixed author",
      { github: { events: ["issues"], filters: { authors: ["@octocat"] } } },
      /without/,
    ],
    [
      "an empty label list",
      { github: { events: ["issues"], filters: { labels_include: [] } } },
      /at least one label/,
    ],
  ])("refuses %s", (_name, input, message) => {
    const r = GithubTriggerSchema.safeParse(input);
    expect(r.success).toBe(false);
    expect(JSON.stringify(r.error?.issues)).toMatch(message);
  });

  it("accepts a filter that applies to one of several events", () => {
    expect(
      GithubTriggerSchema.safeParse({
        github: { events: ["push", "pull_request"], filters: { draft: false } },
      }).success,
    ).toBe(true);
  });
});

describe("matchGithubEvent: events and actions (real example payloads)", () => {
  it.each([
    ["pull_request", "opened"],
    ["pull_request", "closed"],
    ["pull_request", "synchronize"],
    ["pull_request", "reopened"],
    ["pull_request", "labeled"],
    ["pull_request", "ready_for_review"],
    ["pull_request", "converted_to_draft"],
    ["pull_request_review", "submitted"],
    ["pull_request_review_comment", "created"],
    ["release", "created"],
    ["release", "published"],
    ["release", "deleted"],
    ["issues", "opened"],
    ["issues", "labeled"],
    ["issue_comment", "created"],
    ["check_run", "completed"],
    ["check_run", "rerequested"],
    ["check_suite", "completed"],
    ["check_suite", "requested"],
  ])("%s.%s matches its event and action, and no other action", (event, action) => {
    const payload = githubExample(event, action);
    expect(matchGithubEvent(trigger({ events: [event] }), event, payload)).toEqual({ match: true });
    expect(matches(trigger({ events: [event], actions: [action] }), event, payload)).toBe(true);
    const other = (GITHUB_EVENT_ACTIONS as Record<string, readonly string[]>)[event]!.find(
      (a) => a !== action,
    )!;
    const withOther = trigger({ events: [event], actions: [other] });
    expect(reason(withOther, event, payload)).toBe(`action "${action}" is not one of "${other}"`);
  });

  it("push matches a push trigger; a push trigger with actions cannot be written", () => {
    for (const payload of githubExamples("push"))
      expect(matches(trigger({ events: ["push"] }), "push", payload)).toBe(true);
  });

  it("a delivery of an unlisted event does not match", () => {
    const t = trigger({ events: ["pull_request", "issues"] });
    expect(reason(t, "push", githubExample("push"))).toBe(
      'event "push" is not one of "pull_request", "issues"',
    );
    expect(reason(t, "workflow_run", {})).toMatch(/not one of/);
  });

  it("a delivery without an action does not match a trigger that lists actions", () => {
    const t = trigger({ events: ["issues"], actions: ["opened"] });
    const payload = githubExample("issues", "opened");
    delete payload.action;
    expect(reason(t, "issues", payload)).toMatch(/has no action/);
  });

  it("never throws on malformed payloads, it just does not match", () => {
    const t = trigger({
      events: ["pull_request", "push", "check_run"],
      filters: {
        authors: ["a"],
        title: "*",
        base_branches: ["*"],
        labels_include: ["x"],
        draft: false,
        merged: false,
      },
    });
    for (const payload of [
      null,
      undefined,
      "x",
      1,
      [],
      {},
      { pull_request: null },
      { pull_request: { labels: "x" } },
      { ref: 5 },
    ]) {
      for (const event of ["pull_request", "push", "check_run"]) {
        expect(matches(t, event, payload)).toBe(false);
      }
    }
  });
});

describe("matchGithubEvent: authors", () => {
  it.each([
    ["pull_request", "opened", "pull_request.user"],
    ["pull_request_review", "submitted", "review.user"],
    ["pull_request_review_comment", "created", "comment.user"],
    ["issues", "opened", "issue.user"],
    ["issue_comment", "created", "comment.user"],
    ["release", "published", "release.author"],
    ["check_run", "completed", "sender"],
    ["check_suite", "completed", "sender"],
    ["push", undefined, "sender"],
  ])("%s.%s: the author is %s.login, case-insensitively", (event, action, field) => {
    const payload = githubExample(event, action);
    const author: { login: string } = field.split(".").reduce((o: any, k) => o[k], payload);
    expect(author.login).toBe("Codertocat");
    expect(
      matches(trigger({ events: [event], filters: { authors: ["codertocat", "someone"] } }), event, payload),
    ).toBe(true);
    const t = trigger({ events: [event], filters: { authors: ["someone"] } });
    expect(reason(t, event, payload)).toBe(`author "Codertocat" (${field}.login) is not one of "someone"`);
  });

  it("a maintainer labelling a stranger's issue does not pass an authors allowlist of the maintainer", () => {
    const payload = githubExample("issues", "labeled");
    payload.issue.user.login = "stranger";
    expect(payload.sender.login).toBe("Codertocat");
    const t = trigger({ events: ["issues"], actions: ["labeled"], filters: { authors: ["Codertocat"] } });
    expect(reason(t, "issues", payload)).toMatch(/author "stranger" \(issue.user.login\)/);
  });

  it("a stranger's comment on an allowlisted author's issue does not match", () => {
    const payload = githubExample("issue_comment", "created");
    payload.comment.user.login = "stranger";
    const t = trigger({ events: ["issue_comment"], filters: { authors: ["Codertocat"] } });
    expect(matches(t, "issue_comment", payload)).toBe(false);
  });
});

describe("matchGithubEvent: title (glob and /regex/flags)", () => {
  it.each([
    ["pull_request", "opened", "Update the README with new information."],
    ["pull_request_review", "submitted", "Update the README with new information."],
    ["issues", "opened", "Spelling error in the README file"],
    ["issue_comment", "created", "Spelling error in the README file"],
  ])("%s.%s: title %j", (event, action, title) => {
    const payload = githubExample(event, action);
    const word = title.split(" ")[0]!;
    const yes = (pattern: string) =>
      matches(trigger({ events: [event], filters: { title: pattern } }), event, payload);
    expect(yes(`${word}*`)).toBe(true);
    expect(yes("*README*")).toBe(true);
    expect(yes(`${word.toLowerCase()}*`)).toBe(false); // globs are case-sensitive
    expect(yes(`/^${word.toLowerCase()}/i`)).toBe(true);
    expect(yes("/README (with|file)/")).toBe(true);
    expect(yes("/^fix/")).toBe(false);
    expect(reason(trigger({ events: [event], filters: { title: "fix*" } }), event, payload)).toBe(
      `title ${JSON.stringify(title)} does not match "fix*"`,
    );
  });

  it("a glob star crosses slashes; brackets, parentheses and dots are literal", () => {
    const payload = githubExample("pull_request", "opened");
    payload.pull_request.title = "[WIP] chore(deps): bump a/b from 1.0 to 2.0";
    const yes = (title: string) =>
      matches(trigger({ events: ["pull_request"], filters: { title } }), "pull_request", payload);
    expect(yes("[WIP] chore(deps)*")).toBe(true);
    expect(yes("*bump a/b*")).toBe(true);
    expect(yes("*from 1.? to 2.?")).toBe(true);
    expect(yes("W*")).toBe(false);
    expect(yes("*from 1x0*")).toBe(false);
    expect(yes("[WIP]")).toBe(false);
  });

  it("release: the name, or the tag when the name is empty (as GitHub shows it)", () => {
    const t = trigger({ events: ["release"], filters: { title: "0.0.*" } });
    const published = githubExamples("release", "published");
    expect(published.some((p) => p.release.name === null)).toBe(true);
    for (const p of published) expect(matches(t, "release", p)).toBe(true);
    const named = githubExample("release", "created");
    named.release.name = "Big Release";
    expect(matches(t, "release", named)).toBe(false);
    expect(matches(trigger({ events: ["release"], filters: { title: "/^Big/" } }), "release", named)).toBe(
      true,
    );
  });

  it("on an event without a title (push) does not match, saying why", () => {
    const t = trigger({ events: ["push", "issues"], filters: { title: "*" } });
    expect(reason(t, "push", githubExample("push"))).toMatch(/filter "title" does not apply to push events/);
  });
});

describe("matchGithubEvent: base_branches", () => {
  it.each([
    ["pull_request", "opened"],
    ["pull_request", "closed"],
    ["pull_request_review", "submitted"],
    ["pull_request_review_comment", "created"],
    ["check_run", "completed"],
    ["check_suite", "completed"],
  ])("%s.%s: base master", (event, action) => {
    const payload = githubExample(event, action);
    expect(
      matches(trigger({ events: [event], filters: { base_branches: ["master"] } }), event, payload),
    ).toBe(true);
    expect(matches(trigger({ events: [event], filters: { base_branches: ["ma*"] } }), event, payload)).toBe(
      true,
    );
    expect(reason(trigger({ events: [event], filters: { base_branches: ["main"] } }), event, payload)).toBe(
      'base branch "master" does not match "main"',
    );
  });

  it("globs: * stays in one segment, ** crosses slashes", () => {
    const payload = githubExample("pull_request", "opened");
    payload.pull_request.base.ref = "release/1.0/hotfix";
    const t = (globs: string[]) => trigger({ events: ["pull_request"], filters: { base_branches: globs } });
    expect(matches(t(["release/*"]), "pull_request", payload)).toBe(false);
    expect(matches(t(["release/**"]), "pull_request", payload)).toBe(true);
    expect(matches(t(["main", "release/*/*"]), "pull_request", payload)).toBe(true);
  });

  it("push: the ref without refs/heads/; tag pushes never match", () => {
    const t = trigger({ events: ["push"], filters: { base_branches: ["master"] } });
    const pushes = githubExamples("push");
    const branch = pushes.find((p) => p.ref === "refs/heads/master")!;
    const tag = pushes.find((p) => p.ref.startsWith("refs/tags/"))!;
    expect(matches(t, "push", branch)).toBe(true);
    expect(reason(t, "push", tag)).toBe(
      "push to refs/tags/simple-tag is not a branch push; base_branches only matches branches",
    );
    expect(matches(trigger({ events: ["push"], filters: { base_branches: ["*"] } }), "push", tag)).toBe(
      false,
    );
  });

  it("check runs without an associated pull request do not match", () => {
    const payload = githubExample("check_run", "rerequested");
    expect(payload.check_run.pull_requests).toEqual([]);
    const t = trigger({ events: ["check_run"], filters: { base_branches: ["*"] } });
    expect(reason(t, "check_run", payload)).toMatch(/no associated pull request/);
  });

  it("does not apply to issues", () => {
    const t = trigger({ events: ["issues", "pull_request"], filters: { base_branches: ["master"] } });
    expect(reason(t, "issues", githubExample("issues", "opened"))).toMatch(
      /"base_branches" does not apply to issues/,
    );
  });
});

describe("matchGithubEvent: labels_include and labels_exclude", () => {
  it.each([
    ["pull_request", "labeled"],
    ["issues", "labeled"],
    ["issue_comment", "created"],
    ["pull_request_review", "submitted"],
  ])("%s.%s carries label bug", (event, action) => {
    const payload = githubExamples(event, action).find((p) => JSON.stringify(p).includes('"name":"bug"'))!;
    const t = (filters: Record<string, unknown>) => trigger({ events: [event], filters });
    expect(matches(t({ labels_include: ["bug"] }), event, payload)).toBe(true);
    expect(matches(t({ labels_include: ["BUG"] }), event, payload)).toBe(true);
    expect(matches(t({ labels_include: ["agent", "bug"] }), event, payload)).toBe(true);
    expect(reason(t({ labels_include: ["agent"] }), event, payload)).toBe(
      'labels [bug] include none of "agent"',
    );
    expect(matches(t({ labels_exclude: ["wip"] }), event, payload)).toBe(true);
    expect(reason(t({ labels_exclude: ["wip", "Bug"] }), event, payload)).toBe('label "Bug" is excluded');
    expect(matches(t({ labels_include: ["bug"], labels_exclude: ["bug"] }), event, payload)).toBe(false);
  });

  it("an item without labels matches labels_exclude and fails labels_include", () => {
    const payload = githubExample("pull_request", "opened");
    expect(payload.pull_request.labels).toEqual([]);
    expect(
      matches(
        trigger({ events: ["pull_request"], filters: { labels_exclude: ["wip"] } }),
        "pull_request",
        payload,
      ),
    ).toBe(true);
    expect(
      matches(
        trigger({ events: ["pull_request"], filters: { labels_include: ["agent"] } }),
        "pull_request",
        payload,
      ),
    ).toBe(false);
  });

  it("does not apply to push or releases", () => {
    const t = trigger({ events: ["push", "release", "issues"], filters: { labels_exclude: ["wip"] } });
    expect(reason(t, "push", githubExample("push"))).toMatch(/"labels_exclude" does not apply to push/);
    expect(reason(t, "release", githubExample("release", "published"))).toMatch(/does not apply to release/);
  });
});

describe("matchGithubEvent: draft and merged", () => {
  it("draft: converted_to_draft payloads are drafts, ready_for_review ones are not", () => {
    const drafts = trigger({ events: ["pull_request"], filters: { draft: true } });
    const ready = trigger({ events: ["pull_request"], filters: { draft: false } });
    const converted = githubExample("pull_request", "converted_to_draft");
    const readied = githubExample("pull_request", "ready_for_review");
    expect(matches(drafts, "pull_request", converted)).toBe(true);
    expect(reason(ready, "pull_request", converted)).toBe(
      "pull_request.draft is true, the trigger wants false",
    );
    expect(matches(ready, "pull_request", readied)).toBe(true);
    expect(matches(drafts, "pull_request", readied)).toBe(false);
  });

  it("draft: a review payload without pull_request.draft does not match", () => {
    const withDraft = githubExamples("pull_request_review", "submitted").find(
      (p) => "draft" in p.pull_request,
    )!;
    const without = githubExamples("pull_request_review", "submitted").find(
      (p) => !("draft" in p.pull_request),
    )!;
    const t = trigger({ events: ["pull_request_review"], filters: { draft: false } });
    expect(matches(t, "pull_request_review", withDraft)).toBe(true);
    expect(reason(t, "pull_request_review", without)).toBe(
      "payload has no pull_request.draft for the draft filter",
    );
  });

  it("draft on push does not match, saying why", () => {
    const t = trigger({ events: ["pull_request", "push"], filters: { draft: false } });
    expect(reason(t, "push", githubExample("push"))).toBe(
      'filter "draft" does not apply to push events (only to pull_request, pull_request_review, pull_request_review_comment)',
    );
  });

  it("merged: closed without merging vs closed by a merge", () => {
    const t = trigger({ events: ["pull_request"], actions: ["closed"], filters: { merged: true } });
    const closed = githubExample("pull_request", "closed");
    expect(reason(t, "pull_request", closed)).toBe("pull_request.merged is false, the trigger wants true");
    closed.pull_request.merged = true;
    expect(matches(t, "pull_request", closed)).toBe(true);
    expect(matches(t, "pull_request", githubExample("pull_request", "opened"))).toBe(false);
  });

  it("merged does not apply to review events", () => {
    const t = trigger({ events: ["pull_request", "pull_request_review"], filters: { merged: false } });
    expect(reason(t, "pull_request_review", githubExample("pull_request_review", "submitted"))).toMatch(
      /"merged" does not apply to pull_request_review/,
    );
  });
});

describe("matchGithubEvent: filters combined", () => {
  it("all filters must hold; the reason names the first that fails", () => {
    const t = trigger({
      events: ["pull_request"],
      actions: ["labeled"],
      filters: {
        authors: ["Codertocat"],
        title: "Update*",
        base_branches: ["master"],
        labels_include: ["bug"],
        draft: false,
        merged: false,
      },
    });
    const payload = githubExample("pull_request", "labeled");
    expect(matches(t, "pull_request", payload)).toBe(true);
    payload.pull_request.draft = true;
    expect(reason(t, "pull_request", payload)).toMatch(/draft is true/);
    payload.pull_request.base.ref = "dev";
    expect(reason(t, "pull_request", payload)).toMatch(/base branch "dev"/);
  });
});
