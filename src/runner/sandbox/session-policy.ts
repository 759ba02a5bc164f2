import { existsSync, mkdirSync } from "node:fs";
import { homedir } from "node:os";
import { delimiter, dirname, isAbsolute, join, relative, resolve } from "node:path";
import { NIGHTSHIFT_ROOT } from "../agents/env.ts";
import { socatBridgeReadPaths } from "./socat-bridge.ts";
import type { Project } from "../../project.ts";
import type { ResolvedEnvironment } from "../environment.ts";
import type { SandboxPolicy } from "./policy.ts";
import { sandboxLoopbackUrl } from "./policy.ts";

/** Model API hosts when no base URL is set (Claude Code; Codex and its ChatGPT login). */
const DEFAULT_MODEL_HOSTS = ["api.anthropic.com", "api.openai.com", "chatgpt.com", "auth.openai.com"];
const BASE_URL_VARS = ["ANTHROPIC_BASE_URL", "OPENAI_BASE_URL"] as const;

/**
 * The model endpoints a sandboxed agent must reach, and the host environment rewritten for
 * the sandbox: a loopback base URL (a local gateway or test server) becomes `localhost.:PORT`,
 * which the sandbox's proxy can carry (TESTING.md: loopback is in the sandbox's NO_PROXY).
 */
export function modelAccess(hostEnv: NodeJS.ProcessEnv): { hostEnv: NodeJS.ProcessEnv; allow: string[] } {
  const env = { ...hostEnv };
  const allow = new Set<string>();
  for (const name of BASE_URL_VARS) {
    const value = hostEnv[name];
    if (!value) continue;
    let url: URL;
    try {
      url = new URL(value);
    } catch {
      continue;
    }
    if (["127.0.0.1", "localhost", "[::1]"].includes(url.hostname)) {
      const rewritten = sandboxLoopbackUrl(value);
      env[name] = rewritten.url;
      allow.add(rewritten.allow);
    } else {
      allow.add(url.port ? `${url.hostname}:${url.port}` : url.hostname);
    }
  }
  if (!BASE_URL_VARS.every((n) => hostEnv[n])) for (const h of DEFAULT_MODEL_HOSTS) allow.add(h);
  return { hostEnv: env, allow: [...allow] };
}

/** System folders every sandboxed agent may read (read-only): programs, libraries, configuration. */
export const SYSTEM_READ_PATHS = [
  "/usr",
  "/bin",
  "/sbin",
  "/lib",
  "/lib32",
  "/lib64",
  "/libx32",
  "/etc",
  "/opt",
  "/nix",
] as const;

/** Inside the system folders, what no agent reads: password hashes, host keys, TLS private keys, sudo rules. */
export const SYSTEM_DENY_PATHS = [
  "/etc/shadow",
  "/etc/shadow-",
  "/etc/gshadow",
  "/etc/gshadow-",
  "/etc/ssh",
  "/etc/ssl/private",
  "/etc/sudoers",
  "/etc/sudoers.d",
] as const;

/**
 * What every sandboxed agent reads, whatever its session: the system folders
 * ({@link SYSTEM_READ_PATHS}), nightshift's own install (`node_modules` with the pinned agent
 * CLIs and the sandbox's helpers, `.tools` with the Node it installed, `bin`), the Node running
 * nightshift, and what the sandbox's network relays run ({@link socatBridgeReadPaths}). Only
 * those that exist.
 */
export function baseReadPaths(): string[] {
  return [
    ...SYSTEM_READ_PATHS,
    join(NIGHTSHIFT_ROOT, "node_modules"),
    join(NIGHTSHIFT_ROOT, ".tools"),
    join(NIGHTSHIFT_ROOT, "bin"),
    dirname(dirname(process.execPath)),
    ...socatBridgeReadPaths(),
  ].filter((p) => existsSync(p));
}

/** Whether `p` is `dir` or inside it. */
function within(p: string, dir: string): boolean {
  const rel = relative(dir, p);
  return rel === "" || (!rel.startsWith("..") && !isAbsolute(rel));
}

/**
 * The folders of `PATH` an agent may read: the toolchain. Skipped: relative entries, and any
 * entry that is, holds or lies inside a protected folder (`/`, HOME itself, the project, the
 * state dir) — so `~/.local/bin` is readable, `~` is not.
 */
export function toolchainReadPaths(pathVar: string | undefined, protectedDirs: string[]): string[] {
  const out = new Set<string>();
  for (const entry of (pathVar ?? "").split(delimiter)) {
    if (!entry || !isAbsolute(entry)) continue;
    const dir = resolve(entry);
    if (dir === "/") continue;
    if (protectedDirs.some((p) => within(p, dir) || within(dir, p))) continue;
    out.add(dir);
  }
  return [...out];
}

/** `~/x` as a path under `home`; other paths unchanged. */
function expandHome(p: string, home: string): string {
  return p === "~" ? home : p.startsWith("~/") ? join(home, p.slice(2)) : p;
}

