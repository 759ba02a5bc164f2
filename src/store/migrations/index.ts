import type { Migration, MigrationProvider } from "kysely/migration";
import * as initial from "./0001-initial.ts";
import * as daemon from "./0002-daemon.ts";
import * as forgeChecks from "./0003-forge-checks.ts";
import * as workClaims from "./0004-work-claims.ts";
import * as sessionResults from "./0005-session-results.ts";
import * as followUps from "./0006-follow-ups.ts";
import * as questions from "./0007-questions.ts";
import * as dashboard from "./0008-dashboard.ts";
import * as routineSwitches from "./0009-routine-switches.ts";

/**
 * Every migration, in order. Names sort lexically; never rename or edit one that has
 * shipped — add a new file instead.
 */
export const migrations: Record<string, Migration> = {
  "0001-initial": initial,
  "0002-daemon": daemon,
  "0003-forge-checks": forgeChecks,
  "0004-work-claims": workClaims,
  "0005-session-results": sessionResults,
  "0006-follow-ups": followUps,
  "0007-questions": questions,
  "0008-dashboard": dashboard,
  "0009-routine-switches": routineSwitches,
};

/** Kysely provider over the in-code list (no directory scanning, so it works from any cwd). */
export const migrationProvider: MigrationProvider = {
  getMigrations: async () => migrations,
};
