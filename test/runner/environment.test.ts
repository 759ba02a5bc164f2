import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { loadRoutine } from "../../src/config/load.ts";
import { openProject } from "../../src/project.ts";
import { runSession } from "../../src/runner/session.ts";
import { readEvents } from "../../src/store/transcript.ts";
import { cleanupTemp, makeRepo, tempDir, writeRoutine } from "../support/project.ts";

afterAll(cleanupTemp);

const CONFIG = (secrets: string) =>
  [
    `secrets_file: ${secrets}`,
    "environments:",
    "  deploy:",
    "    network: [api.example.com]",
    "    env:",
    "      DEPLOY_TOKEN: { from_env: HOST_DEPLOY_TOKEN }",
    "      SENTRY_DSN: { from_secrets: sentry_dsn }",
  ].join("\n");

async function setUp(environment: string, command: string) {
  const repo = await makeRepo({ "README.md": "x\n" });
  writeRoutine(
    repo,
    "job",
    `agent: command\ncommand: ${JSON.stringify(command)}\nenvironment: ${environment}`,
  );
  const secrets = join(tempDir(), "secrets.env");
  writeFileSync(
    secrets,
    "# kept outside the repository\nsentry_dsn=https://abc123secretdsn@example.invalid/1\n",
  );
  writeFileSync(join(repo, ".nightshift", "config.yaml"), CONFIG(secrets));
  return { repo, project: await openProject(repo) };
}

describe("environments", () => {
  it("give the agent exactly its environment's variables, from the host and the secrets file, redacted in the transcript", async () => {
    const { repo, project } = await setUp("deploy", "env | sort > seen-env.txt; echo token=$DEPLOY_TOKEN");
    const s = await runSession(project, {
      routine: loadRoutine(repo, "job"),
      hostEnv: {
        PATH: process.env.PATH,
        HOST_DEPLOY_TOKEN: "deploy-token-0000111122",
        HOST_ONLY_SECRET: "not-for-the-agent",
      },
    });
    expect(s.task_outcome).toBe("pr_opened");
    const seen = readFileSync(join(s.workspace_path!, "workspace", "repo", "seen-env.txt"), "utf8");
    expect(seen).toContain("DEPLOY_TOKEN=deploy-token-0000111122");
    expect(seen).toContain("SENTRY_DSN=https://abc123secretdsn@example.invalid/1");
    expect(seen).not.toContain("HOST_ONLY_SECRET");
    expect(seen).not.toContain("HOST_DEPLOY_TOKEN");
    const events = JSON.stringify(await readEvents(project.store.db, s.id));
    expect(events).toContain("token=[REDACTED]");
    expect(events).not.toContain("deploy-token-0000111122");
    await project.close();
  });

  it("fail the session before spawning when the environment is unknown or a value is missing, saying what to set", async () => {
    const unknown = await setUp("staging", "true");
    const a = await runSession(unknown.project, {
      routine: loadRoutine(unknown.repo, "job"),
      hostEnv: { PATH: process.env.PATH },
    });
    expect(a).toMatchObject({ state: "failed", infra_outcome: "environment_error" });
    expect(a.reason).toContain(
      'uses environment "staging", which .nightshift/config.yaml does not define (environments: default, deploy)',
    );
    await unknown.project.close();

    const missing = await setUp("deploy", "true");
    const b = await runSession(missing.project, {
      routine: loadRoutine(missing.repo, "job"),
      hostEnv: { PATH: process.env.PATH },
    });
    expect(b).toMatchObject({ state: "failed", infra_outcome: "environment_error" });
    expect(b.reason).toContain(
      "needs DEPLOY_TOKEN from the host variable HOST_DEPLOY_TOKEN, which is not set",
    );
    expect((await readEvents(missing.project.store.db, b.id)).map((e) => e.kind)).not.toContain(
      "agent_spawned",
    );
    await missing.project.close();
  });
});
