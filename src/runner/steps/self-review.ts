import type { StepResult } from "./test-step.ts";

/**
 * The environment of a deterministic step (the test command): what the agent had minus the
 * model credentials — a test suite has no business with them.
 */
export function stepEnv(
  hostEnv: NodeJS.ProcessEnv,
  extra: Record<string, string>,
  home: string,
  tmp: string,
): Record<string, string> {
  const env: Record<string, string> = {
    PATH: hostEnv.PATH ?? "/usr/local/bin:/usr/bin:/bin",
    HOME: home,
    TMPDIR: tmp,
    LANG: hostEnv.LANG ?? "C.UTF-8",
    CI: "1",
  };
  return { ...env, ...extra };
}

/**
 * The self-review pass's prompt: a fresh agent reviews the branch's change against the task
 * (and the test command's failure, when there was one) and fixes what it finds.
 */
export function selfReviewPrompt(task: string, baseSha: string, test: StepResult | undefined): string {
  const parts = [
    "You are reviewing a change that another agent just made in this workspace, before it is pushed.",
    `See it with \`git diff ${baseSha}\` (uncommitted work included) and \`git log ${baseSha}..HEAD\`.`,
    "Check it against the task below: does it do what was asked, completely, with tests where the repository has them, and nothing unrelated?",
    "Fix what is wrong directly in the working tree. If the change is right, change nothing. End with a short summary of what you checked and changed.",
  ];
  if (test) {
    parts.push(
      test.exitCode === 0
        ? `The test command \`${test.command}\` passes.`
        : `The test command \`${test.command}\` ${test.exitCode === null ? "was stopped (timeout)" : `exited ${test.exitCode}`}. Its output ends with:\n\n\`\`\`\n${test.output.slice(-6000)}\n\`\`\`\n\nMake it pass.`,
    );
  }
  parts.push(`## The task\n\n${task}`);
  return parts.join("\n\n");
}
