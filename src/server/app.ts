import { Hono } from "hono";
import { bearerAuth } from "hono/bearer-auth";
import { HTTPException } from "hono/http-exception";
import { findLiveApiToken } from "../store/api-tokens.ts";
import { runOfSession } from "../store/runs.ts";
import { findSession } from "../store/sessions.ts";
import { hashApiToken } from "../triggers/api-token.ts";
import { dashboardRoutes } from "./dashboard/index.ts";
import { fireRoutes } from "./routes/fire.ts";
import { sessionRoutes } from "./routes/sessions.ts";
import { webhookRoutes } from "./routes/webhooks.ts";
import type { AppDeps } from "./deps.ts";

/**
 * The nightshift HTTP API (Hono): health, the API trigger, webhook receivers, session status.
 * Every error is JSON `{"error": "<code>", "message": "<what to do>"}` — authentication
 * failures too (with their `WWW-Authenticate: Bearer …` header); unexpected ones answer 500
 * without details.
 */
export function createApp(deps: AppDeps): Hono {
  const app = new Hono();
  app.onError((err, c) => {
    if (err instanceof HTTPException) {
      const res = err.getResponse();
      const challenge = res.headers.get("www-authenticate");
      if (challenge !== null) {
        c.header("WWW-Authenticate", challenge);
        return c.json(authError(err.status, challenge), err.status);
      }
      return c.json({ error: statusName(err.status), message: err.message }, err.status);
    }
    deps.log?.("error", "request failed", { path: c.req.path, error: String(err) });
    return c.json({ error: "internal_error", message: "internal error; see the server log" }, 500);
  });
  app.notFound((c) => c.json({ error: "not_found", message: `no route ${c.req.method} ${c.req.path}` }, 404));

  app.get("/health", async (c) => {
    const rows = await deps.project.store.db
      .selectFrom("runs")
      .select(["state", deps.project.store.db.fn.countAll<number>().as("n")])
      .where("state", "in", ["pending", "running"])
      .groupBy("state")
      .execute();
    const count = (s: string) => Number(rows.find((r) => r.state === s)?.n ?? 0);
    return c.json({
      ok: true,
      queue: { pending: count("pending"), running: count("running") },
      active: deps.pool?.active ?? 0,
    });
  });

  // A session is readable with a live API token of its routine (the token that fired it, or
  // any other of that routine); another routine's token gets the same 404 as an unknown id.
  const sessions = new Hono<{ Variables: { tokenRoutine: string } }>();
  sessions.get(
    "/v1/sessions/:id",
    bearerAuth<{ Variables: { tokenRoutine: string } }>({
      realm: "nightshift",
      verifyToken: async (token, c) => {
        const row = await findLiveApiToken(deps.project.store.db, hashApiToken(token));
        if (!row) return false;
        c.set("tokenRoutine", row.routine);
        return true;
      },
    }),
    async (c) => {
      const id = c.req.param("id");
      const notFound = () =>
        c.json({ error: "not_found", message: `no session "${id}" for this token's routine` }, 404);
      const found = await findSession(deps.project.store.db, id);
      // The full id only: a prefix would let a token holder probe for ids.
      const s = found?.id === id ? found : undefined;
      if (s && s.routine !== c.get("tokenRoutine")) return notFound();
      if (s) {
        return c.json({
          id: s.id,
          routine: s.routine,
          state: s.state,
          infra_outcome: s.infra_outcome,
          task_outcome: s.task_outcome,
          reason: s.reason,
          pr_number: s.pr_number,
          branch: s.branch,
          created_at: isoOrNull(s.created_at),
          started_at: isoOrNull(s.started_at),
          finished_at: isoOrNull(s.finished_at),
        });
      }
      const run = await runOfSession(deps.project.store.db, id);
      if (run && run.routine === c.get("tokenRoutine"))
        return c.json({
          id,
          routine: run.routine,
          state: "queued",
          run_state: run.state,
          run_id: run.id,
          created_at: isoOrNull(run.created_at),
        });
      return notFound();
    },
  );

  app.route("/", sessions);
  app.route("/", fireRoutes(deps));
  app.route("/", sessionRoutes(deps));
  app.route("/", webhookRoutes(deps));
  app.route("/", dashboardRoutes(deps));
  return app;
}

/** A stored time (ms since the epoch) as ISO 8601 UTC (`2026-01-01T09:00:00.000Z`), or `null`. */
function isoOrNull(ms: number | null): string | null {
  return ms === null ? null : new Date(Number(ms)).toISOString();
}

/** The JSON body of a refused `Authorization` header, told apart by its `WWW-Authenticate` challenge. */
function authError(status: number, challenge: string): { error: string; message: string } {
  if (challenge.includes('error="invalid_request"'))
    return {
      error: "bad_request",
      message:
        "the Authorization header must be `Bearer nst_…` (a token from `nightshift tokens create <routine>`)",
    };
  if (challenge.includes('error="invalid_token"'))
    return {
      error: "unauthorized",
      message:
        "the token is wrong, revoked, or not a token of this routine; see `nightshift tokens list <routine>`",
    };
  return {
    error: status === 401 ? "unauthorized" : statusName(status),
    message: "send `Authorization: Bearer <token>` with a token from `nightshift tokens create <routine>`",
  };
}

function statusName(status: number): string {
  return (
    {
      400: "bad_request",
      401: "unauthorized",
      404: "not_found",
      413: "payload_too_large",
      429: "rate_limited",
    }[status] ?? "error"
  );
}
