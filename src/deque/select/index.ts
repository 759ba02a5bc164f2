/**
 * Deque selection: which issues or pull requests a routine's agents work on next. Pure
 * functions over plain data (the caller reads the forge and the store, and passes `now` and a
 * PRNG): the author allowlist, blocker references, rotation past recently failed items, the
 * strategies, and the routine's `select:` block.
 *
 * The session's order: {@link filterByAuthor} (record what was filtered) → {@link selectItems}
 * with the routine's {@link SelectionConfig} and earlier attempts as `rotation`.
 */
export { AuthorAllowlist, filterByAuthor, GITHUB_LOGIN_RE } from "./allowlist.ts";
export type { Authored, AuthoredKind, FilteredRecord } from "./allowlist.ts";
export { BLOCKER_PHRASES, blockerGraph, blockingCount, parseBlockers } from "./blockers.ts";
export type { BlockerGraph, ParsedBlockers } from "./blockers.ts";
export { compareNewest, compareOldest, itemKey, itemRef } from "./item.ts";
export type { QueueItem } from "./item.ts";
export { cooldownFilter, DEFAULT_COOLDOWN_MS, latestAttempts } from "./rotation.ts";
export type { Attempt, AttemptOutcome, Skipped, SkipCode } from "./rotation.ts";
export { SelectionSchema } from "./schema.ts";
export type { SelectionConfig, SelectionInput } from "./schema.ts";
export { selectItems, STRATEGIES } from "./strategies.ts";
export type { SelectOptions, SelectResult, Strategy } from "./strategies.ts";
