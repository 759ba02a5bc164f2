import type { Kysely } from "kysely";
import { formatDuration } from "../config/duration.ts";
import type { Routine } from "../config/routine-schema.ts";
import type { Database } from "../store/schema.ts";
import type { InfraOutcome, SessionState, TaskOutcome } from "../session/states.ts";
import { updateSession } from "../store/sessions.ts";
import type { Clock } from "../util/clock.ts";
import { modelEndpoint } from "./agents/endpoint.ts";
import { AgentInputError, AgentSpawnError, runAgentProcess } from "./agents/spawn.ts";
import type { AgentAdapter, AgentContext } from "./agents/types.ts";
import type { SandboxPolicy } from "./sandbox/policy.ts";
import { wrapInvocation } from "./sandbox/wrap.ts";
import type { AgentEvent } from "./transcript/events.ts";
import type { TranscriptRecorder } from "./transcript/recorder.ts";
import type { UsageMeter } from "./transcript/usage.ts";

/** How a session ends: its state, the infrastructure outcome, the task outcome and why. */
export interface SessionEnd {
  state: SessionState;
  infra: InfraOutcome;
  task?: TaskOutcome;
  reason?: string;
}

/** The agent's final event: its summary text, whether it failed, turns and cost. */
export type ResultEvent = Extract<AgentEvent, { type: "result" }>;

/** A shell command the agent ran (Claude's Bash, Codex's exec_command) and whether it failed. */
export interface CommandRecord {
  id: string;
  command: string;
  failed: boolean;
}

/** What every agent pass of one session shares. Usage and commands add up across passes. */
export interface AgentPassContext {
  db: Kysely<Database>;
  sessionId: string;
  routine: Routine;
  adapter: AgentAdapter;
  transcript: TranscriptRecorder;
  clock: Clock;
  policy: SandboxPolicy;
  cwd: string;
  home: string;
  tmp: string;
  /** The environment the agent's credentials come from (model access rewritten for the sandbox). */
  hostEnv: NodeJS.ProcessEnv;
  /** The host's environment before the sandbox rewrote model access: names the model URL in reasons (default `hostEnv`). */
  modelEnv?: NodeJS.ProcessEnv;
  extraEnv: Record<string, string>;
  mcpServers?: AgentContext["mcpServers"];
  signal?: AbortSignal;
  usage: UsageMeter;
  commands: CommandRecord[];
  /** When the routine's timeout runs out (ms since the epoch): every pass shares it. */
  deadline(): number;
  /** Called before each pass's process starts (the session moves to `running` once). */
  onRunning(): Promise<void>;
}

/** Sessions (by transcript) whose process-containment warning is recorded. */
const containmentWarned = new WeakSet<TranscriptRecorder>();

/**
 * One agent pass over the session's workspace — the main pass, or a self-review pass: builds
 * the CLI's command line, wraps it in the sandbox, runs it with the time left, records every
 * event and the usage so far.
 *
 * @returns `result` (the agent's final event) when the pass succeeded, else `end`: how the
 *   session ends (cancelled, spawn error, timeout, agent error).
 */
