import type { Routine } from "../config/routine-schema.ts";
import type { Issue } from "../forge/types.ts";
import type { Project } from "../project.ts";
import { runSession } from "../runner/session.ts";
import type { DequeRunOptions, DequeRunResult } from "./run-result.ts";
import { runGuard } from "./guard/run.ts";
import { runIssueAgent } from "./issue-agent.ts";
import { runPrAgent } from "./pr-agent.ts";

/** One run of any routine: a plain routine's single session, or a deque routine's run. */
export interface RoutineRun extends DequeRunResult {
  /** The guard's report, for `workflow: {type: guard}` routines. */
  guard?: Awaited<ReturnType<typeof runGuard>>;
}

/**
 * Runs a routine once, the way its file says: a plain routine (no `workflow:`) is one
 * session; `workflow.type` picks the issue agent, PR agent or guard run. The daemon's
 * workers and `nightshift run` both come here.
 *
 * @throws {ForgeError} when the forge cannot be read to select work.
 */
export async function runRoutineOnce(
  project: Project,
  routine: Routine,
  opts: DequeRunOptions & { issue?: Issue; sessionId?: string } = {},
): Promise<RoutineRun> {
  const wf = routine.workflow;
  if (!wf) {
    const session = await runSession(project, {
      routine,
      trigger: opts.trigger ?? "manual",
      ...(opts.text ? { text: opts.text } : {}),
      ...(opts.issue ? { issue: opts.issue } : {}),
      ...(opts.signal ? { signal: opts.signal } : {}),
      ...(opts.hostEnv ? { hostEnv: opts.hostEnv } : {}),
      ...(opts.onEvent ? { onEvent: opts.onEvent } : {}),
      ...(opts.sessionId ? { sessionId: opts.sessionId } : {}),
      onCreated: (id) => opts.onCreated?.(id),
    });
    return { sessions: [session], skipped: [], filtered: [] };
  }
  switch (wf.type) {
    case "issue-agent":
      return runIssueAgent(project, routine, wf, opts);
    case "pr-agent":
      return runPrAgent(project, routine, wf, opts);
    case "guard": {
      const report = await runGuard(project.forge, {
        repos: [project.repoName],
        options: wf.guard,
        clock: project.clock,
      });
      return { sessions: [], skipped: [], filtered: [], guard: report };
    }
  }
}
