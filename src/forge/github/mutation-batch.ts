/**
 * Coalesces GitHub GraphQL mutations into few requests. GraphQL lets one document carry many
 * mutation fields under aliases (`m0: convertPullRequestToDraft(…) m1: addComment(…)`), and
 * GitHub executes the root fields of a mutation one after the other, in document order (the
 * GraphQL spec's serial execution of mutations). Each alias gets its own result or its own
 * errors (`errors[].path[0]` is the alias), so one refused change does not fail the others.
 *
 * {@link MutationBatch} queues fields and sends them when the caller's synchronous work is
 * done: the first {@link MutationBatch.enqueue} schedules a flush with `setImmediate`, which
 * runs after every pending promise continuation, so calls made together (a `Promise.all`
 * over many pull requests) end up in the same document, and a caller that awaits one call
 * before making the next is never stuck: its call is sent on the next flush.
 */

/** One error of a GraphQL reply, as GitHub sends it. */
export interface GraphqlErrorEntry {
  message: string;
  /** GitHub's error type: `NOT_FOUND`, `UNPROCESSABLE`, `FORBIDDEN`, `RATE_LIMITED`, … */
  type?: string;
  /** Where in the reply the error belongs; `[alias, …]` for a mutation field. */
  path?: readonly (string | number)[];
}

/** One mutation field to send: the root field, its input object type and value, and what to read back. */
export interface MutationField {
  /** Root mutation field of GitHub's schema, such as `addComment`. */
  field: string;
  /** Its input object type, such as `AddCommentInput` (the variable's type). */
  inputType: string;
  /** The input object, sent as a variable. */
  input: Record<string, unknown>;
  /** Selection set on the payload, braces included: `{ pullRequest { isDraft } }`. */
  selection: string;
}

/** What GitHub answered for one alias: its payload (null when it failed) and the errors under its path. */
export interface AliasOutcome {
  data: unknown;
  errors: GraphqlErrorEntry[];
}

/** The reply to one mutation document: `data` by alias (null when nothing ran) and every error. */
export interface MutationReply {
  data: Record<string, unknown> | null;
  errors: GraphqlErrorEntry[];
}

/**
 * Sends one document. Resolves with GitHub's GraphQL reply, errors included (GitHub answers
 * HTTP 200 with `errors` next to the `data` of the fields that ran); rejects only when no
 * GraphQL reply came (network, HTTP error after retries): then every field of the document
 * fails with that error, since which of them ran is unknown.
 */
export type SendMutations = (query: string, variables: Record<string, unknown>) => Promise<MutationReply>;

/** Operation name of every batched mutation document (GitHub logs it; the fake records it). */
export const MUTATION_BATCH_OPERATION = "NightshiftMutationBatch";

/**
 * The document for `fields`: alias `m<i>` is field i with input variable `$i<i>` of its input
 * type. Returns the query and its variables.
 */
export function mutationDocument(fields: readonly MutationField[]): {
  query: string;
  variables: Record<string, unknown>;
} {
  if (fields.length === 0) throw new Error("mutationDocument: no fields");
  const vars = fields.map((f, i) => `$i${i}: ${f.inputType}!`).join(", ");
  const body = fields.map((f, i) => `  m${i}: ${f.field}(input: $i${i}) ${f.selection}`).join("\n");
  const variables: Record<string, unknown> = {};
  fields.forEach((f, i) => (variables[`i${i}`] = f.input));
  return { query: `mutation ${MUTATION_BATCH_OPERATION}(${vars}) {\n${body}\n}`, variables };
}

/** Splits a reply into per-alias outcomes; errors without an alias path belong to every field. */
export function outcomes(reply: MutationReply, count: number): AliasOutcome[] {
  const general = reply.errors.filter((e) => typeof e.path?.[0] !== "string");
  return Array.from({ length: count }, (_, i) => {
    const alias = `m${i}`;
    const own = reply.errors.filter((e) => e.path?.[0] === alias);
    return { data: reply.data?.[alias] ?? null, errors: [...own, ...general] };
  });
}

interface Pending {
  field: MutationField;
  resolve: (o: AliasOutcome) => void;
  reject: (err: unknown) => void;
}

/**
 * A queue of mutation fields sent as documents of at most `maxFields` fields, one document
 * at a time (GitHub asks integrators to send mutations serially). Fields queued while a
 * document is in flight go into the next one. Deterministic: the same calls in the same
 * order give the same documents.
 */
export class MutationBatch {
  readonly #send: SendMutations;
  readonly #maxFields: number;
  readonly #queue: Pending[] = [];
  #draining: Promise<void> | null = null;
  #documents = 0;

  constructor(opts: { send: SendMutations; maxFields: number }) {
    if (!Number.isInteger(opts.maxFields) || opts.maxFields < 1)
      throw new Error(`MutationBatch: maxFields must be a positive whole number, got ${opts.maxFields}`);
    this.#send = opts.send;
    this.#maxFields = opts.maxFields;
  }

  /** Documents sent so far. */
  get documents(): number {
    return this.#documents;
  }

  /**
   * Queues one field; resolves with its own outcome once its document was answered, or
   * rejects with the send error when no reply came.
   */
  enqueue(field: MutationField): Promise<AliasOutcome> {
    return new Promise<AliasOutcome>((resolve, reject) => {
      this.#queue.push({ field, resolve, reject });
      this.#draining ??= this.#drain();
    });
  }

  /** Resolves once the queue is empty and no document is in flight. Never rejects. */
  async idle(): Promise<void> {
    while (this.#draining) await this.#draining;
  }

  async #drain(): Promise<void> {
    try {
      for (;;) {
        // Let every continuation that is ready run first: callers resuming after the previous
        // document (or the synchronous fan-out that started the batch) queue their next fields.
        await new Promise<void>((r) => setImmediate(r));
        if (this.#queue.length === 0) return;
        const chunk = this.#queue.splice(0, this.#maxFields);
        const { query, variables } = mutationDocument(chunk.map((p) => p.field));
        this.#documents++;
        let reply: MutationReply;
        try {
          reply = await this.#send(query, variables);
        } catch (err) {
          for (const p of chunk) p.reject(err);
          continue;
        }
        const out = outcomes(reply, chunk.length);
        chunk.forEach((p, i) => p.resolve(out[i]!));
      }
    } finally {
      this.#draining = null;
    }
  }
}
