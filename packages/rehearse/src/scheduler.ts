// The job scheduler: the jobs of one workflow in `needs` order (independent ones in parallel, at
// most maxParallel), matrices expanded into legs (fail-fast, max-parallel), a job's `if:`, re-runs
// that keep earlier successes, job-level concurrency groups, and reusable workflow calls (their
// jobs scheduled the same way). The steps of a job run in job.ts.
import { join } from 'node:path';
import { concurrencySpec, enterGroup, type GroupEntry } from './concurrency.js';
import { RehearsalError } from './errors.js';
import { asString, type Contexts, condition, interpolate, interpolateDeep, NO_STATUS, type Status } from './expr.js';
import { runJobSteps, secs } from './job.js';
import {
  expandMatrix,
  isObj,
  type JobSpec,
  loadYaml,
  needsOf,
  objOr,
  type Obj,
  resolveInputs,
  triggers,
  type WorkflowDoc,
} from './model.js';
import { qualifyRef } from './rules.js';
import { gitInfo } from './git.js';
import type { CallFrame, JobResult, RunState } from './state.js';
import type { JobRecord } from './types.js';
import { OWNER_REPO } from './root.js';
import { classifyUses, jobPermissions, shown } from './validate.js';

const now = () => performance.now();

/** What a workflow gives its caller: its status, its `on.workflow_call.outputs`, each job's result. */
export interface WorkflowResult {
  status: string;
  outputs: Record<string, string>;
  jobs: Record<string, JobResult>;
}

/** One workflow to run: the top-level one, or one a job calls. */
export interface WorkflowRun {
  state: RunState;
  doc: WorkflowDoc;
  file: string;
  call: CallFrame;
}

/** Runs the jobs of one workflow (top-level or called). */
export async function runWorkflow({ state, doc, file, call }: WorkflowRun): Promise<WorkflowResult> {
  const jobIds = Object.keys(doc.jobs);
  for (const id of jobIds)
    for (const n of needsOf(doc.jobs[id] as JobSpec))
      if (!jobIds.includes(n)) throw new RehearsalError(`${shown(state, file)}: job '${id}' needs unknown job '${n}'`);
  const results: Record<string, JobResult> = {};
  const pending = new Set(jobIds);
  const running = new Map<string, Promise<void>>();
  const maxParallel = state.opts.maxParallel ?? 4;
  const workflowEnv = objOr(doc.env);

  while (pending.size || running.size) {
    for (const id of [...pending]) {
      if (running.size >= maxParallel) break;
      const deps = needsOf(doc.jobs[id] as JobSpec);
      if (!deps.every((d) => results[d])) continue;
      pending.delete(id);
      const p = runJobWithMatrix({ state, doc, file, id, call, results, workflowEnv }).then((r) => {
        results[id] = r;
        running.delete(id);
      });
      running.set(id, p);
    }
    if (!running.size && pending.size)
      throw new RehearsalError(`${shown(state, file)}: jobs ${[...pending].join(', ')} can never start (a needs cycle)`);
    await Promise.race(running.values());
  }

  const failed = Object.values(results).some((r) => r.result === 'failure');
  const cancelled = Object.values(results).some((r) => r.result === 'cancelled');
  const outputs: Record<string, string> = {};
  const callSpec = triggers(doc).workflow_call;
  if (isObj(callSpec?.outputs)) {
    const ctx = { ...baseCtx(state, call), jobs: results };
    for (const [k, spec] of Object.entries(callSpec.outputs))
      outputs[k] = asString(interpolate(objOr(spec).value ?? '', ctx, NO_STATUS, state.root));
  }
  return { status: failed ? 'failure' : cancelled ? 'cancelled' : 'success', outputs, jobs: results };
}

function baseCtx(state: RunState, call: CallFrame): Contexts {
  return {
    github: state.github,
    inputs: call.inputs,
    secrets: call.secrets,
    vars: state.vars,
    runner: {
      os: 'Linux',
      arch: 'X64',
      name: 'rehearsal',
      temp: join(state.runDir, 'temp'),
      tool_cache: state.toolCache,
      environment: 'self-hosted',
    },
  };
}

/** One job of a workflow, ready to be scheduled once its needs have results. */
interface ScheduledJob {
  state: RunState;
  doc: WorkflowDoc;
  file: string;
  id: string;
  call: CallFrame;
  results: Record<string, JobResult>;
  workflowEnv: Obj;
}