export async function runAgentPass(
  ctx: AgentPassContext,
  passPrompt: string,
): Promise<{ result?: ResultEvent; end?: SessionEnd }> {
  const agentInvocation = await ctx.adapter.invocation({
    routine: ctx.routine,
    prompt: passPrompt,
    cwd: ctx.cwd,
    home: ctx.home,
    tmp: ctx.tmp,
    sessionId: ctx.sessionId,
    hostEnv: ctx.hostEnv,
    extraEnv: ctx.extraEnv,
    ...(ctx.mcpServers ? { mcpServers: ctx.mcpServers } : {}),
  });
  if (ctx.signal?.aborted) {
    return { end: { state: "cancelled", infra: "cancelled", reason: "cancelled before the agent started" } };
  }
  const wrapped = await wrapInvocation(agentInvocation, ctx.policy);
  const invocation = wrapped.invocation;
  // Once per session: its processes are held by their process group only (sandbox/contain.ts).
  if (wrapped.warning && !containmentWarned.has(ctx.transcript)) {
    containmentWarned.add(ctx.transcript);
    await ctx.transcript.record({ type: "warning", message: wrapped.warning });
  }
  let result: ResultEvent | undefined;
  const tail = new OutputTail(ctx.adapter.kind);
  ctx.usage.beginPass();
  await ctx.transcript.record({ type: "prompt", text: passPrompt });
  await ctx.onRunning();
  let proc: Awaited<ReturnType<typeof runAgentProcess>>;
  try {
    proc = await runAgentProcess(invocation, {
      clock: ctx.clock,
      timeoutMs: Math.max(1, ctx.deadline() - ctx.clock.now()),
      ...(ctx.signal ? { signal: ctx.signal } : {}),
      parser: ctx.adapter.parser(),
      onSpawn: async (pid) => {
        await updateSession(ctx.db, ctx.sessionId, { agent_pid: pid });
        await ctx.transcript.record({
          type: "agent_spawned",
          command: agentInvocation.command,
          args: redactPrompt(agentInvocation.args, passPrompt),
          cwd: ctx.cwd,
          pid,
          sandboxed: ctx.policy.mode === "sandbox",
        });
      },
      onEvent: async (ev) => {
        ctx.usage.add(ev);
        tail.add(ev);
        if (ev.type === "result") result = ev;
        if (ev.type === "init" && ev.agentSessionId)
          await updateSession(ctx.db, ctx.sessionId, { agent_session_id: ev.agentSessionId });
        if (ev.type === "tool_call") {
          const command = commandOf(ev.input);
          if (command) ctx.commands.push({ id: ev.id, command, failed: false });
        }
        if (ev.type === "tool_result" && ev.isError) {
          const c = ctx.commands.find((x) => x.id === ev.id);
          if (c) c.failed = true;
        }
        await ctx.transcript.record(ev);
      },
    });
  } catch (err) {
    // What the agent was given cannot be passed to it: the same input fails every time.
    if (err instanceof AgentInputError)
      return { end: { state: "failed", infra: "environment_error", reason: err.message } };
    if (err instanceof AgentSpawnError)
      return { end: { state: "failed", infra: "agent_spawn_error", reason: err.message } };
    throw err;
  } finally {
    await wrapped.release();
  }
  await ctx.transcript.record({ type: "agent_exited", exitCode: proc.exitCode, signal: proc.signal });
  const usage = ctx.usage;
  const totals = usage.totals;
  await updateSession(ctx.db, ctx.sessionId, {
    exit_code: proc.exitCode,
    input_tokens: totals.inputTokens,
    output_tokens: totals.outputTokens,
    cache_read_tokens: totals.cacheReadTokens,
    cache_creation_tokens: totals.cacheCreationTokens,
    context_tokens: usage.peakContextTokens || null,
    cost_usd: usage.costUsd ?? null,
    num_turns: usage.numTurns ?? usage.turns,
    // Without `model:` in the routine, the model the CLI chose (its init event).
    ...(!ctx.routine.model && usage.model ? { model: usage.model, model_source: "agent" as const } : {}),
  });
  if (proc.timedOut) {
    return {
      end: {
        state: "timed_out",
        infra: "timeout",
        reason: `the agent ran longer than the routine's timeout (${formatDuration(ctx.routine.timeout)}) and was stopped with its child processes`,
      },
    };
  }
  if (proc.cancelled)
    return {
      end: { state: "cancelled", infra: "cancelled", reason: "cancelled while the agent was running" },
    };
  // Set by the event callback; flow analysis cannot see that.
  const last = result as ResultEvent | undefined;
  if (last?.isError && last.modelUnreachable) {
    const endpoint = modelEndpoint(ctx.adapter.kind, ctx.modelEnv ?? ctx.hostEnv);
    const where = endpoint ? `at ${endpoint.url} (${endpoint.source})` : "the command uses";
    const check = endpoint?.variable ? ` — check that it is up and that ${endpoint.variable} is right` : "";
    return {
      end: {
        state: "failed",
        infra: "model_unreachable",
        reason: `the model API ${where} could not be reached or failed: ${clipText(last.text?.trim() || "no detail", 2000)}${check}`,
      },
    };
  }
  if (!last || last.isError) {
    const exit = proc.exitCode !== null ? `exited with ${proc.exitCode}` : `was killed by ${proc.signal}`;
    const output = tail.lines();
    return {
      end: {
        state: "failed",
        infra: "ok",
        task: "agent_error",
        reason: describeFailure(ctx.adapter.kind, exit, last) + (output ? `\nlast output:\n${output}` : ""),
      },
    };
  }
  return { result: last };
}

