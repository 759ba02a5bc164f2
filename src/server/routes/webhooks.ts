import { Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import { loadRoutines } from "../../config/load.ts";
import type { Trigger } from "../../config/routine-schema.ts";
import { fireRoutine } from "../../queue/fire.ts";
import { recordWebhookDelivery, setDeliveryRuns } from "../../store/webhook-deliveries.ts";
import { matchConditions } from "../../triggers/generic/conditions.ts";
import { type WebhookSource, WebhookSourceSchema } from "../../triggers/generic/config-schema.ts";
import { idempotencyKey } from "../../triggers/generic/idempotency-key.ts";
import { verifyGenericRequest } from "../../triggers/generic/verify-request.ts";
import { matchGithubEvent } from "../../triggers/github/filter.ts";
import { summarizeGithubEvent } from "../../triggers/github/summarize-event.ts";
import { verifyGithubSignature } from "../../triggers/github/verify-signature.ts";
import { randomId } from "../../util/ids.ts";
import type { AppDeps } from "../app.ts";

/** GitHub caps webhook payloads at 25 MB ("Webhook events and payloads"). */
const GITHUB_MAX_BYTES = 25 * 1024 * 1024;
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
}

/**
 * Stores one run for every trigger of an enabled routine that `matches` the delivery (a
 * routine with two matching triggers gets two), keyed by delivery and trigger so a repeat is
 * a no-op, and records how many runs the delivery started.
 */
async function fireMatching(
  deps: AppDeps,
  d: {
    kind: "github" | "webhook";
    source: string;
    deliveryId: string;
    context: string;
    now: number;
    matches(t: Trigger): boolean;
  },
): Promise<StartedRun[]> {
  const runs: StartedRun[] = [];
  for (const routine of loadRoutines(deps.project.root).routines.filter((r) => r.enabled)) {
    for (const [i, trigger] of routine.triggers.entries()) {
      if (!d.matches(trigger)) continue;
      const r = await fireRoutine(
        deps.project.store.db,
        {
          routine,
          trigger: d.kind,
          dedupeKey: `${d.source}:${d.deliveryId}:${i}`,
          context: d.context,
          now: d.now,
        },
        deps.pool ? { cancelRunning: (n) => deps.pool!.cancelRoutine(n) } : {},
      );
      runs.push({
        routine: routine.name,
        run_id: r.runId,
        outcome: r.outcome,
        ...(r.sessionId ? { session_id: r.sessionId } : {}),
      });
    }
  }
  await setDeliveryRuns(deps.project.store.db, d.source, d.deliveryId, runs.length);
  return runs;
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

  app.post(
    "/v1/webhooks/github",
    bodyLimit({
      maxSize: GITHUB_MAX_BYTES,
      onError: (c) => c.json({ error: "payload_too_large", message: "body over 25 MB" }, 413),
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
      if (!(await verifyGithubSignature(secrets, raw, c.req.header("x-hub-signature-256")))) {
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
        payload = JSON.parse(raw.toString("utf8"));
      } catch {
        return c.json(
          {
            error: "bad_request",
            message: "the body is not JSON (set the webhook's content type to application/json)",
          },
          400,
        );
      }
      const now = deps.project.clock.now();
      if (
        !(await recordWebhookDelivery(deps.project.store.db, {
          source: "github",
          deliveryId: delivery,
          event,
          now,
        }))
      ) {
        return c.json({ delivery, duplicate: true, runs: [] }, 200);
      }
      const summary = summarizeGithubEvent(event, delivery, payload).slice(0, MAX_CONTEXT_CHARS);
      const runs = await fireMatching(deps, {
        kind: "github",
        source: "github",
        deliveryId: delivery,
        context: summary,
        now,
        matches: (t) => "github" in t && matchGithubEvent(t, event, payload).match,
      });
      deps.log?.("info", "github delivery", { delivery, event, runs: runs.length });
      return c.json({ delivery, runs }, 202);
    },
  );

  app.post("/v1/webhooks/:source", async (c) => {
    const name = c.req.param("source");
    const source = sources.get(name);
    if (!source)
      return c.json(
        { error: "not_found", message: `no webhook source "${name}" in .nightshift/config.yaml` },
        404,
      );
    const declared = Number(c.req.header("content-length") ?? 0);
    if (declared > source.max_bytes)
      return c.json({ error: "payload_too_large", message: `body over ${source.max_bytes} bytes` }, 413);
    const raw = Buffer.from(await c.req.arrayBuffer());
    const headers = headersOf(c.req.raw);
    const verdict = verifyGenericRequest(source, raw, headers, deps.env);
    if (!verdict.ok) {
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
    }
    let json: unknown;
    try {
      json = JSON.parse(raw.toString("utf8"));
    } catch {
      return c.json({ error: "bad_request", message: "the body is not JSON" }, 400);
    }
    const conditions = matchConditions(source.conditions, json);
    if (!conditions.match) return c.json({ ignored: true, reason: conditions.reason }, 200);
    const deliveryId = idempotencyKey(source, headers, json) ?? `auto:${randomId(16)}`;
    const now = deps.project.clock.now();
    if (
      !(await recordWebhookDelivery(deps.project.store.db, { source: name, deliveryId, event: null, now }))
    ) {
      return c.json({ delivery: deliveryId, duplicate: true, runs: [] }, 200);
    }
    const context = `Webhook from ${name} (delivery ${deliveryId}):\n\n\`\`\`json\n${JSON.stringify(json, null, 2).slice(0, MAX_CONTEXT_CHARS)}\n\`\`\``;
    const runs = await fireMatching(deps, {
      kind: "webhook",
      source: name,
      deliveryId,
      context,
      now,
      matches: (t) => "webhook" in t && t.webhook.source === name,
    });
    return c.json({ delivery: deliveryId, runs }, 202);
  });
  return app;
}
