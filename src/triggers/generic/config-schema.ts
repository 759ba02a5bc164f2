import { z } from "zod";

/** Default largest body a generic source accepts: 1 MiB. */
export const DEFAULT_WEBHOOK_MAX_BYTES = 1024 * 1024;

/** Upper bound for `max_bytes`: 25 MiB, GitHub's own cap on webhook payloads. */
const MAX_WEBHOOK_MAX_BYTES = 25 * 1024 * 1024;

/** Source names double as URL segments (`/webhooks/<source>`) and trigger references. */
const SOURCE_NAME_RE = /^[a-z0-9][a-z0-9_-]{0,62}$/;

/**
 * The name of an environment variable. Upper case only: a lower-case or mixed value is far
 * more likely to be a secret pasted into the file by mistake than a variable name.
 */
const envName = z
  .string()
  .regex(
    /^[A-Z_][A-Z0-9_]*$/,
    'must be the NAME of an environment variable holding the secret, such as "SENTRY_CLIENT_SECRET" (secrets never go in files)',
  );

/** An HTTP field name (RFC 9110 §5.1 token), stored lower-case as Node presents headers. */
const headerName = z
  .string()
  .regex(/^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/, 'must be an HTTP header name such as "sentry-hook-signature"')
  .transform((h) => h.toLowerCase());

/** A dotted path into the JSON body; numeric segments index arrays (`"data.tags.0"`). */
const jsonPath = z
  .string()
  .regex(/^[^.\s]+(?:\.[^.\s]+)*$/, 'must be a dotted path into the JSON body, such as "data.issue.level"');

const hmacAuth = z
  .object({
    hmac: z
      .object({
        secret_env: envName,
        header: headerName,
        /** Text before the digest in the header, such as `"sha256="`; none by default. */
        prefix: z.string().min(1).max(32).optional(),
        /** How the 32-byte digest is written: `hex` (default, either case) or `base64`. */
        encoding: z.enum(["hex", "base64"]).default("hex"),
      })
      .strict(),
  })
  .strict();

const bearerAuth = z.object({ bearer: z.object({ token_env: envName }).strict() }).strict();

const regexString = z.string().superRefine((source, ctx) => {
  try {
    new RegExp(source);
  } catch (e) {
    ctx.addIssue({ code: "custom", message: `is not a valid regular expression: ${(e as Error).message}` });
  }
});

/** One test on the JSON body. Exactly one of `equals`, `in`, `matches`, `exists`. */
export const WebhookConditionSchema = z
  .object({
    path: jsonPath,
    /** The value at `path` equals this JSON value (deep equality; `null` allowed). */
    equals: z.unknown().optional(),
    /** The value at `path` equals one of these. */
    in: z.array(z.unknown()).min(1, "needs at least one value").optional(),
    /** The value at `path` is a string (or number, boolean) matching this regular expression. */
    matches: regexString.optional(),
    /** The path is present (true; `null` counts as present) or absent (false). */
    exists: z.boolean().optional(),
  })
  .strict()
  .superRefine((c, ctx) => {
    const ops = (["equals", "in", "matches", "exists"] as const).filter((k) => Object.hasOwn(c, k));
    if (ops.length !== 1) {
      ctx.addIssue({
        code: "custom",
        message: `needs exactly one of equals, in, matches, exists; got ${ops.length === 0 ? "none" : ops.join(", ")}`,
      });
    }
  });

/**
 * One generic webhook source in `.nightshift/config.yaml` (`webhooks: { <source>: … }`): how
 * deliveries are authenticated, which ones start runs, how duplicates are recognised, and
 * the largest body accepted. Unknown keys are errors. Examples (Sentry, Linear) are in
 * `src/triggers/generic/README.md`.
 *
 * - `auth.hmac`: the header carries HMAC-SHA256 of the raw body keyed with the secret in
 *   the environment variable `secret_env`, after an optional `prefix`, as hex or base64.
 * - `auth.bearer`: `Authorization: Bearer <token>` with the token in `token_env`.
 * - `conditions`: all must hold, else the delivery is accepted but starts nothing.
 * - `idempotency`: where the delivery id is (a header or a body path), for de-duplication.
 * - `max_bytes`: largest body in bytes; default 1 MiB, at most 25 MiB.
 */
export const WebhookSourceSchema = z
  .object({
    auth: z.union([hmacAuth, bearerAuth], {
      error: "must be {hmac: {secret_env, header, prefix?, encoding?}} or {bearer: {token_env}}",
    }),
    conditions: z.array(WebhookConditionSchema).optional(),
    idempotency: z
      .union([z.object({ header: headerName }).strict(), z.object({ path: jsonPath }).strict()], {
        error: "must be {header: <name>} or {path: <dotted.path>}",
      })
      .optional(),
    max_bytes: z.number().int().positive().max(MAX_WEBHOOK_MAX_BYTES).default(DEFAULT_WEBHOOK_MAX_BYTES),
  })
  .strict();

/** `webhooks:` in `.nightshift/config.yaml`: sources by name (lower case, `-`, `_`, digits). */
export const WebhookSourcesSchema = z.record(
  z.string().regex(SOURCE_NAME_RE, "source names must be lowercase letters, digits, '-' or '_'"),
  WebhookSourceSchema,
);

/** A validated generic webhook source. */
export type WebhookSource = z.output<typeof WebhookSourceSchema>;
/** One validated condition. */
export type WebhookCondition = z.output<typeof WebhookConditionSchema>;
