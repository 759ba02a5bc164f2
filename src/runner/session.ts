import { mkdirSync } from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";
import { formatDuration } from "../config/duration.ts";
import type { Routine } from "../config/routine-schema.ts";
import type { Issue } from "../forge/types.ts";
import { LocalForge } from "../forge/local/local-forge.ts";
import type { SessionRow, SessionState, TestResult } from "../store/schema.ts";
import { findSession, insertSession, setSessionState, updateSession } from "../store/sessions.ts";
import { randomId } from "../util/ids.ts";
import { type Redactor, redactorFromEnv } from "../util/redact.ts";
import {
  type AgentPassContext,
  type CommandRecord,
  type ResultEvent,
  runAgentPass,
  type SessionEnd,
} from "./agent-pass.ts";
import { AGENT_ADAPTERS } from "./agents/index.ts";
import { deliverRepo, type RepoDelivery } from "./delivery/deliver.ts";
import { renderPrBody } from "./delivery/pr-body.ts";
import type { Project } from "./project.ts";
import { EnvironmentError, type ResolvedEnvironment, resolveEnvironment } from "./environment.ts";
import { buildPrompt } from "./prompt.ts";
import { formatReason, internalErrorReason } from "./reason.ts";
import { sandboxAvailable } from "./sandbox/availability.ts";
import type { SandboxPolicy } from "./sandbox/policy.ts";
import { modelAccess, sessionSandboxPolicy } from "./sandbox/session-policy.ts";
import { SANDBOX_DISABLED_WARNING } from "./sandbox/wrap.ts";
import { resolveRepos } from "./repos.ts";
import { resolveMcpServers, type SessionMcp } from "./mcp/servers.ts";
import { memoryLimitWarning } from "./sandbox/memory.ts";
import { prepareSetup } from "./setup/index.ts";
import { TranscriptRecorder, type TranscriptListener } from "./transcript/recorder.ts";
import { UsageMeter } from "./transcript/usage.ts";
import { selfReviewPrompt, stepEnv } from "./steps/self-review.ts";
import { runStep, type StepResult } from "./steps/test-step.ts";
import type { SessionWork } from "./work.ts";
import { cloneWorkspace } from "./workspace/clone.ts";
import type { RunnerRepo } from "./workspace/runner-git.ts";
import { updateMirror } from "./workspace/mirror.ts";
import { removeExpiredWorkspaces } from "./workspace/retention.ts";

/** One request to run a routine. */
export interface RunRequest {
  routine: Routine;
  /** Run-specific context (`--text`, an API call's `text`). */
  text?: string;
  /** The issue this session works on; its title and body go into the prompt. */
  issue?: Issue;
  /** What started the session: `manual`, `schedule`, `api`, `github`, `webhook`. */
  trigger?: string;
  /** Aborting cancels the session: the agent's process group is stopped. */
  signal?: AbortSignal;
  /** Called after each transcript event is stored. */
  onEvent?: TranscriptListener;
  /** Environment the agent's credentials come from; defaults to `process.env`. */
  hostEnv?: NodeJS.ProcessEnv;
  /** Called once the session exists, with its id. */
  onCreated?(sessionId: string): void;
  /** Use this id for the session (an API fire answers it before the session starts). */
  sessionId?: string;
  /** Set by workflow blueprints: branch, PR to continue, prompt sections, steps after the agent. */
  work?: SessionWork;
}

/**
 * Runs one session of a routine from start to end and returns its final record:
 * `queued → preparing` (credentials, mirror, clone) `→ running` (the agent) `→ finishing`
 * (commit, push, draft PR) `→ succeeded | failed | timed_out | cancelled`. The
 * infrastructure outcome and the task outcome are stored separately. Failures are recorded,
 * not thrown: the transcript and the reason are always in the store.
 */
