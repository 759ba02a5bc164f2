import {
  type AgentPassContext,
  type CommandRecord,
  type ResultEvent,
  runAgentPass,
  type SessionEnd,
} from "../agent-pass.ts";
import { buildPrompt } from "../prompt.ts";
import { endIfAsked } from "../questions.ts";
import { UsageMeter } from "../transcript/usage.ts";
import type { PhaseResult, SessionContext } from "./context.ts";
import type { SessionInputs, SessionWorkspace } from "./prepare.ts";
import type { AgentAdapter } from "../agents/types.ts";
import type { FollowUpInput } from "./context.ts";
import type { SessionConfinement } from "./sandbox.ts";

/**
 * `adapter`, for a follow-up: every pass resumes the parent's agent conversation (its
 * `agent_session_id`; each pass's init event stores the id it continued as, so a later pass
 * and a later follow-up continue from there).
 */
function resumingAdapter(adapter: AgentAdapter, f: FollowUpInput): AgentAdapter {
  return {
    ...adapter,
    kind: adapter.kind,
    invocation: (c) =>
      adapter.invocation({
        ...c,
        resume: {
          parentSessionId: f.parent.id,
          ...(f.parent.agent_session_id ? { agentSessionId: f.parent.agent_session_id } : {}),
          ...(f.toolAnswer ? { toolAnswer: f.toolAnswer } : {}),
        },
      }),
    parser: () => adapter.parser(),
    checkCredentials: (env) => adapter.checkCredentials(env),
  };
}

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
      adapter: ctx.req.followUp ? resumingAdapter(inputs.adapter, ctx.req.followUp) : inputs.adapter,
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
  // A follow-up's agent already has the task and the runner's instructions: only the new text.
  const prompt =
    req.followUp?.text ??
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
  // The agent asked the person a question and stopped: the session waits in `needs_input`.
  const asked = await endIfAsked(ctx, passes.result, ws.tmp);
  if (asked) return { end: asked };
  return { next: { passes, prompt, summaryText: passes.result!.text } };
}
