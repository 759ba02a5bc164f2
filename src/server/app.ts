import { Hono } from "hono";
import { HTTPException } from "hono/http-exception";
import type { WorkerPool } from "../queue/worker-pool.ts";
import type { Project } from "../runner/project.ts";
import { findSession } from "../store/sessions.ts";
import { fireRoutes } from "./routes/fire.ts";
import { webhookRoutes } from "./routes/webhooks.ts";
import type { RateLimiter } from "./rate-limit.ts";

/** What the HTTP app needs. */
export interface AppDeps {
  project: Project;
  /** The local worker pool, when this process runs sessions (for the `replace` overlap policy). */
  pool?: WorkerPool;
  /** Public base URL, for `session_url` (no trailing slash). */
  baseUrl: string;
  rateLimiter: RateLimiter;
  /** Environment webhook secrets are read from. */
  env: NodeJS.ProcessEnv;
  log?(level: "info" | "warn" | "error", msg: string, fields?: Record<string, unknown>): void;
}

/**
 * The nightshift HTTP API (Hono): health, the API trigger, webhook receivers, session status.
 * Errors are JSON `{error, message}`; unexpected ones answer 500 without details.
 */
export function createApp(deps: AppDeps): Hono {
  const app = new Hono();
  app.onError((err, c) => {
    if (err instanceof HTTPException) {
      const res = err.getResponse();
      if (res.headers.has("www-authenticate")) return res;
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

  app.get("/v1/sessions/:id", async (c) => {
    const id = c.req.param("id");
    const s = await findSession(deps.project.store.db, id);
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
        created_at: s.created_at,
        finished_at: s.finished_at,
      });
    }
    const run = await deps.project.store.db
      .selectFrom("runs")
      .selectAll()
      .where("session_id", "=", id)
      .executeTakeFirst();
    if (run)
      return c.json({ id, routine: run.routine, state: "queued", run_state: run.state, run_id: run.id });
    return c.json({ error: "not_found", message: `no session "${id}"` }, 404);
  });

  app.route("/", fireRoutes(deps));
  app.route("/", webhookRoutes(deps));
  return app;
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