/**
 * The sandbox of one session. Reads are denied by default: the agent reads its workspace, its
 * HOME and TMPDIR, the system folders ({@link SYSTEM_READ_PATHS} minus
 * {@link SYSTEM_DENY_PATHS}), the toolchain (nightshift's `node_modules` with the agent CLIs,
 * the Node running nightshift, the folders on `PATH`), the mirrors' objects its clones borrow,
 * and what the environment's `read:` names — nothing else: not the user's HOME (`~/.ssh`,
 * `~/.config/…`, `~/.gitconfig`, …), not `/tmp`, `/var`, `/home`, `/run`, not nightshift's
 * state, store, forge, config or other sessions of any project, not the secrets file. Writes
 * only in its clones, HOME and TMPDIR. Network only to the environment's domains plus the
 * model API (and allowlisted MCP servers). The environment's memory limit.
 *
 * @throws {Error} for `network: full`, which an allowlisting proxy cannot express.
 */
export function sessionSandboxPolicy(opts: {
  project: Project;
  environment: ResolvedEnvironment;
  /** The session's workspace folder. */
  workspace: string;
  /** The clones inside it (writable). */
  clones: string[];
  /** The mirrors the clones borrow objects from (their `objects/` is readable). */
  mirrors: string[];
  home: string;
  tmp: string;
  modelAllow: string[];
  /** The agent's host environment (its `PATH` names the toolchain). */
  hostEnv: NodeJS.ProcessEnv;
  /**
   * Absolute paths the project's configuration names for the agent to run (a stdio MCP
   * server's `command` and file arguments): readable, since the user named them.
   */
  named?: string[];
}): SandboxPolicy {
  const { project, environment } = opts;
  if (environment.network === "full") {
    throw new Error(
      `environment "${environment.name}" has network: full, which the sandbox cannot enforce (its proxy allows listed domains only); list the domains, or set sandbox: none (unsafe)`,
    );
  }
  const userHome = homedir();
  // Made now so it is denied even when this session's setup creates the first entry.
  mkdirSync(join(project.stateDir, "setup-cache"), { recursive: true });
  const secrets = project.config.secrets_file ? [expandHome(project.config.secrets_file, userHome)] : [];
  const protectedDirs = [userHome, project.root, project.stateDir];
  const agentBins = ["NIGHTSHIFT_CLAUDE_BIN", "NIGHTSHIFT_CODEX_BIN"]
    .map((n) => opts.hostEnv[n])
    .filter((v): v is string => !!v && isAbsolute(v))
    .map((v) => dirname(v));
  const readPaths = [
    ...baseReadPaths(),
    ...agentBins,
    ...toolchainReadPaths(opts.hostEnv.PATH, protectedDirs),
    ...opts.mirrors.map((m) => join(m, "objects")),
    ...environment.read.map((p) => expandHome(p, userHome)),
    ...(opts.named ?? []).filter((p) => isAbsolute(p)),
  ];
  const denyRead = hostDenies(project, secrets);
  return {
    mode: "sandbox",
    workspace: opts.workspace,
    writePaths: opts.clones,
    home: opts.home,
    tmp: opts.tmp,
    allowedDomains: [...(environment.network === "none" ? [] : environment.network), ...opts.modelAllow],
    readPaths: existing(readPaths),
    denyRead,
    ...(environment.memoryBytes ? { memoryBytes: environment.memoryBytes } : {}),
  };
}

/** The absolute paths of `paths` that exist, each once. */
function existing(paths: string[]): string[] {
  return [...new Set(paths)].filter((p) => p.startsWith("/") && existsSync(p));
}

/**
 * What no sandboxed process of a project reads even where a readable area covers it: the
 * system's secrets ({@link SYSTEM_DENY_PATHS}), the user's HOME, `/home`, `/root`, the project
 * (its `.nightshift/` config and routines), its state folder and its secrets file.
 */
function hostDenies(project: Pick<Project, "root" | "stateDir">, secrets: string[]): string[] {
  return existing([
    ...SYSTEM_DENY_PATHS,
    homedir(),
    "/home",
    "/root",
    project.root,
    project.stateDir,
    ...secrets,
  ]);
}

/**
 * The sandbox of the local forge's CI command (`forge.ci`), which runs a pull request's code —
 * code an agent wrote — so it is confined like the agent: reads denied by default (the
 * checkout, its scratch HOME and TMPDIR, the system folders, the toolchain on `PATH`, the
 * forge repository's objects its checkout borrows), writes only in the checkout and scratch,
 * network only to `network` (the project's `default` environment's domains).
 */
export function ciSandboxPolicy(opts: {
  project: Pick<Project, "root" | "stateDir" | "config">;
  checkout: string;
  scratch: string;
  objects: string;
  pathVar: string | undefined;
  network: string[];
}): SandboxPolicy {
  const userHome = homedir();
  const secrets = opts.project.config.secrets_file
    ? [expandHome(opts.project.config.secrets_file, userHome)]
    : [];
  return {
    mode: "sandbox",
    workspace: opts.checkout,
    writePaths: [opts.checkout],
    home: join(opts.scratch, "home"),
    tmp: join(opts.scratch, "tmp"),
    allowedDomains: opts.network,
    readPaths: existing([
      ...baseReadPaths(),
      ...toolchainReadPaths(opts.pathVar, [userHome, opts.project.root, opts.project.stateDir]),
      opts.objects,
    ]),
    denyRead: hostDenies(opts.project, secrets),
  };
}
