import { readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { sign } from "@octokit/webhooks-methods";
import { createHmac } from "node:crypto";
import { afterAll, describe, expect, it } from "vitest";
import { openProject, type Project } from "../../src/project.ts";
import { createApp } from "../../src/server/app.ts";
import { RateLimiter } from "../../src/server/rate-limit.ts";
import { insertApiToken, revokeApiToken } from "../../src/store/api-tokens.ts";
import { listRuns } from "../../src/store/runs.ts";
import { createApiToken } from "../../src/triggers/api-token.ts";
import { githubExample } from "../support/github-examples.ts";
import { ManualClock } from "../../src/util/clock.ts";
import { cleanupTemp, makeRepo, writeRoutine } from "../support/project.ts";

/** The HTTP API in-process (Hono's app.request), over a real store. */

afterAll(cleanupTemp);

const SECRET = "it's a secret to everybody";
const OLD_SECRET = "the secret we rotated out";

async function setUp(limit = 60) {
  const repo = await makeRepo({ "README.md": "x\n" });
  writeRoutine(repo, "triage", 'agent: command\ncommand: "true"\noverlap: allow\ntriggers:\n  - api: true');
  writeRoutine(
    repo,
    "review",
    'agent: command\ncommand: "true"\noverlap: allow\ntriggers:\n  - github:\n      events: [pull_request]\n      actions: [opened]\n      filters: {draft: false}',
  );
  writeRoutine(
    repo,
    "alerts",
    'agent: command\ncommand: "true"\noverlap: allow\ntriggers:\n  - webhook: {source: sentry}',
  );
  writeFileSync(
    join(repo, ".nightshift", "config.yaml"),
    [
      "webhooks:",
      "  github:",
      "    secrets_env: [GH_HOOK_SECRET, GH_HOOK_SECRET_NEXT]",
      "  sentry:",
      "    auth:",
      "      hmac: { secret_env: SENTRY_SECRET, header: sentry-hook-signature }",
      "    conditions:",
      "      - { path: action, equals: created }",
      "    idempotency: { header: request-id }",
    ].join("\n"),
  );
  const clock = new ManualClock(Date.UTC(2026, 0, 1));
  const project = await openProject(repo, { clock });
  const app = createApp({
    project,
    baseUrl: "http://127.0.0.1:7070",
    rateLimiter: new RateLimiter({ limit, windowMs: 60_000, clock }),
    env: { GH_HOOK_SECRET: SECRET, SENTRY_SECRET: "sentry-secret" },
  });
  const t = createApiToken();
  await insertApiToken(project.store.db, {
    routine: "triage",
    prefix: t.prefix,
    hash: t.hash,
    now: clock.now(),
  });
  return { project, app, token: t.token, clock, repo };
}

const fire = (
  app: ReturnType<typeof createApp>,
  token: string | undefined,
  body?: string,
  routine = "triage",
) =>
  app.request(`/v1/routines/${routine}/fire`, {
    method: "POST",
    headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), "content-type": "application/json" },
    ...(body !== undefined ? { body } : {}),
  });

async function runs(project: Project) {
  return listRuns(project.store.db, { limit: 1000 });
}

