/**
 * MCP connectors: the servers of `.nightshift/config.yaml`'s `mcp_servers` that a routine
 * allowlists (`mcp_servers: [names]` in its front-matter), resolved for one session. Nothing
 * else reaches the agent: the adapters pass exactly these, with Claude Code's
 * `--strict-mcp-config` (so a repository's own `.mcp.json` is ignored).
 *
 * A stdio server is started by the agent CLI as its child, so it runs inside the agent's
 * sandbox, with the sandbox's network and filesystem: its `command` must be on the agent's PATH
 * or an absolute path outside the denied folders. An `http`/`sse` server is reached through the
 * sandbox's proxy; its host is added to the session's allowlist.
 */
import { readFileSync } from "node:fs";
import { relative } from "node:path";
import type { McpServerConfig } from "../../config/environment-schema.ts";
import { ConfigError } from "../../config/errors.ts";
import type { ProjectConfig } from "../../config/project-schema.ts";
import type { Routine } from "../../config/routine-schema.ts";
import { parseYamlWithPositions } from "../../config/yaml-positions.ts";
import { EnvironmentError, resolveValues, type ValueSource } from "../environment.ts";
import type { Project } from "../../project.ts";
import { sandboxLoopbackUrl } from "../sandbox/policy.ts";

/** One MCP server as an agent CLI gets it: values resolved. `env` and `headers` may hold secrets. */
export type ResolvedMcpServer =
  | { type: "stdio"; command: string; args: string[]; env: Record<string, string> }
  | { type: "http" | "sse"; url: string; headers: Record<string, string> };

/** The MCP servers of one session. */
export interface SessionMcp {
  /** By name, in the order the routine lists them. */
  servers: Record<string, ResolvedMcpServer>;
  /** Values taken from the host or the secrets file: redact them. */
  secrets: string[];
  /** `host:port` entries the sandbox's proxy must allow for the remote servers. */
  allow: string[];
}

/**
 * Checks a routine's `mcp_servers` names against the project's `mcp_servers`.
 * @returns one located error per unknown name (`file:line:column: mcp_servers.N: …`), or none.
 */
export function checkRoutineMcpServers(routine: Routine, config: ProjectConfig): ConfigError[] {
  const names = routine.mcp_servers ?? [];
  const unknown = names.map((n, i) => [n, i] as const).filter(([n]) => !(n in config.mcp_servers));
  if (unknown.length === 0) return [];
  const shown = relative(process.cwd(), routine.file) || routine.file;
  let locate = (_path: (string | number)[]) => ({ line: 1, column: 1 });
  try {
    const lines = readFileSync(routine.file, "utf8").split(/\r?\n/);
    const end = lines.findIndex((l, i) => i > 0 && l.trim() === "---");
    const yaml = parseYamlWithPositions(shown, lines.slice(1, end).join("\n"), 1);
    locate = (path) => yaml.locate(path);
  } catch {
    // the file changed or went away since it was loaded: report line 1
  }
  const defined = Object.keys(config.mcp_servers);
  const known = defined.length ? `it defines ${defined.join(", ")}` : "it defines none";
  return unknown.map(([name, i]) => {
    const { line, column } = locate(["mcp_servers", i]);
    return new ConfigError(
      shown,
      line,
      column,
      `mcp_servers.${i}`,
      `unknown MCP server "${name}": add it to mcp_servers in .nightshift/config.yaml, or remove it here (${known})`,
    );
  });
}

/**
 * Resolves the MCP servers a routine allowlists, for one session: `{from_env}` and
 * `{from_secrets}` values filled in; for a sandboxed session, loopback URLs rewritten so the
 * proxy carries them (`localhost.:PORT`, see sandboxLoopbackUrl) and every remote host
 * allowlisted.
 *
 * @throws {EnvironmentError} for a name the project does not define (with the routine file's
 *   line) or a value that cannot be resolved.
 */
export function resolveMcpServers(
  project: Project,
  routine: Routine,
  hostEnv: NodeJS.ProcessEnv,
  sandboxed: boolean,
): SessionMcp {
  const errors = checkRoutineMcpServers(routine, project.config);
  if (errors.length) throw new EnvironmentError(errors.map((e) => e.message).join("\n"));
  const out: SessionMcp = { servers: {}, secrets: [], allow: [] };
  for (const name of routine.mcp_servers ?? []) {
    const def: McpServerConfig = project.config.mcp_servers[name]!;
    const owner = `MCP server "${name}"`;
    if (!("url" in def)) {
      const env = resolveValues(project, hostEnv, def.env, owner);
      out.secrets.push(...Object.values(env));
      out.servers[name] = { type: "stdio", command: def.command, args: [...def.args], env };
      continue;
    }
    const literal: Record<string, string> = {};
    const sources: Record<string, ValueSource> = {};
    for (const [h, v] of Object.entries(def.headers)) {
      if (typeof v === "string") literal[h] = v;
      else sources[h] = v;
    }
    const secret = resolveValues(project, hostEnv, sources, owner);
    out.secrets.push(...Object.values(secret));
    let url = def.url;
    if (sandboxed) {
      const rewritten = sandboxLoopbackUrl(def.url);
      url = rewritten.url;
      out.allow.push(rewritten.allow);
    }
    out.servers[name] = { type: def.type, url, headers: { ...literal, ...secret } };
  }
  return out;
}

/**
 * Claude Code's `--mcp-config` file content (the `.mcp.json` shape): `{"mcpServers": {…}}`.
 */
export function claudeMcpConfig(servers: Record<string, ResolvedMcpServer>): string {
  const mcpServers: Record<string, unknown> = {};
  for (const [name, s] of Object.entries(servers)) {
    mcpServers[name] =
      s.type === "stdio"
        ? { type: "stdio", command: s.command, args: s.args, env: s.env }
        : { type: s.type, url: s.url, headers: s.headers };
  }
  return `${JSON.stringify({ mcpServers }, null, 2)}\n`;
}

/** A TOML basic string (JSON's escapes are a subset TOML accepts). */
const tomlString = (s: string) => JSON.stringify(s);
const tomlTable = (o: Record<string, string>) =>
  `{ ${Object.entries(o)
    .map(([k, v]) => `${tomlString(k)} = ${tomlString(v)}`)
    .join(", ")} }`;

/**
 * Codex's `[mcp_servers.<name>]` tables for `$CODEX_HOME/config.toml`: `command`, `args`,
 * `env` for stdio; `url` and `http_headers` for a streamable-HTTP server. Codex has no SSE
 * transport, so an `sse` server is written as `url` too and works only if it also speaks
 * streamable HTTP.
 */
export function codexMcpToml(servers: Record<string, ResolvedMcpServer>): string[] {
  const lines: string[] = [];
  for (const [name, s] of Object.entries(servers)) {
    lines.push(`[mcp_servers.${tomlString(name)}]`);
    if (s.type === "stdio") {
      lines.push(`command = ${tomlString(s.command)}`, `args = [${s.args.map(tomlString).join(", ")}]`);
      if (Object.keys(s.env).length) lines.push(`env = ${tomlTable(s.env)}`);
    } else {
      lines.push(`url = ${tomlString(s.url)}`);
      if (Object.keys(s.headers).length) lines.push(`http_headers = ${tomlTable(s.headers)}`);
    }
    lines.push("");
  }
  return lines;
}
