/**
 * Runs an agent invocation inside `@anthropic-ai/sandbox-runtime` (bubblewrap + a filtering
 * proxy on Linux). The library keeps ONE global manager per process, so this module:
 * - initialises it once, with an empty base allowlist and no filesystem grants;
 * - gives each run its own network allowlist, registered under a random 128-bit command id
 *   (`registerCommandNetworkLists`) and removed by `release()`;
 * - passes each run's filesystem rules with its wrap (`customConfig.filesystem`), all absolute:
 *   the library resolves relative rules against `process.cwd()`, never the spawn cwd, so
 *   `process.cwd()` is never changed. The workspace's `.git` is the agent's to write: the
 *   runner never runs git with it (src/runner/workspace/runner-git.ts).
 */
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import type { AgentInvocation } from "../agents/invocation.ts";
import { findExecutable, sandboxAvailable } from "./availability.ts";
import { limitMemory, memoryEnforcement } from "./memory.ts";
import { containmentWarning, containProcessTree, processContainment } from "./contain.ts";
import { socatDyingWithParentAsync } from "./socat-bridge.ts";
import { assertValidPolicy, type SandboxPolicy } from "./policy.ts";

export { sandboxLoopbackUrl } from "./policy.ts";

type Manager = typeof import("@anthropic-ai/sandbox-runtime").SandboxManager;
type RuntimeConfig = import("@anthropic-ai/sandbox-runtime").SandboxRuntimeConfig;

/** Logged by the caller (loudly) whenever an agent runs with `sandbox: none`. */
export const SANDBOX_DISABLED_WARNING =
  "SANDBOX DISABLED (sandbox: none): the agent runs with this user's full access to files, " +
  "credentials (~/.ssh, tokens) and the network. Use only for trusted routines on a disposable machine.";

/** A wrapped invocation and the clean-up to run once its process has exited (or never started). */
export interface WrappedInvocation {
  invocation: AgentInvocation;
  /**
   * Set when the invocation's processes are held together only by their process group (no
   * PID namespace could be made, see sandbox/contain.ts): for the transcript.
   */
  warning?: string;
  /** Unregisters the run's network allowlist and releases its mount points. Idempotent. */
  release(): Promise<void>;
}

/** Above this many characters the agent's argv travels in a file instead of the command line. */
const INLINE_ARGV_LIMIT = 32 * 1024;

let manager: Promise<Manager> | undefined;
/** The last reset of the library, which a new initialisation waits for. */
let resetting: Promise<void> = Promise.resolve();
/** Sandboxed invocations handed out and not released yet. */
let held = 0;
let lingerTimer: ReturnType<typeof setTimeout> | undefined;

/**
 * How long (ms) the sandbox's proxy and `socat` bridges outlive the last sandboxed process,
 * so back-to-back sessions reuse them; then they are stopped and nothing of the sandbox keeps
 * the process alive.
 */
export const SANDBOX_LINGER_MS = 2_000;

/** Counts a sandboxed invocation in; a pending linger reset is called off. */
function hold(): void {
  held++;
  if (lingerTimer) clearTimeout(lingerTimer);
  lingerTimer = undefined;
}

/** Counts one out; the last one out stops the sandbox's helpers after {@link SANDBOX_LINGER_MS}. */
function letGo(): void {
  held = Math.max(0, held - 1);
  if (held > 0 || !manager) return;
  if (lingerTimer) clearTimeout(lingerTimer);
  lingerTimer = setTimeout(() => {
    lingerTimer = undefined;
    if (held === 0) void resetSandbox();
  }, SANDBOX_LINGER_MS);
  // Only the helpers' own handles keep the process alive until then; this timer does not.
  lingerTimer.unref();
}

function bin(name: string): string {
  const found = findExecutable(name);
  if (!found) throw new Error(`sandbox: "${name}" not found on PATH`);
  return found;
}

