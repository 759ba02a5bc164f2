import { isAbsolute } from "node:path";

/**
 * What one agent run may touch when it is sandboxed. Every path is absolute (`~` and
 * relative paths are refused: the sandbox library would resolve them against the
 * orchestrator's HOME and working directory, not the agent's).
 */
export interface SandboxPolicy {
  /** `"none"` runs the agent unconfined (unsafe; the caller logs {@link SANDBOX_DISABLED_WARNING}). */
  mode: "sandbox" | "none";
  /**
   * The session's workspace folder (the clone, or the folder holding a multi-repository
   * session's clones); readable. Writable when `writePaths` is absent.
   */
  workspace: string;
  /**
   * The folders the agent may write besides `home` and `tmp`: the clones. Defaults to
   * `[workspace]`. A multi-repository session lists each clone, so the folder holding them
   * (and so the clones themselves) cannot be replaced by the agent.
   */
  writePaths?: string[];
  /** The agent's private HOME; writable (the CLIs write their state there). */
  home: string;
  /** The agent's temporary folder, inside the session dir; writable. `TMPDIR` points here. */
  tmp: string;
  /**
   * Hosts the agent may reach through the sandbox's proxy, as `host` or `host:port`
   * (`*.example.org` wildcards allowed), e.g. `["localhost:4321", "registry.npmjs.org"]`.
   * Everything else is refused; direct connections are impossible (own network namespace).
   */
  allowedDomains: string[];
  /**
   * Reads are denied by default: the agent sees only `workspace`, `writePaths`, `home`, `tmp`
   * and these folders and files, read-only (system folders, the toolchain, the mirror's
   * objects, what the environment's `read:` names). Absent: the whole filesystem is readable
   * but for `denyRead` (tests of the sandbox itself).
   */
  readPaths?: string[];
  /**
   * Folders and files that must look empty/unreadable inside even where a readable area
   * covers them: the user's HOME, the nightshift state dir and project, `/etc/shadow`, … The
   * workspace, `writePaths`, `home` and `tmp` stay readable even when an entry covers them.
   */
  denyRead: string[];
  /**
   * Memory limit in bytes for the process and what it starts (see sandbox/memory.ts for how
   * it is enforced); also applies with `mode: "none"`.
   */
  memoryBytes?: number;
}

/**
 * Checks that every path of a policy is absolute and every allowlist entry looks like a host.
 * @throws {Error} naming the first offending entry.
 */
export function assertValidPolicy(policy: SandboxPolicy): void {
  const named: [string, string][] = [
    ["workspace", policy.workspace],
    ["home", policy.home],
    ["tmp", policy.tmp],
    ...policy.denyRead.map((p, i): [string, string] => [`denyRead[${i}]`, p]),
    ...(policy.readPaths ?? []).map((p, i): [string, string] => [`readPaths[${i}]`, p]),
    ...(policy.writePaths ?? []).map((p, i): [string, string] => [`writePaths[${i}]`, p]),
  ];
  for (const [name, p] of named) {
    if (!p || !isAbsolute(p)) throw new Error(`sandbox policy: ${name} must be an absolute path, got "${p}"`);
  }
  for (const host of policy.allowedDomains) {
    if (!host || /[\s/]/.test(host)) {
      throw new Error(`sandbox policy: allowedDomains entry "${host}" is not a host or host:port`);
    }
  }
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
