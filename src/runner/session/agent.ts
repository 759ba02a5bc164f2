import {
  type AgentPassContext,
  type CommandRecord,
  type ResultEvent,
  runAgentPass,
  type SessionEnd,
} from "../agent-pass.ts";
import { buildPrompt } from "../prompt.ts";
import { UsageMeter } from "../transcript/usage.ts";
import type { PhaseResult, SessionContext } from "./context.ts";
import type { SessionInputs, SessionWorkspace } from "./prepare.ts";
import type { SessionConfinement } from "./sandbox.ts";

/**
 * The session's agent passes (src/runner/agent-pass.ts): the main pass and any self-review
 * pass share the usage, the commands and the move to `running`, which happens once, before
 * the first pass's process starts. The last successful pass's result is kept.
 */
export class AgentPasses {
  readonly usage = new UsageMeter();
  readonly commands: CommandRecord[] = [];
  readonly #pass: AgentPassContext;
  #running = false;
  #result: ResultEvent | undefined;

  constructor(ctx: SessionContext, inputs: SessionInputs, ws: SessionWorkspace, conf: SessionConfinement) {
    this.#pass = {
      db: ctx.db,
      sessionId: ctx.id,
      routine: ctx.routine,
      adapter: inputs.adapter,
      transcript: ctx.transcript,
      clock: ctx.clock,
      policy: conf.policy,
      cwd: ws.cwd,
      home: ws.home,
      tmp: ws.tmp,
      hostEnv: conf.agentHostEnv,
      modelEnv: ctx.hostEnv,
      extraEnv: inputs.environment.env,
      mcpServers: inputs.mcp.servers,
      ...(ctx.req.signal ? { signal: ctx.req.signal } : {}),
      usage: this.usage,
      commands: this.commands,
      deadline: () => ctx.deadline,
      onRunning: async () => {
        if (this.#running) return;
        this.#running = true;
        await ctx.setState("running");
      },
    };
  }

  /** The result of the last pass that succeeded. */
  get result(): ResultEvent | undefined {
    return this.#result;
  }

  /**
   * One agent pass with `prompt`.
   * @returns how the session ends when the pass failed, else `undefined`.
   */
  async run(prompt: string): Promise<SessionEnd | undefined> {
    const r = await runAgentPass(this.#pass, prompt);
    this.#result = r.result;
    return r.end;
  }
}

/** What the main agent pass left: the passes (for a self-review), its prompt and its summary. */
export interface AgentOutcome {
  passes: AgentPasses;
  prompt: string;
  /** The agent's final summary text. */
  summaryText: string | undefined;
}

/**
 * The main agent pass, with the work's prompt or one built from the routine, the issue, the
 * run's text and the work's sections.
 *
 * @returns the outcome, or how the session ends (cancelled, spawn error, timeout, agent error).
 */
export async function runMainPass(
  ctx: SessionContext,
  inputs: SessionInputs,
  ws: SessionWorkspace,
  conf: SessionConfinement,
): Promise<PhaseResult<AgentOutcome>> {
  const { req, routine, work } = ctx;
  const prompt =
    work.prompt ??
    buildPrompt({
      routine,
      branch: ws.branch,
      ...(req.issue ? { issue: req.issue } : {}),
      ...(req.text ? { text: req.text } : {}),
      ...(work.promptSections ? { sections: work.promptSections } : {}),
      ...(work.pullRequest ? { continuing: work.pullRequest.number } : {}),
    });
  const passes = new AgentPasses(ctx, inputs, ws, conf);
  const ended = await passes.run(prompt);
  if (ended) return { end: ended };
  return { next: { passes, prompt, summaryText: passes.result!.text } };
}