/** Initialises the process-wide sandbox manager once (retrying after a failure). */
function sandboxManager(): Promise<Manager> {
  manager ??= (async () => {
    await resetting;
    // Checked (a child process, once per process) while the library loads.
    const socatPath = socatDyingWithParentAsync(bin("socat"));
    const { SandboxManager } = await import("@anthropic-ai/sandbox-runtime");
    const config: RuntimeConfig = {
      // Empty base lists: every run brings its own allowlist and filesystem rules.
      network: { allowedDomains: [], deniedDomains: [] },
      filesystem: { denyRead: [], allowWrite: [], denyWrite: [] },
      bwrapPath: bin("bwrap"),
      // Bridges that die with this process, even when it is killed with SIGKILL.
      socatPath: await socatPath,
      ripgrep: { command: bin("rg") },
      // The library scans process.cwd() (the orchestrator's, not the workspace) for dangerous
      // files on every wrap; keep that scan shallow. The workspace's denies are explicit.
      mandatoryDenySearchDepth: 1,
    };
    const before = signalListeners();
    await SandboxManager.initialize(config);
    // The library stops its proxy on the first SIGINT/SIGTERM. nightshift handles those itself
    // (`serve` gives running sessions server.shutdown_grace, with their network, and resets the
    // sandbox when it exits), so the library's own handlers (`cleanupHandler`, added by
    // initialize() once per process) go.
    for (const [signal, listener] of signalListeners())
      if (listener.name === "cleanupHandler" && !before.some(([s, l]) => s === signal && l === listener))
        process.removeListener(signal, listener);
    return SandboxManager;
  })();
  manager.catch(() => {
    manager = undefined;
  });
  return manager;
}

/** The process's SIGINT and SIGTERM listeners, as `[signal, listener]` pairs. */
function signalListeners(): [NodeJS.Signals, NodeJS.SignalsListener][] {
  return (["SIGINT", "SIGTERM"] as const).flatMap((signal) =>
    process.listeners(signal).map((l): [NodeJS.Signals, NodeJS.SignalsListener] => [signal, l]),
  );
}

/**
 * Stops the sandbox's proxy and `socat` bridges and forgets every registration, now (for
 * shutdown and tests; after the last sandboxed process this also happens on its own, see
 * {@link SANDBOX_LINGER_MS}). A later wrap initialises the sandbox again.
 */
export async function resetSandbox(): Promise<void> {
  if (lingerTimer) clearTimeout(lingerTimer);
  lingerTimer = undefined;
  const m = manager;
  manager = undefined;
  if (m) resetting = resetting.then(async () => (await m.catch(() => undefined))?.reset());
  await resetting;
}

/**
 * Starts in the background what this process's first wrap of an invocation under `environment`
 * would otherwise wait for: the probes (sandbox availability, memory enforcement, process
 * containment; each computed once per process) and, with the sandbox on, the sandbox's proxy
 * and `socat` bridges (about 100–150 ms the first time, most of it the library waiting for the
 * bridges' sockets). Call it when a session starts, so this runs alongside its clone. Never
 * throws and returns at once: a failure is found again, and reported, by the wrap itself. When
 * no wrap follows, the bridges stop after {@link SANDBOX_LINGER_MS} as usual.
 */
export function prewarmSandbox(environment: { sandbox: "on" | "none"; memoryBytes?: number }): void {
  if (environment.memoryBytes) void memoryEnforcement();
  if (environment.sandbox !== "on") {
    void processContainment();
    return;
  }
  hold();
  const socat = findExecutable("socat");
  if (socat) void socatDyingWithParentAsync(socat);
  void (async () => {
    try {
      if ((await sandboxAvailable()).ok) await sandboxManager();
    } catch {
      // The wrap initialises again and reports it.
    } finally {
      letGo();
    }
  })();
}

