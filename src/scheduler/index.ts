/**
 * The scheduler: cron and presets with time zones, one-off triggers, the schedule phrase
 * grammar of the CLI, and the missed-run and overlap policies. Pure functions over times in
 * ms since the epoch; the caller owns the clock and the store.
 */
export { ScheduleError } from "./errors.ts";
export {
  compileSchedule,
  isSchedulePreset,
  presetToCron,
  slotKey,
  type CompiledSchedule,
  type CompileScheduleOptions,
  type SchedulePreset,
  type ScheduleSpec,
} from "./schedule.ts";
export { oneOffTime, parseInstant, type OneOffSpec } from "./one-off.ts";
export { PHRASE_EXAMPLES, parsePhrase, type PhraseResult } from "./phrase.ts";
export { planDueSlots, type DuePlan, type MissedPolicy, type PlanDueSlotsOptions } from "./missed.ts";
export { decideOverlap, type OverlapPolicy, type OverlapState } from "./overlap.ts";
export { resolveTimeZone } from "./tz.ts";
