import { describe, expect, it } from "vitest";
import { gateGithubAuthor } from "./author-gate.ts";
import { githubExample } from "../../../test/support/github-examples.ts";

const none = { allowed: [] as string[], authors: undefined };

describe("gateGithubAuthor", () => {
  it("trusts OWNER, MEMBER and COLLABORATOR and nothing else by default", () => {
    for (const association of ["OWNER", "MEMBER", "COLLABORATOR"]) {
      const p = githubExample("issue_comment", "created");
      p.comment.author_association = association;
      expect(gateGithubAuthor("issue_comment", p, none)).toMatchObject({ trusted: true });
    }
    for (const association of ["CONTRIBUTOR", "FIRST_TIME_CONTRIBUTOR", "FIRST_TIMER", "MANNEQUIN", "NONE"]) {
      const p = githubExample("issue_comment", "created");
      p.comment.author_association = association;
      expect(gateGithubAuthor("issue_comment", p, none)).toMatchObject({ trusted: false, association });
    }
  });

  it("judges the author of the text each event carries, not the sender", () => {
    const cases: [event: string, action: string, path: string][] = [
      ["issues", "labeled", "issue"],
      ["issue_comment", "created", "comment"],
      ["pull_request", "opened", "pull_request"],
      ["pull_request_review", "submitted", "review"],
      ["pull_request_review_comment", "created", "comment"],
    ];
    for (const [event, action, path] of cases) {
      const p = githubExample(event, action);
      p[path].author_association = "NONE";
      p[path].user.login = "stranger";
      // The maintainer who caused the delivery (labelled the issue, say) does not vouch for it.
      p.sender.login = "Codertocat";
      const v = gateGithubAuthor(event, p, none);
      expect(v, event).toMatchObject({ trusted: false, login: "stranger" });
      if (!v.trusted) expect(v.reason).toContain(`${path}.author_association NONE`);
    }
  });

  it("lets listed logins through, case-insensitively, and everyone with authors: any", () => {
    const p = githubExample("pull_request", "opened");
    p.pull_request.author_association = "FIRST_TIME_CONTRIBUTOR";
    p.pull_request.user.login = "Alice";
    expect(gateGithubAuthor("pull_request", p, { allowed: ["alice"], authors: undefined }).trusted).toBe(
      true,
    );
    expect(gateGithubAuthor("pull_request", p, { allowed: [], authors: ["ALICE"] }).trusted).toBe(true);
    expect(gateGithubAuthor("pull_request", p, { allowed: ["bob"], authors: ["carol"] }).trusted).toBe(false);
    expect(gateGithubAuthor("pull_request", p, { allowed: [], authors: "any" }).trusted).toBe(true);
  });

  it("does not trust a payload without an association or a login, and never throws", () => {
    const p = githubExample("issues", "opened");
    delete p.issue.author_association;
    expect(gateGithubAuthor("issues", p, none).trusted).toBe(false);
    delete p.issue.user;
    const v = gateGithubAuthor("issues", p, { allowed: ["alice"], authors: undefined });
    expect(v).toMatchObject({ trusted: false, login: undefined });
    if (!v.trusted) expect(v.reason).toContain("missing (no issue.user.login)");
    for (const junk of [null, 42, "x", [], { issue: "nope" }])
      expect(gateGithubAuthor("issues", junk, none).trusted).toBe(false);
  });

  it("does not gate events written by accounts with write access or by apps", () => {
    for (const [event, action] of [
      ["push", undefined],
      ["release", "published"],
      ["check_run", "completed"],
      ["check_suite", "completed"],
    ] as const) {
      expect(gateGithubAuthor(event, githubExample(event, action), none).trusted, event).toBe(true);
    }
  });
});
