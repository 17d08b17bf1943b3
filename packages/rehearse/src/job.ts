// One job on its own runner: the environment gate, a fresh runner home (isolation.ts), the job's
// own GITHUB_TOKEN (and OIDC request token) scoped to its permissions, its env, the steps in order
// with `if:` and continue-on-error, the post steps last first, and the job's outputs (a masked value
// is not passed on, as the runner does).
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { RehearsalError } from './errors.js';
import { asString, type Contexts, condition, interpolate, interpolateDeep, NO_STATUS, type Status } from './expr.js';
import { prepareJobHome } from './isolation.js';
import { isObj, type JobSpec, type Obj, stepsOf } from './model.js';
import { allows, oidcClaims } from './rules.js';
import type { CallFrame, JobResult, JobState, PostResult, RunState, StepOutcome } from './state.js';
import { runStep } from './step.js';
import type { JobRecord, PermissionSet, StepRecord } from './types.js';

const now = () => performance.now();
export const secs = (ms: number) => `${(ms / 1000).toFixed(1)}s`;

/** A job whose steps are to run (its `if:` said yes; concurrency let it in). */
export interface JobRun {
  state: RunState;
  job: JobSpec;
  /** The job's id in its workflow. */
  id: string;
  /** The job's name in the log and the record (`caller / build (linux)`). */
  name: string;
  /** The job's expression contexts (matrix, needs, strategy …); github.job set. */
  ctx: Contexts;
  /** The status functions' view when the job started. */
  status: Status;
  workflowEnv: Obj;
  call: CallFrame;
  rec: JobRecord;
  permissions: PermissionSet;
  /** Cancels the job: the run's cancel, the matrix's fail-fast, the job's concurrency group. */
  signal?: AbortSignal;
}

/** A job's GITHUB_TOKEN: minted per job and recorded with its permissions (opts.tokenBook), unless one token was given. */
function mintJobToken(state: RunState, name: string, permissions: PermissionSet): string {
  const token = state.opts.secrets?.GITHUB_TOKEN ?? `ghs_${randomBytes(18).toString('base64url')}`;
  state.addMask(token);
  if (state.opts.tokenBook && !state.opts.secrets?.GITHUB_TOKEN) state.opts.tokenBook.set(token, { job: name, permissions });
  return token;
}

