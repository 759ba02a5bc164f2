import type { Routine } from "../../config/routine-schema.ts";
import type { Clock } from "../../util/clock.ts";
import { errorCode } from "../../util/errors.ts";
import { baseAgentEnv } from "../agents/env.ts";
import { AgentSpawnError, runAgentProcess } from "../agents/spawn.ts";
import type { AgentInvocation, OutputParser } from "../agents/types.ts";
import { findExecutable } from "../sandbox/availability.ts";
import type { SandboxPolicy } from "../sandbox/policy.ts";
import { wrapInvocation } from "../sandbox/wrap.ts";

/** How a setup script ended. */
export interface SetupRun {
  exitCode: number | null;
  signal: string | null;
  timedOut: boolean;
  cancelled: boolean;
  /** The last lines of its output (stdout and stderr together), at most {@link TAIL_CHARS} characters. */
  tail: string;
  durationMs: number;
}

/** How much of the script's output is kept (the end of it). */
export const TAIL_CHARS = 4000;
const TAIL_LINES = 200;

/**
 * Runs an environment's setup script in the workspace: `bash -e -o pipefail -c <script>`
 * (the first failing command fails it) with stderr merged into stdout, under the session's
 * sandbox policy (same filesystem rules, network and memory limit as the agent), with the
 * agent's base environment plus the environment's variables — but no model credential — and
 * the session's HOME and TMPDIR. Stopped with its process group after `timeoutMs` or when
 * `signal` aborts. `NIGHTSHIFT_SETUP=1` tells the script it runs as a setup.
 *
 * @throws {AgentSpawnError} when bash cannot be started.
 */
export async function runSetupScript(opts: {
  script: string;
  routine: Routine;
  sessionId: string;
  cwd: string;
  home: string;
  tmp: string;
  policy: SandboxPolicy;
  extraEnv: Record<string, string>;
  hostEnv: NodeJS.ProcessEnv;
  clock: Clock;
  timeoutMs: number;
  signal?: AbortSignal;
}): Promise<SetupRun> {
  const env = baseAgentEnv(
    {
      routine: opts.routine,
      prompt: "",
      cwd: opts.cwd,
      home: opts.home,
      tmp: opts.tmp,
      sessionId: opts.sessionId,
      hostEnv: opts.hostEnv,
      extraEnv: opts.extraEnv,
    },
    [],
  );
  env.NIGHTSHIFT_SETUP = "1";
  const bash = findExecutable("bash", opts.hostEnv.PATH ?? process.env.PATH) ?? "/bin/bash";
  // `exec 2>&1;` on the script's first line keeps bash's own line numbers in its messages right.
  const inv: AgentInvocation = {
    command: bash,
    args: ["-e", "-o", "pipefail", "-c", `exec 2>&1; ${opts.script}`],
    env,
    cwd: opts.cwd,
  };
  const lines: string[] = [];
  const keep = (line: string) => {
    lines.push(line);
    if (lines.length > TAIL_LINES) lines.shift();
  };
  const collector: OutputParser = {
    line(text) {
      keep(text);
      return [];
    },
    end: () => [],
  };
  const started = opts.clock.now();
  const wrapped = await wrapInvocation(inv, opts.policy);
  try {
    const r = await runAgentProcess(wrapped.invocation, {
      parser: collector,
      onEvent: (ev) => {
        if (ev.type === "stderr") keep(ev.text);
      },
      clock: opts.clock,
      timeoutMs: opts.timeoutMs,
      ...(opts.signal ? { signal: opts.signal } : {}),
    });
    const text = lines.join("\n").trimEnd();
    return {
      exitCode: r.exitCode,
      signal: r.signal,
      timedOut: r.timedOut,
      cancelled: r.cancelled,
      tail: text.length > TAIL_CHARS ? `…${text.slice(-TAIL_CHARS)}` : text,
      durationMs: opts.clock.now() - started,
    };
  } catch (err) {
    if (err instanceof AgentSpawnError)
      throw new AgentSpawnError(`could not start the setup script (${errorCode(err.cause ?? err)})`, {
        cause: err,
      });
    throw err;
  } finally {
    await wrapped.release();
  }
}
