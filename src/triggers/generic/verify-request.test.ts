import { createHmac } from "node:crypto";
import { describe, expect, it } from "vitest";
import { WebhookSourceSchema } from "./config-schema.ts";
import { verifyGenericHeaders, verifyGenericRequest } from "./verify-request.ts";

const SECRET = "sentry-client-secret-0123456789";
const env = { SENTRY_CLIENT_SECRET: SECRET, LINEAR_WEBHOOK_SECRET: SECRET, MONITOR_TOKEN: "mon_tok.en-123" };

const sentry = WebhookSourceSchema.parse({
  auth: { hmac: { secret_env: "SENTRY_CLIENT_SECRET", header: "sentry-hook-signature" } },
});
const prefixed = WebhookSourceSchema.parse({
  auth: {
    hmac: {
      secret_env: "SENTRY_CLIENT_SECRET",
      header: "x-signature",
      prefix: "sha256=",
      encoding: "base64",
    },
  },
  max_bytes: 64,
});
const bearer = WebhookSourceSchema.parse({ auth: { bearer: { token_env: "MONITOR_TOKEN" } } });

const body = Buffer.from(JSON.stringify({ action: "created", data: { issue: { level: "error" } } }));
const hex = (b: Buffer, secret = SECRET) => createHmac("sha256", secret).update(b).digest("hex");
const b64 = (b: Buffer, secret = SECRET) => createHmac("sha256", secret).update(b).digest("base64");

describe("verifyGenericRequest: HMAC", () => {
  it("accepts the hex HMAC-SHA256 of the raw body (Sentry, Linear style), any header-name case and hex case", () => {
    expect(verifyGenericRequest(sentry, body, { "sentry-hook-signature": hex(body) }, env)).toEqual({
      ok: true,
    });
    expect(
      verifyGenericRequest(sentry, body, { "Sentry-Hook-Signature": hex(body).toUpperCase() }, env),
    ).toEqual({ ok: true });
    expect(
      verifyGenericRequest(sentry, body.toString(), { "sentry-hook-signature": hex(body) }, env),
    ).toEqual({ ok: true });
    expect(
      verifyGenericRequest(sentry, new Uint8Array(body), { "sentry-hook-signature": hex(body) }, env),
    ).toEqual({ ok: true });
  });

  it("accepts a prefixed base64 digest when so configured", () => {
    const small = Buffer.from('{"a":1}');
    expect(verifyGenericRequest(prefixed, small, { "x-signature": `sha256=${b64(small)}` }, env)).toEqual({
      ok: true,
    });
    expect(
      verifyGenericRequest(prefixed, small, { "x-signature": `sha256=${b64(small).replace(/=$/, "")}` }, env),
    ).toEqual({ ok: true });
    expect(verifyGenericRequest(prefixed, small, { "x-signature": b64(small) }, env)).toMatchObject({
      ok: false,
      status: 401,
    });
    expect(
      verifyGenericRequest(prefixed, small, { "x-signature": `sha256=${hex(small)}` }, env),
    ).toMatchObject({ ok: false, status: 401 });
  });

  it.each([
    ["no header", {}, /missing signature header sentry-hook-signature/],
    ["an empty header", { "sentry-hook-signature": "" }, /malformed/],
    ["a wrong secret", { "sentry-hook-signature": hex(body, "other") }, /does not match/],
    ["a truncated digest", { "sentry-hook-signature": hex(body).slice(0, 63) }, /malformed/],
    ["a prefix the source does not use", { "sentry-hook-signature": `sha256=${hex(body)}` }, /malformed/],
    ["base64 where hex is configured", { "sentry-hook-signature": b64(body) }, /malformed/],
  ])("answers 401 for %s", (_name, headers, reason) => {
    const r = verifyGenericRequest(sentry, body, headers as Record<string, string>, env);
    expect(r).toMatchObject({ ok: false, status: 401 });
    expect(r.ok === false && r.reason).toMatch(reason);
  });

  it("answers 401 when one body byte changed or the JSON was re-serialised", () => {
    const sig = hex(body);
    const flipped = Buffer.from(body);
    flipped[5] = flipped[5]! ^ 1;
    expect(verifyGenericRequest(sentry, flipped, { "sentry-hook-signature": sig }, env).ok).toBe(false);
    const pretty = JSON.stringify(JSON.parse(body.toString()), null, 2);
    expect(verifyGenericRequest(sentry, pretty, { "sentry-hook-signature": sig }, env).ok).toBe(false);
  });

  it("answers 500 naming the variable when the secret is not in the environment", () => {
    const r = verifyGenericRequest(sentry, body, { "sentry-hook-signature": hex(body) }, {});
    expect(r).toEqual({
      ok: false,
      status: 500,
      reason:
        "environment variable SENTRY_CLIENT_SECRET is not set; set it to this source's signing secret on the server and restart",
    });
    expect(verifyGenericRequest(sentry, body, {}, { SENTRY_CLIENT_SECRET: "" })).toMatchObject({
      status: 500,
    });
  });

  it("answers 413 for a body over max_bytes, before looking at the signature", () => {
    const big = Buffer.alloc(65, "a");
    expect(verifyGenericRequest(prefixed, big, { "x-signature": `sha256=${b64(big)}` }, env)).toEqual({
      ok: false,
      status: 413,
      reason: "body is 65 bytes; this source accepts at most 64 (max_bytes)",
    });
    const exact = Buffer.alloc(64, "a");
    expect(verifyGenericRequest(prefixed, exact, { "x-signature": `sha256=${b64(exact)}` }, env)).toEqual({
      ok: true,
    });
  });

  it("counts bytes, not characters", () => {
    const text = "é".repeat(40); // 80 bytes in UTF-8
    expect(verifyGenericRequest(prefixed, text, {}, env)).toMatchObject({ status: 413 });
  });
});

