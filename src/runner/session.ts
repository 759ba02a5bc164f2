import type { SessionRow } from "../store/schema.ts";
import type { Project } from "../project.ts";
import { internalErrorReason } from "./reason.ts";
import { prewarmSandbox } from "./sandbox/wrap.ts";
import { runMainPass } from "./session/agent.ts";
import { type RunRequest, SessionContext } from "./session/context.ts";
import { deliverSession } from "./session/deliver.ts";
import { prepareWorkspace, resolveInputs } from "./session/prepare.ts";
import { confineSession } from "./session/sandbox.ts";
import { afterAgentSteps } from "./session/steps.ts";

export type { RunRequest } from "./session/context.ts";
export { TEST_CHECK } from "./session/deliver.ts";

/**
 * Runs one session of a routine from start to end and returns its final record:
 * `queued → preparing` (credentials, mirror, clone) `→ running` (the agent) `→ finishing`
 * (commit, push, draft PR) `→ succeeded | failed | timed_out | cancelled`. The
 * infrastructure outcome and the task outcome are stored separately. Failures are recorded,
 * not thrown: the transcript and the reason are always in the store.
 *
 * A driver over the phases in src/runner/session/, each of which returns the next phase's
 * input or how the session ends: inputs and workspace (prepare.ts) → sandbox policy and
 * setup (sandbox.ts) → the agent (agent.ts) → the steps after it (steps.ts) → delivery
 * (deliver.ts). Whatever a phase throws ends the session as `internal_error`.
 */
export async function runSession(project: Project, req: RunRequest): Promise<SessionRow> {
  const ctx = await SessionContext.open(project, req);
  try {
    await ctx.setState("preparing");
    const inputs = await resolveInputs(ctx);
    if (inputs.end) return await ctx.finish(inputs.end);
    // The sandbox's cold start (probes, proxy, bridges) runs alongside the clone.
    prewarmSandbox(inputs.next.environment);
    const ws = await prepareWorkspace(ctx);
    if (ws.end) return await ctx.finish(ws.end);
    const conf = await confineSession(ctx, inputs.next, ws.next);
    if (conf.end) return await ctx.finish(conf.end);
    const agent = await runMainPass(ctx, inputs.next, ws.next, conf.next);
    if (agent.end) return await ctx.finish(agent.end);
    const steps = await afterAgentSteps(ctx, inputs.next, ws.next, conf.next, agent.next);
    if (steps.end) return await ctx.finish(steps.end);
    return await ctx.finish(await deliverSession(ctx, ws.next, agent.next, steps.next));
  } catch (err) {
    return await ctx.finish({
      state: "failed",
      infra: "internal_error",
      reason: internalErrorReason(err, ctx.id, ctx.transcript.redactor),
    });
  }
}
