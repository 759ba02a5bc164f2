import { describe, expect, it } from "vitest";
import { DEFAULT_WEBHOOK_MAX_BYTES, WebhookSourceSchema, WebhookSourcesSchema } from "./config-schema.ts";

describe("WebhookSourceSchema", () => {
  it("reads the Sentry example with defaults filled in", () => {
    const s = WebhookSourceSchema.parse({
      auth: { hmac: { secret_env: "SENTRY_CLIENT_SECRET", header: "Sentry-Hook-Signature" } },
      conditions: [{ path: "data.issue.level", in: ["error", "fatal"] }],
      idempotency: { header: "Request-ID" },
    });
    expect(s.auth).toEqual({
      hmac: { secret_env: "SENTRY_CLIENT_SECRET", header: "sentry-hook-signature", encoding: "hex" },
    });
    expect(s.idempotency).toEqual({ header: "request-id" });
    expect(s.max_bytes).toBe(DEFAULT_WEBHOOK_MAX_BYTES);
    expect(DEFAULT_WEBHOOK_MAX_BYTES).toBe(1_048_576);
  });

  it("reads a bearer source and a body-path idempotency key", () => {
    const s = WebhookSourceSchema.parse({
      auth: { bearer: { token_env: "MONITOR_TOKEN" } },
      idempotency: { path: "alert.id" },
      max_bytes: 4096,
    });
    expect(s).toEqual({
      auth: { bearer: { token_env: "MONITOR_TOKEN" } },
      idempotency: { path: "alert.id" },
      max_bytes: 4096,
    });
  });

  it("keeps equals: null as a condition on null", () => {
    const s = WebhookSourceSchema.parse({
      auth: { bearer: { token_env: "T" } },
      conditions: [{ path: "a", equals: null }],
    });
    expect(Object.hasOwn(s.conditions![0]!, "equals")).toBe(true);
  });

  it.each([
    ["an unknown top-level key", { auth: { bearer: { token_env: "T" } }, secret: "x" }],
    ["an unknown auth key", { auth: { hmac: { secret_env: "S", header: "h", secret: "abc" } } }],
    ["both auth kinds", { auth: { hmac: { secret_env: "S", header: "h" }, bearer: { token_env: "T" } } }],
    ["no auth", {}],
    [
      "a secret pasted instead of a variable name",
      { auth: { hmac: { secret_env: "whsec_9f8a7b", header: "h" } } },
    ],
    ["a bad header name", { auth: { hmac: { secret_env: "S", header: "bad header" } } }],
    ["an unknown encoding", { auth: { hmac: { secret_env: "S", header: "h", encoding: "base32" } } }],
    [
      "a condition without an operator",
      { auth: { bearer: { token_env: "T" } }, conditions: [{ path: "a" }] },
    ],
    [
      "a condition with two operators",
      { auth: { bearer: { token_env: "T" } }, conditions: [{ path: "a", equals: 1, exists: true }] },
    ],
    ["an invalid regex", { auth: { bearer: { token_env: "T" } }, conditions: [{ path: "a", matches: "(" }] }],
    [
      "an empty path segment",
      { auth: { bearer: { token_env: "T" } }, conditions: [{ path: "a..b", exists: true }] },
    ],
    ["an empty in-list", { auth: { bearer: { token_env: "T" } }, conditions: [{ path: "a", in: [] }] }],
    [
      "two idempotency sources",
      { auth: { bearer: { token_env: "T" } }, idempotency: { header: "x", path: "y" } },
    ],
    ["max_bytes of 0", { auth: { bearer: { token_env: "T" } }, max_bytes: 0 }],
    ["max_bytes over 25 MiB", { auth: { bearer: { token_env: "T" } }, max_bytes: 26 * 1024 * 1024 }],
  ])("refuses %s", (_name, input) => {
    expect(WebhookSourceSchema.safeParse(input).success).toBe(false);
  });

  it("says what to put in secret_env", () => {
    const r = WebhookSourceSchema.safeParse({ auth: { hmac: { secret_env: "abc123secret", header: "h" } } });
    expect(JSON.stringify(r.error?.issues)).toMatch(/NAME of an environment variable/);
  });

  it("names sources like routines", () => {
    expect(WebhookSourcesSchema.safeParse({ sentry: { auth: { bearer: { token_env: "T" } } } }).success).toBe(
      true,
    );
    expect(
      WebhookSourcesSchema.safeParse({ "Sentry Prod": { auth: { bearer: { token_env: "T" } } } }).success,
    ).toBe(false);
  });
});
