import { afterAll, describe, expect, it } from "vitest";
import { openProject } from "../../src/project.ts";
import { listDashboardUsers, logIn } from "../../src/store/dashboard-users.ts";
import { insertSession, setSessionState } from "../../src/store/sessions.ts";
import { cleanupTemp, makeRepo, runCli, writeRoutine } from "../support/project.ts";

/** `nightshift agents` and `nightshift dashboard add-user` as a person runs them. */

afterAll(cleanupTemp);

describe("nightshift agents", () => {
  it("prints the grouped view, as text and JSON, with a redacted summary", async () => {
    const repo = await makeRepo({ "README.md": "x\n" });
    writeRoutine(repo, "triage", 'agent: command\ncommand: "true"');
    const p = await openProject(repo);
    const base = { agent: "command", model: null, trigger: "manual", issueNumber: null, inputText: null };
    await insertSession(p.store.db, { ...base, id: "aaaa000001", routine: "triage", createdAt: Date.now() });
    await insertSession(p.store.db, { ...base, id: "aaaa000002", routine: "triage", createdAt: Date.now() });
    await setSessionState(p.store.db, "aaaa000002", "failed", {
      finished_at: Date.now(),
      reason: "push refused: token ghp_abcdefghijklmnopqrstuvwxyz0123456789 leaked\u001b[31m",
    });
    await p.close();

    const text = await runCli(repo, ["agents"]);
    expect(text.exitCode).toBe(0);
    expect(text.stdout.indexOf("Needs input (0)")).toBeLessThan(text.stdout.indexOf("Working (1)"));
    expect(text.stdout).toMatch(/Working \(1\)[\s\S]*aaaa000001[\s\S]*Failed \(1\)[\s\S]*aaaa000002/);
    expect(text.stdout).not.toContain("ghp_abcdefghijklmnopqrstuvwxyz0123456789");
    expect(text.stdout).not.toContain("\u001b[31m");

    const json = await runCli(repo, ["agents", "--json"]);
    const view = JSON.parse(json.stdout) as {
      groups: { group: string; count: number; rows: { id: string }[] }[];
    };
    expect(view.groups.map((g) => [g.group, g.count])).toEqual([
      ["needs_input", 0],
      ["working", 1],
      ["ready_for_review", 0],
      ["completed", 0],
      ["failed", 1],
      ["cancelled", 0],
    ]);
    expect(view.groups[1]!.rows[0]!.id).toBe("aaaa000001");
    expect(json.stdout).not.toContain("ghp_abcdefghijklmnopqrstuvwxyz0123456789");
  });

  it("dashboard add-user prints a password once that logs in; the store keeps only a scrypt hash", async () => {
    const repo = await makeRepo({ "README.md": "x\n" });
    writeRoutine(repo, "triage", 'agent: command\ncommand: "true"');
    const r = await runCli(repo, ["dashboard", "add-user", "ada", "--json"]);
    expect(r.exitCode).toBe(0);
    const { password } = JSON.parse(r.stdout) as { password: string };
    expect(password.length).toBeGreaterThanOrEqual(20);
    const again = await runCli(repo, ["dashboard", "add-user", "ada"]);
    expect(again.exitCode).toBe(2);
    expect(again.stderr).toMatch(/exists already/);
    const p = await openProject(repo);
    try {
      expect((await listDashboardUsers(p.store.db)).map((u) => u.name)).toEqual(["ada"]);
      const stored = await p.store.db
        .selectFrom("dashboard_users" as never)
        .select("password_hash" as never)
        .executeTakeFirstOrThrow();
      expect(JSON.stringify(stored)).not.toContain(password);
      expect(JSON.stringify(stored)).toMatch(/scrypt\$32768\$8\$1\$/);
      expect(await logIn(p.store.db, "ada", "wrong", Date.now(), 60_000)).toBeUndefined();
      expect(await logIn(p.store.db, "ada", password, Date.now(), 60_000)).toMatchObject({ user: "ada" });
    } finally {
      await p.close();
    }
  });
});
