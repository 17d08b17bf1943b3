// The rehearsal engine: runs a GitHub Actions workflow on this machine with the same YAML and the
// same dist/ bundles. Jobs in `needs` order (independent ones in parallel), matrices expanded,
// `if:` and `${{ }}` through GitHub's expression library, job and step outputs, local reusable
// workflows, our actions (./actions/<name> or hallmark-dev/hallmark/actions/<name>@… → dist/),
// run: steps in bash with the runner's file protocol, local equivalents for a short list of
// well-known actions, environment gates. Anything else is refused before a single job starts.
// GitHub's rules are enforced, not assumed: a fresh runner per job (isolation.ts), secret names
// and job-token permissions (rules.ts), concurrency (concurrency.ts), fail-fast / max-parallel /
// job continue-on-error, re-runs (runAttempt, rerunFailed), actions' post: steps, and the real
// setup-tools from a loopback mirror of the real tools (tool-mirror.ts).
//
// In parts: the workflow model (model.ts, validate.ts, expr.ts), the job scheduler
// (scheduler.ts), a job's steps (job.ts) and the step runner (step.ts, protocol.ts), and the local
// action equivalents (equivalents/). This file sets a run up and writes its record.
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { concurrencySpec, defaultStateFile, enterGroup, type GroupEntry } from './concurrency.js';
import { RehearsalError } from './errors.js';
import { interpolateDeep, NO_STATUS } from './expr.js';
import { gitInfo } from './git.js';
import { isObj, loadYaml, resolveInputs, triggers } from './model.js';
import { findRealTools, type RealTools, REAL_TOOLS } from './real-tools.js';
import { HALLMARK_ROOT, OWNER_REPO } from './root.js';
import { secretNameProblem } from './rules.js';
import { criticalPath, runWorkflow, type WorkflowResult } from './scheduler.js';
import type { GithubContext, RunningRecord, RunState } from './state.js';
import { startToolMirror, type ToolMirror } from './tool-mirror.js';
import type { JobRecord, RehearseOptions, RunRecord } from './types.js';
import { preflight } from './validate.js';

export { RehearsalError } from './errors.js';
export { expandMatrix } from './model.js';
export { HALLMARK_ROOT, OWNER_REPO } from './root.js';
export type * from './types.js';
export { parseFileCommands, parseWorkflowCommands } from './protocol.js';

const now = () => performance.now();
const secs = (ms: number) => `${(ms / 1000).toFixed(1)}s`;

/**
 * `--simulate-buildkit`: BuildKit cannot run here, so `docker buildx` is the test stand-in
 * (test/stand-ins/docker-buildx: checks buildx's flags, builds with the real buildah), installed as
 * a docker CLI plugin in a DOCKER_CONFIG of the run's own. A wrapper notes each use, so the run
 * record says whether the simulated part really ran.
 */
export function prepareSimulatedBuildkit(standIn: string, runDir: string): { dockerConfig: string; simulated: string[] } {
  if (!existsSync(standIn)) throw new RehearsalError(`--simulate-buildkit: ${standIn} does not exist`);
  const dockerConfig = join(runDir, 'docker-config');
  mkdirSync(join(dockerConfig, 'cli-plugins'), { recursive: true });
  writeFileSync(
    join(dockerConfig, 'cli-plugins', 'docker-buildx'),
    `#!/bin/sh\necho docker-buildx >> '${join(runDir, 'simulated.used')}'\nexec '${standIn}' "$@"\n`,
    { mode: 0o755 },
  );
  return { dockerConfig, simulated: ['docker-buildx'] };
}

