/**
 * A scripted model server for tests: a loopback HTTP server that speaks just enough of the
 * Anthropic Messages API (POST /v1/messages, streaming and not) and the OpenAI Responses API
 * (POST /v1/responses, streaming) to drive the real Claude Code and Codex CLIs. Replies come
 * from a script, one step per main-conversation request; every request is recorded.
 *
 * See test/support/README.md for what the real CLIs send.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import * as zlib from "node:zlib";

/**
 * One scripted tool call. `namespace`: the Responses-API namespace the tool belongs to, for a
 * tool offered inside a `{"type":"namespace","name":…,"tools":[…]}` entry of the request's
 * `tools` (Codex 0.169 offers each MCP server's tools that way, as `mcp__<server>` holding
 * `<tool>`); the `function_call` item then carries `name: tool` and `namespace`. The Messages
 * API has no namespaces: there the call is named `<namespace>__<tool>` (Claude Code's own
 * name for an MCP tool, `mcp__<server>__<tool>`).
 */
export interface ToolStep {
  tool: string;
  input: Record<string, unknown>;
  /** A text block before the call. */
  text?: string;
  namespace?: string;
}

/** One scripted model reply. */
export type ScriptStep =
  | { text: string } // assistant text, stop_reason end_turn
  | ToolStep // one tool call (optional text block before it), stop_reason tool_use
  | { error: { status: number; type: string; message: string } }; // HTTP error reply

export interface RecordedRequest {
  api: "anthropic" | "openai";
  path: string;
  headers: Record<string, string | string[] | undefined>;
  body: any;
  raw: string;
}

export interface ModelServerOptions {
  /** Consumed in order by POST /v1/messages (path matched by prefix, e.g. ?beta=true). */
  anthropic?: ScriptStep[];
  /** Consumed in order by POST /v1/responses. */
  openai?: ScriptStep[];
  /** Reported with every reply. */
  usage?: {
    input_tokens: number;
    output_tokens: number;
    cache_read_input_tokens?: number;
    cache_creation_input_tokens?: number;
  };
  /** Default 127.0.0.1. */
  host?: string;
}

export interface ModelServer {
  /** e.g. http://127.0.0.1:PORT (no trailing slash). */
  url: string;
  port: number;
  /** Every request received, in order (main-conversation ones and any side requests). */
  requests: RecordedRequest[];
  /** Steps not consumed yet. */
  remaining(api: "anthropic" | "openai"): number;
  close(): Promise<void>;
}

type Usage = Required<NonNullable<ModelServerOptions["usage"]>>;

const DONE: ScriptStep = { text: "Done." };
const SIDE_REPLY = "OK";

type Json = any;

function decodeBody(buf: Buffer, encoding: string | undefined): Buffer {
  switch ((encoding ?? "").trim().toLowerCase()) {
    case "gzip":
    case "x-gzip":
      return zlib.gunzipSync(buf);
    case "deflate":
      return zlib.inflateSync(buf);
    case "br":
      return zlib.brotliDecompressSync(buf);
    case "zstd":
      // zstd needs Node >= 22.15; older Nodes lack the function.
      if (typeof zlib.zstdDecompressSync !== "function")
        throw new Error("zstd request bodies need Node >= 22.15");
      return zlib.zstdDecompressSync(buf);
    default:
      return buf;
  }
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("error", reject);
    req.on("end", () => {
      try {
        const enc = req.headers["content-encoding"];
        resolve(decodeBody(Buffer.concat(chunks), Array.isArray(enc) ? enc[0] : enc).toString("utf8"));
      } catch (err) {
        reject(err);
      }
    });
  });
}

let idCounter = 0;
function newId(prefix: string): string {
  idCounter += 1;
  return `${prefix}${Date.now().toString(36)}${idCounter.toString(36).padStart(4, "0")}${Math.random().toString(36).slice(2, 8)}`;
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text) });
  res.end(text);
}

function startSse(res: ServerResponse): (event: string, data: Json) => void {
  res.writeHead(200, {
    "content-type": "text/event-stream",
    "cache-control": "no-cache",
    connection: "keep-alive",
  });
  return (event, data) => {
    res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
  };
}

/** Splits a string in (up to) two pieces so streamed deltas really arrive in parts. */
function split2(s: string): string[] {
  if (s.length < 2) return [s];
  const mid = Math.floor(s.length / 2);
  return [s.slice(0, mid), s.slice(mid)];
}

