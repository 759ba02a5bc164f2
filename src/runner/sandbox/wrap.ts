/**
 * Runs an agent invocation inside `@anthropic-ai/sandbox-runtime` (bubblewrap + a filtering
 * proxy on Linux). The library keeps ONE global manager per process, so this module:
 * - initialises it once, with an empty base allowlist and no filesystem grants;
 * - gives each run its own network allowlist, registered under a random 128-bit command id
 *   (`registerCommandNetworkLists`) and removed by `release()`;
 * - passes each run's filesystem rules with its wrap (`customConfig.filesystem`), all absolute:
 *   the library resolves relative rules and its built-in `.git/hooks`/`.git/config`
 *   protection against `process.cwd()`, never the spawn cwd, so the workspace's own `.git`
 *   denies are added here explicitly and `process.cwd()` is never changed.
 */
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, statSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import type { AgentInvocation } from "../agents/types.ts";
import { findExecutable } from "./availability.ts";
import { limitMemory, memoryEnforcement } from "./memory.ts";
import { assertValidPolicy, type SandboxPolicy } from "./policy.ts";

type Manager = typeof import("@anthropic-ai/sandbox-runtime").SandboxManager;
type RuntimeConfig = import("@anthropic-ai/sandbox-runtime").SandboxRuntimeConfig;

/** Logged by the caller (loudly) whenever an agent runs with `sandbox: none`. */
export const SANDBOX_DISABLED_WARNING =
  "SANDBOX DISABLED (sandbox: none): the agent runs with this user's full access to files, " +
  "credentials (~/.ssh, tokens) and the network. Use only for trusted routines on a disposable machine.";

/** A wrapped invocation and the clean-up to run once its process has exited (or never started). */
export interface WrappedInvocation {
  invocation: AgentInvocation;
  /** Unregisters the run's network allowlist and releases its mount points. Idempotent. */
  release(): Promise<void>;
}

/** Above this many characters the agent's argv travels in a file instead of the command line. */
const INLINE_ARGV_LIMIT = 32 * 1024;

let manager: Promise<Manager> | undefined;

function bin(name: string): string {
  const found = findExecutable(name);
  if (!found) throw new Error(`sandbox: "${name}" not found on PATH`);
  return found;
}

/** Initialises the process-wide sandbox manager once (retrying after a failure). */
function sandboxManager(): Promise<Manager> {
  manager ??= (async () => {
    const { SandboxManager } = await import("@anthropic-ai/sandbox-runtime");
    const config: RuntimeConfig = {
      // Empty base lists: every run brings its own allowlist and filesystem rules.
      network: { allowedDomains: [], deniedDomains: [] },
      filesystem: { denyRead: [], allowWrite: [], denyWrite: [] },
      bwrapPath: bin("bwrap"),
      socatPath: bin("socat"),
      ripgrep: { command: bin("rg") },
      // The library scans process.cwd() (the orchestrator's, not the workspace) for dangerous
      // files on every wrap; keep that scan shallow. The workspace's denies are explicit.
      mandatoryDenySearchDepth: 1,
    };
    await SandboxManager.initialize(config);
    return SandboxManager;
  })();
  manager.catch(() => {
    manager = undefined;
  });
  return manager;
}

/** Stops the sandbox's proxy and forgets every registration (for shutdown and tests). */
export async function resetSandbox(): Promise<void> {
  const m = manager;
  manager = undefined;
  if (m) await (await m.catch(() => undefined))?.reset();
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

/** Paths inside the workspace that must stay read-only: the host runs git there after the agent. */
function workspaceDenies(workspace: string): string[] {
  const dotGit = join(workspace, ".git");
  let isDir = true;
  try {
    isDir = statSync(dotGit).isDirectory();
  } catch {
    // no .git yet: deny the hooks and config the agent could create
  }
  // A `.git` file (worktree/submodule link) could be pointed elsewhere: keep it as it is.
  return isDir ? [join(dotGit, "hooks"), join(dotGit, "config")] : [dotGit];
}

/**
 * Returns the invocation to spawn instead of `inv`.
 *
 * With `mode: "none"` that is `inv` itself (the caller must log
 * {@link SANDBOX_DISABLED_WARNING}), under `policy.memoryBytes` when set (sandbox/memory.ts;
 * the same limit goes around the sandbox otherwise). With `mode: "sandbox"` it is `bash -c <bwrap …>`: the
 * agent sees the whole filesystem read-only except `workspace`, `home` and `tmp` (minus the
 * workspace's `.git/hooks` and `.git/config`), `denyRead` paths empty, no network but the
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
  if (policy.mode === "none")
    return {
      invocation: memory ? limitMemory(inv, policy.memoryBytes, memory) : inv,
      release: async () => {},
    };
  assertValidPolicy(policy);
  for (const dir of [policy.home, policy.tmp]) mkdirSync(dir, { recursive: true });
  const sm = await sandboxManager();

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

  const customConfig: Partial<RuntimeConfig> = {
    filesystem: {
      denyRead: [...policy.denyRead],
      allowRead: [policy.workspace, policy.home, policy.tmp],
      allowWrite: [policy.workspace, policy.home, policy.tmp],
      denyWrite: [...workspaceDenies(policy.workspace), ...libraryDefaultWrites()],
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
    },
  };
}

/**
 * Rewrites a loopback base URL (`http://127.0.0.1:PORT`, `http://localhost:PORT`) so a
 * sandboxed client sends it through the proxy (inside, `NO_PROXY` names loopback, and direct
 * connections cannot leave the sandbox's network namespace): `http://localhost.:PORT`, to be
 * allowlisted as `localhost:PORT`. Other URLs come back unchanged with their `host:port`.
 */
export function sandboxLoopbackUrl(url: string): { url: string; allow: string } {
  const u = new URL(url);
  const port = u.port || (u.protocol === "https:" ? "443" : "80");
  if (["127.0.0.1", "localhost", "[::1]"].includes(u.hostname)) {
    u.hostname = "localhost.";
    return { url: u.toString().replace(/\/$/, ""), allow: `localhost:${port}` };
  }
  return { url, allow: `${u.hostname}:${port}` };
}
