import { spawn } from "node:child_process";
import type { Clock } from "../../util/clock.ts";

/** How much of a CI log the local forge keeps: the last 64 KiB (bytes of UTF-8). */
export const CI_OUTPUT_BYTES = 64 * 1024;

/** Name of the check the local CI (`forge.ci`) reports, as a workflow job would on GitHub. */
export const CI_CHECK = "ci";

/** Options of {@link runCiCommand}. Durations are ms. */
export interface CiCommandOptions {
  /** Shell command line, run with `/bin/sh -c`. */
  command: string;
  cwd: string;
  env: NodeJS.ProcessEnv;
  clock: Clock;
  /** Stops the command (its whole process group) when aborted, as on a timeout. */
  signal: AbortSignal;
  /** Time between SIGTERM and SIGKILL when stopping the process group; default 5 s. */
  killGraceMs?: number;
  /** Bytes of output kept (the tail); default {@link CI_OUTPUT_BYTES}. */
  maxOutputBytes?: number;
  /**
   * Confines the command (see {@link CiConfinement}); without it the command runs as it is,
   * in its own process group.
   */
  confine?: CiConfinement;
}

/** A process to start: program, arguments, environment and folder. */
export interface CiProcess {
  command: string;
  args: string[];
  env: NodeJS.ProcessEnv;
  cwd: string;
}

/**
 * Turns the CI command's process into the one to spawn — in nightshift, the agent's sandbox:
 * the CI command runs the pull request's code, which an agent wrote. `release` is called once
 * the process has ended. Given by the composition root (src/project.ts), so the forge
 * does not depend on the runner.
 */
export type CiConfinement = (
  proc: CiProcess,
  folders: { checkout: string; scratch: string; objects: string },
) => Promise<{ process: CiProcess; release(): Promise<void>; warning?: string }>;

/** How a CI command ended. `output` is stdout and stderr interleaved as they came, tail only. */
export interface CiCommandResult {
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  /** The abort signal fired before the command ended. */
  aborted: boolean;
  output: string;
  /** The command could not be started at all (e.g. no `/bin/sh`). */
  spawnError?: string;
}

/**
 * Runs the project's own CI command (`forge.ci`) the way a hosted runner would: in its own
 * process group, stdin closed, output captured. The command is the user's, but it runs the
 * pull request's code, which an agent wrote: with `confine` it runs inside what that gives
 * (in nightshift, the agent's sandbox). When `signal` aborts, the group gets SIGTERM and,
 * after the grace period, SIGKILL; when the command exits, whatever it left running in its
 * group is killed, so a CI run leaves no orphan processes.
 */
export async function runCiCommand(
  o: CiCommandOptions & { scratch?: string; objects?: string },
): Promise<CiCommandResult> {
  const plain: CiProcess = { command: "/bin/sh", args: ["-c", o.command], env: o.env, cwd: o.cwd };
  let confined: Awaited<ReturnType<CiConfinement>> | undefined;
  try {
    confined = o.confine
      ? await o.confine(plain, { checkout: o.cwd, scratch: o.scratch ?? o.cwd, objects: o.objects ?? o.cwd })
      : undefined;
  } catch (err) {
    return {
      exitCode: null,
      signal: null,
      aborted: false,
      output: "",
      spawnError: `could not confine the CI command: ${err instanceof Error ? err.message : String(err)}`,
    };
  }
  try {
    const r = await spawnCi(o, confined?.process ?? plain);
    return confined?.warning ? { ...r, output: `[nightshift: ${confined.warning}]\n${r.output}` } : r;
  } finally {
    await confined?.release();
  }
}

function spawnCi(o: CiCommandOptions, proc: CiProcess): Promise<CiCommandResult> {
  const max = o.maxOutputBytes ?? CI_OUTPUT_BYTES;
  const log = new TailBuffer(max);
  return new Promise((resolve) => {
    if (o.signal.aborted) {
      resolve({ exitCode: null, signal: null, aborted: true, output: "" });
      return;
    }
    const child = spawn(proc.command, proc.args, {
      cwd: proc.cwd,
      env: proc.env,
      stdio: ["ignore", "pipe", "pipe"],
      detached: true,
    });
    let aborted = false;
    let exited = false;
    let cancelKill: (() => void) | undefined;
    const killGroup = (sig: NodeJS.Signals) => {
      if (child.pid === undefined) return;
      try {
        process.kill(-child.pid, sig);
      } catch {
        // the group is already gone
      }
    };
    const onAbort = () => {
      if (exited || cancelKill) return;
      aborted = true;
      killGroup("SIGTERM");
      cancelKill = o.clock.setTimer(o.killGraceMs ?? 5_000, () => killGroup("SIGKILL"));
    };
    o.signal.addEventListener("abort", onAbort, { once: true });
    child.stdout.on("data", (d: Buffer) => log.push(d));
    child.stderr.on("data", (d: Buffer) => log.push(d));
    child.once("error", (err) => {
      o.signal.removeEventListener("abort", onAbort);
      cancelKill?.();
      resolve({
        exitCode: null,
        signal: null,
        aborted,
        output: log.text(),
        spawnError: `could not start /bin/sh for the CI command: ${err.message}`,
      });
    });
    child.once("exit", () => {
      exited = true;
      // Background processes the CI left behind go with it.
      killGroup("SIGKILL");
    });
    child.once("close", (exitCode, signal) => {
      o.signal.removeEventListener("abort", onAbort);
      cancelKill?.();
      resolve({ exitCode, signal, aborted, output: log.text() });
    });
  });
}

/** Keeps the last `max` bytes pushed into it, counting what it dropped. */
class TailBuffer {
  readonly #max: number;
  #chunks: Buffer[] = [];
  #bytes = 0;
  #dropped = 0;

  constructor(max: number) {
    this.#max = max;
  }

  push(b: Buffer): void {
    this.#chunks.push(b);
    this.#bytes += b.length;
    if (this.#bytes > 2 * this.#max) this.#trim();
  }

  #trim(): void {
    const all = Buffer.concat(this.#chunks);
    const keep = all.subarray(all.length - this.#max);
    this.#dropped += all.length - keep.length;
    this.#chunks = [keep];
    this.#bytes = keep.length;
  }

  text(): string {
    return tailOf(Buffer.concat(this.#chunks), this.#dropped, this.#max);
  }
}

function tailOf(buf: Buffer, dropped: number, max: number): string {
  if (dropped === 0 && buf.length <= max) return buf.toString("utf8");
  const note = `[nightshift: output cut to its last bytes, ${dropped + buf.length} bytes in all]\n`;
  const room = Math.max(0, max - Buffer.byteLength(note));
  // A cut inside a multi-byte character decodes to U+FFFD; drop it.
  const body = buf
    .subarray(Math.max(0, buf.length - room))
    .toString("utf8")
    .replace(/^\uFFFD+/, "");
  return note + body;
}

/**
 * The end of `text` in at most `maxBytes` bytes of UTF-8, starting with a note that says it was
 * cut; `text` itself when it fits.
 */
export function tailBytes(text: string, maxBytes = CI_OUTPUT_BYTES): string {
  return tailOf(Buffer.from(text, "utf8"), 0, maxBytes);
}