/** What the agent is called in reasons. */
const AGENT_NAME: Record<AgentAdapter["kind"], string> = {
  command: "the command",
  "claude-code": "Claude Code",
  codex: "Codex",
};

/**
 * What failed, in plain words: `the command exited with 1`, `Claude Code reported an error
 * (exit 1): <its error>`, `Claude Code stopped at the routine's max_turns (8 turns)`. The
 * agent's own text is cut at 2,000 characters (the stored reason is cut again by formatReason).
 */
function describeFailure(kind: AgentAdapter["kind"], exit: string, last: ResultEvent | undefined): string {
  const name = AGENT_NAME[kind];
  if (last?.subtype === "error_max_turns")
    return `${name} stopped at the routine's max_turns${last.numTurns !== undefined ? ` (${last.numTurns} turns)` : ""} before finishing`;
  const text = last?.text?.trim();
  // The command adapter's "command exited with N" and Claude Code's "exited without a result": the exit says it.
  if (!text || last?.subtype === "exit_code" || last?.subtype === "no_result") return `${name} ${exit}`;
  return `${name} reported an error (${exit.replace(/^exited with/, "exit")}): ${clipText(text, 2000)}`;
}

/** `text` cut to `n` characters. */
const clipText = (text: string, n: number) => (text.length > n ? text.slice(0, n) : text);

/** How many of the agent's last output lines a failed session's reason quotes, and how long each may be. */
const TAIL_LINES = 10;
const TAIL_LINE_CHARS = 300;

/**
 * The agent's last lines of output: its stderr and the stdout lines outside the CLI's
 * protocol, and for the command agent its plain stdout (which the adapter makes assistant text).
 */
class OutputTail {
  readonly #kind: AgentAdapter["kind"];
  #lines: string[] = [];

  constructor(kind: AgentAdapter["kind"]) {
    this.#kind = kind;
  }

  add(ev: AgentEvent): void {
    let text: string | undefined;
    if (ev.type === "stderr") text = ev.text;
    else if (ev.type === "unparsed") text = ev.line;
    else if (ev.type === "assistant" && this.#kind === "command") text = ev.text;
    if (text === undefined) return;
    for (const line of text.split("\n")) {
      if (!line.trim()) continue;
      this.#lines.push(line.length > TAIL_LINE_CHARS ? `${line.slice(0, TAIL_LINE_CHARS)}…` : line);
      if (this.#lines.length > TAIL_LINES) this.#lines.shift();
    }
  }

  /** The kept lines, one per line, or `""`. */
  lines(): string {
    return this.#lines.join("\n");
  }
}

/** The shell command inside a tool call, when the tool runs one (Claude's Bash, Codex's exec_command). */
function commandOf(input: unknown): string | undefined {
  if (!input || typeof input !== "object") return undefined;
  const o = input as Record<string, unknown>;
  const c = o.command ?? o.cmd;
  return typeof c === "string" ? c : undefined;
}

/** The prompt is stored once, as its own transcript event, not repeated in the spawn event. */
function redactPrompt(args: string[], prompt: string): string[] {
  return args.map((a) => (a === prompt ? `<prompt: ${prompt.length} chars>` : a));
}
