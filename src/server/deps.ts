import type { WorkerPool } from "../queue/worker-pool.ts";
import type { Project } from "../project.ts";
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
