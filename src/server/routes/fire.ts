import { Hono } from "hono";
import { bearerAuth } from "hono/bearer-auth";
import { bodyLimit } from "hono/body-limit";
import { HTTPException } from "hono/http-exception";
import { z } from "zod";
import { loadRoutines } from "../../config/load.ts";
import { fireRoutine } from "../../queue/fire.ts";
import { findLiveApiToken, touchApiToken } from "../../store/api-tokens.ts";
import { pausedSkipReason, routinePause } from "../../store/routine-switches.ts";
import { apiTriggerMissing, hashApiToken, hasApiTrigger } from "../../triggers/api-token.ts";
import type { AppDeps } from "../deps.ts";
import { randomId } from "../../util/ids.ts";

/** Largest accepted fire body, in bytes. */
export const FIRE_MAX_BYTES = 64 * 1024;

/**
 * A control character other than tab and line feed (a CR only as part of CRLF): NUL, ESC,
 * DEL, C1. They have no place in a prompt, and NUL cannot be passed to a process at all.
 */
const CONTROL_CHAR = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f]|\r(?!\n)/;

const FireBody = z
  .object({
    text: z
      .string()
      .max(FIRE_MAX_BYTES)
      .refine((t) => !CONTROL_CHAR.test(t), {
        error: (issue) => {
          const text = String(issue.input);
          const at = text.search(CONTROL_CHAR);
          const code = text.charCodeAt(at).toString(16).toUpperCase().padStart(4, "0");
          return `contains the control character U+${code} at character ${at}; only tab and newline are allowed`;
        },
      })
      .optional(),
  })
  .strict();

type Vars = { Variables: { tokenId: string } };

/**
 * `POST /v1/routines/{name}/fire` — the API trigger. `Authorization: Bearer nst_…` (a token
 * of that routine); optional JSON body `{"text": "..."}` that reaches the session as run
 * context; optional `Idempotency-Key` header. Answers `200 {type: "routine_fire",
 * session_id, session_url}` once the run is stored; a paused routine's fire is stored as
 * `outcome: "skipped"` with `reason: "routine paused: …"` and no session. Errors: 400 malformed, 401 wrong or
 * revoked token (with `WWW-Authenticate`), 403 the routine has no `{api: true}` trigger (any
 * more), 404 unknown routine, 413 body too large, 429 rate limited.
 */
export function fireRoutes(deps: AppDeps): Hono<Vars> {
  const app = new Hono<Vars>();
  app.post(
    "/v1/routines/:name/fire",
    // The token first: a caller without one never gets a byte of its body read.
    bearerAuth<Vars>({
      realm: "nightshift",
      verifyToken: async (token, c) => {
        const row = await findLiveApiToken(deps.project.store.db, hashApiToken(token));
        if (!row || row.routine !== c.req.param("name")) return false;
        c.set("tokenId", row.id);
        return true;
      },
    }),
    // A Content-Length over the limit is refused unread; a chunked body is cut off there.
    bodyLimit({
      maxSize: FIRE_MAX_BYTES,
      onError: (c) =>
        c.json(
          { error: "payload_too_large", message: `the body is larger than ${FIRE_MAX_BYTES} bytes` },
          413,
        ),
    }),
    async (c) => {
      const name = c.req.param("name");
      const tokenId = c.get("tokenId");
      const wait = deps.rateLimiter.hit(tokenId);
      if (wait > 0) {
        c.header("Retry-After", String(Math.ceil(wait / 1000)));
        return c.json({ error: "rate_limited", message: "too many fires for this token; retry later" }, 429);
      }
      const raw = await c.req.text();
      let body: z.infer<typeof FireBody> = {};
      if (raw.trim()) {
        let json: unknown;
        try {
          json = JSON.parse(raw);
        } catch {
          throw new HTTPException(400, { message: 'the body must be JSON such as {"text": "..."}' });
        }
        const parsed = FireBody.safeParse(json);
        if (!parsed.success) {
          const issue = parsed.error.issues[0]!;
          throw new HTTPException(400, {
            message: `body field "${issue.path.join(".") || "(root)"}": ${issue.message}`,
          });
        }
        body = parsed.data;
      }
      const routine = loadRoutines(deps.project.root).routines.find((r) => r.name === name);
      if (!routine) return c.json({ error: "not_found", message: `no routine "${name}"` }, 404);
      if (!hasApiTrigger(routine))
        return c.json({ error: "api_trigger_disabled", message: apiTriggerMissing(name) }, 403);
      const now = deps.project.clock.now();
      await touchApiToken(deps.project.store.db, tokenId, now);
      const idempotency = c.req.header("idempotency-key");
      // A paused routine's fire is recorded as skipped with the reason, never dropped.
      const pause = await routinePause(deps.project.store.db, name);
      const result = await fireRoutine(
        deps.project.store.db,
        {
          routine,
          trigger: "api",
          dedupeKey: idempotency ? `api:${tokenId}:${idempotency}` : `api:${randomId(16)}`,
          ...(body.text ? { context: body.text } : {}),
          ...(pause ? { skipReason: pausedSkipReason(pause) } : {}),
          now,
        },
        deps.pool ? { cancelRunning: (r) => deps.pool!.cancelRoutine(r) } : {},
      );
      const sessionId = result.sessionId ?? null;
      deps.log?.(
        "info",
        `api fired ${name}: ${result.outcome}${sessionId ? `, session ${sessionId}` : ""}${result.reason ? ` (${result.reason})` : ""}`,
        { routine: name, run: result.runId, outcome: result.outcome, session: sessionId },
      );
      return c.json({
        type: "routine_fire",
        run_id: result.runId,
        outcome: result.outcome,
        session_id: sessionId,
        session_url: sessionId ? `${deps.baseUrl}/v1/sessions/${sessionId}` : null,
        ...(result.reason ? { reason: result.reason } : {}),
      });
    },
  );
  return app;
}
