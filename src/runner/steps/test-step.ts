import type { Clock } from "../../util/clock.ts";
import { runAgentProcess } from "../agents/spawn.ts";
import type { AgentInvocation } from "../agents/types.ts";
import type { SandboxPolicy } from "../sandbox/policy.ts";
import { wrapInvocation } from "../sandbox/wrap.ts";

/** Characters of a step's output kept (the tail: failures print last). */
export const STEP_OUTPUT_CHARS = 16_000;

/** How a deterministic step ended. */
export interface StepResult {
  command: string;
  /** `null` when the step was stopped (timeout or cancel). */
  exitCode: number | null;
  /** stdout and stderr lines interleaved, the last {@link STEP_OUTPUT_CHARS} characters. */
  output: string;
  durationMs: number;
  timedOut: boolean;
}

/**
 * Runs a shell command in the workspace the way the agent ran — same sandbox policy, same
 * environment variables, own process group, killed with its children on timeout or abort.
 * Used for the routine's test command (`workflow.test_command`) after the agent.
 */
export async function runStep(p: {
  command: string;
  cwd: string;
  env: Record<string, string>;
  policy: SandboxPolicy;
  clock: Clock;
  timeoutMs: number;
  signal?: AbortSignal;
}): Promise<StepResult> {
  // stderr joins stdout, so the output keeps its order and its tail.
  const inv: AgentInvocation = {
    command: "sh",
    args: ["-c", `exec 2>&1\n${p.command}`],
    env: p.env,
    cwd: p.cwd,
  };
  const wrapped = await wrapInvocation(inv, p.policy);
  const lines: string[] = [];
  let size = 0;
  const keep = (line: string) => {
    lines.push(line);
    size += line.length + 1;
    while (size > STEP_OUTPUT_CHARS * 2 && lines.length > 1) size -= lines.shift()!.length + 1;
  };
  const started = p.clock.now();
  try {
    const proc = await runAgentProcess(wrapped.invocation, {
      clock: p.clock,
      timeoutMs: p.timeoutMs,
      ...(p.signal ? { signal: p.signal } : {}),
      parser: { line: (text) => [{ type: "unparsed", line: text }], end: () => [] },
      onEvent: (ev) => {
        if (ev.type === "unparsed") keep(ev.line);
        else if (ev.type === "stderr") keep(ev.text);
      },
    });
    const output = lines.join("\n");
    return {
      command: p.command,
      exitCode: proc.timedOut || proc.cancelled ? null : proc.exitCode,
      output: output.length > STEP_OUTPUT_CHARS ? `…${output.slice(-STEP_OUTPUT_CHARS)}` : output,
      durationMs: p.clock.now() - started,
      timedOut: proc.timedOut,
    };
  } finally {
    await wrapped.release();
  }
}
