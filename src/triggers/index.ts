/**
 * Triggers: how a routine is woken by something other than its schedule — an authenticated
 * API call, a GitHub webhook delivery, or a generic webhook (Sentry, Linear, monitoring).
 * Pure functions only: the server routes requests here, the store records deliveries.
 */
export { API_TOKEN_PREFIX, createApiToken, hashApiToken, parseBearer, safeEqualHex } from "./api-token.ts";
export type { NewApiToken } from "./api-token.ts";

export { GITHUB_EVENT_ACTIONS, GITHUB_EVENTS } from "./github/events.ts";
export type { GithubEventName } from "./github/events.ts";
export { GithubTriggerSchema, matchGithubEvent } from "./github/filter.ts";
export type { GithubMatch, GithubTrigger } from "./github/filter.ts";
export { gateGithubAuthor, TRUSTED_ASSOCIATIONS } from "./github/author-gate.ts";
export type { AuthorVerdict, RoutineAuthors } from "./github/author-gate.ts";
export { summarizeGithubEvent } from "./github/summarize-event.ts";
export { verifyGithubSignature } from "./github/verify-signature.ts";

export {
  DEFAULT_WEBHOOK_MAX_BYTES,
  WebhookConditionSchema,
  WebhookSourceSchema,
  WebhookSourcesSchema,
} from "./generic/config-schema.ts";
export type { WebhookCondition, WebhookSource } from "./generic/config-schema.ts";
export { matchConditions } from "./generic/conditions.ts";
export type { ConditionsMatch } from "./generic/conditions.ts";
export { idempotencyKey } from "./generic/idempotency-key.ts";
export { verifyGenericRequest } from "./generic/verify-request.ts";
export type { GenericVerifyResult } from "./generic/verify-request.ts";
