import { describe, expect, it } from "vitest";
import { REDACTED, Redactor, redactorFromEnv } from "./redact.ts";

describe("Redactor", () => {
  it("replaces configured values and common token shapes", () => {
    const r = new Redactor(["hunter2-canary-value"]);
    const text = [
      "key hunter2-canary-value here",
      "gh ghp_0123456789abcdefghijABCDEFGHIJ012345",
      "pat github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyz",
      "app ghs_0123456789abcdefghijABCDEF",
      "anthropic sk-ant-api03-abcdefghijklmnop",
      "openai sk-proj-abcdefghijklmnopqrstuv",
      "ours nst_abcdefghijklmnopqrstuvwxyz0123",
    ].join("\n");
    const out = r.redact(text);
    for (const secret of [
      "hunter2-canary-value",
      "ghp_",
      "github_pat_",
      "ghs_",
      "sk-ant-",
      "sk-proj",
      "nst_",
    ]) {
      expect(out).not.toContain(secret);
    }
    expect(out.split(REDACTED)).toHaveLength(8);
  });

  it("leaves ordinary text alone and ignores very short secret values", () => {
    const r = new Redactor(["abc", undefined, ""]);
    expect(r.redact("abc sk-short ask nst_ my ghp_ task")).toBe("abc sk-short ask nst_ my ghp_ task");
  });

  it("redacts every string of a JSON value, keys included", () => {
    const r = redactorFromEnv(
      { ANTHROPIC_API_KEY: "sk-ant-realkey-0000000000", MY_SECRET: "canary-canary-1" },
      ["MY_SECRET"],
    );
    expect(
      r.redactDeep({ a: ["canary-canary-1", 3, { "sk-ant-realkey-0000000000": true }], b: null }),
    ).toEqual({
      a: [REDACTED, 3, { [REDACTED]: true }],
      b: null,
    });
  });
});

describe("Redactor.redactPartial", () => {
  it("also catches token prefixes and the start or end (12+ characters) of a known secret, cut short", () => {
    const secret = "db-password-7f3a9c2e1b0d";
    const r = new Redactor([secret]);
    const cut = [
      "token ghp_abc",
      "pat github_pat_11AB",
      "key sk-ant-ap",
      "openai sk-proj1",
      "ours nst_x",
      `start ${secret.slice(0, 12)}`,
      `end ${secret.slice(-13)}`,
    ].join("\n");
    const out = r.redactPartial(cut);
    expect(out.split(REDACTED)).toHaveLength(8);
    expect(out).not.toMatch(/ghp_|github_pat_|sk-|nst_|db-password|7f3a9c2e1b0d/);
    // Whole secrets and shorter pieces of ordinary words stay as `redact` leaves them.
    expect(r.redactPartial(`full ${secret}, db-pass and a task-sketch`)).toBe(
      `full ${REDACTED}, db-pass and a task-sketch`,
    );
  });
});
