/**
 * MCP connectors end to end: the real Claude Code CLI, sandboxed, driven by the scripted model
 * server, calls the tools of a real MCP server (test/fixtures/mcp-echo-server.ts, written with
 * @modelcontextprotocol/sdk) that the routine allowlists. The results come from the server
 * process, so finding them in the transcript proves the server ran and answered.
 */
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { loadRoutine } from "../../src/config/load.ts";
import { openProject, type Project } from "../../src/project.ts";
import { runSession } from "../../src/runner/session.ts";
import type { SessionRow } from "../../src/store/schema.ts";
import { readEvents } from "../../src/store/transcript.ts";
import { type ModelServer, type ScriptStep, startModelServer } from "../support/model-server.ts";
import { cleanupTemp, makeRepo, ROOT, writeRoutine } from "../support/project.ts";

afterAll(cleanupTemp);

const SERVER = join(ROOT, "test", "fixtures", "mcp-echo-server.ts");
const PREFIX_SECRET = "mcp-prefix-secret-4b1d9e77";

const server = (env = "") =>
  `{ command: ${JSON.stringify(process.execPath)}, args: [${JSON.stringify(SERVER)}]${env} }`;

async function setUp(routineMcp: string | undefined, script: ScriptStep[], agent = "claude-code") {
  const repo = await makeRepo({
    "README.md": "x\n",
    // A repository's own MCP configuration must never be loaded (--strict-mcp-config).
    ".mcp.json": JSON.stringify({ mcpServers: { sneaky: { command: process.execPath, args: [SERVER] } } }),
  });
  writeRoutine(
    repo,
    "job",
    [
      `agent: ${agent}`,
      "timeout: 2m",
      ...(agent === "claude-code" ? ["allowed_tools: [Bash]"] : ["model: test-model"]),
      ...(routineMcp ? [routineMcp] : []),
    ].join("\n"),
  );
  writeFileSync(
    join(repo, ".nightshift", "config.yaml"),
    [
      "mcp_servers:",
      `  echo: ${server(", env: { ECHO_PREFIX: { from_env: HOST_ECHO_PREFIX } }")}`,
      `  other: ${server()}`,
    ].join("\n"),
  );
  const project = await openProject(repo);
  const model = await startModelServer(agent === "codex" ? { openai: script } : { anthropic: script });
  return { project, model };
}

async function run(project: Project, model: ModelServer): Promise<SessionRow> {
  return runSession(project, {
    routine: loadRoutine(project.root, "job"),
    hostEnv: {
      PATH: process.env.PATH,
      ANTHROPIC_BASE_URL: model.url,
      ANTHROPIC_API_KEY: "sk-ant-test-dummy",
      OPENAI_BASE_URL: `${model.url}/v1`,
      OPENAI_API_KEY: "sk-test-dummy",
      HOST_ECHO_PREFIX: PREFIX_SECRET,
    },
  });
}

/** Names of the tools Claude Code offered the model in its main-conversation requests. */
function toolsOffered(model: ModelServer): string[] {
  const names = new Set<string>();
  for (const r of model.requests)
    for (const t of (r.body?.tools ?? []) as { name: string }[]) names.add(t.name);
  return [...names];
}

