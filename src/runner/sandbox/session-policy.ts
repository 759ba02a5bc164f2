import { existsSync, mkdirSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import type { Project } from "../project.ts";
import type { ResolvedEnvironment } from "../environment.ts";
import type { SandboxPolicy } from "./policy.ts";
import { sandboxLoopbackUrl } from "./wrap.ts";

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

/**
 * The sandbox of one session: writes only in its workspace, HOME and TMPDIR; no reads of the
 * host's credentials (`~/.ssh`, cloud and git credentials, the CLIs' own logins), of
 * nightshift's store, forge, setup cache and other sessions, or of the secrets file; network
 * only to the environment's domains plus the model API (and allowlisted MCP servers); the
 * environment's memory limit.
 *
 * @throws {Error} for `network: full`, which an allowlisting proxy cannot express.
 */
export function sessionSandboxPolicy(opts: {
  project: Project;
  environment: ResolvedEnvironment;
  workspace: string;
  home: string;
  tmp: string;
  modelAllow: string[];
}): SandboxPolicy {
  const { project, environment } = opts;
  if (environment.network === "full") {
    throw new Error(
      `environment "${environment.name}" has network: full, which the sandbox cannot enforce (its proxy allows listed domains only); list the domains, or set sandbox: none (unsafe)`,
    );
  }
  const home = homedir();
  // Made now so it is denied even when this session's setup creates the first entry.
  mkdirSync(join(project.stateDir, "setup-cache"), { recursive: true });
  const candidates = [
    ...[
      ".ssh",
      ".aws",
      ".gnupg",
      ".netrc",
      ".git-credentials",
      ".config/gh",
      ".docker",
      ".kube",
      ".npmrc",
      ".codex",
      ".claude",
      ".claude.json",
    ].map((p) => join(home, p)),
    ...["nightshift.db", "nightshift.db-wal", "nightshift.db-shm", "forge", "sessions", "setup-cache"].map(
      (p) => join(project.stateDir, p),
    ),
    join(project.root, ".nightshift", "config.yaml"),
    ...(project.config.secrets_file ? [project.config.secrets_file.replace(/^~\//, `${home}/`)] : []),
  ];
  return {
    mode: "sandbox",
    workspace: opts.workspace,
    home: opts.home,
    tmp: opts.tmp,
    allowedDomains: [...(environment.network === "none" ? [] : environment.network), ...opts.modelAllow],
    denyRead: candidates.filter((p) => p.startsWith("/") && existsSync(p)),
    ...(environment.memoryBytes ? { memoryBytes: environment.memoryBytes } : {}),
  };
}