export async function runJobSteps(o: JobRun): Promise<JobResult> {
  const { state, job, name, status, workflowEnv, call, rec, permissions, signal } = o;
  const ctx: Contexts = { ...o.ctx };
  const { print } = state;
  // Environment gate.
  if (job.environment !== undefined) {
    const env = interpolateDeep(job.environment, ctx, status, state.root);
    const envName = asString(isObj(env) ? env.name : env);
    rec.environment = envName;
    const approved = await approve(state, name, envName);
    state.record.approvals.push({ job: name, environment: envName, approved: approved.ok, by: approved.by });
    if (!approved.ok) {
      rec.status = 'failure';
      rec.error = approved.message;
      rec.endedAt = now();
      rec.durationMs = 0;
      print(`✗ ${name}: ${approved.message}`);
      return { result: 'failure', outputs: {} };
    }
  }

  rec.status = 'running';
  const t0 = now();
  rec.startedAt = new Date().toISOString();
  print(`▶ ${name}`);
  const jobDir = join(state.runDir, 'jobs', `${rec.key.replace(/[^\w.-]+/g, '_')}-${randomBytes(3).toString('hex')}`);
  // A fresh runner per job: its own HOME, RUNNER_TEMP, tool cache, container storage and auth file.
  const fresh = prepareJobHome({ jobDir, baseEnv: state.opts.env ?? {}, buildxPlugin: state.buildxPlugin });
  const home = { ...fresh.dirs, env: fresh.env };
  ctx.runner = { ...(ctx.runner as Obj), temp: home.temp, tool_cache: home.toolCache };
  // The job's own GITHUB_TOKEN, scoped to its permissions (github.token and secrets.GITHUB_TOKEN).
  const token = mintJobToken(state, name, permissions);
  const github = { ...(ctx.github as RunState['github']), token };
  ctx.github = github;
  ctx.secrets = { ...(ctx.secrets as Obj), GITHUB_TOKEN: token };
  rec.permissions = Object.fromEntries(Object.entries(permissions).filter(([, v]) => v !== 'none')) as Record<string, 'read' | 'write'>;
  const jobEnvDecl = isObj(job.env) ? job.env : {};
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(workflowEnv)) env[k] = asString(interpolate(v, { ...ctx, env }, status, home.workspace));
  for (const [k, v] of Object.entries(jobEnvDecl)) env[k] = asString(interpolate(v, { ...ctx, env }, status, home.workspace));
  // As on GitHub, the OIDC request variables reach a job only with `id-token: write` (and, in a
  // called workflow, only when the calling job granted it too).
  const jobState: JobState = {
    env,
    path: [],
    steps: {},
    failed: false,
    summary: [],
    posts: [],
    idToken: allows(permissions, 'id-token', 'write'),
    permissions,
  };
  const aborted = () => Boolean(signal?.aborted);
  // With a token book, each job's OIDC request token is its own and names its own claims
  // (rules.ts oidcClaims / oidcInterceptor): job_workflow_ref is the file that defines the job, at
  // the ref its caller pinned.
  if (jobState.idToken && state.opts.tokenBook && !state.opts.secrets?.GITHUB_TOKEN) {
    jobState.oidcRequestToken = `oidc_${randomBytes(18).toString('base64url')}`;
    state.addMask(jobState.oidcRequestToken);
    const entry = state.opts.tokenBook.get(token);
    if (entry)
      entry.oidc = {
        requestToken: jobState.oidcRequestToken,
        claims: oidcClaims({
          github,
          environment: rec.environment,
          jobWorkflowRef: call.workflowRef ?? state.github.workflow_ref,
          jobWorkflowSha: call.workflowSha ?? state.github.sha,
        }),
      };
  }
  const defaults = isObj(job.defaults) && isObj(job.defaults.run) ? job.defaults.run : {};
  const deadline = job['timeout-minutes']
    ? t0 + Number(asString(interpolate(job['timeout-minutes'], ctx, status, state.root))) * 60_000
    : t0 + 360 * 60_000;

  for (const step of stepsOf(job)) {
    const evalEnv = (e: unknown): Record<string, string> => {
      if (!isObj(e)) return {};
      const base = { ...ctx, env: jobState.env, steps: jobState.steps };
      return Object.fromEntries(
        Object.entries(e).map(([k, v]) => [
          k,
          asString(interpolate(v, base, { failed: jobState.failed, cancelled: false }, home.workspace)),
        ]),
      );
    };
    const stepCtx = (): Contexts => ({
      ...ctx,
      env: { ...jobState.env, ...evalEnv(step.env) },
      steps: jobState.steps,
      job: { status: jobState.failed ? 'failure' : 'success' },
    });
    const sname = String(
      interpolate(
        step.name ?? (step.uses ? `Run ${step.uses}` : `Run ${String(step.run ?? '').split('\n')[0]}`),
        stepCtx(),
        { failed: jobState.failed, cancelled: false },
        home.workspace,
      ),
    );
    const srec: StepRecord = { name: sname, id: step.id, status: 'pending' };
    if (step.uses) srec.uses = step.uses;
    rec.steps.push(srec);
    const st: Status = { failed: jobState.failed, cancelled: aborted() };
    jobState.cancelled = aborted();
    // A step that starts after the cancel (if: always() / cancelled()) is not killed by it.
    jobState.signal = aborted() ? undefined : signal;
    let go: boolean;
    try {
      go = condition(step.if, stepCtx(), st, home.workspace);
    } catch (e) {
      srec.status = 'failure';
      srec.error = (e as Error).message;
      jobState.failed = true;
      print(`  ${name} › ✗ ${sname}: ${(e as Error).message}`);
      continue;
    }
    if (!go) {
      srec.status = 'skipped';
      if (step.id) jobState.steps[step.id] = { outputs: {}, outcome: 'skipped', conclusion: 'skipped' };
      print(`  ${name} › ○ ${sname} skipped`);
      continue;
    }
    const s0 = now();
    let r: StepOutcome;
    try {
      r = await runStep({
        state,
        step,
        ctx: stepCtx(),
        status: st,
        home,
        jobState,
        defaults,
        name: sname,
        timeoutMs: Math.max(1000, deadline - now()),
      });
    } catch (e) {
      if (!(e instanceof RehearsalError)) throw e;
      r = { ok: false, outputs: {}, error: e.message, log: '' };
    }
    srec.durationMs = Math.round(now() - s0);
    srec.exitCode = r.exitCode;
    srec.outputs = r.outputs;
    if (r.cancelled) {
      srec.status = 'cancelled';
      if (step.id) jobState.steps[step.id] = { outputs: r.outputs, outcome: 'cancelled', conclusion: 'cancelled' };
      print(`  ${name} › ⊘ ${sname} cancelled (${secs(srec.durationMs)})`);
      continue;
    }
    const outcome = r.ok ? 'success' : 'failure';
    const conclusion = r.ok || step['continue-on-error'] === true ? 'success' : 'failure';
    srec.status = outcome;
    if (r.error) srec.error = r.error;
    if (step.id) jobState.steps[step.id] = { outputs: r.outputs, outcome, conclusion };
    if (conclusion === 'failure') jobState.failed = true;
    const mark = r.ok ? '✓' : conclusion === 'success' ? '!' : '✗';
    print(`  ${name} › ${mark} ${sname} (${secs(srec.durationMs)})${r.error ? ` — ${r.error}` : ''}`);
    if ((!r.ok || state.opts.verbose) && r.log) {
      // As on GitHub, the masker's own registrations are not shown.
      const lines = r.log
        .trimEnd()
        .split('\n')
        .filter((l) => !l.trimStart().startsWith('::add-mask::'));
      const tail = state.opts.verbose ? lines : lines.slice(-25);
      for (const l of tail) print(`  ${name} │ ${l}`);
    }
    for (const e of r.errors ?? []) print(`  ${name} │ error: ${e}`);
  }

  // Post steps (actions' post:, cache save, credentials clean-up), last first, as the runner does.
  for (const post of jobState.posts.reverse()) {
    try {
      const p = (await post()) as PostResult | undefined;
      if (p?.name) {
        const prec: StepRecord = { name: p.name, status: p.skipped ? 'skipped' : p.ok ? 'success' : 'failure', post: true };
        if (p.exitCode !== undefined) prec.exitCode = p.exitCode;
        if (p.error) prec.error = p.error;
        rec.steps.push(prec);
        print(`  ${name} › ${p.skipped ? '○' : p.ok ? '✓' : '✗'} ${p.name}${p.skipped ? ' skipped' : ''}${p.error ? ` — ${p.error}` : ''}`);
        if (!p.skipped && !p.ok) {
          jobState.failed = true;
          if (p.log)
            for (const l of p.log
              .trimEnd()
              .split('\n')
              .filter((x) => !x.trimStart().startsWith('::add-mask::'))
              .slice(-25))
              print(`  ${name} │ ${l}`);
        }
      }
    } catch (e) {
      print(`  ! post step: ${(e as Error).message}`);
    }
  }

  // Job outputs.
  const outputs: Record<string, string> = {};
  if (isObj(job.outputs)) {
    const octx = { ...ctx, env: jobState.env, steps: jobState.steps };
    for (const [k, v] of Object.entries(job.outputs)) {
      try {
        outputs[k] = asString(interpolate(v, octx, { failed: jobState.failed, cancelled: false }, home.workspace));
      } catch {
        outputs[k] = '';
      }
      // As the runner: a job output holding a masked value is not passed on ("Skip output '…' since
      // it may contain secret").
      const value = outputs[k] as string;
      if (value && [...state.masks].some((m) => m && value.includes(m))) {
        print(`  ${name} │ Warning: Skip output '${k}' since it may contain secret.`);
        outputs[k] = '';
        rec.skippedOutputs ??= [];
        rec.skippedOutputs.push(k);
      }
    }
  }
  rec.outputs = outputs;
  rec.status = aborted() ? 'cancelled' : jobState.failed ? 'failure' : 'success';
  rec.durationMs = Math.round(now() - t0);
  rec.endedAt = now();
  if (jobState.summary.length) rec.summary = jobState.summary.join('\n');
  // Job-level continue-on-error: the job fails, the run does not, and needs.<id>.result says success
  // (its conclusion); a failing leg with it does not trigger fail-fast.
  let coe = false;
  try {
    coe = asString(interpolate(job['continue-on-error'] ?? false, ctx, NO_STATUS, state.root)) === 'true';
  } catch (e) {
    throw new RehearsalError(`job '${name}': continue-on-error: ${(e as Error).message}`);
  }
  if (coe && rec.status === 'failure') rec.continueOnError = true;
  print(
    `${rec.status === 'success' ? '✓' : rec.status === 'cancelled' ? '⊘' : coe ? '!' : '✗'} ${name} ${rec.status}${rec.continueOnError ? ' (continue-on-error: the run goes on)' : ''} (${secs(rec.durationMs)})`,
  );
  return { result: rec.continueOnError ? 'success' : rec.status, outputs, failedHard: rec.status === 'failure' && !coe };
}

