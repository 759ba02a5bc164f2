/**
 * The GitHub forge's write batching: which {@link MutationBatch} is open in the current async
 * context, how its documents are sent through octokit, and how one alias's GraphQL errors
 * become a {@link GithubForgeError}. `GithubForge.batch` and its `setDraft`, `addComment` and
 * `updateBranch` use it; the queue itself is {@link MutationBatch} (mutation-batch.ts).
 */
import { AsyncLocalStorage } from "node:async_hooks";
import type { NightshiftOctokit } from "./client.ts";
import { fromGraphqlErrors, type GithubForgeError, isGraphqlError, toForgeError } from "./errors.ts";
import {
  type GraphqlErrorEntry,
  MutationBatch,
  type MutationField,
  type MutationReply,
  type SendMutations,
} from "./mutation-batch.ts";

/** How GitHub errors are worded: how to fix credentials, and the secrets to redact. */
export interface ErrorContext {
  credentials: string;
  secrets: readonly string[];
}

/**
 * A {@link SendMutations} over octokit's GraphQL client: GitHub's GraphQL errors come back in
 * the reply (next to the data of the fields that ran); any other failure rejects as a
 * {@link GithubForgeError}.
 */
export function octokitMutationSender(octokit: NightshiftOctokit, errors: ErrorContext): SendMutations {
  return async (query: string, variables: Record<string, unknown>): Promise<MutationReply> => {
    try {
      const data = await octokit.graphql<Record<string, unknown>>(query, variables);
      return { data, errors: [] };
    } catch (err) {
      if (isGraphqlError(err)) {
        const data = err.data && typeof err.data === "object" ? (err.data as Record<string, unknown>) : null;
        return { data, errors: err.errors ?? [] };
      }
      const n = Object.keys(variables).length;
      throw toForgeError(err, `sending a batch of ${n} change(s) (GraphQL mutations)`, errors);
    }
  };
}

/**
 * The open batch of each async context: {@link run} opens one around a function (or joins the
 * one already open), {@link current} finds it from inside, {@link mutate} queues a field in it.
 */
export class BatchScope {
  readonly #store = new AsyncLocalStorage<MutationBatch>();
  readonly #send: SendMutations;
  readonly #maxFields: number;
  readonly #errors: ErrorContext;

  constructor(opts: { send: SendMutations; maxFields: number; errors: ErrorContext }) {
    this.#send = opts.send;
    this.#maxFields = opts.maxFields;
    this.#errors = opts.errors;
  }

  /**
   * Runs `fn` with a batch open, and resolves with its result once every field queued inside
   * it was answered; inside an open batch, `fn` just joins it.
   */
  async run<T>(fn: () => Promise<T>): Promise<T> {
    if (this.#store.getStore()) return fn();
    const batch = new MutationBatch({ send: this.#send, maxFields: this.#maxFields });
    return this.#store.run(batch, async () => {
      try {
        return await fn();
      } finally {
        await batch.idle();
      }
    });
  }

  /** The batch open in the current async context, if any. */
  current(): MutationBatch | undefined {
    return this.#store.getStore();
  }

  /**
   * Queues `field` in `batch` and returns its payload.
   * @throws {GithubForgeError} with the alias's GraphQL errors, or the batch's request error.
   */
  async mutate<T>(batch: MutationBatch, field: MutationField, what: string): Promise<T | null> {
    const o = await batch.enqueue(field);
    if (o.errors.length > 0) throw this.aliasError(o.errors, what);
    return o.data as T | null;
  }

  /** One alias's GraphQL errors as a {@link GithubForgeError} about `what`. */
  aliasError(errors: readonly GraphqlErrorEntry[], what: string): GithubForgeError {
    return fromGraphqlErrors(errors, what, this.#errors);
  }
}
