import { spawn } from "node:child_process";
import { createInterface } from "node:readline";
import type { Clock } from "../../util/clock.ts";
import type { AgentEvent } from "../transcript/events.ts";
import type { AgentInvocation, OutputParser } from "./types.ts";

/** How an agent process ended. */
export interface AgentProcessResult {
  pid: number;
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  timedOut: boolean;
  cancelled: boolean;
}

/** Options of {@link runAgentProcess}. All durations are ms. */
export interface RunAgentOptions {
  parser: OutputParser;
  /** Called for every event, in order; the next event waits for the returned promise. */
  onEvent(event: AgentEvent): Promise<void> | void;
  onSpawn?(pid: number): Promise<void> | void;
  clock: Clock;
  timeoutMs: number;
  /** Time between SIGTERM and SIGKILL when stopping the process group. */
  killGraceMs?: number;
  signal?: AbortSignal;
}

/** The agent program could not be started at all (not found, not executable). */
export class AgentSpawnError extends Error {
  override name = "AgentSpawnError";
}

const MAX_STDERR_LINES = 200;

/**
 * Spawns an agent in its own process group with stdin closed, feeds each stdout line to the
 * parser and each stderr line (the first 200) to `onEvent` as `stderr` events. On timeout or
 * abort the whole group gets SIGTERM, then SIGKILL after the grace period, so children the
 * agent started die with it. When the agent exits on its own, anything left in its group is
 * stopped too: a session leaves no orphan processes.
 *
 * @throws {AgentSpawnError} when the program cannot be started.
 */
export function runAgentProcess(inv: AgentInvocation, opts: RunAgentOptions): Promise<AgentProcessResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(inv.command, inv.args, {
      cwd: inv.cwd,
      env: inv.env,
      stdio: ["ignore", "pipe", "pipe"],
      detached: true,
    });
    let queue: Promise<void> = Promise.resolve();
    let queueError: unknown;
    const emit = (events: AgentEvent[]) => {
      for (const ev of events) {
        queue = queue
          .then(() => opts.onEvent(ev))
          .catch((err) => {
            queueError ??= err;
          });
      }
    };
    let timedOut = false;
    let cancelled = false;
    let cancelKill: (() => void) | undefined;
    let exited = false;
    const killGroup = (sig: NodeJS.Signals) => {
      if (child.pid === undefined) return;
      try {
        process.kill(-child.pid, sig);
      } catch {
        // the group is already gone
      }
    };
    const stop = () => {
      if (cancelKill) return;
      killGroup("SIGTERM");
      cancelKill = opts.clock.setTimer(opts.killGraceMs ?? 5_000, () => killGroup("SIGKILL"));
    };
    const cancelTimeout = opts.clock.setTimer(opts.timeoutMs, () => {
      if (exited) return;
      timedOut = true;
      stop();
    });
    const onAbort = () => {
      if (exited) return;
      cancelled = true;
      stop();
    };
    opts.signal?.addEventListener("abort", onAbort, { once: true });
    if (opts.signal?.aborted) onAbort();

    child.once("error", (err) => {
      cancelTimeout();
      opts.signal?.removeEventListener("abort", onAbort);
      reject(new AgentSpawnError(`could not start the agent "${inv.command}": ${err.message}`));
    });
    child.once("spawn", () => {
      if (opts.onSpawn) queue = queue.then(() => opts.onSpawn!(child.pid!));
    });
    createInterface({ input: child.stdout }).on("line", (line) => emit(opts.parser.line(line)));
    let stderrLines = 0;
    createInterface({ input: child.stderr }).on("line", (line) => {
      if (++stderrLines <= MAX_STDERR_LINES && line.trim()) emit([{ type: "stderr", text: line }]);
      else if (stderrLines === MAX_STDERR_LINES + 1)
        emit([{ type: "stderr", text: "[nightshift: further stderr lines not recorded]" }]);
    });
    child.once("exit", () => {
      exited = true;
      // Whatever the agent left running in its group goes with it.
      stop();
    });
    child.once("close", (exitCode, signal) => {
      cancelTimeout();
      cancelKill?.();
      opts.signal?.removeEventListener("abort", onAbort);
      emit(opts.parser.end(exitCode));
      queue.then(() => {
        if (queueError) reject(queueError);
        else resolve({ pid: child.pid!, exitCode, signal, timedOut, cancelled });
      });
    });
  });
}
