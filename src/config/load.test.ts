import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { cleanupTemp, tempDir } from "../../test/support/project.ts";
import { ConfigErrors } from "./errors.ts";
import { loadProjectConfig, loadRoutines, parseRoutine } from "./load.ts";

afterAll(cleanupTemp);

function errorsOf(text: string, file = "/p/.nightshift/routines/nightly.md"): ConfigErrors {
  try {
    parseRoutine(file, text);
  } catch (err) {
    if (err instanceof ConfigErrors) return err;
    throw err;
  }
  throw new Error("expected the routine to be rejected");
}

describe("parseRoutine", () => {
  it("applies defaults to a minimal routine and keeps the body as the prompt", () => {
    const r = parseRoutine(
      "/p/.nightshift/routines/nightly.md",
      "---\ndescription: tidy\n---\n\nFix one thing.\n",
    );
    expect(r).toMatchObject({
      name: "nightly",
      description: "tidy",
      agent: "claude-code",
      repos: ["."],
      triggers: [],
      branch_prefix: "nightshift/",
      timeout: 30 * 60_000,
      environment: "default",
      enabled: true,
      prompt: "Fix one thing.",
    });
  });

  it("parses durations, triggers and limits", () => {
    const r = parseRoutine(
      "/p/r/nightly.md",
      [
        "---",
        "agent: codex",
        "model: gpt-5-codex",
        "timeout: 1h30m",
        "max_turns: 12",
        "allowed_tools: [Read, Edit]",
        "triggers:",
        "  - schedule: '30 2 * * 1-5'",
        "    timezone: America/New_York",
        "  - schedule: daily",
        '    at: "09:00"',
        "  - api: true",
        "  - github: {events: [pull_request], actions: [opened]}",
        "---",
        "Go.",
      ].join("\n"),
    );
    expect(r.timeout).toBe(90 * 60_000);
    expect(r.max_turns).toBe(12);
    expect(r.triggers).toHaveLength(4);
    expect(r.allowed_tools).toEqual(["Read", "Edit"]);
  });

  it("names the file, line and field of an invalid agent, and what is allowed", () => {
    const err = errorsOf("---\ndescription: x\nagent: gpt\n---\nGo.\n");
    expect(err.errors).toHaveLength(1);
    expect(err.errors[0]!.line).toBe(3);
    expect(err.errors[0]!.field).toBe("agent");
    expect(err.message).toContain('nightly.md:3:8: agent: must be one of "claude-code", "codex", "command"');
  });

  it("reports an unknown field at its own line", () => {
    const err = errorsOf("---\nagent: codex\ntimout: 5m\n---\nGo.\n");
    expect(err.errors[0]).toMatchObject({ line: 3, field: "timout" });
    expect(err.errors[0]!.detail).toContain('unknown field "timout"');
  });

  it("reports every problem at once, nested fields included", () => {
    const err = errorsOf(
      [
        "---",
        "timeout: soon",
        "triggers:",
        "  - schedule: '61 * * * *'",
        "branch_prefix: main",
        "---",
        "Go.",
      ].join("\n"),
    );
    const byField = Object.fromEntries(err.errors.map((e) => [e.field, e]));
    expect(byField.timeout?.line).toBe(2);
    expect(byField.timeout?.detail).toContain('"30m"');
    expect(byField["triggers.0.schedule"]?.line).toBe(4);
    expect(byField["triggers.0.schedule"]?.detail).toContain("5-field cron");
    expect(byField.branch_prefix?.line).toBe(5);
  });

  it("requires a command for agent: command", () => {
    const err = errorsOf("---\nagent: command\n---\nGo.\n");
    expect(err.errors[0]).toMatchObject({ field: "command", line: 2 });
  });

  it("rejects a file without front-matter, an unclosed one, YAML errors and an empty prompt", () => {
    expect(errorsOf("Just a prompt").errors[0]!.detail).toContain('starts with a "---" line');
    expect(errorsOf("---\nagent: codex\nGo.").errors[0]!.detail).toContain("not closed");
    const yaml = errorsOf("---\nagent: [codex\n---\nGo.\n");
    expect(yaml.errors[0]!.detail).toContain("YAML syntax error");
    expect(yaml.errors[0]!.line).toBeGreaterThanOrEqual(2);
    expect(errorsOf("---\nagent: codex\n---\n\n").errors[0]!.field).toBe("prompt");
  });

  it("rejects a name that does not match the file name", () => {
    const err = errorsOf("---\nname: other\n---\nGo.\n");
    expect(err.errors[0]).toMatchObject({ field: "name", line: 2 });
  });
});

describe("loadRoutines and loadProjectConfig", () => {
  it("loads the valid routines and reports the invalid ones without stopping", () => {
    const root = tempDir();
    const dir = join(root, ".nightshift", "routines");
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, "a.md"), "---\nagent: codex\n---\nA\n");
    writeFileSync(join(dir, "b.md"), "---\nagent: nope\n---\nB\n");
    const { routines, errors } = loadRoutines(root);
    expect(routines.map((r) => r.name)).toEqual(["a"]);
    expect(errors).toHaveLength(1);
    expect(errors[0]!.message).toMatch(/b\.md:2:8: agent/);
  });

  it("uses defaults without config.yaml and validates it when present", () => {
    const root = tempDir();
    mkdirSync(join(root, ".nightshift"), { recursive: true });
    expect(loadProjectConfig(root)).toMatchObject({
      state_dir: ".nightshift/state",
      forge: { type: "local" },
    });
    writeFileSync(join(root, ".nightshift", "config.yaml"), "workspaces:\n  retention: 12h\n");
    expect(loadProjectConfig(root).workspaces.retention).toBe(12 * 3_600_000);
    writeFileSync(join(root, ".nightshift", "config.yaml"), "forge:\n  type: gitlab\n");
    expect(() => loadProjectConfig(root)).toThrow(/config\.yaml:2:9: forge\.type/);
  });
});
