import { createHmac, timingSafeEqual } from "node:crypto";
import { hashApiToken, parseBearer, safeEqualHex } from "../api-token.ts";
import type { WebhookSource } from "./config-schema.ts";
import { headerValue } from "./headers.ts";

/** The verdict on a generic webhook request; `status` is the HTTP answer for a refusal. */
export type GenericVerifyResult = { ok: true } | { ok: false; status: 401 | 413 | 500; reason: string };

const HEX_DIGEST_RE = /^[0-9a-fA-F]{64}$/;
/** 32 bytes in standard base64: 43 characters and one `=` (padding optional). */
const BASE64_DIGEST_RE = /^[A-Za-z0-9+/]{43}=?$/;

/** The 32 digest bytes a signature header claims, or `undefined` when it is malformed. */
function claimedDigest(
  value: string,
  prefix: string | undefined,
  encoding: "hex" | "base64",
): Buffer | undefined {
  let v = value.trim();
  if (prefix !== undefined) {
    if (!v.startsWith(prefix)) return undefined;
    v = v.slice(prefix.length);
  }
  if (encoding === "hex") return HEX_DIGEST_RE.test(v) ? Buffer.from(v, "hex") : undefined;
  if (!BASE64_DIGEST_RE.test(v)) return undefined;
  const bytes = Buffer.from(v, "base64");
  return bytes.length === 32 ? bytes : undefined;
}

const missingEnv = (name: string, what: string): GenericVerifyResult => ({
  ok: false,
  status: 500,
  reason: `environment variable ${name} is not set; set it to this source's ${what} on the server and restart`,
});

/**
 * The checks of {@link verifyGenericRequest} that need no body, for a receiver to make
 * before it reads one: `auth.bearer` in full; for `auth.hmac`, that the secret's variable is
 * set and the signature header is present and well-formed. Same statuses and reasons. Pure;
 * never throws.
 *
 * @param source - the source's validated configuration.
 * @param headers - request headers (any name case).
 * @param env - where secrets are read from, normally `process.env`.
 * @returns `{ ok: true }` when the body may be read (and, for `hmac`, checked), else the refusal.
 */
export function verifyGenericHeaders(
  source: WebhookSource,
  headers: Record<string, string | undefined>,
  env: NodeJS.ProcessEnv,
): GenericVerifyResult {
  if ("hmac" in source.auth) {
    const { secret_env, header, prefix, encoding } = source.auth.hmac;
    if (!env[secret_env]) return missingEnv(secret_env, "signing secret");
    const value = headerValue(headers, header);
    if (value === undefined) return { ok: false, status: 401, reason: `missing signature header ${header}` };
    if (!claimedDigest(value, prefix, encoding)) {
      return {
        ok: false,
        status: 401,
        reason: `malformed signature header ${header}: expected ${prefix ?? ""}<${encoding} HMAC-SHA256>`,
      };
    }
    return { ok: true };
  }
  const { token_env } = source.auth.bearer;
  const token = env[token_env];
  if (!token) return missingEnv(token_env, "bearer token");
  const presented = parseBearer(headerValue(headers, "authorization"));
  if (presented === undefined)
    return { ok: false, status: 401, reason: "missing or malformed Authorization: Bearer header" };
  return safeEqualHex(hashApiToken(presented), hashApiToken(token))
    ? { ok: true }
    : { ok: false, status: 401, reason: "bearer token does not match" };
}

/**
 * Authenticates a request to a generic webhook source (Sentry, Linear, monitoring, …) and
 * enforces its size limit. Pure: reads only its arguments.
 *
 * 1. A body larger than `source.max_bytes` → 413.
 * 2. `auth.hmac`: HMAC-SHA256 of the raw body bytes, keyed with `env[secret_env]`, must equal
 *    the digest in header `header` (after `prefix`, decoded as `encoding`). The 32 bytes are
 *    compared with `crypto.timingSafeEqual`. Missing or malformed header, wrong digest → 401.
 * 3. `auth.bearer`: `Authorization: Bearer <token>` (RFC 6750) must equal `env[token_env]`;
 *    both are hashed with SHA-256 first so the constant-time comparison sees equal lengths.
 * 4. A missing or empty environment variable → 500, naming the variable: the server is
 *    misconfigured, the sender is not at fault.
 *
 * Pass the body as received (a `Buffer`); a string is taken as its UTF-8 bytes. Never throws.
 *
 * @param source - the source's validated configuration.
 * @param rawBody - the request body exactly as received (a `Buffer` or other `Uint8Array`).
 * @param headers - request headers (any name case).
 * @param env - where secrets are read from, normally `process.env`.
 * @returns `{ ok: true }`, or the status and a reason safe to log (never the secret).
 */
export function verifyGenericRequest(
  source: WebhookSource,
  rawBody: string | Uint8Array,
  headers: Record<string, string | undefined>,
  env: NodeJS.ProcessEnv,
): GenericVerifyResult {
  const body =
    rawBody instanceof Uint8Array
      ? Buffer.from(rawBody.buffer, rawBody.byteOffset, rawBody.byteLength)
      : Buffer.from(String(rawBody), "utf8");
  if (body.length > source.max_bytes) {
    return {
      ok: false,
      status: 413,
      reason: `body is ${body.length} bytes; this source accepts at most ${source.max_bytes} (max_bytes)`,
    };
  }

  const pre = verifyGenericHeaders(source, headers, env);
  if (!pre.ok || !("hmac" in source.auth)) return pre;
  const { secret_env, header, prefix, encoding } = source.auth.hmac;
  const claimed = claimedDigest(headerValue(headers, header)!, prefix, encoding)!;
  const expected = createHmac("sha256", env[secret_env]!).update(body).digest();
  return timingSafeEqual(claimed, expected)
    ? { ok: true }
    : { ok: false, status: 401, reason: `signature in ${header} does not match the body` };
}
