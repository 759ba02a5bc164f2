import { type ChildProcessByStdio, spawn } from "node:child_process";
import { closeSync, openSync } from "node:fs";
import type { Readable } from "node:stream";
import { createInterface } from "node:readline";
import type { Clock } from "../../util/clock.ts";
import { errorCode } from "../../util/errors.ts";
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
  /**
   * Once the process has exited, how long its stdout and stderr may stay open (held by a
   * process that left its group, e.g. with `setsid`) before the group gets SIGKILL, the pipes
   * are closed and the run ends anyway. Default 2000.
   */
  pipeGraceMs?: number;
  signal?: AbortSignal;
}

/** The agent program could not be started at all (not found, not executable). */
export class AgentSpawnError extends Error {
  override name = "AgentSpawnError";
}

/**
 * The agent could not be started because of what it was given, and would fail the same way
 * again: a command line or environment too large for the kernel (`E2BIG`), a NUL byte in an
 * argument or variable, an unreadable stdin file.
 */
export class AgentInputError extends AgentSpawnError {
  override name = "AgentInputError";
}

/** Node's error codes for arguments `spawn` refuses before starting anything. */
const INPUT_ERROR_CODES = new Set(["E2BIG", "ERR_INVALID_ARG_VALUE", "ERR_INVALID_ARG_TYPE"]);

const MAX_STDERR_LINES = 200;

/**
 * Spawns an agent in its own process group with stdin `/dev/null` (or `inv.stdinFile`, opened
 * read-only and passed as a file descriptor), feeds each stdout line to the
 * parser and each stderr line (the first 200) to `onEvent` as `stderr` events. On timeout or
 * abort the whole group gets SIGTERM, then SIGKILL after the grace period, so children the
 * agent started die with it. When the agent exits on its own, anything left in its group is
 * stopped too: a session leaves no orphan processes. (Children that leave the group with
 * `setsid` are held by the PID namespace `inv` runs in, see sandbox/contain.ts.) The run ends
 * at most `pipeGraceMs` after the process exited, even if something still holds its output.
 *
 * @throws {AgentInputError} (rejects) when what the agent was given cannot be passed to it
 *   (`E2BIG`, a NUL byte, an unreadable stdin file): a retry would fail the same way.
 * @throws {AgentSpawnError} (rejects) when the program cannot be started.
 */
export function runAgentProcess(inv: AgentInvocation, opts: RunAgentOptions): Promise<AgentProcessResult> {
  return new Promise((resolve, reject) => {
    let child: ChildProcessByStdio<null, Readable, Readable>;
    let stdinFd: number | undefined;
    try {
      if (inv.stdinFile !== undefined) stdinFd = openSync(inv.stdinFile, "r");
      child = spawn(inv.command, inv.args, {
        cwd: inv.cwd,
        env: inv.env,
        stdio: [stdinFd ?? "ignore", "pipe", "pipe"],
        detached: true,
      }) as ChildProcessByStdio<null, Readable, Readable>;
    } catch (err) {
      // Thrown before anything started: E2BIG, a NUL byte in an argument or variable, a
      // missing stdin file. Deterministic, so not worth a retry.
      const e = err as NodeJS.ErrnoException;
      const what = stdinFd === undefined && inv.stdinFile !== undefined ? ` (stdin ${inv.stdinFile})` : "";
      const Err = INPUT_ERROR_CODES.has(e.code ?? "") || what ? AgentInputError : AgentSpawnError;
      // Node quotes the offending value after "Received": it may be a secret, so it goes.
      const message = e.message.replace(/\.? Received [\s\S]*$/, "");
      const hint =
        e.code === "E2BIG"
          ? ": one argument or environment variable is over 128 KiB, or all of them together are over the system's limit; shorten the variables of the routine's environment"
          : e.code === "ERR_INVALID_ARG_VALUE"
            ? "; remove the NUL byte from it"
            : "";
      reject(new Err(`could not start the agent "${inv.command}"${what}: ${message}${hint}`));
      return;
    } finally {
      // The child has its own copy of the descriptor.
      if (stdinFd !== undefined) closeSync(stdinFd);
    }
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
      reject(
        new AgentSpawnError(`could not start the agent "${inv.command}" (${errorCode(err)})`, { cause: err }),
      );
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
    let cancelDrain: (() => void) | undefined;
    child.once("exit", () => {
      exited = true;
      // Whatever the agent left running in its group goes with it.
      stop();
      // 'close' waits for the pipes, and a process outside the group (in a new session, where
      // no PID namespace holds it: sandbox/contain.ts) could keep them open for ever.
      cancelDrain = opts.clock.setTimer(opts.pipeGraceMs ?? 2_000, () => {
        killGroup("SIGKILL");
        emit([
          {
            type: "stderr",
            text: "[nightshift: the agent exited, but a process it started still held its output open; stopped reading]",
          },
        ]);
        child.stdout.destroy();
        child.stderr.destroy();
      });
    });
    child.once("close", (exitCode, signal) => {
      cancelTimeout();
      cancelKill?.();
      cancelDrain?.();
      opts.signal?.removeEventListener("abort", onAbort);
      emit(opts.parser.end(exitCode));
      queue.then(() => {
        if (queueError) reject(queueError);
        else resolve({ pid: child.pid!, exitCode, signal, timedOut, cancelled });
      });
    });
  });
}
