import { type Context, Hono, type MiddlewareHandler } from "hono";
import type { Routine, Trigger } from "../../config/routine-schema.ts";
import { type FireResult, fireRoutine } from "../../queue/fire.ts";
import { type PausedRoutine, pausedRoutines, pausedSkipReason } from "../../store/routine-switches.ts";
import { recordWebhookDelivery } from "../../store/webhook-deliveries.ts";
import { matchConditions } from "../../triggers/generic/conditions.ts";
import { type WebhookSource, WebhookSourceSchema } from "../../triggers/generic/config-schema.ts";
import { idempotencyKey } from "../../triggers/generic/idempotency-key.ts";
import {
  type GenericVerifyResult,
  verifyGenericHeaders,
  verifyGenericRequest,
} from "../../triggers/generic/verify-request.ts";
import { gateGithubAuthor } from "../../triggers/github/author-gate.ts";
import { matchGithubEvent } from "../../triggers/github/filter.ts";
import { summarizeGithubEvent } from "../../triggers/github/summarize-event.ts";
import { isSignature256Header, verifiedGithubText } from "../../triggers/github/verify-signature.ts";
import { randomId } from "../../util/ids.ts";
import type { AppDeps } from "../deps.ts";
import { boundedBody, ByteBudget } from "../body.ts";
import { RoutineCache } from "../routine-cache.ts";

/** GitHub caps webhook payloads at 25 MB ("Webhook events and payloads"). */
export const GITHUB_MAX_BYTES = 25 * 1024 * 1024;
/**
 * Bytes of webhook bodies held at once, all deliveries together, before their signature is
 * checked (a body authenticated by a bearer token does not count): a delivery that would pass
 * it is answered 503. Room for two maximum-size GitHub deliveries.
 */
export const UNVERIFIED_BODY_BUDGET = 2 * GITHUB_MAX_BYTES;
/** Largest webhook summary given to a session as context, in characters. */
const MAX_CONTEXT_CHARS = 8_000;

function headersOf(req: Request): Record<string, string | undefined> {
  const out: Record<string, string | undefined> = {};
  req.headers.forEach((v, k) => (out[k.toLowerCase()] = v));
  return out;
}

/** A run a delivery started, as reported to the sender. */
interface StartedRun {
  routine: string;
  run_id: string;
  outcome: string;
  session_id?: string;
  /** Why the run was only recorded (a gated author, an overlap policy). */
  reason?: string;
}

/** A delivery to store, and how to tell which routine triggers it fires. */
interface Delivery {
  kind: "github" | "webhook";
  source: string;
  deliveryId: string;
  /** The `X-GitHub-Event` name; `null` for generic sources. */
  event: string | null;
  /** The run context (computed only when some routine matches). */
  context(): string;
  now: number;
  matches(t: Trigger): boolean;
  gate?(routine: Routine): string | undefined;
}

/**
 * Records the delivery and stores one run for every trigger of an enabled routine that
 * `matches` it (a routine with two matching triggers gets two), keyed by delivery and trigger
 * so a repeat is a no-op, with how many runs it started: all in one transaction, so a crash
 * leaves either the delivery with all its runs or nothing (and GitHub's redelivery then
 * stores it). When `gate` gives a reason for a routine, its runs are recorded as `skipped`
 * with that reason (outcome `gated`) and start no session; a paused routine's runs likewise
 * (outcome `skipped`, reason `routine paused: …`), whoever the author. Sessions the `replace` policy
 * cancels are cancelled once the transaction has committed.
 *
 * @returns the runs, or `undefined` when the delivery was seen before (nothing is stored).
 */
