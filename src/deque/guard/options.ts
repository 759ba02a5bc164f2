import type { z } from "zod";
import { GuardOptionsSchema } from "../../config/deque-schema.ts";

/**
 * The guard's settings: the `guard:` block of a routine's `workflow:` front matter, and what
 * `nightshift guard` builds from its flags. The shape lives in `src/config/workflow-schema.ts`
 * (config stays below workflows); it is strict, so a misspelt `ignore_check` is an error:
 * - `ignore_checks` (default `[]`): check names (picomatch globs, `*` also crosses `/`) the
 *   guard never demotes for;
 * - `required_checks_only` (default `false`): consider only checks branch protection requires;
 * - `update_branches` (default `true`): merge the base into clean PRs behind it;
 * - `comment` (default `true`): one comment on a demoted PR saying why;
 * - `dry_run` (default `false`): decide and report, change nothing.
 */
export { GuardOptionsSchema };
export type { GuardOptions } from "../../config/deque-schema.ts";

/** Guard settings as written (every field optional). */
export type GuardOptionsInput = z.input<typeof GuardOptionsSchema>;
