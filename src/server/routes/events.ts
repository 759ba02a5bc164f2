import { type Context, Hono } from "hono";
import { HTTPException } from "hono/http-exception";
import { streamSSE } from "hono/streaming";
import type { Kysely } from "kysely";
import type { Database } from "../../store/schema.ts";
import {
  type EventCursor,
  latestEventCursor,
  type SessionChange,
  sessionChangesAfter,
  type TranscriptChange,
  transcriptEventsAfter,
} from "../../store/session-views.ts";
import type { Redactor } from "../../util/redact.ts";

/**
 * `GET /v1/events`: session state changes and transcript events as Server-Sent Events, read
 * from the store (so sessions run by another process appear too). Every message's `id` is a
 * cursor `<session change id>-<transcript rowid>`; a client that reconnects with
 * `Last-Event-ID` (or `?after=`) gets exactly the events after it, none missed, none twice.
 * Without a cursor the stream starts at the present.
 *
 * Messages: `event: session` `{"id","session_id","state","at"}` and `event: transcript`
 * `{"session_id","seq","at","kind","event"}` (the stored event, redacted again on the way
 * out). `?session=<id>` limits both to one session.
 */

/** Polls the store for new events, once per interval for all its subscribers, only while it has any. */
export class EventHub {
  readonly #db: Kysely<Database>;
  readonly #pollMs: number;
  readonly #waiters = new Set<() => void>();
  #timer: ReturnType<typeof setTimeout> | undefined;
  #last: EventCursor | undefined;
  /** Reads shared by the streams at the same cursor until the next wake-up (see {@link shared}). */
  #reads = new Map<string, Promise<unknown>>();

  /** @param pollMs how often the store is looked at while a stream is open (ms, default 100). */
  constructor(db: Kysely<Database>, pollMs = 100) {
    if (!(pollMs > 0)) throw new Error(`EventHub: pollMs must be > 0 ms, got ${pollMs}`);
    this.#db = db;
    this.#pollMs = pollMs;
  }

  /**
   * Resolves `true` at the next poll that finds new events (or a {@link notify}), `false` after
   * `maxMs` (default 1 s) without one.
   */
  wait(maxMs = 1_000): Promise<boolean> {
    return new Promise((resolve) => {
      const finish = (notified: boolean) => {
        clearTimeout(t);
        this.#waiters.delete(done);
        resolve(notified);
      };
      const done = () => finish(true);
      const t = setTimeout(() => finish(false), maxMs);
      this.#waiters.add(done);
      this.#schedule();
    });
  }

