import { describe, expect, it } from "vitest";
import { cellText, table } from "./format.ts";

describe("table", () => {
  it("prints one line per row whatever a cell holds, keeping colour codes", () => {
    const red = "\u001b[31mfailed\u001b[39m";
    const out = table(
      ["ID", "STATE", "REASON"],
      [
        ["a", red, "line one\n   line two\r\nline three"],
        ["b", "ok", "nul\u0000 bell\u0007 osc\u001b]0;t\u0007 c1\u009b end"],
      ],
    );
    const lines = out.split("\n");
    expect(lines).toHaveLength(3);
    expect(lines[1]).toContain(red);
    expect(lines[1]).toContain("line one | line two | line three");
    expect(lines[2]).toContain("nul  bell  osc ]0;t  c1  end");
    expect(out).not.toContain("\u001b]");
  });

  it("cellText leaves ordinary text alone", () => {
    expect(cellText("plain — text, 100%")).toBe("plain — text, 100%");
  });
});