type Approval = { ok: true; by: string; message?: undefined } | { ok: false; message: string; by?: undefined };

/** The environment gate: --approve passes; a TTY is asked; otherwise it fails with a clear message. */
async function approve(state: RunState, job: string, envName: string): Promise<Approval> {
  const { opts } = state;
  if (opts.approve === true || (Array.isArray(opts.approve) && opts.approve.includes(envName))) {
    state.print(`◆ ${job}: environment '${envName}' approved by --approve`);
    return { ok: true, by: '--approve' };
  }
  const ask = opts.ask;
  if (ask) {
    const ok = await (state.gate = state.gate.then(() => ask(job, envName)));
    return ok ? { ok: true, by: 'prompt' } : { ok: false, message: `environment '${envName}' was not approved` };
  }
  if (process.stdin.isTTY && process.stdout.isTTY) {
    const prompt = () =>
      new Promise<boolean>((res) => {
        const rl = createInterface({ input: process.stdin, output: process.stdout });
        rl.question(`◆ ${job} deploys to environment '${envName}'. Approve? [y/N] `, (a) => {
          rl.close();
          res(/^y(es)?$/i.test(a.trim()));
        });
      });
    const ok = await (state.gate = state.gate.then(prompt));
    return ok ? { ok: true, by: 'prompt' } : { ok: false, message: `environment '${envName}' was not approved` };
  }
  return {
    ok: false,
    message: `job '${job}' waits for approval of environment '${envName}', and there is no terminal to ask: rerun with --approve to approve it`,
  };
}
