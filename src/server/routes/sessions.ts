import { Hono } from "hono";
import { bearerAuth } from "hono/bearer-auth";
import { bodyLimit } from "hono/body-limit";
import { HTTPException } from "hono/http-exception";
import { z } from "zod";
import { findLiveApiToken, touchApiToken } from "../../store/api-tokens.ts";
import { findSession } from "../../store/sessions.ts";
import { hashApiToken } from "../../triggers/api-token.ts";
import type { AppDeps } from "../deps.ts";
import { FIRE_MAX_BYTES } from "./fire.ts";

/** A control character other than tab and line feed (a CR only as part of CRLF). */
const CONTROL_CHAR = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f]|\r(?!\n)/;

const text = (what: string) =>
  z
    .string()
    .min(1, `${what} is empty`)
    .max(FIRE_MAX_BYTES)
    .refine((t) => t.trim() !== "", `${what} is only white space`)
    .refine((t) => !CONTROL_CHAR.test(t), "contains a control character; only tab and newline are allowed");

const MessageBody = z.object({ text: text("text") }).strict();

const DispatchBody = z
  .object({
    prompt: text("prompt"),
    routine: z.string().min(1).optional(),
    agent: z.enum(["claude-code", "codex", "command"]).optional(),
    model: z.string().min(1).max(200).optional(),
    repos: z.array(z.string().min(1).max(4096)).min(1).max(50).optional(),
  })
  .strict();

type Vars = { Variables: { tokenId: string; tokenRoutine: string } };

/**
 * Session actions of the HTTP API, with a routine's API token (`Authorization: Bearer nst_…`):
 * - `POST /v1/sessions/{id}/messages` `{"text": "…"}` — a follow-up of a session of the
 *   token's routine (src/runner/follow-up.ts): queued for the worker pool (`outcome:
 *   "queued"`, the follow-up's `session_id`), or stored for a session still running
 *   (`outcome: "stored"`). 404 for an unknown session or another routine's, 409 when the
 *   session can no longer be resumed (past `workspaces.resume_window`, workspace gone).
 * - `POST /v1/dispatch` `{"prompt": "…", "routine"?, "agent"?, "model"?, "repos"?}` — an
 *   ad-hoc session with the token's routine's settings (`routine`, if given, must be the
 *   token's), queued for the worker pool; answers `session_id` and `title`.
 * Errors are JSON `{error, message}`: 400 malformed, 401 token, 403 another routine, 413 too large.
 */
export function sessionRoutes(deps: AppDeps): Hono<Vars> {
  const app = new Hono<Vars>();
  const auth = bearerAuth<Vars>({
    realm: "nightshift",
    verifyToken: async (token, c) => {
      const row = await findLiveApiToken(deps.project.store.db, hashApiToken(token));
      if (!row) return false;
      c.set("tokenId", row.id);
      c.set("tokenRoutine", row.routine);
      return true;
    },
  });
  const limit = bodyLimit({
    maxSize: FIRE_MAX_BYTES,
    onError: (c) =>
      c.json({ error: "payload_too_large", message: `the body is larger than ${FIRE_MAX_BYTES} bytes` }, 413),
  });
  const parse = async <T>(raw: string, schema: z.ZodType<T>, example: string): Promise<T> => {
    let json: unknown;
    try {
      json = JSON.parse(raw);
    } catch {
      throw new HTTPException(400, { message: `the body must be JSON such as ${example}` });
    }
    const parsed = schema.safeParse(json);
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      throw new HTTPException(400, {
        message: `body field "${issue.path.join(".") || "(root)"}": ${issue.message}`,
      });
    }
    return parsed.data;
  };
  const rateLimited = (tokenId: string): number => deps.rateLimiter.hit(tokenId);

  app.post("/v1/sessions/:id/messages", auth, limit, async (c) => {
    const id = c.req.param("id");
    const wait = rateLimited(c.get("tokenId"));
    if (wait > 0) {
      c.header("Retry-After", String(Math.ceil(wait / 1000)));
      return c.json({ error: "rate_limited", message: "too many requests for this token; retry later" }, 429);
    }
    const body = await parse(await c.req.text(), MessageBody, '{"text": "..."}');
    const found = await findSession(deps.project.store.db, id);
    // The full id only, and only the token's routine: anything else is the same 404.
    if (!found || found.id !== id || found.routine !== c.get("tokenRoutine"))
      return c.json({ error: "not_found", message: `no session "${id}" for this token's routine` }, 404);
    await touchApiToken(deps.project.store.db, c.get("tokenId"), deps.project.clock.now());
    const [{ sendReply }, { FollowUpError }] = await Promise.all([
      import("../../runner/reply.ts"),
      import("../../runner/follow-up.ts"),
    ]);
    try {
      const r = await sendReply(deps.project, {
        sessionId: id,
        text: body.text,
        trigger: "api",
        by: `api:${c.get("tokenId")}`,
      });
      deps.log?.("info", `api reply to ${id}: ${r.kind} ${r.sessionId}`, { session: id, outcome: r.kind });
      return c.json({
        type: r.answered ? "answer" : "follow_up",
        outcome: r.kind,
        session_id: r.sessionId,
        session_url: `${deps.baseUrl}/v1/sessions/${r.sessionId}`,
        ...(r.kind === "queued"
          ? { run_id: r.runId, parent_session_id: r.parentSessionId }
          : { message_id: r.messageId }),
      });
    } catch (err) {
      if (!(err instanceof FollowUpError)) throw err;
      const status = err.code === "not_resumable" ? 409 : err.code === "not_found" ? 404 : 400;
      return c.json({ error: err.code, message: err.message }, status);
    }
  });

  app.post("/v1/dispatch", auth, limit, async (c) => {
    const wait = rateLimited(c.get("tokenId"));
    if (wait > 0) {
      c.header("Retry-After", String(Math.ceil(wait / 1000)));
      return c.json({ error: "rate_limited", message: "too many requests for this token; retry later" }, 429);
    }
    const body = await parse(await c.req.text(), DispatchBody, '{"prompt": "..."}');
    const routine = body.routine ?? c.get("tokenRoutine");
    if (routine !== c.get("tokenRoutine"))
      return c.json(
        {
          error: "forbidden",
          message: `this token is for routine "${c.get("tokenRoutine")}", not "${routine}"`,
        },
        403,
      );
    await touchApiToken(deps.project.store.db, c.get("tokenId"), deps.project.clock.now());
    const [{ queueDispatch, DispatchError }, { RoutineNotFoundError, ConfigErrors }] = await Promise.all([
      import("../../runner/dispatch.ts"),
      import("../../config/errors.ts"),
    ]);
    try {
      const q = await queueDispatch(deps.project, {
        prompt: body.prompt,
        routine,
        ...(body.agent ? { agent: body.agent } : {}),
        ...(body.model ? { model: body.model } : {}),
        ...(body.repos ? { repos: body.repos } : {}),
      });
      deps.log?.("info", `api dispatch: session ${q.sessionId}`, {
        routine,
        run: q.runId,
        session: q.sessionId,
      });
      return c.json({
        type: "dispatch",
        outcome: "queued",
        run_id: q.runId,
        session_id: q.sessionId,
        title: q.title,
        session_url: `${deps.baseUrl}/v1/sessions/${q.sessionId}`,
      });
    } catch (err) {
      if (err instanceof RoutineNotFoundError)
        return c.json({ error: "not_found", message: err.message }, 404);
      if (err instanceof DispatchError || err instanceof ConfigErrors)
        return c.json({ error: "bad_request", message: err.message }, 400);
      throw err;
    }
  });
  return app;
}