// ---------------------------------------------------------------------------------------------
// Anthropic Messages API

/**
 * Claude Code's requests that are not the main conversation, and so must not consume steps.
 * Claude Code 2.1.328 in `-p` mode with CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC=1 was seen to
 * send only main-conversation requests (see README), but older and interactive versions send
 * title/topic, quota and count_tokens requests. The main conversation carries the `tools`
 * given with --tools and the "# Environment" block ("Primary working directory: ...") either
 * in `system` or as a `role: "system"` message; with `--tools ""` the tools array is empty
 * but the environment block is still there. Anything else is a side request.
 */
/**
 * Replaces `{{cwd}}` in a tool call's string inputs with the agent's working directory, as
 * Claude Code states it in its environment block ("Primary working directory: <path>"), so
 * scripts can name absolute paths (Read and Edit need them) in workspaces made at run time.
 */
export function withCwd(step: ScriptStep, raw: string): ScriptStep {
  if (!("tool" in step)) return step;
  const cwd = /Primary working directory: ([^\s"\\]+)/.exec(raw)?.[1];
  if (!cwd) return step;
  const input = JSON.parse(JSON.stringify(step.input).replaceAll("{{cwd}}", cwd)) as Record<string, unknown>;
  return { ...step, input };
}

export function isAnthropicSideRequest(path: string, body: Json, raw: string): boolean {
  if (path.startsWith("/v1/messages/count_tokens")) return true;
  if (!body || typeof body !== "object" || !Array.isArray(body.messages)) return true;
  if (Array.isArray(body.tools) && body.tools.length > 0) return false;
  return !raw.includes("Primary working directory");
}

function anthropicUsage(usage: Usage): Json {
  return {
    input_tokens: usage.input_tokens,
    output_tokens: usage.output_tokens,
    cache_creation_input_tokens: usage.cache_creation_input_tokens,
    cache_read_input_tokens: usage.cache_read_input_tokens,
  };
}

interface AnthropicBlock {
  type: "text" | "tool_use";
  text?: string;
  id?: string;
  name?: string;
  input?: Record<string, unknown>;
}

function anthropicBlocks(step: { text: string } | ToolStep): {
  blocks: AnthropicBlock[];
  stopReason: "end_turn" | "tool_use";
} {
  if ("tool" in step) {
    const blocks: AnthropicBlock[] = [];
    if (step.text) blocks.push({ type: "text", text: step.text });
    const name = step.namespace ? `${step.namespace}__${step.tool}` : step.tool;
    blocks.push({ type: "tool_use", id: newId("toolu_"), name, input: step.input });
    return { blocks, stopReason: "tool_use" };
  }
  return { blocks: [{ type: "text", text: step.text }], stopReason: "end_turn" };
}

function replyAnthropic(res: ServerResponse, body: Json, step: ScriptStep, usage: Usage): void {
  if ("error" in step) {
    sendJson(res, step.error.status, {
      type: "error",
      error: { type: step.error.type, message: step.error.message },
    });
    return;
  }
  const model = typeof body?.model === "string" ? body.model : "claude-test-model";
  const id = newId("msg_");
  const { blocks, stopReason } = anthropicBlocks(step);
  const u = anthropicUsage(usage);

  if (body?.stream !== true) {
    sendJson(res, 200, {
      id,
      type: "message",
      role: "assistant",
      model,
      content: blocks,
      stop_reason: stopReason,
      stop_sequence: null,
      usage: u,
    });
    return;
  }

  const send = startSse(res);
  send("message_start", {
    type: "message_start",
    message: {
      id,
      type: "message",
      role: "assistant",
      model,
      content: [],
      stop_reason: null,
      stop_sequence: null,
      usage: { ...u, output_tokens: 1 },
    },
  });
  blocks.forEach((block, index) => {
    if (block.type === "text") {
      send("content_block_start", {
        type: "content_block_start",
        index,
        content_block: { type: "text", text: "" },
      });
      for (const piece of split2(block.text ?? "")) {
        send("content_block_delta", {
          type: "content_block_delta",
          index,
          delta: { type: "text_delta", text: piece },
        });
      }
    } else {
      send("content_block_start", {
        type: "content_block_start",
        index,
        content_block: { type: "tool_use", id: block.id, name: block.name, input: {} },
      });
      for (const piece of split2(JSON.stringify(block.input ?? {}))) {
        send("content_block_delta", {
          type: "content_block_delta",
          index,
          delta: { type: "input_json_delta", partial_json: piece },
        });
      }
    }
    send("content_block_stop", { type: "content_block_stop", index });
  });
  send("message_delta", {
    type: "message_delta",
    delta: { stop_reason: stopReason, stop_sequence: null },
    usage: u,
  });
  send("message_stop", { type: "message_stop" });
  res.end();
}

// ---------------------------------------------------------------------------------------------
// OpenAI Responses API

function openaiUsage(usage: Usage): Json {
  return {
    input_tokens: usage.input_tokens,
    input_tokens_details: { cached_tokens: usage.cache_read_input_tokens },
    output_tokens: usage.output_tokens,
    output_tokens_details: { reasoning_tokens: 0 },
    total_tokens: usage.input_tokens + usage.output_tokens,
  };
}

function openaiItems(step: { text: string } | ToolStep): Json[] {
  const items: Json[] = [];
  const text = step.text;
  if (text) {
    items.push({
      id: newId("msg_"),
      type: "message",
      status: "completed",
      role: "assistant",
      content: [{ type: "output_text", text, annotations: [] }],
    });
  }
  if ("tool" in step) {
    items.push({
      id: newId("fc_"),
      type: "function_call",
      status: "completed",
      call_id: newId("call_"),
      name: step.tool,
      // A tool inside a namespace (Codex offers each MCP server's tools as one): the item
      // names the tool and, apart, its namespace; that is how Codex 0.169 parses such a call.
      ...(step.namespace ? { namespace: step.namespace } : {}),
      arguments: JSON.stringify(step.input),
    });
  }
  return items;
}

function replyOpenai(res: ServerResponse, body: Json, step: ScriptStep, usage: Usage): void {
  if ("error" in step) {
    sendJson(res, step.error.status, {
      error: { message: step.error.message, type: step.error.type, param: null, code: step.error.type },
    });
    return;
  }
  const model = typeof body?.model === "string" ? body.model : "test-model";
  const items = openaiItems(step);
  const response = {
    id: newId("resp_"),
    object: "response",
    created_at: Math.floor(Date.now() / 1000),
    status: "in_progress",
    model,
    output: [] as Json[],
    usage: null as Json,
  };
  const completed = { ...response, status: "completed", output: items, usage: openaiUsage(usage) };

  if (body?.stream !== true) {
    sendJson(res, 200, completed);
    return;
  }

  let seq = 0;
  const sse = startSse(res);
  const send = (type: string, data: Json) => sse(type, { type, sequence_number: seq++, ...data });
  send("response.created", { response });
  send("response.in_progress", { response });
  items.forEach((item, output_index) => {
    if (item.type === "message") {
      const text: string = item.content[0].text;
      const item_id: string = item.id;
      send("response.output_item.added", {
        output_index,
        item: { ...item, status: "in_progress", content: [] },
      });
      send("response.content_part.added", {
        item_id,
        output_index,
        content_index: 0,
        part: { type: "output_text", text: "", annotations: [] },
      });
      for (const delta of split2(text)) {
        send("response.output_text.delta", { item_id, output_index, content_index: 0, delta });
      }
      send("response.output_text.done", { item_id, output_index, content_index: 0, text });
      send("response.content_part.done", {
        item_id,
        output_index,
        content_index: 0,
        part: { type: "output_text", text, annotations: [] },
      });
      send("response.output_item.done", { output_index, item });
    } else {
      const item_id: string = item.id;
      send("response.output_item.added", {
        output_index,
        item: { ...item, status: "in_progress", arguments: "" },
      });
      for (const delta of split2(item.arguments)) {
        send("response.function_call_arguments.delta", { item_id, output_index, delta });
      }
      send("response.function_call_arguments.done", { item_id, output_index, arguments: item.arguments });
      send("response.output_item.done", { output_index, item });
    }
  });
  send("response.completed", { response: completed });
  res.end();
}

// ---------------------------------------------------------------------------------------------

export function startModelServer(opts: ModelServerOptions): Promise<ModelServer> {
  const scripts = {
    anthropic: [...(opts.anthropic ?? [])],
    openai: [...(opts.openai ?? [])],
  };
  const usage: Usage = {
    input_tokens: opts.usage?.input_tokens ?? 100,
    output_tokens: opts.usage?.output_tokens ?? 20,
    cache_read_input_tokens: opts.usage?.cache_read_input_tokens ?? 0,
    cache_creation_input_tokens: opts.usage?.cache_creation_input_tokens ?? 0,
  };
  const requests: RecordedRequest[] = [];
  const host = opts.host ?? "127.0.0.1";

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const path = req.url ?? "/";
    const raw = await readBody(req);
    let body: Json = null;
    if (raw.length > 0) {
      try {
        body = JSON.parse(raw);
      } catch {
        body = null;
      }
    }
    const api: "anthropic" | "openai" = path.startsWith("/v1/messages") ? "anthropic" : "openai";
    requests.push({ api, path, headers: { ...req.headers }, body, raw });

    if (req.method === "POST" && path.startsWith("/v1/messages/count_tokens")) {
      sendJson(res, 200, { input_tokens: usage.input_tokens });
      return;
    }
    if (req.method === "POST" && path.startsWith("/v1/messages")) {
      if (isAnthropicSideRequest(path, body, raw)) {
        replyAnthropic(res, body, { text: SIDE_REPLY }, usage);
        return;
      }
      replyAnthropic(res, body, withCwd(scripts.anthropic.shift() ?? DONE, raw), usage);
      return;
    }
    if (req.method === "POST" && path.startsWith("/v1/responses")) {
      replyOpenai(res, body, scripts.openai.shift() ?? DONE, usage);
      return;
    }
    if (req.method === "HEAD" || (req.method === "GET" && (path === "/" || path === "/v1"))) {
      res.writeHead(200).end();
      return;
    }
    sendJson(res, 404, {
      type: "error",
      error: {
        type: "not_found_error",
        message: `scripted model server: no route for ${req.method} ${path}`,
      },
    });
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (!res.headersSent) {
        sendJson(res, 500, { type: "error", error: { type: "api_error", message: String(err) } });
      } else {
        res.destroy();
      }
    });
  });

  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, host, () => {
      server.off("error", reject);
      const port = (server.address() as AddressInfo).port;
      const urlHost = host.includes(":") ? `[${host}]` : host;
      resolve({
        url: `http://${urlHost}:${port}`,
        port,
        requests,
        remaining: (api) => scripts[api].length,
        close: () =>
          new Promise<void>((done) => {
            server.closeAllConnections();
            server.close(() => done());
          }),
      });
    });
  });
}

