/**
 * The real HTTP app on a real listening server (@hono/node-server on 127.0.0.1, as
 * `nightshift serve` runs it), and a raw `node:http` client that controls Content-Length,
 * chunking and how much of a body is sent — for the request-body tests.
 */
import { writeFileSync } from "node:fs";
import { request } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { type ServerType, serve } from "@hono/node-server";
import { openProject, type Project } from "../../src/project.ts";
import { createApp } from "../../src/server/app.ts";
import { RateLimiter } from "../../src/server/rate-limit.ts";
import { insertApiToken } from "../../src/store/api-tokens.ts";
import { createApiToken } from "../../src/triggers/api-token.ts";
import { ManualClock } from "../../src/util/clock.ts";
import { makeRepo, writeRoutine } from "../support/project.ts";

export const GH_SECRET = "request-bodies github secret";
export const HOOK_SECRET = "request-bodies hook secret";
export const BEARER = "request-bodies-bearer-token";
/** `max_bytes` of the generic sources `hook` (HMAC) and `alerts` (bearer). */
export const HOOK_MAX = 64 * 1024;
export const MiB = 1024 * 1024;

/** A running API server over a fresh project. */
export interface ApiServer {
  project: Project;
  port: number;
  /** An API token of the routine `any`. */
  token: string;
  close(): Promise<void>;
}

/**
 * A project with one routine `any` (api, github and both generic webhook triggers), GitHub
 * webhooks signed with {@link GH_SECRET}, source `hook` (HMAC, header `x-signature`) and
 * source `alerts` (bearer {@link BEARER}), served on 127.0.0.1 on a free port.
 */
export async function startApiServer(): Promise<ApiServer> {
  const repo = await makeRepo({ "README.md": "x\n" });
  writeRoutine(
    repo,
    "any",
    [
      "agent: command",
      'command: "true"',
      "overlap: allow",
      "triggers:",
      "  - api: true",
      "  - github: {events: [pull_request]}",
      "  - webhook: {source: hook}",
      "  - webhook: {source: alerts}",
    ].join("\n"),
  );
  writeFileSync(
    join(repo, ".nightshift", "config.yaml"),
    [
      "webhooks:",
      "  github:",
      "    secrets_env: [GH_SECRET]",
      "  hook:",
      "    auth:",
      "      hmac: { secret_env: HOOK_SECRET, header: x-signature }",
      `    max_bytes: ${HOOK_MAX}`,
      "  alerts:",
      "    auth:",
      "      bearer: { token_env: ALERTS_TOKEN }",
      `    max_bytes: ${HOOK_MAX}`,
    ].join("\n"),
  );
  const clock = new ManualClock(Date.UTC(2026, 0, 1));
  const project = await openProject(repo, { clock });
  const app = createApp({
    project,
    baseUrl: "http://127.0.0.1:1",
    rateLimiter: new RateLimiter({ limit: 1_000, windowMs: 60_000, clock }),
    env: { GH_SECRET, HOOK_SECRET, ALERTS_TOKEN: BEARER },
  });
  const t = createApiToken();
  await insertApiToken(project.store.db, {
    routine: "any",
    prefix: t.prefix,
    hash: t.hash,
    now: clock.now(),
  });
  const server = await new Promise<ServerType>((resolve) => {
    const s = serve({ fetch: app.fetch, hostname: "127.0.0.1", port: 0 }, () => resolve(s));
  });
  return {
    project,
    port: (server.address() as AddressInfo).port,
    token: t.token,
    close: async () => {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await project.close();
    },
  };
}

/** What a raw request got back, and how many body bytes the client had written by then. */
export interface Answer {
  status: number;
  body: string;
  /** Body bytes handed to the socket before the response's headers arrived. */
  sentBeforeAnswer: number;
}

/** How {@link post} sends the body. */
export type BodyPlan =
  /** A Content-Length of `declare` bytes and none of them sent: only an answer that did not wait for the body arrives. */
  | { declare: number }
  /** An endless chunked body of 16 KiB chunks, written until the answer arrives (at most `cap` bytes, default 512 MiB). */
  | { chunked: true; cap?: number }
  /** One buffer, with its Content-Length. */
  | { body: Buffer }
  /** One buffer, chunked (no Content-Length), in pieces of 1 KiB. */
  | { chunkedBody: Buffer };

/**
 * POSTs `path` on 127.0.0.1:`port` on a connection of its own. Resolves with the answer (a
 * connection the server closes after answering is fine); rejects when the connection fails
 * before any answer.
 */
export function post(
  port: number,
  path: string,
  headers: Record<string, string>,
  how: BodyPlan,
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    let sent = 0;
    let answered = false;
    const h: Record<string, string> = { ...headers };
    if ("declare" in how) h["content-length"] = String(how.declare);
    if ("body" in how) h["content-length"] = String(how.body.length);
    const req = request(
      { host: "127.0.0.1", port, path, method: "POST", headers: h, agent: false },
      (res) => {
        answered = true;
        const sentBeforeAnswer = sent;
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => {
          resolve({
            status: res.statusCode!,
            body: Buffer.concat(chunks).toString("utf8"),
            sentBeforeAnswer,
          });
          req.destroy();
        });
      },
    );
    req.on("error", (err) => {
      if (!answered) reject(err);
    });
    if ("body" in how) {
      sent = how.body.length;
      req.end(how.body);
    } else if ("chunkedBody" in how) {
      for (let i = 0; i < how.chunkedBody.length; i += 1024) req.write(how.chunkedBody.subarray(i, i + 1024));
      sent = how.chunkedBody.length;
      req.end();
    } else if ("declare" in how) {
      req.flushHeaders();
    } else {
      const chunk = Buffer.alloc(16 * 1024, "x");
      const cap = how.cap ?? 512 * MiB;
      const pump = () => {
        while (!answered && !req.destroyed && sent < cap) {
          sent += chunk.length;
          if (!req.write(chunk)) return void req.once("drain", pump);
        }
        if (!answered && !req.destroyed) req.end();
      };
      pump();
    }
  });
}

/** GitHub delivery headers, with `x-hub-signature-256` when given. */
export const githubHeaders = (signature?: string): Record<string, string> => ({
  "content-type": "application/json",
  "x-github-event": "pull_request",
  "x-github-delivery": `d-${Math.random()}`,
  ...(signature ? { "x-hub-signature-256": signature } : {}),
});

/** A value shaped like `X-Hub-Signature-256` that matches no body. */
export const SIG_SHAPED = `sha256=${"0".repeat(64)}`;
