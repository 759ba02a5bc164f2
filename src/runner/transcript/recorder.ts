import type { Kysely } from "kysely";
import type { Database } from "../../store/schema.ts";
import { appendEvent } from "../../store/transcript.ts";
import type { Clock } from "../../util/clock.ts";
import type { TranscriptEvent } from "./events.ts";

/** Called after each event is stored: live output, SSE later. */
export type TranscriptListener = (
  event: TranscriptEvent,
  meta: { seq: number; at: number; sessionId: string },
) => void;

/**
 * Writes a session's transcript to the store one event at a time, as the events arrive, so
 * a killed process leaves everything up to the kill.
 */
export class TranscriptRecorder {
  readonly #db: Kysely<Database>;
  readonly #sessionId: string;
  readonly #clock: Clock;
  readonly #listener: TranscriptListener | undefined;
  #seq = 0;

  constructor(db: Kysely<Database>, sessionId: string, clock: Clock, listener?: TranscriptListener) {
    this.#db = db;
    this.#sessionId = sessionId;
    this.#clock = clock;
    this.#listener = listener;
  }

  /** Number of events recorded so far. */
  get count(): number {
    return this.#seq;
  }

  async record(event: TranscriptEvent): Promise<void> {
    const seq = ++this.#seq;
    const at = this.#clock.now();
    await appendEvent(this.#db, this.#sessionId, seq, at, event.type, event);
    this.#listener?.(event, { seq, at, sessionId: this.#sessionId });
  }
}
