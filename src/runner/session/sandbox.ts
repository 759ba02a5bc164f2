import { sandboxAvailable } from "../sandbox/availability.ts";
import { memoryLimitWarning } from "../sandbox/memory.ts";
import type { SandboxPolicy } from "../sandbox/policy.ts";
import { modelAccess, sessionSandboxPolicy } from "../sandbox/session-policy.ts";
import { SANDBOX_DISABLED_WARNING } from "../sandbox/wrap.ts";
import { prepareSetup } from "../setup/index.ts";
import type { PhaseResult, SessionContext } from "./context.ts";
import type { SessionInputs, SessionWorkspace } from "./prepare.ts";

/** How the agent and the steps after it are confined. */
export interface SessionConfinement {
  policy: SandboxPolicy;
  /** The environment the agent's credentials come from (model access rewritten for the sandbox). */
  agentHostEnv: NodeJS.ProcessEnv;
}

/**
 * The sandbox policy: unconfined (`mode: "none"`, with a warning) unless the environment
 * turns the sandbox on, which needs the sandbox tools and a valid policy over the workspace,
 * its mirrors and the model's and MCP servers' hosts. Then the memory limit warning and the
 * environment's setup script (restored from its cache, or run: src/runner/setup/).
 *
 * @returns the confinement, or the end: `environment_error`, or the setup's failure.
 */
export async function confineSession(
  ctx: SessionContext,
  inputs: SessionInputs,
  ws: SessionWorkspace,
): Promise<PhaseResult<SessionConfinement>> {
  const { project, routine, hostEnv, transcript, work, req } = ctx;
  const { environment, mcp } = inputs;
  const { cwd, home, tmp, clones } = ws;
  let agentHostEnv = hostEnv;
  let policy: SandboxPolicy = {
    mode: "none",
    workspace: cwd,
    home,
    tmp,
    allowedDomains: [],
    denyRead: [],
    ...(environment.memoryBytes ? { memoryBytes: environment.memoryBytes } : {}),
  };
  if (environment.sandbox === "on") {
    const available = await sandboxAvailable();
    if (!available.ok)
      return { end: { state: "failed", infra: "environment_error", reason: available.reason } };
    const access = modelAccess(hostEnv);
    agentHostEnv = access.hostEnv;
    try {
      policy = sessionSandboxPolicy({
        project,
        environment,
        workspace: cwd,
        clones: clones.map((c) => c.path),
        mirrors: [...new Set(clones.map((c) => c.mirror))],
        home,
        tmp,
        modelAllow: [...access.allow, ...mcp.allow],
        hostEnv,
        named: Object.values(mcp.servers).flatMap((m) => (m.type === "stdio" ? [m.command, ...m.args] : [])),
      });
    } catch (err) {
      return { end: { state: "failed", infra: "environment_error", reason: (err as Error).message } };
    }
  } else {
    await transcript.record({ type: "warning", message: SANDBOX_DISABLED_WARNING });
  }
  const memoryWarning = await memoryLimitWarning(environment.memoryBytes);
  if (memoryWarning) await transcript.record({ type: "warning", message: memoryWarning });
  // The environment's setup script: restored from its cache, or run (src/runner/setup/).
  const setupFailed =
    work.setup === false
      ? undefined
      : await prepareSetup({
          stateDir: project.stateDir,
          environment,
          routine,
          sessionId: ctx.id,
          repos: clones,
          cwd,
          home,
          tmp,
          policy,
          hostEnv,
          clock: ctx.clock,
          timeoutMs: ctx.remaining(),
          ...(req.signal ? { signal: req.signal } : {}),
          record: (ev) => transcript.record(ev),
        });
  if (setupFailed) return { end: setupFailed };
  return { next: { policy, agentHostEnv } };
}
