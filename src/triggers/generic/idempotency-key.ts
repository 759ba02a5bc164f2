import { createHash } from "node:crypto";
import type { WebhookSource } from "./config-schema.ts";
import { headerValue } from "./headers.ts";
import { lookupPath } from "./json-path.ts";

/** Longest key kept as is, in characters; longer ones are replaced by their SHA-256. */
const MAX_KEY_LENGTH = 200;

/**
 * The delivery id of a generic webhook request, used to start at most one run per delivery
 * when the sender retries (stored with the source name in the delivery ledger).
 *
 * Read from the header `idempotency.header` or the body path `idempotency.path` (a string,
 * or a finite number written in decimal). Surrounding whitespace is trimmed; a key longer
 * than 200 characters becomes `sha256:<hex>` so it fits the ledger.
 *
 * @param source - the source's validated configuration.
 * @param headers - request headers (any name case).
 * @param json - the parsed body.
 * @returns the key, or `undefined` when the source sets no `idempotency` or the value is
 *   missing, empty or not a string/number (the delivery is then not de-duplicated).
 */
export function idempotencyKey(
  source: WebhookSource,
  headers: Record<string, string | undefined>,
  json: unknown,
): string | undefined {
  const rule = source.idempotency;
  if (!rule) return undefined;
  let raw: unknown;
  if ("header" in rule) {
    raw = headerValue(headers, rule.header);
  } else {
    const at = lookupPath(json, rule.path);
    raw = at.found ? at.value : undefined;
  }
  const key =
    typeof raw === "string"
      ? raw.trim()
      : typeof raw === "number" && Number.isFinite(raw)
        ? String(raw)
        : undefined;
  if (!key) return undefined;
  return key.length > MAX_KEY_LENGTH
    ? `sha256:${createHash("sha256").update(key, "utf8").digest("hex")}`
    : key;
}