/** Environment for running the real Claude Code CLI against `server` with a temp HOME. */
export function claudeEnv(server: ModelServer, home: string): Record<string, string> {
  mkdirSync(home, { recursive: true });
  return {
    PATH: process.env.PATH ?? "/usr/local/bin:/usr/bin:/bin",
    HOME: home,
    USER: process.env.USER ?? "nightshift",
    LANG: "C.UTF-8",
    TMPDIR: process.env.TMPDIR ?? "/tmp",
    ANTHROPIC_BASE_URL: server.url,
    ANTHROPIC_API_KEY: "sk-ant-test-dummy",
    CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: "1",
    DISABLE_TELEMETRY: "1",
    DISABLE_AUTOUPDATER: "1",
    DISABLE_ERROR_REPORTING: "1",
    IS_SANDBOX: "1",
  };
}

/** Writes CODEX_HOME/config.toml for a provider at server.url and returns env for the real codex CLI. */
export function codexEnv(server: ModelServer, codexHome: string): Record<string, string> {
  mkdirSync(codexHome, { recursive: true });
  const toml = [
    'model = "test-model"',
    'model_provider = "scripted"',
    "",
    "[model_providers.scripted]",
    'name = "Scripted test model server"',
    `base_url = "${server.url}/v1"`,
    'wire_api = "responses"',
    'env_key = "SCRIPTED_MODEL_API_KEY"',
    "request_max_retries = 0",
    "stream_max_retries = 0",
    "",
    "[analytics]",
    "enabled = false",
    "",
  ].join("\n");
  writeFileSync(join(codexHome, "config.toml"), toml);
  return {
    PATH: process.env.PATH ?? "/usr/local/bin:/usr/bin:/bin",
    HOME: codexHome,
    USER: process.env.USER ?? "nightshift",
    LANG: "C.UTF-8",
    TMPDIR: process.env.TMPDIR ?? "/tmp",
    CODEX_HOME: codexHome,
    SCRIPTED_MODEL_API_KEY: "sk-test-dummy",
  };
}
