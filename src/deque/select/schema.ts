/**
 * The `select:` block's schema lives in src/config/workflow-schema.ts (config stays below
 * workflows); it is re-exported here beside the functions that use it.
 */
export { SelectionSchema } from "../../config/deque-schema.ts";
export type { Selection as SelectionConfig } from "../../config/deque-schema.ts";
import type { z } from "zod";
import type { SelectionSchema } from "../../config/deque-schema.ts";
/** The `select:` block as written (every field optional). */
export type SelectionInput = z.input<typeof SelectionSchema>;