  /** Wakes every waiter now (an in-process writer that knows it just wrote). */
  notify(): void {
    this.#reads.clear();
    for (const w of [...this.#waiters]) w();
  }

  /**
   * One store read for every stream that asks for the same `key` (the same cursor and filter)
   * until the next wake-up: 50 open streams cost one query per change, not 50, and share the
   * rows. Nothing is missed: rows stored after a read wake the streams again, and a wake-up
   * drops every shared read.
   */
  shared<T>(key: string, read: () => Promise<T>): Promise<T> {
    let p = this.#reads.get(key) as Promise<T> | undefined;
    if (!p) {
      p = read();
      this.#reads.set(key, p);
      p.catch(() => this.#reads.delete(key));
    }
    return p;
  }

  #schedule(): void {
    if (this.#timer !== undefined) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      latestEventCursor(this.#db)
        .then((c) => {
          const changed =
            !this.#last || c.change !== this.#last.change || c.transcript !== this.#last.transcript;
          this.#last = c;
          if (changed) this.notify();
        })
        .catch(() => undefined)
        .finally(() => {
          if (this.#waiters.size) this.#schedule();
        });
    }, this.#pollMs);
    this.#timer.unref?.();
  }
}

/** Parses an event id (`Last-Event-ID`): `<change>-<transcript>`. */
export function parseEventCursor(text: string): EventCursor {
  const m = /^(\d{1,15})-(\d{1,15})$/.exec(text.trim());
  if (!m)
    throw new HTTPException(400, {
      message: `Last-Event-ID (or ?after=) must be an id this stream sent, like "12-345"; got ${JSON.stringify(text.slice(0, 40))}`,
    });
  return { change: Number(m[1]), transcript: Number(m[2]) };
}

/** The id of the stream position `c`. */
export function formatEventCursor(c: EventCursor): string {
  return `${c.change}-${c.transcript}`;
}

/** One message of a store event stream. */
export interface StreamMessage {
  event: string;
  data: string;
}

/** How {@link streamStoreEvents} turns store events into messages (`undefined`: send nothing). */
export interface StreamFormat {
  session(change: SessionChange): StreamMessage | undefined | Promise<StreamMessage | undefined>;
  transcript(event: TranscriptChange): StreamMessage | undefined | Promise<StreamMessage | undefined>;
}

/**
 * Streams the store's events after the request's cursor as SSE until the client goes away:
 * the shared loop of `GET /v1/events` and the dashboard's session page.
 */
export function streamStoreEvents(
  c: Context,
  db: Kysely<Database>,
  hub: EventHub,
  format: StreamFormat,
  opts: { sessionId?: string } = {},
): Response {
  const given = c.req.header("last-event-id") ?? c.req.query("after");
  const start = given !== undefined && given !== "" ? parseEventCursor(given) : undefined;
  // The HTTP server this request came through (@hono/node-server): once it stops listening
  // (`nightshift serve` shutting down) the stream ends, so it does not hold the shutdown up;
  // the browser reconnects to the next server with its Last-Event-ID.
  const server = (c.env as { incoming?: { socket?: { server?: { listening?: boolean } } } } | undefined)
    ?.incoming?.socket?.server;
  return streamSSE(c, async (stream) => {
    let closed = false;
    stream.onAbort(() => {
      closed = true;
      hub.notify();
    });
    const cursor = start ?? (await latestEventCursor(db));
    // Tells the client where it is, so even a stream with no event yet can be resumed.
    await stream.writeSSE({ event: "ready", data: "{}", id: formatEventCursor(cursor), retry: 1000 });
    while (!closed) {
      const changes = await hub.shared(`changes>${cursor.change}`, () =>
        sessionChangesAfter(db, cursor.change),
      );
      for (const ch of changes) {
        cursor.change = ch.id;
        if (opts.sessionId && ch.sessionId !== opts.sessionId) continue;
        const m = await format.session(ch);
        if (m) await stream.writeSSE({ ...m, id: formatEventCursor(cursor) });
      }
      const events = await hub.shared(`transcript>${cursor.transcript}:${opts.sessionId ?? "*"}`, () =>
        transcriptEventsAfter(db, cursor.transcript, opts),
      );
      for (const ev of events) {
        cursor.transcript = ev.rowid;
        const m = await format.transcript(ev);
        if (m) await stream.writeSSE({ ...m, id: formatEventCursor(cursor) });
      }
      if (changes.length >= 500 || events.length >= 500) continue;
      // Idle: wake up every second to see whether the server is stopping; a comment every
      // 15 s keeps proxies from closing the connection.
      let idleMs = 0;
      while (!closed && !(await hub.wait(1_000))) {
        if (server && server.listening === false) closed = true;
        else if ((idleMs += 1_000) % 15_000 === 0) await stream.write(": keep-alive\n\n");
      }
    }
    stream.close().catch(() => undefined);
  });
}

/** The JSON format of `GET /v1/events`. */
export function jsonEventFormat(redactor: Redactor): StreamFormat {
  return {
    session: (ch) => ({
      event: "session",
      data: JSON.stringify({ id: ch.id, session_id: ch.sessionId, state: ch.state, at: ch.at }),
    }),
    transcript: (ev) => {
      let event: unknown;
      try {
        event = redactor.redactDeep(JSON.parse(ev.data));
      } catch {
        event = { type: "unparsed", line: redactor.redact(ev.data) };
      }
      return {
        event: "transcript",
        data: JSON.stringify({ session_id: ev.sessionId, seq: ev.seq, at: ev.at, kind: ev.kind, event }),
      };
    },
  };
}

/**
 * The routes of the event stream. The caller guards them (the dashboard's login when the
 * server is not on loopback).
 */
export function eventRoutes(db: Kysely<Database>, hub: EventHub, redactor: Redactor): Hono {
  const app = new Hono();
  app.get("/v1/events", (c) => {
    const session = c.req.query("session");
    return streamStoreEvents(c, db, hub, jsonEventFormat(redactor), session ? { sessionId: session } : {});
  });
  return app;
}
