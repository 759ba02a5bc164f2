/**
 * Token shapes replaced wherever text is stored or shown, whether or not nightshift knows the
 * value: GitHub tokens (`ghp_`, `gho_`, `ghu_`, `ghs_`, `ghr_`, `github_pat_`; see GitHub's
 * "About authentication" token prefixes), Anthropic (`sk-ant-`) and OpenAI (`sk-`) keys, and
 * nightshift's own API tokens (`nst_`).
 */
export const TOKEN_PATTERNS: readonly RegExp[] = [
  /\bgithub_pat_[A-Za-z0-9_]{20,}/g,
  /\bgh[pousr]_[A-Za-z0-9]{20,}/g,
  /\bsk-ant-[A-Za-z0-9_-]{10,}/g,
  /\bsk-[A-Za-z0-9_-]{16,}/g,
  /\bnst_[A-Za-z0-9_-]{20,}/g,
];

/** What a redacted secret is replaced with. */
export const REDACTED = "[REDACTED]";

/** Secret values shorter than this are not redacted by value (they would match everywhere). */
const MIN_SECRET_LENGTH = 8;

/**
 * Replaces secrets in text before it is stored or shown: every configured secret value, and
 * the common token shapes of {@link TOKEN_PATTERNS}.
 */
export class Redactor {
  readonly #values: string[];

  /** @param secretValues - values to hide (shorter than 8 characters are ignored). */
  constructor(secretValues: Iterable<string | undefined> = []) {
    // Longest first, so a secret that contains another is replaced whole.
    this.#values = [
      ...new Set([...secretValues].filter((v): v is string => !!v && v.length >= MIN_SECRET_LENGTH)),
    ].sort((a, b) => b.length - a.length);
  }

  /** Adds secret values (for example an environment's variables, once resolved). */
  add(values: Iterable<string | undefined>): void {
    for (const v of values)
      if (v && v.length >= MIN_SECRET_LENGTH && !this.#values.includes(v)) this.#values.push(v);
    this.#values.sort((a, b) => b.length - a.length);
  }

  /** `text` with every secret replaced by {@link REDACTED}. */
  redact(text: string): string {
    let out = text;
    for (const v of this.#values) if (out.includes(v)) out = out.split(v).join(REDACTED);
    for (const re of TOKEN_PATTERNS) out = out.replace(re, REDACTED);
    return out;
  }

  /** A copy of a JSON-like value with every string redacted (keys included). */
  redactDeep<T>(value: T): T {
    if (typeof value === "string") return this.redact(value) as T;
    if (Array.isArray(value)) return value.map((v) => this.redactDeep(v)) as T;
    if (value && typeof value === "object") {
      return Object.fromEntries(
        Object.entries(value).map(([k, v]) => [this.redact(k), this.redactDeep(v)]),
      ) as T;
    }
    return value;
  }
}

/** Environment variables whose values are always treated as secrets. */
export const SECRET_ENV_VARS = [
  "ANTHROPIC_API_KEY",
  "ANTHROPIC_AUTH_TOKEN",
  "CLAUDE_CODE_OAUTH_TOKEN",
  "OPENAI_API_KEY",
  "CODEX_API_KEY",
  "GITHUB_TOKEN",
  "GH_TOKEN",
] as const;

/** A redactor for the values of `names` (plus {@link SECRET_ENV_VARS}) in `env`. */
export function redactorFromEnv(env: NodeJS.ProcessEnv, names: readonly string[] = []): Redactor {
  return new Redactor([...SECRET_ENV_VARS, ...names].map((n) => env[n]));
}
