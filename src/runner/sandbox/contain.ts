/**
 * Process containment for invocations that run without the sandbox (`sandbox: none`).
 *
 * A process group is not enough: a child that calls `setsid` (or double-forks into a new
 * session) leaves the group, survives the group's SIGKILL and keeps the runner's stdout pipe
 * open. So on Linux an unsandboxed invocation runs as
 * `bwrap --dev-bind / / --unshare-pid --die-with-parent --proc /proc -- <command>`: the same
 * filesystem, devices, network and user, but its own PID namespace. bubblewrap is PID 1 of
 * that namespace and exits when the command does; the kernel then kills every process left in
 * the namespace, whatever session or group it moved to. `--die-with-parent` does the same when
 * the runner itself dies, even by SIGKILL. (The sandbox, `sandbox: on`, gets this from
 * sandbox-runtime's own `bwrap --unshare-pid --die-with-parent`.) Run by a user other than root,
 * bubblewrap also makes a user namespace mapping only that user, where setuid programs (`sudo`)
 * do not work.
 *
 * Where bubblewrap is missing or cannot create a PID namespace (macOS, containers that forbid
 * namespaces) the invocation runs as it is, in its own process group, and the transcript says
 * that a child leaving the group can outlive the session.
 */
import { execFile } from "node:child_process";
import type { AgentInvocation } from "../agents/types.ts";
import { findExecutable } from "./availability.ts";

/** How this machine keeps an unsandboxed invocation's processes together. */
export type Containment = { kind: "pid-namespace"; bwrap: string } | { kind: "process-group"; why: string };

let cached: Promise<Containment> | undefined;

/**
 * How unsandboxed invocations are contained here (probed once per process: bubblewrap starts
 * `true` in a PID namespace). Never throws: a failed probe means `process-group`.
 */
export function processContainment(): Promise<Containment> {
  cached ??= probe();
  return cached;
}

/** Forgets the probed mechanism (for tests). */
export function resetProcessContainment(): void {
  cached = undefined;
}

async function probe(): Promise<Containment> {
  if (process.platform !== "linux")
    return { kind: "process-group", why: `${process.platform} has no PID namespaces` };
  const bwrap = findExecutable("bwrap");
  const trueBin = findExecutable("true") ?? "/bin/true";
  if (!bwrap) return { kind: "process-group", why: "bubblewrap (bwrap) is not on PATH" };
  const failure = await new Promise<string | undefined>((resolve) => {
    execFile(
      bwrap,
      [...namespaceArgs(), trueBin],
      { timeout: 10_000, env: { PATH: process.env.PATH ?? "/usr/bin:/bin" } },
      (err, stdout, stderr) =>
        resolve(err ? `${stdout}${stderr}`.trim().split("\n")[0] || err.message : undefined),
    );
  });
  if (failure === undefined) return { kind: "pid-namespace", bwrap };
  return {
    kind: "process-group",
    why: `bubblewrap cannot create a PID namespace here (${failure.slice(0, 200)})`,
  };
}

/** bubblewrap's options for an unconfined PID namespace, up to and including `--`. */
function namespaceArgs(): string[] {
  return ["--dev-bind", "/", "/", "--unshare-pid", "--die-with-parent", "--proc", "/proc", "--"];
}

/**
 * Wraps `inv` so that every process it starts ends when it ends (or when the runner dies):
 * `bwrap … --unshare-pid --die-with-parent -- <command>` with `how.kind === "pid-namespace"`,
 * `inv` itself otherwise. Same cwd and environment; bubblewrap finds the command on the
 * invocation's `PATH`. Signals: bubblewrap does not forward them, so a SIGTERM to the
 * process group ends bubblewrap and with it, at once, the whole namespace.
 */
export function containProcessTree(inv: AgentInvocation, how: Containment): AgentInvocation {
  if (how.kind !== "pid-namespace") return inv;
  return { ...inv, command: how.bwrap, args: [...namespaceArgs(), inv.command, ...inv.args] };
}

/** What the transcript must say when unsandboxed processes are only held by their process group. */
export function containmentWarning(how: Containment): string | undefined {
  if (how.kind === "pid-namespace") return undefined;
  return (
    `processes not contained: ${how.why}; the agent runs in its own process group only, so a child ` +
    "that leaves it (setsid, a daemon) can outlive the session's timeout"
  );
}
