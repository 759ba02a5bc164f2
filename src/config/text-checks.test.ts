import { describe, expect, it } from "vitest";
import { ConfigErrors } from "./errors.ts";
import { parseRoutine } from "./load.ts";
import { MAX_PROMPT_BYTES } from "./text-checks.ts";

function messages(text: string): string[] {
  try {
    parseRoutine("/p/.nightshift/routines/job.md", text);
  } catch (err) {
    if (err instanceof ConfigErrors) return err.errors.map((e) => e.message);
    throw err;
  }
  return [];
}

describe("routine files and NUL", () => {
  it("a raw NUL byte anywhere is an error at its line and column", () => {
    const [m, ...rest] = messages("---\nagent: command\ncommand: 'true'\n---\nDo it.\nthen\u0000stop\n");
    expect(rest).toEqual([]);
    expect(m).toMatch(/job\.md:6:5: contains a NUL byte \(U\+0000\)/);
    expect(messages("---\ndescription: a\u0000b\n---\nGo.\n")[0]).toMatch(
      /job\.md:2:15: contains a NUL byte/,
    );
  });

  it('a "\\0" escape in a front-matter string is an error at that field', () => {
    expect(messages('---\nagent: command\ncommand: "echo \\0"\n---\nGo.\n')).toEqual([
      expect.stringMatching(/job\.md:3:10: command: contains a NUL character/),
    ]);
    expect(messages('---\nallowed_tools: [Read, "Ed\\0it"]\n---\nGo.\n')).toEqual([
      expect.stringMatching(/job\.md:2:23: allowed_tools\.1: contains a NUL character/),
    ]);
  });
});

describe("routine prompt size", () => {
  it(`accepts a prompt of ${MAX_PROMPT_BYTES / 1024} KiB and refuses one byte more, saying the limit`, () => {
    const at = (n: number) =>
      `---\nagent: command\ncommand: 'true'\n---\n${"é".repeat(n / 2)}${n % 2 ? "x" : ""}\n`;
    expect(messages(at(MAX_PROMPT_BYTES))).toEqual([]);
    const [m] = messages(at(MAX_PROMPT_BYTES + 1));
    expect(m).toContain(`job.md:5:1: prompt: is 512 KiB (${MAX_PROMPT_BYTES + 1} bytes)`);
    expect(m).toContain("at most 512 KiB");
  });
});
