import type { Kysely } from "kysely";
import type { Database } from "../../store/schema.ts";
import { appendEvent } from "../../store/transcript.ts";
import type { Clock } from "../../util/clock.ts";
import { Redactor } from "../../util/redact.ts";
import type { TranscriptEvent } from "./events.ts";

/** Called after each event is stored: live output, SSE later. */
export type TranscriptListener = (
  event: TranscriptEvent,
  meta: { seq: number; at: number; sessionId: string },
) => void;

/** Size limits of a transcript, in bytes of JSON. */
export interface TranscriptLimits {
  /** Largest stored event; longer texts inside it are cut, with a marker. Default 64 KiB. */
  eventBytes: number;
  /** Largest transcript; past it only lifecycle events are kept, after one marker. Default 50 MiB. */
  transcriptBytes: number;
}

export const DEFAULT_TRANSCRIPT_LIMITS: TranscriptLimits = {
  eventBytes: 64 * 1024,
  transcriptBytes: 50 * 1024 * 1024,
};

/** Events kept even when the transcript is over its size limit: the session's story must stay whole. */
const ALWAYS_KEPT = new Set(["state", "result", "agent_exited", "delivery", "error", "transcript_limit"]);

/**
 * Writes a session's transcript to the store one event at a time, as the events arrive, so
 * a killed process leaves everything up to the kill. Every event is redacted (configured
 * secret values and token shapes) and capped in size before it is stored or shown;
 * truncation is marked in the event, never silent.
 */
export class TranscriptRecorder {
  readonly #db: Kysely<Database>;
  readonly #sessionId: string;
  readonly #clock: Clock;
  readonly #listener: TranscriptListener | undefined;
  readonly #redactor: Redactor;
  readonly #limits: TranscriptLimits;
  #seq = 0;
  #bytes = 0;
  #overLimit = false;

  constructor(
    db: Kysely<Database>,
    sessionId: string,
    clock: Clock,
    opts: { listener?: TranscriptListener; redactor?: Redactor; limits?: TranscriptLimits } = {},
  ) {
    this.#db = db;
    this.#sessionId = sessionId;
    this.#clock = clock;
    this.#listener = opts.listener;
    this.#redactor = opts.redactor ?? new Redactor();
    this.#limits = opts.limits ?? DEFAULT_TRANSCRIPT_LIMITS;
  }

  /** The redactor this transcript applies (for text stored elsewhere, such as a PR body). */
  get redactor(): Redactor {
    return this.#redactor;
  }

  async record(raw: TranscriptEvent): Promise<void> {
    let event = capEvent(this.#redactor.redactDeep(raw), this.#limits.eventBytes);
    const size = JSON.stringify(event).length;
    if (this.#overLimit && !ALWAYS_KEPT.has(event.type)) return;
    if (!this.#overLimit && this.#bytes + size > this.#limits.transcriptBytes) {
      this.#overLimit = true;
      await this.#store({
        type: "transcript_limit",
        message: `the transcript reached ${this.#limits.transcriptBytes} bytes; from here on only lifecycle events are kept`,
      });
      if (!ALWAYS_KEPT.has(event.type)) return;
    }
    this.#bytes += size;
    event = event as TranscriptEvent;
    await this.#store(event);
  }

  async #store(event: TranscriptEvent): Promise<void> {
    const seq = ++this.#seq;
    const at = this.#clock.now();
    await appendEvent(this.#db, this.#sessionId, seq, at, event.type, event);
    this.#listener?.(event, { seq, at, sessionId: this.#sessionId });
  }
}

/**
 * An event whose JSON fits in `maxBytes`: the longest strings inside it are cut until it
 * does, each cut marked with how much was left out, and the event gets `truncated: true`.
 */
export function capEvent(event: TranscriptEvent, maxBytes: number): TranscriptEvent {
  let json = JSON.stringify(event);
  if (json.length <= maxBytes) return event;
  const copy = structuredClone(event) as Record<string, unknown>;
  for (let round = 0; round < 8 && json.length > maxBytes; round++) {
    const over = json.length - maxBytes;
    const [path, text] = longestString(copy);
    if (!path || text.length < 64) break;
    const keep = Math.max(0, text.length - over - 200);
    setAt(copy, path, `${text.slice(0, keep)}\n[… nightshift truncated ${text.length - keep} characters]`);
    copy.truncated = true;
    json = JSON.stringify(copy);
  }
  return copy as TranscriptEvent;
}

function longestString(
  value: unknown,
  path: (string | number)[] = [],
): [(string | number)[] | undefined, string] {
  if (typeof value === "string") return [path, value];
  let best: [(string | number)[] | undefined, string] = [undefined, ""];
  if (value && typeof value === "object") {
    for (const [k, v] of Object.entries(value)) {
      const found = longestString(v, [...path, Array.isArray(value) ? Number(k) : k]);
      if (found[0] && found[1].length > best[1].length) best = found;
    }
  }
  return best;
}

function setAt(root: Record<string, unknown>, path: (string | number)[], value: string): void {
  let node: any = root;
  for (const key of path.slice(0, -1)) node = node[key];
  node[path.at(-1)!] = value;
}
