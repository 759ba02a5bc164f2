/**
 * The memory limit of an environment (`memory: 2g`), enforced on the agent's process (and the
 * setup script's) the best way the platform offers:
 *
 * 1. **cgroup v2** through `systemd-run --user --scope -p MemoryMax=<bytes> -p MemorySwapMax=0`:
 *    the whole process tree (agent, shells, compilers, MCP servers) shares the limit and the
 *    kernel's OOM killer stops it when it is exceeded. Needs a running systemd user manager
 *    with the memory controller delegated (the default on current distributions); checked once
 *    by starting a scope and reading its `memory.max` back.
 * 2. **RLIMIT_DATA** (`ulimit -d`, set by bash just before exec): on Linux ≥ 4.7 it caps each
 *    process's private writable memory (heap and anonymous mappings), so an allocation past the
 *    limit fails (`malloc` returns NULL, Node 24 throws ERR_MEMORY_ALLOCATION_FAILED). It
 *    applies per process, not to the tree. RLIMIT_AS is not used: V8 and Bun reserve far more
 *    address space than they use and do not start under it. RLIMIT_DATA counts their writable
 *    reservations too, so a runtime needs a floor before it does anything — measured on Linux
 *    6.18: Claude Code 2.1.328 (a Bun binary) aborts at start below about 550 MiB, Node 24
 *    below about 580 MiB; with `2g` both run normally. util-linux's `prlimit --data` (2.38.1)
 *    crashed at exec there while bash's `ulimit -d` works, so bash sets it.
 * 3. Otherwise (macOS, where RLIMIT_DATA is not enforced, or no bash): nothing, and the session
 *    says so in its transcript.
 */
import { execFile } from "node:child_process";
import type { AgentInvocation } from "../agents/types.ts";
import { findExecutable } from "./availability.ts";

/** How memory limits are enforced on this machine. */
export type MemoryEnforcement =
  | { kind: "cgroup"; systemdRun: string; why?: undefined }
  | { kind: "rlimit"; bash: string; why: string }
  | { kind: "none"; why: string };

/** Variables `systemd-run --user` needs to reach the user manager (removed again before the agent starts). */
const USER_BUS_VARS = ["XDG_RUNTIME_DIR", "DBUS_SESSION_BUS_ADDRESS"] as const;

function run(cmd: string, args: string[], env: NodeJS.ProcessEnv): Promise<{ ok: boolean; out: string }> {
  return new Promise((resolve) => {
    execFile(cmd, args, { timeout: 10_000, env }, (err, stdout, stderr) =>
      resolve({ ok: !err, out: `${stdout}${stderr}`.trim() }),
    );
  });
}

let cached: Promise<MemoryEnforcement> | undefined;

/**
 * How this machine can enforce a memory limit (computed once per process; `hostEnv` is read
 * the first time only, for the user manager's variables).
 */
export function memoryEnforcement(hostEnv: NodeJS.ProcessEnv = process.env): Promise<MemoryEnforcement> {
  cached ??= detect(hostEnv);
  return cached;
}

/** Forgets the detected mechanism (for tests). */
export function resetMemoryEnforcement(): void {
  cached = undefined;
}