/** The earlier run record of --rerun-failed, checked. */
function readEarlier(opts: RehearseOptions, root: string, workflow: string): RunRecord | undefined {
  if (!opts.rerunFailed) return undefined;
  let earlier: unknown;
  try {
    earlier = typeof opts.rerunFailed === 'string' ? JSON.parse(readFileSync(resolve(root, opts.rerunFailed), 'utf8')) : opts.rerunFailed;
  } catch (e) {
    throw new RehearsalError(`--rerun-failed: cannot read the earlier run record: ${(e as Error).message}`);
  }
  if (!isObj(earlier) || !Array.isArray(earlier.jobs)) throw new RehearsalError('--rerun-failed: not a run record (no jobs)');
  const rec = earlier as unknown as RunRecord;
  if (rec.workflow !== workflow) throw new RehearsalError(`--rerun-failed: that record is of ${rec.workflow}, not ${workflow}`);
  if (rec.status === 'success') throw new RehearsalError('--rerun-failed: that run succeeded; there is no failed job to re-run');
  return rec;
}

/**
 * Rehearses a workflow (see RehearseOptions). env's HOME, DOCKER_CONFIG, REGISTRY_AUTH_FILE, XDG_*
 * and CONTAINERS_STORAGE_CONF (a template) never reach a job: each job gets its own (isolation.ts).
 * Returns the run record; never throws for job failures (record.status says it), throws
 * RehearsalError for a workflow it cannot run.
 */
