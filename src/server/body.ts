import type { Context, MiddlewareHandler } from "hono";
import { bodyLimit } from "hono/body-limit";

/**
 * A number of bytes shared by concurrent requests: the bodies the server holds in memory
 * before it knows whether their sender may send them (webhook bodies awaiting their
 * signature check). Without it, many unauthenticated senders with a forged-looking signature
 * could each make the server buffer a maximum-size body at once.
 */
export class ByteBudget {
  /** Bytes that may be held at once, all requests together. */
  readonly total: number;
  #free: number;

  /** @param total - bytes that may be held at once, all requests together. */
  constructor(total: number) {
    this.total = total;
    this.#free = total;
  }

  /** Bytes not taken right now. */
  get free(): number {
    return this.#free;
  }

  /**
   * Takes `bytes` if that many are free.
   * @returns a function that gives them back (idempotent), or `undefined` when they are not free.
   */
  take(bytes: number): (() => void) | undefined {
    if (bytes > this.#free) return undefined;
    this.#free -= bytes;
    let given = false;
    return () => {
      if (given) return;
      given = true;
      this.#free += bytes;
    };
  }
}

/** Options of {@link boundedBody}. */
export interface BoundedBodyOptions {
  /** Largest body accepted, in bytes. */
  maxBytes: number;
  /** Answer for a body over `maxBytes` (normally 413). */
  onTooLarge(c: Context): Response | Promise<Response>;
  /**
   * Held while the request is handled: `Content-Length` bytes, or `maxBytes` for a body of
   * unknown length. When that much is not free the request is answered 503 (with
   * `Retry-After`) without reading its body.
   */
  budget?: ByteBudget;
}

/** Whether the request declares its length (and not a chunked transfer); the length, if so. */
function declaredLength(c: Context): number | undefined {
  const h = c.req.raw.headers;
  if (h.has("transfer-encoding") || !h.has("content-length")) return undefined;
  const n = Number(h.get("content-length"));
  return Number.isSafeInteger(n) && n >= 0 ? n : undefined;
}

/**
 * Bounds a route's request body before anything reads it (hono's `bodyLimit` does the
 * counting): a `Content-Length` over `maxBytes` is answered with `onTooLarge` without reading
 * a byte; a chunked body is read only up to `maxBytes` and answered `onTooLarge` as soon as it
 * passes it. The rest of a refused body is never buffered (@hono/node-server drains and drops
 * it, then closes the connection). Put it after the checks that need no body (tokens,
 * signature header shape), so unauthenticated requests never get their body read at all.
 *
 * With `budget`, the request also holds its size of that budget until its handler returns;
 * when the budget is spent the answer is 503 `{error: "busy"}` with `Retry-After: 1`.
 */
export function boundedBody(opts: BoundedBodyOptions): MiddlewareHandler {
  const limit = bodyLimit({ maxSize: opts.maxBytes, onError: opts.onTooLarge });
  return async (c, next) => {
    // A declared length is checked from the header alone, and the body is left untouched:
    // HTTP/1.1 framing delivers exactly that many bytes, and @hono/node-server then reads
    // them straight from the socket instead of through a web stream (`c.req.raw.body`).
    const declared = declaredLength(c);
    if (declared !== undefined && declared > opts.maxBytes) return opts.onTooLarge(c);
    if (declared === undefined && !c.req.raw.body) return next();
    const bounded: MiddlewareHandler = declared === undefined ? limit : (_c, n) => n();
    if (!opts.budget) return bounded(c, next);
    const release = opts.budget.take(declared ?? opts.maxBytes);
    if (!release) {
      c.header("Retry-After", "1");
      return c.json(
        {
          error: "busy",
          message: "too many large request bodies are being received at once; retry in a moment",
        },
        503,
      );
    }
    try {
      return await bounded(c, next);
    } finally {
      release();
    }
  };
}
