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

/**
 * The same token shapes, matched from their prefix on with no minimum length: they catch a
 * token that was already cut short (`ghp_abc…`) and so no longer fits {@link TOKEN_PATTERNS}.
 * For text that has been truncated ({@link Redactor.redactPartial}).
 */
export const TOKEN_PREFIX_PATTERNS: readonly RegExp[] = [
  /\bgithub_pat_[A-Za-z0-9_]*/g,
  /\bgh[pousr]_[A-Za-z0-9]*/g,
  /\bsk-ant-[A-Za-z0-9_-]*/g,
  /\bsk-[A-Za-z0-9_-]{4,}/g,
  /\bnst_[A-Za-z0-9_-]*/g,
];

/** What a redacted secret is replaced with. */
export const REDACTED = "[REDACTED]";

/** Secret values shorter than this are not redacted by value (they would match everywhere). */
const MIN_SECRET_LENGTH = 8;

/** A cut-off piece of a known secret is redacted from this many characters on. */
const MIN_PARTIAL_LENGTH = 12;

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

  /**
   * {@link redact}, and also what is left of a secret that was cut short before it got here
   * (by a truncation, an error message that quotes part of an argument): every token prefix
   * of {@link TOKEN_PREFIX_PATTERNS}, and every run of at least 12 characters that starts or
   * ends a known secret value. Use it on text that has been truncated.
   */
  redactPartial(text: string): string {
    let out = this.redact(text);
    for (const v of this.#values) {
      if (v.length <= MIN_PARTIAL_LENGTH) continue;
      out = replacePieces(out, v.slice(0, MIN_PARTIAL_LENGTH), (t, at) => {
        let n = MIN_PARTIAL_LENGTH;
        while (n < v.length && t[at + n] === v[n]) n++;
        return [at, at + n];
      });
      out = replacePieces(out, v.slice(-MIN_PARTIAL_LENGTH), (t, at) => {
        let start = at;
        let k = v.length - MIN_PARTIAL_LENGTH;
        while (k > 0 && start > 0 && t[start - 1] === v[k - 1]) {
          start--;
          k--;
        }
        return [start, at + MIN_PARTIAL_LENGTH];
      });
    }
    for (const re of TOKEN_PREFIX_PATTERNS) out = out.replace(re, REDACTED);
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

/** `text` with each occurrence of `needle`, widened to the span `span` gives, replaced by {@link REDACTED}. */
function replacePieces(
  text: string,
  needle: string,
  span: (text: string, at: number) => [number, number],
): string {
  let out = "";
  let from = 0;
  for (let at = text.indexOf(needle); at !== -1; at = text.indexOf(needle, from)) {
    const [start, end] = span(text, at);
    out += text.slice(from, Math.max(from, start)) + REDACTED;
    from = end;
  }
  return out + text.slice(from);
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
