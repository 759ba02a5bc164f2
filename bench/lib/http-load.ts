/**
 * bench/lib/http-load: the load generator of bench/webhook-ingest, run as a child process
 * (`fork`) so the requests and their timing do not share the event loop (or the core) of the
 * server being measured.
 *
 * Protocol (IPC): the parent sends one {@link LoadJob} per round; the child builds every
 * request body before the timed loop, sends the requests with Node's `fetch` (undici, keep-alive)
 * from `concurrency` concurrent workers, and answers with a {@link LoadReport}. The loop is
 * bounded in count (`bodies.length`) and in time (`deadlineMs`, and a per-request timeout).
 * `{ type: "exit" }` ends the child.
 */
import { performance } from "node:perf_hooks";

/** One round of requests. */
export interface LoadJob {
  type: "job";
  url: string;
  /** Headers common to every request. */
  headers: Record<string, string>;
  /** The body template; `placeholder` is replaced by each request's `id`. */
  template: string;
  placeholder: string;
  /** Per request: its id (into the body and `idHeader`) and its precomputed signature. */
  requests: { id: string; signature: string }[];
  idHeader: string;
  signatureHeader: string;
  concurrency: number;
  /** Stop starting requests after this many ms. */
  deadlineMs: number;
  /** Abort one request after this many ms. */
  requestTimeoutMs: number;
}

/** What one round measured. Latencies are ms from `fetch()` to the whole response body read. */
export interface LoadReport {
  type: "report";
  latencies: number[];
  statuses: Record<string, number>;
  errors: string[];
  /** ms from the first request sent to the last response read. */
  wallMs: number;
  /** Requests not sent because the deadline passed. */
  notSent: number;
}

async function runJob(job: LoadJob): Promise<LoadReport> {
  // Everything but the send is done before the clock starts.
  const prepared = job.requests.map((r) => ({
    headers: { ...job.headers, [job.idHeader]: r.id, [job.signatureHeader]: r.signature },
    body: job.template.replace(job.placeholder, r.id),
  }));
  const latencies: number[] = [];
  const statuses: Record<string, number> = {};
  const errors: string[] = [];
  let next = 0;
  const t0 = performance.now();
  const deadline = t0 + job.deadlineMs;
  const worker = async () => {
    for (;;) {
      if (next >= prepared.length || performance.now() > deadline) return;
      const req = prepared[next++]!;
      const start = performance.now();
      try {
        const res = await fetch(job.url, {
          method: "POST",
          headers: req.headers,
          body: req.body,
          signal: AbortSignal.timeout(job.requestTimeoutMs),
        });
        await res.arrayBuffer();
        latencies.push(performance.now() - start);
        statuses[res.status] = (statuses[res.status] ?? 0) + 1;
      } catch (err) {
        if (errors.length < 10) errors.push(String(err));
        statuses.error = (statuses.error ?? 0) + 1;
      }
    }
  };
  await Promise.all(Array.from({ length: job.concurrency }, worker));
  return {
    type: "report",
    latencies,
    statuses,
    errors,
    wallMs: performance.now() - t0,
    notSent: prepared.length - next,
  };
}

process.on("message", (msg: LoadJob | { type: "exit" }) => {
  if (msg.type === "exit") {
    process.disconnect?.();
    return;
  }
  runJob(msg).then(
    (report) => process.send!(report),
    (err: unknown) =>
      process.send!({
        type: "report",
        latencies: [],
        statuses: {},
        errors: [String(err)],
        wallMs: 0,
        notSent: msg.requests.length,
      } satisfies LoadReport),
  );
});