async function storeDelivery(
  deps: AppDeps,
  routines: RoutineCache,
  d: Delivery,
): Promise<StartedRun[] | undefined> {
  // Matching is pure: done before the transaction, so the store is held only for the writes.
  const planned: { routine: Routine; index: number; gated: string | undefined }[] = [];
  for (const routine of routines.current()) {
    if (!routine.enabled) continue;
    for (const [index, trigger] of routine.triggers.entries()) {
      if (d.matches(trigger)) planned.push({ routine, index, gated: d.gate?.(routine) });
    }
  }
  const context = planned.some((p) => p.gated === undefined) ? d.context() : "";
  const toCancel: string[] = [];
  const fired = await deps.project.store.db.transaction().execute(async (trx) => {
    const fresh = await recordWebhookDelivery(trx, {
      source: d.source,
      deliveryId: d.deliveryId,
      event: d.event,
      now: d.now,
      runs: planned.length,
    });
    if (!fresh) return undefined;
    // Paused routines (one query): their runs are recorded as skipped with the pause's reason.
    const paused = planned.length ? await pausedRoutines(trx) : new Map<string, PausedRoutine>();
    const out: { routine: Routine; gated: string | undefined; result: FireResult }[] = [];
    for (const { routine, index, gated: authorGate } of planned) {
      const pause = paused.get(routine.name);
      const gated = pause ? undefined : authorGate;
      const skipReason = pause ? pausedSkipReason(pause) : gated;
      const result = await fireRoutine(
        trx,
        {
          routine,
          trigger: d.kind,
          dedupeKey: `${d.source}:${d.deliveryId}:${index}`,
          ...(skipReason === undefined ? { context } : { skipReason }),
          now: d.now,
        },
        {
          cancelRunning: (name) => {
            toCancel.push(name);
            return 0;
          },
        },
      );
      out.push({ routine, gated, result });
    }
    return out;
  });
  if (fired === undefined) return undefined;
  if (deps.pool) for (const name of toCancel) deps.pool.cancelRoutine(name);
  return fired.map(({ routine, gated, result: r }) => {
    const outcome = gated !== undefined && r.outcome === "skipped" ? "gated" : r.outcome;
    deps.log?.(
      "info",
      `${d.kind === "github" ? "github" : `webhook ${d.source}`} fired ${routine.name}: ${outcome}${r.sessionId ? `, session ${r.sessionId}` : ""}`,
      { routine: routine.name, run: r.runId, outcome, delivery: d.deliveryId, session: r.sessionId ?? null },
    );
    return {
      routine: routine.name,
      run_id: r.runId,
      outcome,
      ...(r.sessionId ? { session_id: r.sessionId } : {}),
      ...(r.reason ? { reason: r.reason } : {}),
    };
  });
}

/**
 * Webhook receivers. Each verifies the signature over the raw body before parsing it, records
 * the delivery (a repeat is acknowledged and ignored), stores one run per matching routine
 * trigger, and only then answers 202 — well within GitHub's 10-second limit, since sessions
 * run later, in workers.
 */