export async function rehearse(opts: RehearseOptions): Promise<RunRecord> {
  const started = now();
  const root = resolve(opts.root ?? process.cwd());
  const hallmarkRoot = resolve(opts.hallmarkRoot ?? HALLMARK_ROOT);
  const workflowPath = resolve(root, opts.workflow);
  const workflow = relative(root, workflowPath);
  const doc = loadYaml(workflowPath);
  const on = triggers(doc);
  const event = opts.event ?? Object.keys(on)[0] ?? 'push';
  if (!(event in on) && !opts.anyEvent)
    throw new RehearsalError(`${workflow} is not triggered by '${event}' (on: ${Object.keys(on).join(', ')})`);
  const runDir = opts.runDir ?? mkdtempSync(join(tmpdir(), 'hallmark-rehearse-'));
  mkdirSync(runDir, { recursive: true });
  const out = opts.out ?? process.stdout;
  let realToolsPromise: Promise<RealTools> | undefined;
  let mirrorPromise: Promise<ToolMirror> | undefined;

  // Secret names as GitHub stores them (rules.ts): refused before anything runs. GITHUB_TOKEN may be
  // given to use one token for every job instead of the per-job tokens the rehearsal mints.
  const givenSecrets = Object.keys(opts.secrets ?? {});
  const badGiven = givenSecrets.filter((k) => k !== 'GITHUB_TOKEN' && secretNameProblem(k)).map((k) => `'${k}' ${secretNameProblem(k)}`);
  if (badGiven.length)
    throw new RehearsalError(
      `secret name${badGiven.length > 1 ? 's' : ''} GitHub cannot store: ${badGiven.join('; ')} (letters, digits and _ only, not starting with a digit or GITHUB_)`,
    );
  const byUpper = new Map<string, string>();
  for (const k of givenSecrets) {
    if (byUpper.has(k.toUpperCase()))
      throw new RehearsalError(
        `secrets '${byUpper.get(k.toUpperCase())}' and '${k}' are one secret on GitHub (names are not case-sensitive)`,
      );
    byUpper.set(k.toUpperCase(), k);
  }
  // GitHub always provides GITHUB_TOKEN; the rehearsal's is a masked dummy unless one is given.
  const secrets: Record<string, string> = { GITHUB_TOKEN: `ghs_rehearsal${randomBytes(12).toString('hex')}`, ...(opts.secrets ?? {}) };
  // Like the runner: every secret is masked, and each line of a multi-line one on its own.
  const masks = new Set<string>();
  const addMask = (v: unknown) => {
    if (typeof v !== 'string' || !v) return;
    masks.add(v);
    for (const line of v.split(/\r?\n/)) if (line.trim().length >= 4) masks.add(line.trim());
  };
  Object.values(secrets).forEach(addMask);
  const mask = (text: string) => {
    let t = String(text);
    for (const m of [...masks].sort((a, b) => b.length - a.length)) if (m) t = t.split(m).join('***');
    return t;
  };
  const print = (line: string) => {
    out.write(`${mask(line)}\n`);
  };

  const basePath = opts.env?.PATH ?? process.env.PATH ?? '/usr/bin:/bin';
  // `standIns` is the old name of simulateBuildkit: cosign, syft, trivy, helm, kyverno and
  // terraform are no longer simulated, so the only stand-in left is docker buildx.
  const simulateBuildkit = Boolean(opts.simulateBuildkit ?? opts.standIns);
  if (opts.standIns !== undefined && opts.simulateBuildkit === undefined)
    print('note: --stand-ins is now --simulate-buildkit (the tools are real; only docker buildx is simulated)');
  let simulated: string[] = [];
  let buildxPlugin: string | undefined;
  if (simulateBuildkit) {
    const b = prepareSimulatedBuildkit(opts.buildkitStandIn ?? join(HALLMARK_ROOT, 'test', 'stand-ins', 'docker-buildx'), runDir);
    simulated = b.simulated;
    // Installed in each job's own ~/.docker (isolation.ts), as a runner image would have it.
    buildxPlugin = readFileSync(join(b.dockerConfig, 'cli-plugins', 'docker-buildx'), 'utf8');
  }

  const { sha, branch } = gitInfo(root);
  const ref = opts.ref ?? `refs/heads/${branch}`;
  const defaultBranch = opts.defaultBranch ?? 'main';
  const repository = opts.repository ?? OWNER_REPO;
  const dispatchInputs =
    event === 'workflow_dispatch' || event === 'workflow_call' ? resolveInputs(on[event]?.inputs, opts.inputs ?? {}, workflow) : {};
  // Re-runs: --run-attempt N, and --rerun-failed <record>: the same run (id, artifact store, caches),
  // the next attempt; jobs that succeeded before keep their result and outputs, the rest run again.
  const earlier = readEarlier(opts, root, workflow);
  const runAttempt = opts.runAttempt ?? (earlier ? Number(earlier.runAttempt ?? 1) + 1 : 1);
  if (!Number.isInteger(Number(runAttempt)) || Number(runAttempt) < 1)
    throw new RehearsalError(`--run-attempt must be a whole number from 1, got '${runAttempt}'`);
  if (earlier && Number(runAttempt) <= Number(earlier.runAttempt ?? 1))
    throw new RehearsalError(
      `--run-attempt ${runAttempt}: the earlier record is attempt ${earlier.runAttempt ?? 1}; a re-run is a later attempt`,
    );
  const runId = String(opts.runId ?? earlier?.runId ?? Math.floor(Date.now() / 1000));
  const github: GithubContext = {
    event_name: event,
    ref,
    ref_name: ref.replace(/^refs\/(heads|tags)\//, ''),
    sha,
    repository,
    repository_owner: repository.split('/')[0] ?? '',
    run_id: runId,
    run_number: '1',
    run_attempt: String(runAttempt),
    actor: process.env.USER || 'rehearsal',
    workflow: doc.name ?? workflow,
    workflow_ref: `${repository}/${workflow}@${ref}`,
    // A loopback git server for GitOps rehearsals (GITHUB_SERVER_URL in env), as api_url below.
    server_url: opts.env?.GITHUB_SERVER_URL ?? 'https://github.com',
    api_url: opts.env?.GITHUB_API_URL ?? 'https://api.github.com',
    token: secrets.GITHUB_TOKEN ?? '',
    event: { repository: { default_branch: defaultBranch, full_name: repository }, inputs: dispatchInputs, ref },
  };

  const record: RunningRecord = {
    workflow,
    event,
    ref,
    inputs: dispatchInputs,
    secrets: Object.keys(secrets).filter((k) => k !== 'GITHUB_TOKEN' || opts.secrets?.GITHUB_TOKEN),
    simulatedTools: simulated,
    runDir,
    runId,
    runAttempt: Number(runAttempt),
    status: 'running',
    jobs: [],
    approvals: [],
    matrices: {},
  };
  const earlierAttempt = Number(earlier?.runAttempt ?? 1);
  const state: RunState = {
    root,
    hallmarkRoot,
    runDir,
    print,
    mask,
    masks,
    addMask,
    opts,
    github,
    secrets,
    record,
    vars: opts.vars ?? {},
    basePath,
    buildxPlugin,
    usedTools: {},
    realTools: () => {
      realToolsPromise ??= opts.tools ? Promise.resolve({ tools: opts.tools, missing: [] }) : findRealTools();
      return realToolsPromise;
    },
    toolMirror: () => {
      mirrorPromise ??= startToolMirror({ realTools: () => state.realTools(), path: basePath });
      return mirrorPromise;
    },
    // One artifact store and cache per run: a re-run attempt finds what earlier attempts left.
    artifactsDir: earlier?.artifactsDir ?? join(runDir, 'artifacts'),
    cacheDir: earlier?.cacheDir ?? join(runDir, 'cache'),
    reuse: new Map(
      (earlier?.jobs ?? [])
        .filter((j) => j.status === 'success' && !j.calls)
        .map((j): [string, JobRecord & { attempt: number }] => [j.name, { ...j, attempt: j.reusedFrom ?? earlierAttempt }]),
    ),
    toolCache: join(runDir, 'toolcache'),
    gate: Promise.resolve(),
    concurrencyFile: opts.concurrencyState ? resolve(root, opts.concurrencyState) : defaultStateFile('process'),
    runKey: `${repository} ${workflow} run ${runId} attempt ${runAttempt} #${randomBytes(3).toString('hex')}`,
    runAbort: new AbortController(),
  };
  record.artifactsDir = state.artifactsDir;
  record.cacheDir = state.cacheDir;
  if (earlier) record.rerunOf = { attempt: earlierAttempt, reused: [...state.reuse.keys()] };
  mkdirSync(state.artifactsDir, { recursive: true });
  mkdirSync(state.toolCache, { recursive: true });

  // Refuse what cannot run before anything runs.
  const usesSetupTools = { found: false };
  preflight(state, workflowPath, doc, { seen: new Set(), usesSetupTools });

  print(
    `rehearsal of ${record.workflow} (${event} on ${ref}) in ${runDir}${Number(runAttempt) > 1 ? ` · run ${runId}, attempt ${runAttempt}${earlier ? ' (re-run of failed jobs)' : ''}` : ''}`,
  );
  await banner(state, simulated, usesSetupTools.found);
  // Workflow-level concurrency (concurrency.ts): wait as the group's pending run, or be cancelled.
  let group: GroupEntry | undefined;
  if (doc.concurrency !== undefined) {
    let spec: ReturnType<typeof concurrencySpec>;
    try {
      spec = concurrencySpec(interpolateDeep(doc.concurrency, { github, inputs: dispatchInputs, vars: state.vars }, NO_STATUS, root));
    } catch (e) {
      throw new RehearsalError(`${record.workflow}: ${(e as Error).message}`);
    }
    if (spec) {
      const name = spec.group;
      record.concurrency = { group: name, cancelInProgress: spec.cancelInProgress };
      group = await enterGroup({
        file: state.concurrencyFile,
        group: name,
        key: state.runKey,
        cancelInProgress: spec.cancelInProgress,
        onWait: (t) => print(`◔ concurrency group '${name}': ${t}`),
      });
      if (group.status === 'running') {
        void group.cancelled.then((why) => {
          if (record.status !== 'running') return;
          print(`⊘ cancelled: ${why}`);
          record.cancelledBy = why;
          state.runAbort.abort(why);
        });
      }
    }
  }
  let result: Pick<WorkflowResult, 'status' | 'outputs'>;
  if (group?.status === 'cancelled') {
    record.cancelledBy = `a newer run in concurrency group '${record.concurrency?.group}' (${group.by})`;
    print(`⊘ cancelled while pending: ${record.cancelledBy} took its place`);
    result = { status: 'cancelled', outputs: {} };
  } else {
    try {
      result = await runWorkflow({
        state,
        doc,
        file: workflowPath,
        call: { inputs: dispatchInputs, secrets, prefix: '', workflowRef: github.workflow_ref, workflowSha: sha },
      });
    } catch (e) {
      if (!(e instanceof RehearsalError)) throw e;
      record.status = 'failure';
      record.error = e.message;
      print(`✗ ${e.message}`);
      result = { status: 'failure', outputs: {} };
    } finally {
      await group?.release?.();
      if (mirrorPromise) await (await mirrorPromise.catch(() => undefined))?.close();
    }
    if (state.runAbort.signal.aborted) result.status = 'cancelled';
  }
  record.status = result.status;
  record.outputs = result.outputs;
  record.durationMs = Math.round(now() - started);
  record.criticalPath = criticalPath(record.jobs);
  record.realTools = state.usedTools;
  if (simulateBuildkit) {
    const usedFile = join(runDir, 'simulated.used');
    const calls = existsSync(usedFile) ? readFileSync(usedFile, 'utf8').split('\n').filter(Boolean) : [];
    record.simulatedUsed = Object.fromEntries([...new Set(calls)].sort().map((t) => [t, calls.filter((c) => c === t).length]));
    const used = Object.entries(record.simulatedUsed);
    print(
      used.length
        ? `SIMULATED BuildKit used: ${used.map(([t, n]) => `${t} (${n} call${n === 1 ? '' : 's'})`).join(', ')}`
        : 'the simulated BuildKit was not used: every tool that ran is the real one',
    );
  }
  const recordFile = opts.record ?? join(runDir, 'run.json');
  writeFileSync(recordFile, mask(JSON.stringify(record, null, 2)));
  record.recordFile = recordFile;
  const done = record as RunRecord;
  print(`${result.status === 'success' ? '✓' : '✗'} ${done.workflow}: ${result.status} in ${secs(done.durationMs)} · record ${recordFile}`);
  if (done.criticalPath.length) print(`  critical path: ${done.criticalPath.map((j) => `${j.name} ${secs(j.durationMs)}`).join(' → ')}`);
  return done;
}

/**
 * What this rehearsal runs for real and what it simulates, said before any job starts: GitHub
 * always (the rehearsal itself stands for the runner and its services), BuildKit with
 * --simulate-buildkit; the tools setup-tools steps hand out are the real ones.
 */
async function banner(state: RunState, simulated: string[], usesSetupTools: boolean): Promise<void> {
  const { print } = state;
  const sim = ['GitHub (this rehearsal runs the workflow; checkout, artifacts, cache and code scanning are local equivalents)'];
  if (simulated.includes('docker-buildx'))
    sim.push('BuildKit (docker buildx is test/stand-ins/docker-buildx, building with the real buildah)');
  state.record.simulated = sim;
  print(`┌ SIMULATED: ${sim.join('; ')}`);
  if (usesSetupTools) {
    const real = await state.realTools();
    const have = Object.entries(REAL_TOOLS).flatMap(([name, entries]) =>
      entries.flatMap((e) => (real.tools[e] ? [`${name} ${real.tools[e].version}`] : [])),
    );
    print(
      `└ REAL: setup-tools (dist/setup-tools, verify: checksum) installs from a loopback mirror of ${have.join(', ') || 'nothing built yet'} (npm run tools) and this machine's kubectl${real.missing.length ? `; not built yet: ${real.missing.join(', ')} (run \`npm run tools\`)` : ''}`,
    );
  } else print('└ REAL: every tool a step runs, from PATH');
}