describe("POST /v1/routines/{name}/fire", () => {
  it("stores the run, then answers 200 with the session id and URL; the text reaches the run", async () => {
    const { app, token, project } = await setUp();
    const res = await fire(app, token, JSON.stringify({ text: "error rate above 5% on checkout" }));
    expect(res.status).toBe(200);
    const body = (await res.json()) as Record<string, string>;
    expect(body).toMatchObject({ type: "routine_fire", outcome: "queued" });
    expect(body.session_url).toBe(`http://127.0.0.1:7070/v1/sessions/${body.session_id}`);
    const [run] = await runs(project);
    expect(run).toMatchObject({
      state: "pending",
      trigger: "api",
      session_id: body.session_id,
      context: "error rate above 5% on checkout",
    });
    const status = await app.request(`/v1/sessions/${body.session_id}`, {
      headers: { authorization: `Bearer ${token}` },
    });
    expect(await status.json()).toMatchObject({ state: "queued", run_state: "pending" });
    expect((await fire(app, token)).status).toBe(200); // no body is fine
  });

  it("answers 400, 401, 403, 404, 413 and 429 as documented, and stores nothing for them", async () => {
    const { app, token, project, repo } = await setUp(5);
    expect((await fire(app, token, "{not json")).status).toBe(400);
    const unknownField = await fire(app, token, JSON.stringify({ txt: "typo" }));
    expect(unknownField.status).toBe(400);
    expect(((await unknownField.json()) as { message: string }).message).toContain("txt");
    const missing = await fire(app, undefined, "{}");
    expect(missing.status).toBe(401);
    expect(missing.headers.get("www-authenticate")).toContain("Bearer");
    const wrong = await fire(app, "nst_wrongwrongwrongwrongwrongwrongwrongwrongwro", "{}");
    expect(wrong.status).toBe(401);
    expect(wrong.headers.get("www-authenticate")).toContain('error="invalid_token"');
    expect((await fire(app, token, "{}", "review")).status).toBe(401); // a token works for its own routine only
    expect((await fire(app, token, JSON.stringify({ text: "x".repeat(70 * 1024) }))).status).toBe(413);
    expect(await runs(project)).toHaveLength(0);
    // A token whose routine file was deleted: 404.
    rmSync(join(repo, ".nightshift", "routines", "triage.md"));
    expect((await fire(app, token, "{}")).status).toBe(404);
    // Back without its API trigger: the token no longer fires it (403, with the fix).
    writeRoutine(repo, "triage", 'agent: command\ncommand: "true"\noverlap: allow');
    const noTrigger = await fire(app, token, "{}");
    expect(noTrigger.status).toBe(403);
    expect(await noTrigger.json()).toMatchObject({
      error: "api_trigger_disabled",
      message: expect.stringContaining(
        "add `- api: true` under `triggers:` in .nightshift/routines/triage.md",
      ),
    });
    expect(await runs(project)).toHaveLength(0);
    writeRoutine(repo, "triage", 'agent: command\ncommand: "true"\noverlap: allow\ntriggers:\n  - api: true');
    // The limit is 5 per minute for an authenticated token; the two 400s, the 404 and the 403 counted.
    expect((await fire(app, token, "{}")).status).toBe(200);
    const limited = await fire(app, token, "{}");
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get("retry-after"))).toBeGreaterThan(0);
    expect(await runs(project)).toHaveLength(1);
  });

  it("a revoked token gets 401", async () => {
    const { app, token, project } = await setUp();
    const rows = await project.store.db.selectFrom("api_tokens").selectAll().execute();
    await revokeApiToken(project.store.db, "triage", rows[0]!.id, project.clock.now());
    expect((await fire(app, token, "{}")).status).toBe(401);
  });

  it("never stores the raw token: only its SHA-256 is in the SQLite files", async () => {
    const { token, project } = await setUp();
    const files = readdirSync(project.stateDir).filter((f) => f.startsWith("nightshift.db"));
    expect(files.length).toBeGreaterThan(0);
    for (const f of files)
      expect(readFileSync(join(project.stateDir, f)).includes(Buffer.from(token))).toBe(false);
    const hash = (await project.store.db.selectFrom("api_tokens").select("hash").executeTakeFirstOrThrow())
      .hash;
    expect(hash).toMatch(/^[0-9a-f]{64}$/);
  });
});

