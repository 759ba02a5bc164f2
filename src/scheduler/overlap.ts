/**
 * What a slot does when the routine already has a session running:
 * - `"allow"`: start another one alongside.
 * - `"forbid"`: skip this slot.
 * - `"replace"`: cancel the running session and start a new one.
 * - `"queue-one"`: wait for the running session, keeping at most one waiting; later slots are
 *   skipped while one waits.
 */
export type OverlapPolicy = "allow" | "forbid" | "replace" | "queue-one";

/** The routine's sessions at the moment a slot fires. */
export interface OverlapState {
  /** Sessions of this routine currently running. */
  running: number;
  /** Sessions of this routine waiting for a running one to finish. */
  queued: number;
}

/**
 * What to do with a slot, given the routine's overlap policy and its sessions now.
 * `"replace"` means cancel the running session(s), then start.
 *
 * | policy    | nothing running | running, none queued | running and one queued |
 * |-----------|-----------------|----------------------|------------------------|
 * | allow     | start           | start                | start                  |
 * | forbid    | start           | skip                 | skip                   |
 * | replace   | start           | replace              | replace                |
 * | queue-one | start           | queue                | skip                   |
 *
 * @throws RangeError for an unknown policy.
 */
export function decideOverlap(
  policy: OverlapPolicy,
  state: OverlapState,
): "start" | "skip" | "replace" | "queue" {
  const busy = state.running > 0;
  switch (policy) {
    case "allow":
      return "start";
    case "forbid":
      return busy ? "skip" : "start";
    case "replace":
      return busy ? "replace" : "start";
    case "queue-one":
      if (!busy) return "start";
      return state.queued > 0 ? "skip" : "queue";
    default:
      throw new RangeError(
        `unknown overlap policy ${JSON.stringify(policy)}; use allow, forbid, replace or queue-one`,
      );
  }
}
