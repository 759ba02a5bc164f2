import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import type { Routine } from "../config/routine-schema.ts";

/** Every API trigger token starts with this, so secret scanners and people can recognise it. */
export const API_TOKEN_PREFIX = "nst_";

/** Random bytes in a token: 32 bytes = 256 bits, written as 43 base64url characters. */
const TOKEN_BYTES = 32;

/** Characters of a token kept in the clear for listings (`nst_` plus 8 random characters). */
const LISTED_PREFIX_LENGTH = 12;

/**
 * Whether a routine may be fired through the API: its `triggers` list `{api: true}`. Tokens
 * are made only for such routines, and a token of a routine whose API trigger was removed
 * since stops firing it (until the trigger is back; revoke it to end it for good).
 */
export function hasApiTrigger(routine: Pick<Routine, "triggers">): boolean {
  return routine.triggers.some((t) => "api" in t);
}

/** Why a routine without an API trigger cannot get a token or be fired with one, and the fix. */
export function apiTriggerMissing(name: string): string {
  return `routine "${name}" has no API trigger; add \`- api: true\` under \`triggers:\` in .nightshift/routines/${name}.md to allow firing it with a token`;
}

/** A fresh API trigger token. Show `token` once; store only `hash` and `prefix`. */
export interface NewApiToken {
  /** The secret: `nst_` followed by 43 base64url characters (32 random bytes). */
  token: string;
  /** Lowercase hex SHA-256 of the whole token (64 characters): the only form that is stored. */
  hash: string;
  /** The first 12 characters of the token, to tell tokens apart in listings and revoke one. */
  prefix: string;
}

/**
 * Creates a token for a routine's API trigger (`POST /routines/<name>/run` with
 * `Authorization: Bearer <token>`).
 *
 * The token carries 256 bits from `crypto.randomBytes`, so a plain SHA-256 (no salt, no slow
 * KDF) is enough to store it: there is nothing to brute-force, unlike a password. The same
 * reasoning is behind GitHub's token format (`ghp_` + random, stored hashed).
 *
 * @returns the token (to print once), its hash and its listing prefix.
 * @example
 * const { token, hash, prefix } = createApiToken();
 * await insertApiToken(db, { routine, hash, prefix, now });
 * console.log(`token (shown once): ${token}`);
 */
export function createApiToken(): NewApiToken {
  const token = API_TOKEN_PREFIX + randomBytes(TOKEN_BYTES).toString("base64url");
  return { token, hash: hashApiToken(token), prefix: token.slice(0, LISTED_PREFIX_LENGTH) };
}

/**
 * The stored form of a token: lowercase hex SHA-256 of its UTF-8 bytes (64 characters).
 * Look a presented token up by this hash, then confirm with {@link safeEqualHex}.
 *
 * @param token - the whole token as presented, `nst_` included.
 */
export function hashApiToken(token: string): string {
  return createHash("sha256").update(token, "utf8").digest("hex");
}

/** Longest `Authorization` header value looked at, in characters; longer ones are refused. */
const MAX_AUTHORIZATION_LENGTH = 8192;

/**
 * RFC 6750 §2.1: `credentials = "Bearer" 1*SP b64token`, where
 * `b64token = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="`.
 * The scheme name is case-insensitive (RFC 9110 §11.1).
 */
const BEARER_RE = /^Bearer +([A-Za-z0-9\-._~+/]+=*)$/i;

/**
 * The token of an `Authorization: Bearer <token>` header value (RFC 6750 §2.1).
 *
 * Accepts any case of `Bearer`, one or more spaces after it, and whitespace around the
 * whole value (which HTTP parsers strip anyway). Anything else — another scheme, no
 * token, characters outside the b64token alphabet, a comma-separated list, a value
 * longer than 8 KiB — gives `undefined`: the caller answers 401.
 *
 * @param header - the raw header value, or `undefined` when the request has none.
 * @returns the token, or `undefined` when the header is missing or not a Bearer credential.
 */
export function parseBearer(header: string | undefined): string | undefined {
  if (typeof header !== "string" || header.length > MAX_AUTHORIZATION_LENGTH) return undefined;
  const m = BEARER_RE.exec(header.trim());
  return m?.[1];
}

const HEX_RE = /^(?:[0-9a-fA-F]{2})+$/;

/**
 * Compares two hex strings (such as SHA-256 digests) in constant time for equal lengths.
 *
 * Returns `false`, without comparing, when either is empty, not an even-length hex string,
 * or the two differ in length: lengths of digests are public, so that early exit reveals
 * nothing. Case is ignored (the bytes are compared). Uses `crypto.timingSafeEqual`.
 *
 * @returns `true` when both encode the same bytes.
 */
export function safeEqualHex(a: string, b: string): boolean {
  if (typeof a !== "string" || typeof b !== "string") return false;
  if (a.length !== b.length || !HEX_RE.test(a) || !HEX_RE.test(b)) return false;
  return timingSafeEqual(Buffer.from(a, "hex"), Buffer.from(b, "hex"));
}