async function detect(hostEnv: NodeJS.ProcessEnv): Promise<MemoryEnforcement> {
  if (process.platform !== "linux") {
    return {
      kind: "none",
      why: `${process.platform} enforces neither cgroup memory limits for a user's processes nor RLIMIT_DATA`,
    };
  }
  const bash = findExecutable("bash", hostEnv.PATH ?? process.env.PATH);
  let cgroupWhy = "systemd-run is not on PATH";
  const systemdRun = findExecutable("systemd-run", hostEnv.PATH ?? process.env.PATH);
  if (systemdRun) {
    // Start a scope with a known limit and read it back from inside: proves the user manager
    // answers and the memory controller is delegated (otherwise MemoryMax is silently ignored).
    const probe = 256 * 1024 * 1024;
    const env: NodeJS.ProcessEnv = { PATH: hostEnv.PATH ?? process.env.PATH ?? "/usr/bin:/bin" };
    for (const v of USER_BUS_VARS) if (hostEnv[v]) env[v] = hostEnv[v];
    const r = await run(
      systemdRun,
      [
        "--user",
        "--scope",
        "--quiet",
        "--collect",
        "-p",
        `MemoryMax=${probe}`,
        "--",
        "sh",
        "-c",
        'cat "/sys/fs/cgroup$(sed -n "s/^0:://p" /proc/self/cgroup)/memory.max"',
      ],
      env,
    );
    if (r.ok && r.out.split("\n").at(-1) === String(probe)) return { kind: "cgroup", systemdRun };
    cgroupWhy = r.ok
      ? `systemd-run --user --scope ran, but its cgroup has no memory limit (memory controller not delegated to the user manager: ${r.out.slice(0, 200) || "no memory.max"})`
      : `systemd-run --user --scope failed: ${r.out.split("\n")[0]?.slice(0, 200) || "no output"}`;
  }
  if (bash)
    return {
      kind: "rlimit",
      bash,
      why: `no cgroup v2 limit for the process tree (${cgroupWhy})`,
    };
  return { kind: "none", why: `${cgroupWhy}, and bash (to set RLIMIT_DATA) is not on PATH` };
}

/** `2147483648` → `2 GiB`, `1610612736` → `1.5 GiB`, for messages. */
export function formatBytes(bytes: number): string {
  const units = ["bytes", "KiB", "MiB", "GiB", "TiB"];
  let v = bytes;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${Number.isInteger(v) ? v : v.toFixed(1)} ${units[i]}`;
}

/**
 * What a session's transcript must say about its memory limit: `undefined` when the limit
 * holds for the whole process tree (cgroup) or there is no limit; otherwise a warning that it
 * is per process only, or not enforced at all, and why.
 */
export async function memoryLimitWarning(
  bytes: number | undefined,
  hostEnv: NodeJS.ProcessEnv = process.env,
): Promise<string | undefined> {
  if (!bytes) return undefined;
  const how = await memoryEnforcement(hostEnv);
  if (how.kind === "cgroup") return undefined;
  if (how.kind === "rlimit")
    return `memory limit ${formatBytes(bytes)} enforced per process (RLIMIT_DATA), not for the agent's process tree: ${how.why}`;
  return `memory limit not enforced: ${how.why}`;
}

/**
 * Wraps an invocation so it runs under `bytes` of memory with the given mechanism; unchanged
 * when `bytes` is undefined or nothing can enforce it. The process keeps its pid and process
 * group (`systemd-run --scope` and bash both exec the command).
 */
export function limitMemory(
  inv: AgentInvocation,
  bytes: number | undefined,
  how: MemoryEnforcement,
  hostEnv: NodeJS.ProcessEnv = process.env,
): AgentInvocation {
  if (!bytes || how.kind === "none") return inv;
  if (how.kind === "rlimit") {
    const kib = Math.max(1, Math.floor(bytes / 1024));
    return {
      ...inv,
      command: how.bash,
      // $0 is the name bash reports errors under; "$@" is the original command line.
      args: [
        "-c",
        `ulimit -S -H -d ${kib} && exec "$@"`,
        "nightshift-memory-limit",
        inv.command,
        ...inv.args,
      ],
    };
  }
  const env = { ...inv.env };
  const unset: string[] = [];
  for (const v of USER_BUS_VARS) {
    const value = hostEnv[v];
    if (value && env[v] === undefined) {
      env[v] = value;
      unset.push("-u", v);
    }
  }
  return {
    ...inv,
    command: how.systemdRun,
    args: [
      "--user",
      "--scope",
      "--quiet",
      "--collect",
      "-p",
      `MemoryMax=${bytes}`,
      "-p",
      "MemorySwapMax=0",
      "--",
      ...(unset.length ? ["env", ...unset] : []),
      inv.command,
      ...inv.args,
    ],
    env,
  };
}
