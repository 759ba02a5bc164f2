import { loadRoutine } from "../config/load.ts";
import {
  AGENTS,
  type AgentKind,
  RepoRefSchema,
  type Routine,
  RoutineFrontMatterSchema,
} from "../config/routine-schema.ts";
import type { Project } from "../project.ts";
import { insertRun } from "../store/runs.ts";
import type { SessionRow } from "../store/schema.ts";
import { randomId } from "../util/ids.ts";
import { runSession } from "./session.ts";
import type { RunRequest } from "./session/context.ts";

/** The routine name an ad-hoc session without `--routine` is recorded under. */
export const DISPATCH_ROUTINE = "dispatch";

/** Longest title stored for a dispatched session, in characters. */
export const TITLE_MAX = 80;

/** An ad-hoc session to start (`nightshift dispatch`, `POST /v1/dispatch`, the dashboard). */
export interface DispatchRequest {
  /** The task: the agent's instructions (replaces the routine's prompt). */
  prompt: string;
  /** A routine whose settings the session runs with; without it, the project's defaults. */
  routine?: string;
  /** Overrides the agent (`claude-code`, `codex`; `command` needs a routine with `command:`). */
  agent?: string;
  /** Overrides the model. */
  model?: string;
  /** Overrides the repositories (paths relative to the project root, as in a routine's `repos`). */
  repos?: string[];
}

/** A dispatch that cannot start as asked; the message says what to change. */
export class DispatchError extends Error {
  override name = "DispatchError";
}

/** The first non-empty line of `prompt`, cut to {@link TITLE_MAX} characters (`…` when cut). */
export function dispatchTitle(prompt: string): string {
  const line =
    prompt
      .split("\n")
      .map((l) => l.trim())
      .find((l) => l !== "") ?? "";
  return line.length > TITLE_MAX ? `${line.slice(0, TITLE_MAX - 1)}…` : line;
}

/**
 * The routine a dispatch runs: the named routine's settings (or the defaults of a routine file
 * with no front-matter, named {@link DISPATCH_ROUTINE}) with the dispatch's prompt, agent,
 * model and repositories.
 *
 * @throws {DispatchError} for an empty prompt, an unknown agent, `command` without a
 *   routine's `command:`, or a bad repository entry.
 * @throws {RoutineNotFoundError | ConfigErrors} when the named routine cannot be loaded.
 */
export function dispatchRoutine(project: Project, req: DispatchRequest): Routine {
  if (!req.prompt.trim()) throw new DispatchError("the prompt is empty: say what the agent should do");
  if (req.agent !== undefined && !(AGENTS as readonly string[]).includes(req.agent))
    throw new DispatchError(`unknown agent "${req.agent}": use one of ${AGENTS.join(", ")}`);
  const base: Routine = req.routine
    ? loadRoutine(project.root, req.routine)
    : { ...RoutineFrontMatterSchema.parse({}), name: DISPATCH_ROUTINE, prompt: "", file: "" };
  const agent = (req.agent as AgentKind | undefined) ?? base.agent;
  if (agent === "command" && !base.command)
    throw new DispatchError(
      'agent "command" needs a command: dispatch with --routine naming a routine that has `command:`',
    );
  let repos = base.repos;
  if (req.repos?.length) {
    const parsed = RepoRefSchema.array().safeParse(req.repos);
    if (!parsed.success)
      throw new DispatchError(
        `repos: ${parsed.error.issues[0]?.message ?? "invalid"} (give folder paths such as "." or "../lib")`,
      );
    repos = parsed.data;
  }
  const model = req.model ?? (agent === base.agent ? base.model : undefined);
  const { model: _dropped, ...rest } = base;
  return {
    ...rest,
    agent,
    ...(model ? { model } : {}),
    ...(agent === "command" ? {} : { command: undefined }),
    repos,
    prompt: req.prompt.trim(),
  };
}

/**
 * Queues a dispatch for the daemon's worker pool (a durable run, `runs.request` kind
 * `dispatch`; trigger `dispatch`). The request is checked first, so a bad one is refused
 * here rather than failing in the worker.
 *
 * @returns the run and the id the session will have.
 * @throws {DispatchError | RoutineNotFoundError | ConfigErrors} as {@link dispatchRoutine}.
 */
export async function queueDispatch(
  project: Project,
  req: DispatchRequest,
): Promise<{ runId: string; sessionId: string; title: string }> {
  const routine = dispatchRoutine(project, req);
  const sessionId = randomId();
  const title = dispatchTitle(req.prompt);
  const r = await insertRun(project.store.db, {
    routine: routine.name,
    trigger: "dispatch",
    dedupeKey: `dispatch:${sessionId}`,
    maxRunning: 0,
    sessionId,
    request: {
      kind: "dispatch",
      prompt: req.prompt,
      routine: req.routine ?? null,
      ...(req.agent ? { agent: req.agent } : {}),
      ...(req.model ? { model: req.model } : {}),
      ...(req.repos?.length ? { repos: req.repos } : {}),
      title,
    },
    now: project.clock.now(),
  });
  return { runId: r.id, sessionId, title };
}

/** How a dispatched session runs in this process (the CLI's foreground, a worker). */
export type RunOptions = Pick<RunRequest, "signal" | "onEvent" | "onCreated" | "hostEnv" | "sessionId">;

/**
 * Runs a dispatch now, in this process, as a session with trigger `dispatch` and the prompt's
 * title.
 *
 * @returns the finished session.
 * @throws {DispatchError | RoutineNotFoundError | ConfigErrors} as {@link dispatchRoutine}.
 */
export async function runDispatch(
  project: Project,
  req: DispatchRequest,
  opts: RunOptions = {},
): Promise<SessionRow> {
  const routine = dispatchRoutine(project, req);
  return runSession(project, { ...opts, routine, trigger: "dispatch", title: dispatchTitle(req.prompt) });
}
