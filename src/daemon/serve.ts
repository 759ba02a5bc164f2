import { type ServerType, serve as serveHttp } from "@hono/node-server";
import { WorkerPool } from "../queue/worker-pool.ts";
import type { Project } from "../project.ts";
import { resetSandbox } from "../runner/sandbox/wrap.ts";
import { createApp } from "../server/app.ts";
import { RateLimiter } from "../server/rate-limit.ts";
import { redactorFromEnv } from "../util/redact.ts";
import { logPoolActivity, shutdownMessage, warnMissingCredentials } from "./activity-log.ts";
import { createDaemonScheduler } from "./daemon-scheduler.ts";
import { createLogger, type Logger, logFn } from "./logger.ts";
import { writeDaemonPresence } from "./presence.ts";

/** Options of {@link startDaemon}; defaults come from `.nightshift/config.yaml` `server`. */
export interface DaemonOptions {
  host?: string;
  port?: number;
  concurrency?: number;
  /** How often schedules are checked, ms. */
  tickMs?: number;
  env?: NodeJS.ProcessEnv;
  logger?: Logger;
}

/** A running daemon. */
export interface Daemon {
  url: string;
  pool: WorkerPool;
  /** One scheduler round now (tests and `--once`). */
  tick(): Promise<void>;
  /**
   * Graceful stop: no new work, running sessions get the grace period, then are stopped and
   * their runs requeued uncounted for the next start (see `WorkerPool.stop`). `signal` (e.g.
   * `SIGTERM`) is named in the log line that says what it waits for and how long.
   */
  stop(signal?: string): Promise<void>;
}

/**
 * `nightshift serve`: one process with the scheduler, the HTTP API and webhooks (Hono), and a
 * worker pool running sessions. Everything it accepts is stored before it is acknowledged, so
 * a kill loses nothing: a restarted daemon reclaims runs whose worker died.
 */
export async function startDaemon(project: Project, opts: DaemonOptions = {}): Promise<Daemon> {
  const cfg = project.config.server;
  const env = opts.env ?? process.env;
  const secretNames = [...project.config.redact_env, ...(project.config.webhooks.github?.secrets_env ?? [])];
  const logger = opts.logger ?? createLogger({ redactor: redactorFromEnv(env, secretNames) });
  const log = logFn(logger);
  const pool = new WorkerPool(project, {
    concurrency: opts.concurrency ?? cfg.concurrency,
    leaseMs: cfg.lease,
    heartbeatMs: Math.max(250, Math.floor(cfg.lease / 4)),
    backoffMs: (attempt) => Math.min(cfg.retry_backoff * 2 ** (attempt - 1), 60 * 60_000),
    pollMs: Math.min(1_000, cfg.lease),
    hostEnv: env,
    log,
  });
  logPoolActivity(pool, project.store.db, logger);
  const host = opts.host ?? cfg.host;
  const rateLimiter = new RateLimiter({
    limit: cfg.rate_limit_per_minute,
    windowMs: 60_000,
    clock: project.clock,
  });
  let baseUrl = "";
  const app = createApp({
    project,
    pool,
    get baseUrl() {
      return baseUrl;
    },
    rateLimiter,
    env,
    log,
  });
  const server: ServerType = await new Promise((resolve) => {
    const s = serveHttp({ fetch: app.fetch, hostname: host, port: opts.port ?? cfg.port }, () => resolve(s));
  });
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : (opts.port ?? cfg.port);
  baseUrl = (project.config.base_url ?? `http://${host.includes(":") ? `[${host}]` : host}:${port}`).replace(
    /\/$/,
    "",
  );

  // The routines folder is watched (only changed files are read again); problems that persist
  // (an invalid file, a bad schedule) are logged once, not every tick.
  const scheduler = createDaemonScheduler(project, {
    logger,
    cancelRunning: (r) => pool.cancelRoutine(r),
  });
  const tick = async () => {
    await scheduler.tick();
  };
  let stopped = false;
  let cancelTick: (() => void) | undefined;
  const loop = () => {
    if (stopped) return;
    cancelTick = project.clock.setTimer(opts.tickMs ?? 5_000, () => {
      tick()
        .catch((err) => logger.error({ error: String(err) }, "scheduler tick failed"))
        .finally(loop);
    });
  };
  await tick();
  loop();
  pool.start();
  // `fire` and `runs` read it to tell whether a daemon serves the project.
  const removePresence = writeDaemonPresence(project.stateDir, {
    port,
    url: baseUrl,
    now: project.clock.now(),
  });
  logger.info(
    { url: baseUrl, concurrency: opts.concurrency ?? cfg.concurrency },
    "nightshift serve listening",
  );
  warnMissingCredentials(scheduler.watcher.current().routines, env, logger);

  return {
    url: baseUrl,
    pool,
    tick,
    async stop(signal = "stop requested") {
      const running = await project.store.db
        .selectFrom("runs")
        .select(["routine", "session_id"])
        .where("state", "=", "running")
        .where("lease_owner", "=", pool.owner)
        .execute();
      logger.info(
        { signal, grace_ms: cfg.shutdown_grace, running: running.length },
        shutdownMessage(
          signal,
          cfg.shutdown_grace,
          running.map((r) => ({ routine: r.routine, session: r.session_id })),
        ),
      );
      stopped = true;
      cancelTick?.();
      scheduler.close();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await pool.stop(cfg.shutdown_grace);
      await resetSandbox();
      removePresence();
      logger.info("nightshift serve stopped");
    },
  };
}
