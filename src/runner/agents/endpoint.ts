import type { AgentAdapter } from "./types.ts";

/** Where an agent's model API is and which setting chose it, for reasons that name it. */
export interface ModelEndpoint {
  /** The URL without credentials, query or fragment, e.g. `http://127.0.0.1:9` or `https://api.anthropic.com`. */
  url: string;
  /** What chose it: `ANTHROPIC_BASE_URL`, `OPENAI_BASE_URL`, or `the default`. */
  source: string;
  /** The variable that changes it (`undefined` for the command agent, which picks its own). */
  variable?: string;
}

/**
 * The model endpoint an agent talks to, as configured in `hostEnv`: the base-URL variable
 * when set (its user name, password, query and fragment removed — they may carry keys), else
 * the CLI's default host. The command agent's endpoint is its own business: `undefined`.
 */
export function modelEndpoint(
  kind: AgentAdapter["kind"],
  hostEnv: NodeJS.ProcessEnv,
): ModelEndpoint | undefined {
  if (kind === "claude-code") {
    const set = hostEnv.ANTHROPIC_BASE_URL;
    return set
      ? { url: safeUrl(set), source: "ANTHROPIC_BASE_URL", variable: "ANTHROPIC_BASE_URL" }
      : { url: "https://api.anthropic.com", source: "the default", variable: "ANTHROPIC_BASE_URL" };
  }
  if (kind === "codex") {
    const set = hostEnv.OPENAI_BASE_URL;
    if (set) return { url: safeUrl(set), source: "OPENAI_BASE_URL", variable: "OPENAI_BASE_URL" };
    // Without an API key Codex uses the `codex login` account, which talks to ChatGPT's backend.
    const url =
      hostEnv.OPENAI_API_KEY || hostEnv.CODEX_API_KEY
        ? "https://api.openai.com/v1"
        : "https://chatgpt.com/backend-api/codex";
    return { url, source: "the default", variable: "OPENAI_BASE_URL" };
  }
  return undefined;
}

/** `value` as a URL without user name, password, query and fragment; `<not a URL: …>` when it is none. */
function safeUrl(value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return `<not a valid URL: ${value.replace(/\/\/[^/@]*@/, "//").slice(0, 100)}>`;
  }
  url.username = "";
  url.password = "";
  url.search = "";
  url.hash = "";
  return url.toString().replace(/\/$/, "");
}