/** A job with a matrix runs as legs: fail-fast and max-parallel as GitHub applies them. */
async function runJobWithMatrix(o: ScheduledJob): Promise<JobResult> {
  const { state, doc, id, call, results } = o;
  const job = doc.jobs[id] as JobSpec;
  const needs = Object.fromEntries(needsOf(job).map((n) => [n, { result: results[n]?.result, outputs: results[n]?.outputs }]));
  const ctx0: Contexts = { ...baseCtx(state, call), needs };
  const strategy = objOr(job.strategy);
  const matrixValue = interpolateDeep(strategy.matrix, ctx0, NO_STATUS, state.root);
  const legs = expandMatrix(matrixValue);
  // strategy.fail-fast (default true): a failing leg cancels the matrix's running and queued legs,
  // unless that leg has continue-on-error. strategy.max-parallel: at most that many legs at once.
  // (docs.github.com/en/actions/writing-workflows/choosing-what-your-workflow-does/running-variations-of-jobs-in-a-workflow#handling-failures)
  const ff = interpolate(strategy['fail-fast'], ctx0, NO_STATUS, state.root);
  const failFast = !(ff === false || ff === 'false');
  const mp =
    strategy['max-parallel'] === undefined
      ? undefined
      : Number(asString(interpolate(strategy['max-parallel'], ctx0, NO_STATUS, state.root)));
  if (mp !== undefined && !(Number.isInteger(mp) && mp >= 1))
    throw new RehearsalError(
      `job '${call.prefix}${id}': strategy.max-parallel must be a whole number from 1, got '${strategy['max-parallel']}'`,
    );
  const limit = mp ?? Infinity;
  const matrixAbort = new AbortController();
  const rs: (JobResult & { error?: unknown })[] = new Array(legs.length);
  let next = 0;
  let active = 0;
  let peak = 0;
  await new Promise<void>((done) => {
    const launch = () => {
      if (next >= legs.length && active === 0) return done();
      while (active < limit && next < legs.length) {
        const i = next++;
        const m = legs[i];
        const label = m ? `${id} (${Object.values(m).map(asString).join(', ')})` : id;
        const ctx = {
          ...ctx0,
          matrix: m ?? {},
          strategy: { 'job-index': i, 'job-total': legs.length, 'fail-fast': failFast, 'max-parallel': mp ?? legs.length },
        };
        active++;
        peak = Math.max(peak, active);
        runJob({ ...o, job, name: `${call.prefix}${label}`, ctx, legSignal: matrixAbort.signal })
          .then(
            (r) => {
              rs[i] = r;
              if (failFast && legs.length > 1 && r.failedHard && !matrixAbort.signal.aborted) {
                state.print(`⊘ ${call.prefix}${id}: fail-fast: a leg failed, cancelling the matrix's other legs`);
                matrixAbort.abort('fail-fast');
              }
            },
            (e: unknown) => {
              rs[i] = { result: 'failure', outputs: {}, error: e };
            },
          )
          .finally(() => {
            active--;
            launch();
          });
      }
    };
    launch();
  });
  const thrown = rs.find((r) => r.error instanceof Error);
  if (thrown) throw thrown.error;
  if (legs.length > 1 && state.record.matrices)
    state.record.matrices[`${call.prefix}${id}`] = {
      legs: legs.length,
      peakParallel: peak,
      failFast,
      maxParallel: mp ?? null,
      cancelledByFailFast: matrixAbort.signal.aborted,
    };
  const result = rs.some((r) => r.result === 'failure')
    ? 'failure'
    : rs.every((r) => r.result === 'skipped')
      ? 'skipped'
      : rs.some((r) => r.result === 'cancelled')
        ? 'cancelled'
        : 'success';
  const outputs = Object.assign({}, ...rs.map((r) => r.outputs)) as Record<string, string>; // legs overwrite each other, as on GitHub
  return { result, outputs };
}

/** One job (or one leg of a matrix). */
interface JobLeg extends ScheduledJob {
  job: JobSpec;
  name: string;
  ctx: Contexts;
  /** The matrix's fail-fast cancel. */
  legSignal?: AbortSignal;
}