describe("POST /v1/webhooks/github", () => {
  async function deliver(
    app: ReturnType<typeof createApp>,
    payload: unknown,
    opts: { secret?: string; id?: string; raw?: string; event?: string } = {},
  ) {
    const raw = opts.raw ?? JSON.stringify(payload);
    return app.request("/v1/webhooks/github", {
      method: "POST",
      headers: {
        "content-type": "application/json",
        "x-github-event": opts.event ?? "pull_request",
        "x-github-delivery": opts.id ?? "d-1",
        "x-hub-signature-256": await sign(opts.secret ?? SECRET, raw),
      },
      body: raw,
    });
  }

  it("verifies a real signed pull_request.opened delivery, starts the matching routine with a summary, and de-duplicates a redelivery", async () => {
    const { app, project } = await setUp();
    const payload = githubExample("pull_request", "opened");
    payload.pull_request.draft = false;
    const res = await deliver(app, payload);
    expect(res.status).toBe(202);
    const body = (await res.json()) as { runs: { routine: string }[] };
    expect(body.runs.map((r) => r.routine)).toEqual(["review"]);
    const [run] = await runs(project);
    expect(run).toMatchObject({ routine: "review", trigger: "github", state: "pending" });
    expect(run!.context).toContain(payload.pull_request.title);
    const again = await deliver(app, payload);
    expect(again.status).toBe(200);
    expect(await again.json()).toMatchObject({ duplicate: true });
    expect(await runs(project)).toHaveLength(1);
  });

  it("does not start anything for a filtered-out event (a draft PR, another action)", async () => {
    const { app, project } = await setUp();
    const draft = githubExample("pull_request", "opened");
    draft.pull_request.draft = true;
    expect((await deliver(app, draft, { id: "d-draft" })).status).toBe(202);
    expect((await deliver(app, githubExample("pull_request", "closed"), { id: "d-closed" })).status).toBe(
      202,
    );
    expect(await runs(project)).toHaveLength(0);
  });

  it("rejects bad signatures before parsing and starts nothing", async () => {
    const { app, project } = await setUp();
    const payload = githubExample("pull_request", "opened");
    const raw = JSON.stringify(payload);
    const cases = [
      await deliver(app, payload, { secret: "wrong" }),
      await deliver(app, payload, { secret: OLD_SECRET, id: "d-old" }),
      await app.request("/v1/webhooks/github", {
        method: "POST",
        headers: {
          "x-github-event": "pull_request",
          "x-github-delivery": "d-2",
          "x-hub-signature-256": await sign(SECRET, raw),
        },
        body: `${raw} `, // one byte more than what was signed
      }),
      await app.request("/v1/webhooks/github", {
        method: "POST",
        headers: {
          "x-github-event": "pull_request",
          "x-github-delivery": "d-3",
          "x-hub-signature": `sha1=${createHmac("sha1", SECRET).update(raw).digest("hex")}`,
        },
        body: raw,
      }),
    ];
    expect(cases.map((r) => r.status)).toEqual([401, 401, 401, 401]);
    const missingHeaders = await app.request("/v1/webhooks/github", {
      method: "POST",
      headers: { "x-hub-signature-256": await sign(SECRET, raw) },
      body: raw,
    });
    expect(missingHeaders.status).toBe(400);
    expect(await runs(project)).toHaveLength(0);
  });
});

describe("POST /v1/webhooks/{source}", () => {
  const post = (app: ReturnType<typeof createApp>, body: string, signature: string, id = "req-1") =>
    app.request("/v1/webhooks/sentry", {
      method: "POST",
      headers: { "content-type": "application/json", "sentry-hook-signature": signature, "request-id": id },
      body,
    });
  const hmac = (body: string) => createHmac("sha256", "sentry-secret").update(body).digest("hex");

  it("accepts a signed delivery that meets the conditions once, and ignores the rest", async () => {
    const { app, project } = await setUp();
    const created = JSON.stringify({
      action: "created",
      data: { issue: { title: "TypeError in checkout" } },
    });
    expect((await post(app, created, hmac(created))).status).toBe(202);
    expect((await post(app, created, hmac(created))).status).toBe(200); // same request-id
    const resolved = JSON.stringify({ action: "resolved" });
    expect(await (await post(app, resolved, hmac(resolved), "req-2")).json()).toMatchObject({
      ignored: true,
    });
    expect((await post(app, created, "0".repeat(64), "req-3")).status).toBe(401);
    const all = await runs(project);
    expect(all).toHaveLength(1);
    expect(all[0]).toMatchObject({ routine: "alerts", trigger: "webhook" });
    expect(all[0]!.context).toContain("TypeError in checkout");
    expect((await app.request("/v1/webhooks/unknown", { method: "POST", body: "{}" })).status).toBe(404);
  });
});
