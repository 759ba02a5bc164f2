/** createForge: the project config's `forge:` section turned into the local or GitHub adapter. */
import { generateKeyPairSync } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, expect, test } from "vitest";
import { ProjectConfigSchema } from "../../src/config/project-schema.ts";
import { GithubForge } from "../../src/forge/github/github-forge.ts";
import { createForge, type ForgeDeps } from "../../src/forge/index.ts";
import { LocalForge } from "../../src/forge/local/local-forge.ts";
import { ForgeError } from "../../src/forge/types.ts";
import { openStore, type Store } from "../../src/store/db.ts";
import { ManualClock } from "../../src/util/clock.ts";
import { FakeGithub, fakeThrottle } from "../support/fake-github/index.ts";

let dir: string;
let store: Store;
let fake: FakeGithub;
let deps: ForgeDeps;

const forgeConfig = (forge: unknown) => ProjectConfigSchema.parse({ forge }).forge;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "nightshift-create-forge-"));
  store = await openStore(join(dir, "state", "nightshift.db"));
  fake = await FakeGithub.start({ tokens: { "tok-from-env": "nightshift-bot" } });
  await fake.createRepo("acme/widgets");
  deps = {
    root: dir,
    clock: new ManualClock(),
    db: store.db,
    dir: join(dir, "state", "forge"),
    sources: [],
    env: {},
    githubThrottle: fakeThrottle(),
  };
});

afterAll(async () => {
  await store.close();
  await fake.close();
  rmSync(dir, { recursive: true, force: true });
});

test("no forge section: the local forge", async () => {
  const forge = await createForge(forgeConfig(undefined), deps);
  expect(forge).toBeInstanceOf(LocalForge);
  expect(forge.kind).toBe("local");
});

test("github with the token variable unset: a ForgeError naming the variable", async () => {
  const config = forgeConfig({ type: "github", repo: "acme/widgets", token_env: "WIDGETS_TOKEN" });
  await expect(createForge(config, deps)).rejects.toThrow(ForgeError);
  await expect(createForge(config, deps)).rejects.toThrow(/WIDGETS_TOKEN is not set.*export WIDGETS_TOKEN/);
});

test("github with a token: talks to api_url, fills the git_url template, short names take the owner", async () => {
  const config = forgeConfig({
    type: "github",
    repo: "acme/widgets",
    api_url: fake.url,
    git_url: "ssh://git@git.example/{owner}/{repo}.git",
  });
  const forge = await createForge(config, { ...deps, env: { GITHUB_TOKEN: "tok-from-env" } });
  expect(forge).toBeInstanceOf(GithubForge);
  const r = await forge.repo("widgets");
  expect(r).toMatchObject({
    name: "acme/widgets",
    remoteUrl: "ssh://git@git.example/acme/widgets.git",
    defaultBranch: "main",
  });
  const issue = await forge.createIssue("acme/widgets", { title: "hello", body: "", author: "x" });
  expect(issue.author).toBe("nightshift-bot");
  // A wrong token's error names the configured variable.
  const bad = await createForge(config, { ...deps, env: { GITHUB_TOKEN: "nope" } });
  await expect(bad.getIssue("acme/widgets", 1)).rejects.toThrow(/set GITHUB_TOKEN to a token/);
});

test("github App: reads the private key file relative to the project root", async () => {
  const { publicKey, privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  fake.registerApp({
    appId: 99,
    publicKey: publicKey.export({ type: "spki", format: "pem" }).toString(),
    installationId: 5,
  });
  writeFileSync(join(dir, "app.pem"), privateKey.export({ type: "pkcs8", format: "pem" }).toString());
  const app = { app_id: 99, private_key_file: "app.pem", installation_id: 5 };
  const forge = await createForge(
    forgeConfig({ type: "github", repo: "acme/widgets", api_url: fake.url, app }),
    deps,
  );
  expect((await forge.createIssue("acme/widgets", { title: "as app", body: "", author: "x" })).author).toBe(
    "nightshift[bot]",
  );

  const missing = forgeConfig({
    type: "github",
    repo: "acme/widgets",
    app: { ...app, private_key_file: "nope.pem" },
  });
  await expect(createForge(missing, deps)).rejects.toThrow(
    /cannot read the GitHub App private key .*nope\.pem \(forge\.app\.private_key_file\)/,
  );
});