export function webhookRoutes(deps: AppDeps): Hono {
  const app = new Hono();
  const sources = new Map<string, WebhookSource>();
  for (const [name, raw] of Object.entries(deps.project.config.webhooks)) {
    if (name === "github" || raw === undefined) continue;
    const parsed = WebhookSourceSchema.safeParse(raw);
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      throw new Error(
        `nightshift: .nightshift/config.yaml webhooks.${name}.${issue.path.join(".")}: ${issue.message}`,
      );
    }
    sources.set(name, parsed.data);
  }

  const unverified = new ByteBudget(UNVERIFIED_BODY_BUDGET);
  const routines = new RoutineCache(deps.project.root);

  app.post(
    "/v1/webhooks/github",
    // Refused before a byte of the body is read: not configured (404, below), no well-formed
    // signature header (401), a Content-Length over 25 MB (413), too many bodies at once (503).
    async (c, next) => {
      const configured = (deps.project.config.webhooks.github?.secrets_env ?? []).some((v) => !!deps.env[v]);
      if (configured && !isSignature256Header(c.req.header("x-hub-signature-256")))
        return c.json(
          { error: "invalid_signature", message: "X-Hub-Signature-256 is missing or does not match" },
          401,
        );
      return next();
    },
    boundedBody({
      maxBytes: GITHUB_MAX_BYTES,
      budget: unverified,
      onTooLarge: (c) => c.json({ error: "payload_too_large", message: "body over 25 MB" }, 413),
    }),
    async (c) => {
      const secretVars = deps.project.config.webhooks.github?.secrets_env ?? [];
      const secrets = secretVars.map((v) => deps.env[v]).filter((v): v is string => !!v);
      if (secrets.length === 0) {
        return c.json(
          {
            error: "not_configured",
            message:
              "GitHub webhooks are not configured: set webhooks.github.secrets_env in .nightshift/config.yaml and those variables",
          },
          404,
        );
      }
      const raw = Buffer.from(await c.req.arrayBuffer());
      // The verified text is parsed as is: the body is decoded once.
      const text = await verifiedGithubText(secrets, raw, c.req.header("x-hub-signature-256"));
      if (text === undefined) {
        return c.json(
          { error: "invalid_signature", message: "X-Hub-Signature-256 is missing or does not match" },
          401,
        );
      }
      const event = c.req.header("x-github-event");
      const delivery = c.req.header("x-github-delivery");
      if (!event || !delivery) {
        return c.json(
          { error: "bad_request", message: "X-GitHub-Event and X-GitHub-Delivery headers are required" },
          400,
        );
      }
      let payload: unknown;
      try {
        payload = JSON.parse(text);
      } catch {
        return c.json(
          {
            error: "bad_request",
            message: "the body is not JSON (set the webhook's content type to application/json)",
          },
          400,
        );
      }
      const allowed = deps.project.config.deque.allowed_authors;
      const runs = await storeDelivery(deps, routines, {
        kind: "github",
        source: "github",
        deliveryId: delivery,
        event,
        context: () => summarizeGithubEvent(event, delivery, payload).slice(0, MAX_CONTEXT_CHARS),
        now: deps.project.clock.now(),
        matches: (t) => "github" in t && matchGithubEvent(t, event, payload).match,
        gate: (routine) => {
          const v = gateGithubAuthor(event, payload, { allowed, authors: routine.authors });
          return v.trusted ? undefined : v.reason;
        },
      });
      if (runs === undefined) return c.json({ delivery, duplicate: true, runs: [] }, 200);
      const gated = runs.filter((r) => r.outcome === "gated");
      deps.log?.(gated.length ? "warn" : "info", "github delivery", {
        delivery,
        event,
        runs: runs.length,
        ...(gated.length ? { gated: gated.map((r) => r.routine), reason: gated[0]!.reason } : {}),
      });
      return c.json({ delivery, runs }, 202);
    },
  );

  /** The answer to a refused generic delivery: 401 (with WWW-Authenticate), 413 or 500. */
  const refuse = (c: Context, verdict: GenericVerifyResult & { ok: false }) => {
    if (verdict.status === 401) c.header("WWW-Authenticate", `Bearer realm="nightshift"`);
    return c.json(
      {
        error:
          verdict.status === 413
            ? "payload_too_large"
            : verdict.status === 401
              ? "unauthorized"
              : "misconfigured",
        message: verdict.reason,
      },
      verdict.status,
    );
  };
  const genericBodies = new Map(
    [...sources].map(([name, source]) => [
      name,
      boundedBody({
        maxBytes: source.max_bytes,
        // A bearer token is checked before the body is read: only signed bodies wait unverified.
        ...("hmac" in source.auth ? { budget: unverified } : {}),
        onTooLarge: (c) =>
          c.json({ error: "payload_too_large", message: `body over ${source.max_bytes} bytes` }, 413),
      }),
    ]),
  );

  /**
   * Before a byte of a generic delivery's body is read: the source exists, its token (or the
   * shape of its signature header) checks out, the declared size fits.
   */
  const genericBefore: MiddlewareHandler = async (c, next) => {
    const name = c.req.param("source") ?? "";
    const source = sources.get(name);
    if (!source)
      return c.json(
        { error: "not_found", message: `no webhook source "${name}" in .nightshift/config.yaml` },
        404,
      );
    const pre = verifyGenericHeaders(source, headersOf(c.req.raw), deps.env);
    if (!pre.ok) return refuse(c, pre);
    return genericBodies.get(name)!(c, next);
  };

  app.post("/v1/webhooks/:source", genericBefore, async (c) => {
    const name = c.req.param("source");
    const source = sources.get(name)!;
    const raw = Buffer.from(await c.req.arrayBuffer());
    const headers = headersOf(c.req.raw);
    const verdict = verifyGenericRequest(source, raw, headers, deps.env);
    if (!verdict.ok) return refuse(c, verdict);
    let json: unknown;
    try {
      json = JSON.parse(raw.toString("utf8"));
    } catch {
      return c.json({ error: "bad_request", message: "the body is not JSON" }, 400);
    }
    const conditions = matchConditions(source.conditions, json);
    if (!conditions.match) return c.json({ ignored: true, reason: conditions.reason }, 200);
    const deliveryId = idempotencyKey(source, headers, json) ?? `auto:${randomId(16)}`;
    const runs = await storeDelivery(deps, routines, {
      kind: "webhook",
      source: name,
      deliveryId,
      event: null,
      context: () =>
        `Webhook from ${name} (delivery ${deliveryId}):\n\n\`\`\`json\n${JSON.stringify(json, null, 2).slice(0, MAX_CONTEXT_CHARS)}\n\`\`\``,
      now: deps.project.clock.now(),
      matches: (t) => "webhook" in t && t.webhook.source === name,
    });
    if (runs === undefined) return c.json({ delivery: deliveryId, duplicate: true, runs: [] }, 200);
    return c.json({ delivery: deliveryId, runs }, 202);
  });
  return app;
}