export async function runSession(project: Project, req: RunRequest): Promise<SessionRow> {
  const { routine } = req;
  const work: SessionWork = req.work ?? {};
  const { db } = project.store;
  const clock = project.clock;
  const hostEnv = req.hostEnv ?? process.env;
  const id = req.sessionId ?? randomId();
  const createdAt = clock.now();
  await insertSession(db, {
    id,
    routine: routine.name,
    agent: routine.agent,
    model: routine.model ?? null,
    trigger: req.trigger ?? "manual",
    issueNumber: work.itemNumber ?? req.issue?.number ?? null,
    inputText: req.text ?? null,
    createdAt,
    runner: { host: hostname(), pid: process.pid },
  });
  req.onCreated?.(id);
  const transcript = new TranscriptRecorder(db, id, clock, {
    ...(req.onEvent ? { listener: req.onEvent } : {}),
    redactor: sessionRedactor(project, hostEnv),
    limits: {
      eventBytes: project.config.limits.event_bytes,
      transcriptBytes: project.config.limits.transcript_bytes,
    },
  });
  const redact = (text: string) => transcript.redactor.redact(text);
  let startedAt = createdAt;
  const setState = async (state: SessionState, detail?: string) => {
    if (state === "running") startedAt = clock.now();
    await setSessionState(db, id, state, state === "running" ? { started_at: startedAt } : {});
    await transcript.record({ type: "state", state, ...(detail ? { detail } : {}) });
  };
  const finish = async (f: SessionEnd): Promise<SessionRow> => {
    await setSessionState(db, id, f.state, {
      infra_outcome: f.infra,
      task_outcome: f.task ?? null,
      reason: f.reason ? formatReason(f.reason, transcript.redactor) : null,
      finished_at: clock.now(),
      runner_pid: null,
      agent_pid: null,
    });
    if (f.reason && f.state !== "succeeded") await transcript.record({ type: "error", message: f.reason });
    await transcript.record({ type: "state", state: f.state, ...(f.reason ? { detail: f.reason } : {}) });
    await removeExpiredWorkspaces(db, project.config.workspaces.retention, clock.now());
    return (await findSession(db, id))!;
  };

  // One deadline for the whole session: setup, every agent pass, the test step and delivery
  // share the routine's timeout, counted from the moment the session starts preparing.
  const deadline = createdAt + routine.timeout;
  const remaining = () => Math.max(1, deadline - clock.now());
  try {
    await setState("preparing");
    const adapter = AGENT_ADAPTERS[routine.agent];
    const credentialProblem = adapter.checkCredentials(hostEnv);
    if (credentialProblem)
      return await finish({ state: "failed", infra: "missing_credentials", reason: credentialProblem });
    let environment: ResolvedEnvironment;
    let mcp: SessionMcp;
    try {
      environment = resolveEnvironment(project, routine, hostEnv);
      mcp = resolveMcpServers(project, routine, hostEnv, environment.sandbox === "on");
    } catch (err) {
      if (!(err instanceof EnvironmentError)) throw err;
      return await finish({ state: "failed", infra: "environment_error", reason: err.message });
    }
    transcript.redactor.add([...Object.values(environment.env), ...mcp.secrets]);
    for (const message of environment.warnings ?? []) await transcript.record({ type: "warning", message });
    if (work.filtered?.length) await transcript.record({ type: "filtered", items: work.filtered });

    // Workspace: mirror, a --shared clone of it, the session branch.
    const sessionDir = join(project.stateDir, "sessions", id);
    const home = join(sessionDir, "home");
    const tmp = join(sessionDir, "tmp");
    mkdirSync(home, { recursive: true });
    mkdirSync(tmp, { recursive: true });
    const branch = work.pullRequest
      ? work.pullRequest.head
      : work.branch
        ? work.branch(id)
        : `${routine.branch_prefix}${routine.name}-${id}`;
    const repos = resolveRepos(project.root, routine.repos, project.repoName);
    const gitEnv = await project.forge.gitEnv?.();
    const clones: {
      name: string;
      path: string;
      runner: RunnerRepo;
      mirror: string;
      baseSha: string;
      baseBranch: string;
      remoteUrl: string;
    }[] = [];
    try {
      for (const repo of repos) {
        const forgeRepo = await project.forge.repo(repo.name);
        // Continuing a PR (on the first repository): the mirror must have its head.
        const continuing = work.pullRequest && clones.length === 0 ? work.pullRequest : undefined;
        const mirror = await updateMirror(
          join(project.stateDir, "mirrors"),
          repo.name,
          forgeRepo.remoteUrl,
          continuing
            ? { ref: `refs/heads/${continuing.head}`, sha: continuing.headSha }
            : forgeRepo.defaultBranchSha
              ? { ref: `refs/heads/${forgeRepo.defaultBranch}`, sha: forgeRepo.defaultBranchSha }
              : undefined,
          gitEnv,
        );
        const dest = join(sessionDir, "workspace", repo.name);
        const clone = await cloneWorkspace({
          mirror,
          remoteUrl: forgeRepo.remoteUrl,
          dest,
          base: forgeRepo.defaultBranch,
          ...(forgeRepo.defaultBranchSha ? { baseSha: forgeRepo.defaultBranchSha } : {}),
          branch,
          ...(continuing ? { existingBranch: true } : {}),
          runnerGitDir: join(sessionDir, "git", `${repo.name}.git`),
        });
        clones.push({
          name: repo.name,
          path: dest,
          runner: clone.runner,
          mirror,
          baseSha: clone.baseSha,
          baseBranch: forgeRepo.defaultBranch,
          remoteUrl: forgeRepo.remoteUrl,
        });
      }
    } catch (err) {
      await updateSession(db, id, { workspace_path: sessionDir });
      return await finish({
        state: "failed",
        infra: "workspace_error",
        reason: `could not prepare the workspace: ${(err as Error).message}`,
      });
    }
    const primary = clones[0]!;
    await updateSession(db, id, {
      workspace_path: sessionDir,
      repo: primary.name,
      branch,
      base_branch: primary.baseBranch,
      base_sha: primary.baseSha,
    });

    // The agent.
    const prompt =
      work.prompt ??
      buildPrompt({
        routine,
        branch,
        ...(req.issue ? { issue: req.issue } : {}),
        ...(req.text ? { text: req.text } : {}),
        ...(work.promptSections ? { sections: work.promptSections } : {}),
        ...(work.pullRequest ? { continuing: work.pullRequest.number } : {}),
      });
    const cwd = clones.length === 1 ? primary.path : join(sessionDir, "workspace");
    let agentHostEnv = hostEnv;
    let policy: SandboxPolicy = {
      mode: "none",
      workspace: cwd,
      home,
      tmp,
      allowedDomains: [],
      denyRead: [],
      ...(environment.memoryBytes ? { memoryBytes: environment.memoryBytes } : {}),
    };
    if (environment.sandbox === "on") {
      const available = await sandboxAvailable();
      if (!available.ok)
        return await finish({ state: "failed", infra: "environment_error", reason: available.reason });
      const access = modelAccess(hostEnv);
      agentHostEnv = access.hostEnv;
      try {
        policy = sessionSandboxPolicy({
          project,
          environment,
          workspace: cwd,
          clones: clones.map((c) => c.path),
          mirrors: [...new Set(clones.map((c) => c.mirror))],
          home,
          tmp,
          modelAllow: [...access.allow, ...mcp.allow],
          hostEnv,
          named: Object.values(mcp.servers).flatMap((m) =>
            m.type === "stdio" ? [m.command, ...m.args] : [],
          ),
        });
      } catch (err) {
        return await finish({ state: "failed", infra: "environment_error", reason: (err as Error).message });
      }
    } else {
      await transcript.record({ type: "warning", message: SANDBOX_DISABLED_WARNING });
    }
    const memoryWarning = await memoryLimitWarning(environment.memoryBytes);
    if (memoryWarning) await transcript.record({ type: "warning", message: memoryWarning });
    // The environment's setup script: restored from its cache, or run (src/runner/setup/).
    const setupFailed =
      work.setup === false
        ? undefined
        : await prepareSetup({
            stateDir: project.stateDir,
            environment,
            routine,
            sessionId: id,
            repos: clones,
            cwd,
            home,
            tmp,
            policy,
            hostEnv,
            clock,
            timeoutMs: remaining(),
            ...(req.signal ? { signal: req.signal } : {}),
            record: (ev) => transcript.record(ev),
          });
    if (setupFailed) return await finish(setupFailed);
    const usage = new UsageMeter();
    const commands: CommandRecord[] = [];
    let running = false;
    const pass: AgentPassContext = {
      db,
      sessionId: id,
      routine,
      adapter,
      transcript,
      clock,
      policy,
      cwd,
      home,
      tmp,
      hostEnv: agentHostEnv,
      modelEnv: hostEnv,
      extraEnv: environment.env,
      mcpServers: mcp.servers,
      ...(req.signal ? { signal: req.signal } : {}),
      usage,
      commands,
      deadline: () => deadline,
      onRunning: async () => {
        if (running) return;
        running = true;
        await setState("running");
      },
    };
    /** One agent pass (src/runner/agent-pass.ts); the last successful pass's result is kept. */
    let result: ResultEvent | undefined;
    const runAgent = async (passPrompt: string): Promise<SessionEnd | undefined> => {
      const r = await runAgentPass(pass, passPrompt);
      result = r.result;
      return r.end;
    };
    const ended = await runAgent(prompt);
    if (ended) return await finish(ended);
    const summaryText = result!.text;

    // Deterministic steps after the agent: the test command, then a self-review pass.
    const test = async (): Promise<StepResult | undefined> => {
      if (!work.testCommand) return undefined;
      const step = await runStep({
        command: work.testCommand,
        cwd,
        env: stepEnv(agentHostEnv, environment.env, home, tmp),
        policy,
        clock,
        timeoutMs: remaining(),
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
    let testRuns = 0;
    const tested = await test();
    const review =
      work.selfReview === "always" ||
      (work.selfReview === "on_failure" && tested !== undefined && tested.exitCode !== 0);
    let lastTest = tested;
    if (review) {
      const reviewEnded = await runAgent(selfReviewPrompt(prompt, primary.baseSha, tested));
      if (reviewEnded) return await finish(reviewEnded);
      lastTest = (await test()) ?? lastTest;
    }
    const totals = usage.totals;
    if (work.deliver === false) return await finish({ state: "succeeded", infra: "ok" });

    // Delivery, if the session's time has not run out.
    if (clock.now() >= deadline)
      return await finish({
        state: "timed_out",
        infra: "timeout",
        reason: `the session ran longer than the routine's timeout (${formatDuration(routine.timeout)}) before delivery; nothing was pushed, the work stays in the workspace`,
      });
    await setState("finishing");
    const title = prTitle(routine, req.issue, summaryText);
    // Asked again: an App installation token may have expired during a long session.
    const pushEnv = await project.forge.gitEnv?.();
    const deliveries: RepoDelivery[] = [];
    try {
      for (const c of clones) {
        deliveries.push(
          await deliverRepo({
            db,
            forge: project.forge,
            clock,
            sessionId: id,
            routine: routine.name,
            branchPrefix: routine.branch_prefix,
            repo: c.name,
            workspace: c.runner,
            baseSha: c.baseSha,
            baseBranch: c.baseBranch,
            sessionBranch: branch,
            remoteUrl: c.remoteUrl,
            authorName: project.config.git.author_name,
            authorEmail: project.config.git.author_email,
            ...(req.issue ? { issueNumber: req.issue.number } : {}),
            protectedPaths: project.config.protected_paths,
            ...(pushEnv ? { gitEnv: pushEnv } : {}),
            ...(work.pullRequest && c === primary
              ? { pullRequest: { number: work.pullRequest.number } }
              : {}),
            prTitle: redact(title),
            prBody: (diff) =>
              redact(
                renderPrBody({
                  sessionId: id,
                  routine: routine.name,
                  agent: routine.agent,
                  model: routine.model ?? usage.model ?? null,
                  ...(!routine.model && usage.model ? { modelChosenByAgent: true } : {}),
                  ...(lastTest ? { tests: { ...lastTest, runs: testRuns } } : {}),
                  ...(req.issue ? { issueNumber: req.issue.number } : {}),
                  ...(summaryText ? { summary: summaryText } : {}),
                  diff,
                  commands,
                  tokens: totals,
                  peakContextTokens: usage.peakContextTokens,
                  ...(usage.numTurns !== undefined ? { numTurns: usage.numTurns } : {}),
                  ...(usage.costUsd !== undefined ? { costUsd: usage.costUsd } : {}),
                  durationMs: clock.now() - startedAt,
                  transcript: project.config.base_url
                    ? `${project.config.base_url.replace(/\/$/, "")}/sessions/${id}`
                    : `\`nightshift logs ${id}\``,
                }),
              ),
            onStep: (action, d) => transcript.record({ type: "delivery", action, repo: c.name, ...d }),
          }),
        );
      }
    } catch (err) {
      return await finish({
        state: "failed",
        infra: "delivery_error",
        reason: `delivery failed: ${(err as Error).message}`,
      });
    }
    const opened = deliveries.find((d) => d.outcome === "pr_opened" || d.outcome === "pr_updated");
    const refused = deliveries.find((d) => d.outcome === "push_refused");
    const changed = deliveries.filter((d) => d.diff);
    await updateSession(db, id, {
      head_sha: opened?.headSha ?? refused?.headSha ?? null,
      pr_number: opened?.prNumber ?? null,
      files_changed: changed.length ? changed.reduce((s, d) => s + d.diff!.filesChanged, 0) : 0,
      insertions: changed.reduce((s, d) => s + d.diff!.insertions, 0),
      deletions: changed.reduce((s, d) => s + d.diff!.deletions, 0),
      ...(opened ? { branch: opened.branch } : {}),
    });
    if (opened?.headSha && lastTest)
      await recordTestCheck(project, opened.repo, opened.headSha, lastTest).catch((err) =>
        transcript.record({
          type: "warning",
          message: `could not record the test result as a check on ${opened.headSha}: ${(err as Error).message}`,
        }),
      );
    if (refused)
      return await finish({ state: "failed", infra: "ok", task: "push_refused", reason: refused.reason! });
    if (opened)
      return await finish({
        state: "succeeded",
        infra: "ok",
        task: opened.outcome === "pr_updated" ? "pr_updated" : "pr_opened",
      });
    return await finish({
      state: "succeeded",
      infra: "ok",
      task: "no_changes",
      reason: "the agent finished without changing anything: no branch, no PR",
    });
  } catch (err) {
    return await finish({
      state: "failed",
      infra: "internal_error",
      reason: internalErrorReason(err, id, transcript.redactor),
    });
  }
}

/**
 * A pull request's title (and the subject of the runner's commit), written for people: the
 * issue's title; else the first line of the routine's description; else the agent's summary
 * when its first line is a short heading or sentence of its own (at most 72 characters, not
 * introducing more with `:`); else `Changes by the <routine> routine`. Never a cut-off
 * sentence, and no session tag: the session id is in the body, the commit trailers
 * (`Nightshift-Session:`) and the branch, which the ledger reads.
 */
function prTitle(routine: Routine, issue: Issue | undefined, summary: string | undefined): string {
  if (issue?.title.trim()) return issue.title.trim();
  const described = routine.description?.trim().split("\n")[0]?.trim();
  if (described) return described;
  const first = summary
    ?.trim()
    .split("\n")[0]
    ?.replace(/^#+\s*/, "")
    .replace(/^\*\*(.*)\*\*$/, "$1")
    .trim();
  if (first && first.length <= 72 && !first.endsWith(":")) return first;
  return `Changes by the ${routine.name} routine`;
}

/** How a test step ended, as stored on the session. */
function testResultOf(step: StepResult): TestResult {
  return step.exitCode === null ? "killed" : step.exitCode === 0 ? "passed" : "failed";
}

/** Name of the check a session's test step reports on its PR's head (local forge). */
export const TEST_CHECK = "nightshift/test";

/**
 * Reports the session's last test step as a check on the PR's head commit, as a CI would, so
 * `nightshift pr checks`, the guard and the judge see it. Only the local forge stores checks
 * (GitHub accepts check runs from App tokens only); it is not a required check.
 */
async function recordTestCheck(project: Project, repo: string, sha: string, step: StepResult): Promise<void> {
  if (!(project.forge instanceof LocalForge)) return;
  const result = testResultOf(step);
  await project.forge.recordCheck(repo, sha, {
    name: TEST_CHECK,
    status: "completed",
    conclusion: result === "passed" ? "success" : result === "killed" ? "cancelled" : "failure",
    required: false,
    output: `$ ${step.command}\n${step.output}\n[exit ${step.exitCode ?? "killed"}]`,
  });
}

/**
 * The secrets a session must never show: model and forge credentials, the variables named
 * in `redact_env`, and the project's webhook secrets — by value — plus common token shapes.
 */
function sessionRedactor(project: Project, hostEnv: NodeJS.ProcessEnv): Redactor {
  const hooks = Object.values(project.config.webhooks).flatMap((w) => {
    const o = (w ?? {}) as {
      secrets_env?: string[];
      auth?: { hmac?: { secret_env?: string }; bearer?: { token_env?: string } };
    };
    return [...(o.secrets_env ?? []), o.auth?.hmac?.secret_env, o.auth?.bearer?.token_env].filter(
      (n): n is string => !!n,
    );
  });
  const forgeToken = project.config.forge.type === "github" ? [project.config.forge.token_env] : [];
  const names = [...project.config.redact_env, ...hooks, ...forgeToken];
  return redactorFromEnv(hostEnv, names);
}