describe("MCP connectors", () => {
  it("give the agent the routine's allowlisted server: its tool calls and real results are in the transcript", async () => {
    const { project, model } = await setUp("mcp_servers: [echo]", [
      { tool: "mcp__echo__add", input: { a: 2, b: 40 } },
      { tool: "mcp__echo__echo", input: { text: "hello" } },
      { text: "Used the tools." },
    ]);
    try {
      const s = await run(project, model);
      expect(s, s.reason ?? "").toMatchObject({ state: "succeeded", infra_outcome: "ok" });
      expect(model.remaining("anthropic")).toBe(0);
      const events = (await readEvents<Record<string, unknown>>(project.store.db, s.id)).map((e) => e.data);
      expect(events.find((e) => e.type === "agent_spawned")).toMatchObject({ sandboxed: true });
      const add = events.find((e) => e.type === "tool_call" && e.name === "mcp__echo__add");
      expect(add).toMatchObject({ input: { a: 2, b: 40 } });
      expect(events.find((e) => e.type === "tool_result" && e.id === add!.id)).toMatchObject({
        output: "sum=42",
        isError: false,
      });
      // The server got its variable (from the host), and the value is redacted in the transcript.
      const echo = events.find((e) => e.type === "tool_call" && e.name === "mcp__echo__echo");
      expect(events.find((e) => e.type === "tool_result" && e.id === echo!.id)).toMatchObject({
        output: "echo:[REDACTED]hello",
      });
      expect(model.requests.some((r) => r.raw.includes(`echo:${PREFIX_SECRET}hello`))).toBe(true);
      const store = Buffer.concat(
        readdirSync(project.stateDir)
          .filter((f) => f.startsWith("nightshift.db"))
          .map((f) => readFileSync(join(project.stateDir, f))),
      );
      expect(store.includes(Buffer.from(PREFIX_SECRET))).toBe(false);
      // Only the allowlisted server: not "other", not the repository's .mcp.json.
      const offered = toolsOffered(model);
      expect(offered).toEqual(expect.arrayContaining(["Bash", "mcp__echo__add", "mcp__echo__echo"]));
      expect(offered.filter((t) => /^mcp__(other|sneaky)__/.test(t))).toEqual([]);
    } finally {
      await model.close();
      await project.close();
    }
  }, 90_000);

  it("give a routine that allowlists none no MCP server at all", async () => {
    const { project, model } = await setUp(undefined, [{ text: "Nothing to do." }]);
    try {
      const s = await run(project, model);
      expect(s, s.reason ?? "").toMatchObject({ state: "succeeded", infra_outcome: "ok" });
      expect(model.requests.length).toBeGreaterThan(0);
      const offered = toolsOffered(model);
      expect(offered).toContain("Bash");
      expect(offered.filter((t) => t.startsWith("mcp__"))).toEqual([]);
      const init = (await readEvents<Record<string, unknown>>(project.store.db, s.id)).find(
        (e) => e.kind === "init",
      );
      expect((init?.data.tools as string[]).filter((t) => t.startsWith("mcp__"))).toEqual([]);
    } finally {
      await model.close();
      await project.close();
    }
  }, 90_000);

  it("give Codex the allowlisted server through its config.toml: the server's tools reach the model", async () => {
    const { project, model } = await setUp(
      "mcp_servers: [echo]",
      [{ text: "Looked at the tools." }],
      "codex",
    );
    try {
      const s = await run(project, model);
      expect(s, s.reason ?? "").toMatchObject({ state: "succeeded", infra_outcome: "ok" });
      // Codex 0.169 offers an MCP server's tools as one Responses-API namespace; their names
      // and schemas can only have come from the running server.
      const tools = (model.requests[0]?.body?.tools ?? []) as { name?: string; tools?: { name: string }[] }[];
      const echo = tools.find((t) => t.name === "mcp__echo");
      expect(echo?.tools?.map((t) => t.name).sort()).toEqual(["add", "echo"]);
      expect(tools.filter((t) => /^mcp__(other|sneaky)/.test(t.name ?? ""))).toEqual([]);
    } finally {
      await model.close();
      await project.close();
    }
  }, 90_000);

  it("fail the session before spawning when the routine names an unknown server, pointing at its line", async () => {
    const { project, model } = await setUp("mcp_servers: [echo, nope]", []);
    try {
      const s = await run(project, model);
      expect(s).toMatchObject({ state: "failed", infra_outcome: "environment_error" });
      expect(s.reason).toMatch(
        /job\.md:5:\d+: mcp_servers\.1: unknown MCP server "nope": add it to mcp_servers in \.nightshift\/config\.yaml, or remove it here \(it defines echo, other\)/,
      );
      expect(model.requests).toEqual([]);
    } finally {
      await model.close();
      await project.close();
    }
  }, 30_000);
});
