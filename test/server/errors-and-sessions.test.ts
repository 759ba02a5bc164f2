import { afterAll, describe, expect, it } from "vitest";
import { openProject } from "../../src/project.ts";
import { createApp } from "../../src/server/app.ts";
import { RateLimiter } from "../../src/server/rate-limit.ts";
import { insertApiToken, revokeApiToken } from "../../src/store/api-tokens.ts";
import { insertSession, updateSession } from "../../src/store/sessions.ts";
import { createApiToken } from "../../src/triggers/api-token.ts";
import { ManualClock } from "../../src/util/clock.ts";
import { cleanupTemp, makeRepo, writeRoutine } from "../support/project.ts";

/** JSON errors everywhere, ISO 8601 session times, and `GET /v1/sessions/<id>` behind a token. */

afterAll(cleanupTemp);

const T0 = Date.UTC(2026, 0, 1, 9, 0, 0);

async function setUp() {
  const repo = await makeRepo({ "README.md": "x\n" });
  for (const name of ["triage", "other"])
    writeRoutine(repo, name, 'agent: command\ncommand: "true"\noverlap: allow\ntriggers:\n  - api: true');
  const clock = new ManualClock(T0);
  const project = await openProject(repo, { clock });
  const app = createApp({
    project,
    baseUrl: "http://127.0.0.1:7070",
    rateLimiter: new RateLimiter({ limit: 100, windowMs: 60_000, clock }),
    env: {},
  });
  const tokens: Record<string, string> = {};
  for (const routine of ["triage", "other"]) {
    const t = createApiToken();
    await insertApiToken(project.store.db, { routine, prefix: t.prefix, hash: t.hash, now: T0 });
    tokens[routine] = t.token;
  }
  return { project, app, tokens };
}

const bearer = (token: string) => ({ headers: { authorization: `Bearer ${token}` } });

/** The body of an error answer, after checking it is JSON of the one error shape. */
async function errorBody(res: Response): Promise<{ error: string; message: string }> {
  expect(res.headers.get("content-type")).toMatch(/^application\/json/);
  const body = (await res.json()) as { error: string; message: string };
  expect(Object.keys(body).sort()).toEqual(["error", "message"]);
  expect(typeof body.error).toBe("string");
  expect(body.message.length).toBeGreaterThan(10);
  return body;
}

describe("HTTP errors are JSON", () => {
  it("a missing, wrong or malformed token gets a JSON error and keeps WWW-Authenticate: Bearer", async () => {
    const { app } = await setUp();
    const fire = (headers: Record<string, string>) =>
      app.request("/v1/routines/triage/fire", { method: "POST", headers, body: "{}" });

    const missing = await fire({});
    expect(missing.status).toBe(401);
    expect(missing.headers.get("www-authenticate")).toBe('Bearer realm="nightshift"');
    expect(await errorBody(missing)).toMatchObject({
      error: "unauthorized",
      message: expect.stringContaining("Authorization: Bearer"),
    });

    const wrong = await fire({ authorization: `Bearer nst_${"w".repeat(43)}` });
    expect(wrong.status).toBe(401);
    expect(wrong.headers.get("www-authenticate")).toBe('Bearer error="invalid_token"');
    const wrongBody = await errorBody(wrong);
    expect(wrongBody).toMatchObject({ error: "unauthorized", message: expect.stringContaining("revoked") });
    expect(JSON.stringify(wrongBody)).not.toContain("w".repeat(20)); // the token is not echoed

    const malformed = await fire({ authorization: "Basic dXNlcjpwYXNz" });
    expect(malformed.status).toBe(400);
    expect(malformed.headers.get("www-authenticate")).toBe('Bearer error="invalid_request"');
    expect(await errorBody(malformed)).toMatchObject({ error: "bad_request" });
  });

  it("unknown routes and methods, and bad webhook deliveries, answer JSON too", async () => {
    const { app, tokens } = await setUp();
    for (const res of [
      await app.request("/nope"),
      await app.request("/v1/routines/triage/fire"), // GET of a POST route
      await app.request("/v1/webhooks/unknown-source", { method: "POST", body: "{}" }),
      await app.request("/v1/routines/triage/fire", {
        method: "POST",
        headers: { authorization: `Bearer ${tokens.triage}` },
        body: "{not json",
      }),
    ]) {
      expect(res.status).toBeGreaterThanOrEqual(400);
      await errorBody(res);
    }
  });
});

describe("GET /v1/sessions/<id>", () => {
  async function withSession() {
    const ctx = await setUp();
    const { db } = ctx.project.store;
    await insertSession(db, {
      id: "abcdefghij",
      routine: "triage",
      agent: "command",
      model: null,
      trigger: "api",
      issueNumber: null,
      inputText: null,
      createdAt: T0,
    });
    await updateSession(db, "abcdefghij", {
      state: "succeeded",
      started_at: T0 + 1_500,
      finished_at: T0 + 61_000,
    });
    return ctx;
  }

  it("needs a token: none gets 401 JSON with WWW-Authenticate, and nothing about the session", async () => {
    const { app } = await withSession();
    const res = await app.request("/v1/sessions/abcdefghij");
    expect(res.status).toBe(401);
    expect(res.headers.get("www-authenticate")).toContain("Bearer");
    const body = await errorBody(res);
    expect(JSON.stringify(body)).not.toContain("triage");
  });

  it("answers a token of the session's routine, with ISO 8601 times", async () => {
    const { app, tokens } = await withSession();
    const res = await app.request("/v1/sessions/abcdefghij", bearer(tokens.triage!));
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({
      id: "abcdefghij",
      routine: "triage",
      state: "succeeded",
      created_at: "2026-01-01T09:00:00.000Z",
      started_at: "2026-01-01T09:00:01.500Z",
      finished_at: "2026-01-01T09:01:01.000Z",
    });
  });

  it("another routine's token, an id prefix and an unknown id all get the same 404", async () => {
    const { app, tokens } = await withSession();
    for (const [path, token] of [
      ["/v1/sessions/abcdefghij", tokens.other!],
      ["/v1/sessions/abcde", tokens.triage!],
      ["/v1/sessions/zzzzzzzzzz", tokens.triage!],
    ] as const) {
      const res = await app.request(path, bearer(token));
      expect(res.status).toBe(404);
      expect(await errorBody(res)).toMatchObject({ error: "not_found" });
    }
  });

  it("a fired run not yet started reads as queued, with its ISO time; a revoked token gets 401", async () => {
    const { app, tokens, project } = await setUp();
    const fired = await app.request("/v1/routines/triage/fire", {
      method: "POST",
      headers: { authorization: `Bearer ${tokens.triage}` },
    });
    const { session_id } = (await fired.json()) as { session_id: string };
    const res = await app.request(`/v1/sessions/${session_id}`, bearer(tokens.triage!));
    expect(await res.json()).toMatchObject({
      id: session_id,
      state: "queued",
      run_state: "pending",
      created_at: "2026-01-01T09:00:00.000Z",
    });
    expect((await app.request(`/v1/sessions/${session_id}`, bearer(tokens.other!))).status).toBe(404);
    const rows = await project.store.db
      .selectFrom("api_tokens")
      .selectAll()
      .where("routine", "=", "triage")
      .execute();
    await revokeApiToken(project.store.db, "triage", rows[0]!.id, T0);
    const revoked = await app.request(`/v1/sessions/${session_id}`, bearer(tokens.triage!));
    expect(revoked.status).toBe(401);
    await errorBody(revoked);
  });
});
