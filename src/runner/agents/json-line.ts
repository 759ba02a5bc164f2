import type { AgentEvent } from "../transcript/events.ts";

/**
 * Parses one stdout line of a JSON-lines agent protocol. A line that is not JSON becomes an
 * `unparsed` event (blank lines none), so nothing the agent printed is lost.
 */
export function parseJsonLine(text: string): { msg: Record<string, any> } | { events: AgentEvent[] } {
  try {
    const msg = JSON.parse(text);
    if (msg && typeof msg === "object" && !Array.isArray(msg)) return { msg };
  } catch {
    // not JSON: below
  }
  return { events: text.trim() ? [{ type: "unparsed", line: text }] : [] };
}