describe("verifyGenericRequest: bearer", () => {
  it("accepts the configured token", () => {
    expect(verifyGenericRequest(bearer, body, { authorization: "Bearer mon_tok.en-123" }, env)).toEqual({
      ok: true,
    });
    expect(verifyGenericRequest(bearer, body, { Authorization: "bearer mon_tok.en-123" }, env)).toEqual({
      ok: true,
    });
  });

  it.each([
    ["no header", {}],
    ["another scheme", { authorization: "Basic mon_tok.en-123" }],
    ["a wrong token", { authorization: "Bearer mon_tok.en-124" }],
    ["a prefix of the token", { authorization: "Bearer mon_tok" }],
    ["the token plus more", { authorization: "Bearer mon_tok.en-1234" }],
  ])("answers 401 for %s", (_name, headers) => {
    expect(verifyGenericRequest(bearer, body, headers, env)).toMatchObject({ ok: false, status: 401 });
  });

  it("answers 500 naming the variable when the token is not in the environment", () => {
    const r = verifyGenericRequest(bearer, body, { authorization: "Bearer x" }, {});
    expect(r).toMatchObject({ ok: false, status: 500 });
    expect(r.ok === false && r.reason).toMatch(/MONITOR_TOKEN/);
  });
});

describe("verifyGenericHeaders (before the body is read)", () => {
  it("decides a bearer source in full and an HMAC source's header, agreeing with verifyGenericRequest", () => {
    const cases: [typeof sentry, Record<string, string>, NodeJS.ProcessEnv][] = [
      [bearer, { authorization: "Bearer mon_tok.en-123" }, env],
      [bearer, { authorization: "Bearer wrong" }, env],
      [bearer, {}, env],
      [bearer, { authorization: "Bearer mon_tok.en-123" }, {}],
      [sentry, {}, env],
      [sentry, { "sentry-hook-signature": "not hex" }, env],
      [sentry, { "sentry-hook-signature": hex(body) }, {}],
      [prefixed, { "x-signature": hex(body) }, env],
    ];
    for (const [source, headers, e] of cases) {
      const early = verifyGenericHeaders(source, headers, e);
      expect(early).toEqual(verifyGenericRequest(source, body.subarray(0, 10), headers, e));
    }
    // A well-formed HMAC header passes here; the digest is checked over the body later.
    expect(verifyGenericHeaders(sentry, { "sentry-hook-signature": "0".repeat(64) }, env)).toEqual({
      ok: true,
    });
  });
});