async function runJob(o: JobLeg): Promise<JobResult> {
  const { state, doc, id, name, job, call, legSignal } = o;
  const { print } = state;
  // Cancellation reaches a job from the run (concurrency) and from its matrix (fail-fast).
  const signals = [state.runAbort.signal, legSignal].filter((s): s is AbortSignal => Boolean(s));
  let signal: AbortSignal | undefined = signals.length > 1 ? AbortSignal.any(signals) : signals[0];
  const permissions = jobPermissions(state, doc, job, call.permissions);
  const ctx: Contexts = { ...o.ctx, github: { ...(o.ctx.github as Obj), job: id } };
  const rec: JobRecord = {
    key: `${call.prefix}${id}`,
    prefix: call.prefix,
    id,
    name,
    needKeys: needsOf(job).map((n) => `${call.prefix}${n}`),
    status: 'pending',
    steps: [],
    outputs: {},
  };
  const matrix = ctx.matrix as Obj | undefined;
  if (matrix && Object.keys(matrix).length) rec.matrix = matrix;
  state.record.jobs.push(rec);
  // Re-run of failed jobs: a job that succeeded in the earlier attempt is not run again.
  const before = typeof job.uses === 'string' ? undefined : state.reuse.get(name);
  if (before) {
    Object.assign(rec, {
      status: 'success',
      outputs: before.outputs ?? {},
      steps: before.steps ?? [],
      reusedFrom: before.attempt,
      durationMs: 0,
      endedAt: now(),
    });
    if (before.permissions) rec.permissions = before.permissions;
    print(`↺ ${name} succeeded in attempt ${before.attempt}: not re-run, its outputs kept`);
    return { result: 'success', outputs: before.outputs ?? {} };
  }
  if (legSignal?.aborted) {
    // A queued leg of a matrix that fail-fast cancelled never starts.
    rec.status = 'cancelled';
    rec.endedAt = now();
    print(`⊘ ${name} cancelled (fail-fast) before it started`);
    return { result: 'cancelled', outputs: {} };
  }
  const needResults = Object.values(ctx.needs as Record<string, { result?: string }>).map((n) => n.result);
  // A job whose needs did not all succeed (failed, cancelled or skipped) is skipped unless its if: says otherwise.
  const status: Status = {
    failed: needResults.some((r) => r === 'failure'),
    cancelled: needResults.some((r) => r === 'cancelled') || state.runAbort.signal.aborted,
    skippedNeeds: needResults.some((r) => r === 'skipped'),
  };
  let run: boolean;
  try {
    run = condition(job.if, ctx, status, state.root);
  } catch (e) {
    throw new RehearsalError(`job '${name}': if: ${(e as Error).message}`);
  }
  if (!run) {
    // In a cancelled run, a job that does not run is cancelled, not skipped.
    if (state.runAbort.signal.aborted) {
      rec.status = 'cancelled';
      print(`⊘ ${name} cancelled`);
      return { result: 'cancelled', outputs: {} };
    }
    rec.status = 'skipped';
    print(`○ ${name} skipped`);
    return { result: 'skipped', outputs: {} };
  }

  if (typeof job.uses === 'string') return callWorkflow({ state, job, uses: job.uses, name, ctx, status, call, rec, permissions });

  // Job-level concurrency (concurrency.ts): wait as the group's pending job, or be cancelled.
  let jobGroup: GroupEntry | undefined;
  if (job.concurrency !== undefined) {
    let spec: ReturnType<typeof concurrencySpec>;
    try {
      spec = concurrencySpec(interpolateDeep(job.concurrency, ctx, status, state.root));
    } catch (e) {
      throw new RehearsalError(`job '${name}': ${(e as Error).message}`);
    }
    if (spec) {
      const group = spec.group;
      rec.concurrency = { group, cancelInProgress: spec.cancelInProgress };
      jobGroup = await enterGroup({
        file: state.concurrencyFile,
        group,
        key: `${state.runKey} ${name}`,
        cancelInProgress: spec.cancelInProgress,
        onWait: (t) => print(`◔ ${name}: concurrency group '${group}': ${t}`),
      });
      if (jobGroup.status === 'cancelled') {
        rec.status = 'cancelled';
        rec.error = `cancelled while pending in concurrency group '${group}': a newer job (${jobGroup.by}) took its place`;
        rec.endedAt = now();
        print(`⊘ ${name}: ${rec.error}`);
        return { result: 'cancelled', outputs: {} };
      }
    }
  }
  try {
    if (jobGroup?.cancelled) {
      const mine = new AbortController();
      void jobGroup.cancelled.then((why) => mine.abort(why));
      signal = signal ? AbortSignal.any([signal, mine.signal]) : mine.signal;
    }
    return await runJobSteps({ state, job, id, name, ctx, status, workflowEnv: o.workflowEnv, call, rec, permissions, signal });
  } finally {
    await jobGroup?.release?.();
  }
}

