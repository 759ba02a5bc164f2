import { verify } from "@octokit/webhooks-methods";

/**
 * GitHub's `X-Hub-Signature-256` value: `sha256=` and the lowercase hex HMAC-SHA256 of the
 * body (64 characters). Checking the shape first looks only at the attacker's own input, so
 * it reveals nothing about the secret; the comparison itself is the library's constant-time
 * `timingSafeEqual`.
 */
const SIGNATURE_256_RE = /^sha256=[0-9a-f]{64}$/;

/**
 * Whether an `X-Hub-Signature-256` value has the shape of one (`sha256=` and 64 lowercase
 * hex digits). Looks at the header only: a receiver refuses a delivery without one before
 * reading its body. Reveals nothing about the secret.
 */
export function isSignature256Header(value: string | undefined): value is string {
  return typeof value === "string" && SIGNATURE_256_RE.test(value);
}

const utf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/** The body as a string that encodes back to exactly the same bytes, or `undefined`. */
function exactText(rawBody: string | Uint8Array): string | undefined {
  if (typeof rawBody === "string") return rawBody;
  if (!(rawBody instanceof Uint8Array)) return undefined;
  try {
    // `fatal` refuses invalid UTF-8 instead of mapping it to U+FFFD, and `ignoreBOM` keeps a
    // BOM: so two different byte strings never decode to the same text (and signature).
    return utf8.decode(rawBody);
  } catch {
    return undefined;
  }
}

/**
 * Checks a GitHub webhook delivery's `X-Hub-Signature-256` header against the raw body.
 *
 * Rule (GitHub Docs, "Validating webhook deliveries"): the header is `sha256=` followed by
 * the hex HMAC-SHA256 of the exact request body, keyed with the webhook secret, and must be
 * compared in constant time. The check is `verify()` of `@octokit/webhooks-methods`.
 *
 * - Pass the body as received (a `Buffer`), never `JSON.stringify(JSON.parse(body))`:
 *   re-serialising changes bytes and the signature no longer matches.
 * - Several secrets support rotation: a delivery signed with any of them is accepted. Every
 *   secret is tried (no early exit), so timing does not tell which one matched.
 * - Refused (`false`): a missing header, anything not shaped `sha256=<64 lowercase hex>`,
 *   the legacy SHA-1 `X-Hub-Signature` value (`sha1=…`), an empty body, a body that is not
 *   valid UTF-8 (GitHub always sends UTF-8 JSON; `@octokit/webhooks-methods` signs text),
 *   a wrong secret, or any changed byte.
 *
 * @param secrets - the webhook secrets currently accepted, newest first.
 * @param rawBody - the request body exactly as received (a `Buffer` or other `Uint8Array`).
 * @param signature256Header - the `X-Hub-Signature-256` header value, if any.
 * @returns `true` when one of the secrets produced this signature over these bytes.
 * @throws TypeError when `secrets` is empty or holds an empty string: a receiver without a
 *   secret is a configuration error, not a bad delivery.
 * @example
 * if (!(await verifyGithubSignature([process.env.GITHUB_WEBHOOK_SECRET!], body, c.req.header("x-hub-signature-256")))) {
 *   return c.text("bad signature", 401);
 * }
 */
export async function verifyGithubSignature(
  secrets: string[],
  rawBody: string | Uint8Array,
  signature256Header: string | undefined,
): Promise<boolean> {
  return (await verifiedGithubText(secrets, rawBody, signature256Header)) !== undefined;
}

/**
 * {@link verifyGithubSignature}, returning the body as text when the signature is right (the
 * UTF-8 text the HMAC was checked over), so a receiver parses the JSON without decoding the
 * bytes a second time. Same rules, same refusals (`undefined` where the other gives `false`).
 *
 * @param secrets - the webhook secrets currently accepted, newest first.
 * @param rawBody - the request body exactly as received (a `Buffer` or other `Uint8Array`).
 * @param signature256Header - the `X-Hub-Signature-256` header value, if any.
 * @returns the verified body text, or `undefined` when no secret produced this signature.
 * @throws TypeError when `secrets` is empty or holds an empty string.
 */
export async function verifiedGithubText(
  secrets: string[],
  rawBody: string | Uint8Array,
  signature256Header: string | undefined,
): Promise<string | undefined> {
  if (
    !Array.isArray(secrets) ||
    secrets.length === 0 ||
    secrets.some((s) => typeof s !== "string" || s === "")
  ) {
    throw new TypeError(
      "nightshift: verifyGithubSignature needs at least one non-empty webhook secret; set the GitHub webhook secret in the server's environment",
    );
  }
  if (!isSignature256Header(signature256Header)) return undefined;
  const text = exactText(rawBody);
  if (text === undefined || text === "") return undefined;
  let ok = false;
  for (const secret of secrets) {
    if (await verify(secret, text, signature256Header)) ok = true;
  }
  return ok ? text : undefined;
}