/** Single-quotes a word for bash. */
export function shellQuote(word: string): string {
  return /^[A-Za-z0-9_./:=@%+,-]+$/.test(word) ? word : `'${word.replaceAll("'", `'\\''`)}'`;
}

/**
 * Folders the library makes writable in EVERY sandbox (`/tmp/claude`, and the orchestrator's
 * `~/.npm/_logs` and `~/.claude/debug`): shared between runs and outside the session, so they
 * are denied here. Only existing ones: a missing one cannot be created (its parent is read-only).
 */
function libraryDefaultWrites(): string[] {
  return ["/tmp/claude", join(homedir(), ".npm", "_logs"), join(homedir(), ".claude", "debug")].filter((p) =>
    existsSync(p),
  );
}

/**
 * Returns the invocation to spawn instead of `inv`.
 *
 * With `mode: "none"` that is `inv` unconfined but in its own PID namespace, so every process
 * it starts ends with it (sandbox/contain.ts; where no namespace can be made, `inv` itself and
 * a `warning` for the transcript; the caller must also log
 * {@link SANDBOX_DISABLED_WARNING}), under `policy.memoryBytes` when set (sandbox/memory.ts;
 * the same limit goes around the sandbox otherwise). With `mode: "sandbox"` it is `bash -c <bwrap …>`: the
 * agent reads only `workspace`, its write paths, `home`, `tmp` and `readPaths` (everything else
 * looks empty; without `readPaths`, everything but `denyRead`), writes only its write paths,
 * `home` and `tmp`, `denyRead` paths look empty, no network but the
 * proxy (which allows `allowedDomains` only), and exactly `inv.env` plus what the library adds:
 * `HTTP(S)_PROXY`/`ALL_PROXY`/`GRPC_PROXY` (carrying the proxy's token), `NO_PROXY` (loopback
 * and private ranges), `GIT_SSH_COMMAND`, `JAVA_TOOL_OPTIONS`, `SANDBOX_RUNTIME=1`. `TMPDIR` and
 * `CLAUDE_CODE_TMPDIR` are `policy.tmp`.
 *
 * A host loopback service (a local model gateway, the test model server) is reached as
 * `http://localhost.:PORT` with `localhost:PORT` allowlisted (see {@link sandboxLoopbackUrl});
 * when the allowlist has such an entry, `localhost` is dropped from `NO_PROXY` inside, so
 * `localhost` names go to the host through the proxy and a server the agent starts itself
 * must be called as `127.0.0.1`.
 *
 * Call `release()` once the process has exited or failed to start.
 * @throws {Error} when the policy is invalid or the library cannot build the sandbox.
 */
export async function wrapInvocation(
  inv: AgentInvocation,
  policy: SandboxPolicy,
): Promise<WrappedInvocation> {
  const memory = policy.memoryBytes ? await memoryEnforcement() : undefined;
  if (policy.mode === "none") {
    // Its own PID namespace (sandbox/contain.ts): nothing it starts outlives it.
    const how = await processContainment();
    const contained = containProcessTree(inv, how);
    const warning = containmentWarning(how);
    return {
      invocation: memory ? limitMemory(contained, policy.memoryBytes, memory) : contained,
      ...(warning ? { warning } : {}),
      release: async () => {},
    };
  }
  assertValidPolicy(policy);
  for (const dir of [policy.home, policy.tmp]) mkdirSync(dir, { recursive: true });
  hold();
  let sm: Manager;
  try {
    sm = await sandboxManager();
  } catch (err) {
    letGo();
    throw err;
  }

  const commandId = randomBytes(16).toString("base64url");
  const argv = [inv.command, ...inv.args];
  let run = argv.map(shellQuote).join(" ");
  if (run.length > INLINE_ARGV_LIMIT) {
    // One `bash -c` argument may not exceed 128 KiB (MAX_ARG_STRLEN): pass long prompts in a file.
    const file = join(policy.tmp, `.nightshift-argv-${commandId}`);
    writeFileSync(file, argv.map((a) => `${a}\0`).join(""), { mode: 0o600 });
    run = `mapfile -d '' -t __ns_argv < ${shellQuote(file)} && rm -f ${shellQuote(file)} && exec "\${__ns_argv[@]}"`;
  } else {
    run = `exec ${run}`;
  }
  // The agent's stdin (its prompt) is opened inside the sandbox; outside it is /dev/null.
  if (inv.stdinFile !== undefined) run += ` < ${shellQuote(inv.stdinFile)}`;
  // The library sets TMPDIR from the orchestrator's own environment (or /tmp/claude, shared by
  // every run); point it back at this run's folder.
  let inner = `export TMPDIR=${shellQuote(policy.tmp)}; ${run}`;
  if (policy.allowedDomains.some((d) => /^localhost\.?(:\d+)?$/.test(d))) {
    // The library's NO_PROXY lists `localhost`, and clients (Claude Code, curl) match
    // `localhost.` against it too, so an allowlisted host loopback port would be tried
    // directly, inside the sandbox's empty network namespace. Send `localhost` names through
    // the proxy instead; `127.0.0.1` still means the sandbox's own loopback.
    inner =
      `__ns_np=",$NO_PROXY,"; __ns_np=\${__ns_np//,localhost,/,}; __ns_np=\${__ns_np#,}; __ns_np=\${__ns_np%,}; ` +
      `export NO_PROXY="$__ns_np" no_proxy="$__ns_np"; unset __ns_np; ${inner}`;
  }

  const writable = [...(policy.writePaths ?? [policy.workspace]), policy.home, policy.tmp];
  const customConfig: Partial<RuntimeConfig> = {
    filesystem: {
      // Deny by default: "/" is expanded by the library into the root's children, minus what
      // allowRead re-grants (read-only binds; writable ones are re-bound writable).
      denyRead: [...(policy.readPaths ? ["/"] : []), ...policy.denyRead],
      allowRead: [
        policy.workspace,
        ...writable,
        ...(policy.readPaths ? [...policy.readPaths, ...proxySockets(sm)] : []),
      ],
      allowWrite: writable,
      // The agent's `.git` is its own: the runner never runs git with it (runner-git.ts).
      denyWrite: libraryDefaultWrites(),
    },
  };
  sm.registerCommandNetworkLists(commandId, { allowedDomains: [...policy.allowedDomains] });
  let wrapped: string;
  try {
    wrapped = await sm.wrapWithSandbox(inner, "bash", customConfig, undefined, {
      commandId,
      commandText: inv.command,
    });
  } catch (err) {
    sm.unregisterCommandNetworkLists(commandId);
    letGo();
    throw err;
  }
  let released = false;
  const sandboxed: AgentInvocation = {
    command: bin("bash"),
    args: ["-c", wrapped],
    env: { ...inv.env, TMPDIR: policy.tmp, CLAUDE_CODE_TMPDIR: policy.tmp },
    cwd: inv.cwd,
  };
  return {
    // The limit goes around bubblewrap, so everything inside shares (cgroup) or inherits (rlimit) it.
    invocation: memory ? limitMemory(sandboxed, policy.memoryBytes, memory) : sandboxed,
    release: async () => {
      if (released) return;
      released = true;
      sm.unregisterCommandNetworkLists(commandId);
      // Reference-counted by the library: mount points go when the last sandbox is released.
      sm.cleanupAfterCommand();
      letGo();
    },
  };
}

/**
 * The host-side Unix sockets of the sandbox's proxy bridges (made under the orchestrator's
 * TMPDIR when the manager starts): bound into every sandbox, so they must stay readable when
 * reads are denied by default.
 */
function proxySockets(sm: Manager): string[] {
  return [sm.getLinuxHttpSocketPath(), sm.getLinuxSocksSocketPath()].filter(
    (p): p is string => typeof p === "string" && p.length > 0,
  );
}
