import type { TestResult } from "../../session/states.ts";
import { updateSession } from "../../store/sessions.ts";
import { selfReviewPrompt, stepEnv } from "../steps/self-review.ts";
import { runStep, type StepResult } from "../steps/test-step.ts";
import type { AgentOutcome } from "./agent.ts";
import type { PhaseResult, SessionContext } from "./context.ts";
import type { SessionInputs, SessionWorkspace } from "./prepare.ts";
import type { SessionConfinement } from "./sandbox.ts";

/** What the steps after the agent found: the last test step's result and how many ran. */
export interface StepsOutcome {
  lastTest: StepResult | undefined;
  testRuns: number;
}

/** How a test step ended, as stored on the session. */
export function testResultOf(step: StepResult): TestResult {
  return step.exitCode === null ? "killed" : step.exitCode === 0 ? "passed" : "failed";
}

/**
 * The deterministic steps after the agent: the work's test command (recorded in the
 * transcript and on the session), then a self-review pass when the work asks for one
 * (`always`, or `on_failure` after a failed test) and the test command again.
 *
 * @returns the steps' outcome, or how the session ends when the self-review pass failed.
 */
export async function afterAgentSteps(
  ctx: SessionContext,
  inputs: SessionInputs,
  ws: SessionWorkspace,
  conf: SessionConfinement,
  agent: AgentOutcome,
): Promise<PhaseResult<StepsOutcome>> {
  const { work, transcript, db, id, req } = ctx;
  let testRuns = 0;
  const test = async (): Promise<StepResult | undefined> => {
    if (!work.testCommand) return undefined;
    const step = await runStep({
      command: work.testCommand,
      cwd: ws.cwd,
      env: stepEnv(conf.agentHostEnv, inputs.environment.env, ws.home, ws.tmp),
      policy: conf.policy,
      clock: ctx.clock,
      timeoutMs: ctx.remaining(),
      ...(req.signal ? { signal: req.signal } : {}),
    });
    await transcript.record({
      type: "step",
      name: "test",
      command: step.command,
      exitCode: step.exitCode,
      output: step.output,
      durationMs: step.durationMs,
    });
    testRuns++;
    await updateSession(db, id, {
      test_command: step.command,
      test_exit_code: step.exitCode,
      test_result: testResultOf(step),
      test_runs: testRuns,
    });
    return step;
  };
  const tested = await test();
  const review =
    work.selfReview === "always" ||
    (work.selfReview === "on_failure" && tested !== undefined && tested.exitCode !== 0);
  let lastTest = tested;
  if (review) {
    const reviewEnded = await agent.passes.run(selfReviewPrompt(agent.prompt, ws.primary.baseSha, tested));
    if (reviewEnded) return { end: reviewEnded };
    lastTest = (await test()) ?? lastTest;
  }
  return { next: { lastTest, testRuns } };
}
