/**
 * Request bodies are bounded before they are buffered, on a real listening server
 * (./api-server.ts):
 * - a Content-Length over a route's limit is answered 413 while the client has sent NO byte of
 *   the body: the answer cannot have waited for it;
 * - a chunked body is answered 413 once it passes the limit, while the client is still
 *   sending an endless stream;
 * - a request without a valid token or a well-formed signature header gets 401 with no byte
 *   of its body read.
 * Memory under many large bodies at once: ./request-memory.test.ts.
 */
import { createHmac } from "node:crypto";
import { sign } from "@octokit/webhooks-methods";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FIRE_MAX_BYTES } from "../../src/server/routes/fire.ts";
import { GITHUB_MAX_BYTES } from "../../src/server/routes/webhooks.ts";
import { listRuns } from "../../src/store/runs.ts";
import { githubExample } from "../support/github-examples.ts";
import { cleanupTemp } from "../support/project.ts";
import {
  type ApiServer,
  BEARER,
  GH_SECRET,
  githubHeaders,
  HOOK_MAX,
  HOOK_SECRET,
  MiB,
  post,
  SIG_SHAPED,
  startApiServer,
} from "./api-server.ts";

let api: ApiServer;
beforeAll(async () => {
  api = await startApiServer();
});
afterAll(async () => {
  await api.close();
  cleanupTemp();
});

const fire = () => ({ authorization: `Bearer ${api.token}`, "content-type": "application/json" });

describe("request bodies over a route's limit", () => {
  it("a Content-Length over the limit is answered 413 before any byte of the body is sent", async () => {
    const cases: [string, Record<string, string>, number][] = [
      ["/v1/routines/any/fire", fire(), FIRE_MAX_BYTES + 1],
      ["/v1/routines/any/fire", fire(), 1024 * MiB],
      ["/v1/webhooks/github", githubHeaders(SIG_SHAPED), GITHUB_MAX_BYTES + 1],
      ["/v1/webhooks/hook", { "x-signature": "0".repeat(64) }, HOOK_MAX + 1],
      ["/v1/webhooks/alerts", { authorization: `Bearer ${BEARER}` }, HOOK_MAX + 1],
    ];
    for (const [path, headers, size] of cases) {
      const a = await post(api.port, path, headers, { declare: size });
      expect(a, `${path} with Content-Length ${size}`).toMatchObject({ status: 413, sentBeforeAnswer: 0 });
      expect(JSON.parse(a.body)).toMatchObject({ error: "payload_too_large" });
    }
  });

  it("a chunked body is cut off with 413 once it passes the limit, while the sender is still sending", async () => {
    const cases: [string, Record<string, string>, number][] = [
      ["/v1/routines/any/fire", fire(), FIRE_MAX_BYTES],
      ["/v1/webhooks/hook", { "x-signature": "0".repeat(64) }, HOOK_MAX],
      ["/v1/webhooks/alerts", { authorization: `Bearer ${BEARER}` }, HOOK_MAX],
      ["/v1/webhooks/github", githubHeaders(SIG_SHAPED), GITHUB_MAX_BYTES],
    ];
    for (const [path, headers, limit] of cases) {
      const a = await post(api.port, path, headers, { chunked: true });
      expect(a.status, path).toBe(413);
      // Read up to the limit, then answered: the sender had sent little more (what the
      // sockets' buffers hold), nowhere near the 512 MiB it would have gone on sending.
      expect(a.sentBeforeAnswer, path).toBeGreaterThan(limit);
      expect(a.sentBeforeAnswer, path).toBeLessThan(limit + 64 * MiB);
    }
    expect(await listRuns(api.project.store.db, { limit: 10 })).toEqual([]);
  });

  it("a request without a valid token or a well-formed signature header is refused without reading its body", async () => {
    const cases: [string, Record<string, string>, number][] = [
      ["/v1/routines/any/fire", { "content-type": "application/json" }, 401],
      ["/v1/routines/any/fire", { authorization: "Bearer nst_not-a-real-token-at-all-000000" }, 401],
      ["/v1/webhooks/github", githubHeaders(), 401],
      ["/v1/webhooks/github", githubHeaders("sha256=not-hex"), 401],
      ["/v1/webhooks/hook", {}, 401],
      ["/v1/webhooks/hook", { "x-signature": "not-a-digest" }, 401],
      ["/v1/webhooks/alerts", { authorization: "Bearer wrong-token" }, 401],
      ["/v1/webhooks/nowhere", {}, 404],
    ];
    for (const [path, headers, status] of cases) {
      // 20 MiB declared (under every webhook limit), nothing sent.
      const a = await post(api.port, path, headers, { declare: 20 * MiB });
      expect(a, path).toMatchObject({ status, sentBeforeAnswer: 0 });
    }
  });

  it("bodies within the limits still work, and the signature is checked over the bytes received", async () => {
    const payload = JSON.stringify(githubExample("pull_request", "opened"));
    const signature = await sign(GH_SECRET, payload);
    const ok = await post(api.port, "/v1/webhooks/github", githubHeaders(signature), {
      body: Buffer.from(payload),
    });
    expect(ok.status, ok.body).toBe(202);
    const changed = await post(api.port, "/v1/webhooks/github", githubHeaders(signature), {
      body: Buffer.from(`${payload} `),
    });
    expect(changed.status).toBe(401);
    const chunked = await post(api.port, "/v1/webhooks/github", githubHeaders(signature), {
      chunkedBody: Buffer.from(payload),
    });
    expect(chunked.status, chunked.body).toBe(202);
    const hook = JSON.stringify({ hello: "world" });
    const signed = await post(
      api.port,
      "/v1/webhooks/hook",
      { "x-signature": createHmac("sha256", HOOK_SECRET).update(hook).digest("hex") },
      { body: Buffer.from(hook) },
    );
    expect(signed.status, signed.body).toBe(202);
    const bearer = await post(
      api.port,
      "/v1/webhooks/alerts",
      { authorization: `Bearer ${BEARER}` },
      { body: Buffer.from(hook) },
    );
    expect(bearer.status, bearer.body).toBe(202);
    const fired = await post(api.port, "/v1/routines/any/fire", fire(), {
      body: Buffer.from(JSON.stringify({ text: "y".repeat(60 * 1024) })),
    });
    expect(fired.status, fired.body).toBe(200);
    const triggers = (await listRuns(api.project.store.db, { limit: 10 })).map((r) => r.trigger).sort();
    expect(triggers).toEqual(["api", "github", "github", "webhook", "webhook"]);
  });
});
