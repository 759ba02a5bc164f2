import type { Kysely } from "kysely";

/**
 * What a session reports beyond the agent's usage: the result of the routine's test command
 * (`workflow.test_command`, the last run when a self-review pass ran it again) and where the
 * session's model came from (`routine`: the routine's `model:`; `agent`: the CLI's own default,
 * as its init event reported it).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  // One column per statement: SQLite adds one column per ALTER TABLE.
  const columns = [
    ["test_command", "text"],
    ["test_exit_code", "integer"],
    ["test_result", "text"],
    ["test_runs", "integer"],
    ["model_source", "text"],
  ] as const;
  for (const [name, type] of columns) await db.schema.alterTable("sessions").addColumn(name, type).execute();
}