/** job_workflow_ref / job_workflow_sha of the jobs of a called workflow, from the caller's `uses:`. */
function calledWorkflowRef(state: RunState, uses: string): { workflowRef: string; workflowSha: string } {
  const remote = new RegExp(`^(${OWNER_REPO}/\\.github/workflows/[\\w.-]+\\.ya?ml)@([\\w.-]+)$`).exec(uses);
  if (remote) {
    const ref = remote[2] as string;
    const sha = /^[0-9a-f]{40}$/.test(ref) ? ref : gitInfo(state.hallmarkRoot).sha;
    return { workflowRef: `${remote[1]}@${qualifyRef(ref)}`, workflowSha: sha };
  }
  return { workflowRef: `${state.github.repository}/${uses.replace(/^\.\//, '')}@${state.github.ref}`, workflowSha: state.github.sha };
}

/** A job that calls a reusable workflow: its inputs and secrets checked against `on.workflow_call`, its jobs scheduled under the caller's name. */
async function callWorkflow(o: {
  state: RunState;
  job: JobSpec;
  uses: string;
  name: string;
  ctx: Contexts;
  status: Status;
  call: CallFrame;
  rec: JobRecord;
  permissions: CallFrame['permissions'];
}): Promise<JobResult> {
  const { state, job, uses, name, ctx, status, call, rec, permissions } = o;
  const { print } = state;
  const c = classifyUses(state, uses);
  if (c?.kind !== 'workflow') throw new RehearsalError(`job '${name}' calls '${uses}', which is not a local reusable workflow`);
  const called = loadYaml(c.file);
  const spec = triggers(called).workflow_call;
  if (spec === undefined) throw new RehearsalError(`job '${name}' calls ${shown(state, c.file)}, which has no 'on: workflow_call'`);
  const withValues = Object.fromEntries(Object.entries(objOr(interpolateDeep(job.with ?? {}, ctx, status, state.root))));
  const inputs = resolveInputs(spec?.inputs, withValues, `job '${name}' → ${shown(state, c.file)}`);
  let secrets: Record<string, string>;
  if (job.secrets === 'inherit') secrets = { ...call.secrets };
  else {
    secrets = Object.fromEntries(
      Object.entries(objOr(interpolateDeep(job.secrets ?? {}, ctx, status, state.root))).map(([k, v]) => [k, asString(v)]),
    );
    const declared = objOr(spec?.secrets);
    for (const k of Object.keys(secrets))
      if (!(k in declared)) throw new RehearsalError(`job '${name}' passes secret '${k}', which ${shown(state, c.file)} does not declare`);
    for (const [k, s] of Object.entries(declared))
      if (objOr(s).required && !secrets[k])
        throw new RehearsalError(`job '${name}': required secret '${k}' of ${shown(state, c.file)} is missing`);
  }
  if (call.secrets.GITHUB_TOKEN && !secrets.GITHUB_TOKEN) secrets.GITHUB_TOKEN = call.secrets.GITHUB_TOKEN;
  for (const v of Object.values(secrets)) state.addMask(v);
  rec.status = 'running';
  rec.calls = shown(state, c.file);
  const t0 = now();
  print(`▶ ${name} → ${rec.calls}`);
  const r = await runWorkflow({
    state,
    doc: called,
    file: c.file,
    call: { inputs, secrets, prefix: `${name} / `, permissions, ...calledWorkflowRef(state, uses) },
  });
  rec.durationMs = Math.round(now() - t0);
  rec.endedAt = now();
  rec.status = r.status;
  rec.outputs = r.outputs;
  print(`${r.status === 'success' ? '✓' : '✗'} ${name} ${r.status} (${secs(rec.durationMs)})`);
  return { result: r.status, outputs: r.outputs };
}

/**
 * The chain of jobs that ended last, through `needs`, with durations: at each level the job that
 * ended last, then the job it needed that ended last, and so on; a job that called a reusable
 * workflow is replaced by that workflow's own chain.
 */
export function criticalPath(jobs: JobRecord[], prefix = ''): { name: string; durationMs: number }[] {
  const level = jobs.filter((j) => j.prefix === prefix && j.endedAt !== undefined);
  const last = (list: JobRecord[]) => (list.length ? list.reduce((a, b) => ((b.endedAt ?? 0) > (a.endedAt ?? 0) ? b : a)) : undefined);
  const path: { name: string; durationMs: number }[] = [];
  let cur = last(level);
  while (cur) {
    const inner = cur.calls ? criticalPath(jobs, `${cur.name} / `) : [];
    path.unshift(...(inner.length ? inner : [{ name: cur.name, durationMs: cur.durationMs as number }]));
    const needs = cur.needKeys ?? [];
    cur = last(level.filter((j) => needs.includes(j.key)));
  }
  return path;
}
