// Local action equivalents: a short list of well-known actions, so a workflow that uses them rehearses
// here without the network: checkout, upload/download-artifact, cache, upload-sarif (SIMULATED:
// GitHub's services). Our own setup-tools is not among them: it runs for real, from the
// rehearsal's loopback mirror of the real tools (tool-mirror.ts). Each keeps the real action's
// inputs and outputs that our workflows use, and says what it did.
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { HALLMARK_ROOT } from '../root.js';
import type { JobHome, JobState, PostStep, RunState } from '../state.js';
import { ARTIFACT_CLIENT } from './artifact-client.js';
import { runCloudEquivalent } from './cloud.js';
import { runReleaseEquivalent } from './release.js';

/** Inputs as the step passed them (strings). */
export type Inputs = Record<string, string | undefined>;

/** Where an equivalent runs: the run, the step's environment, the job's home and state. */
export interface EquivalentContext {
  state: RunState;
  env: Record<string, string | undefined>;
  home: JobHome;
  jobState: JobState;
}

/** What an equivalent did: its log, outputs, and a step to run at the job's end. */
export interface EquivalentResult {
  log?: string;
  outputs?: Record<string, string>;
  post?: PostStep;
}

/** owner/name (without @ref) → equivalent. */
const TABLE: Record<string, string> = {
  'actions/checkout': 'checkout',
  'actions/upload-artifact': 'upload-artifact',
  'actions/download-artifact': 'download-artifact',
  'actions/cache': 'cache',
  'actions/cache/restore': 'cache-restore',
  'actions/cache/save': 'cache-save',
  'github/codeql-action/upload-sarif': 'upload-sarif',
  'actions/setup-node': 'release:setup-node', // release.ts (SIMULATED)
  'actions/attest-build-provenance': 'release:attest-build-provenance', // release.ts (SIMULATED)
  'google-github-actions/auth': 'cloud:gcp-auth', // cloud.ts (SIMULATED)
  'google-github-actions/get-gke-credentials': 'cloud:get-gke-credentials', // cloud.ts (SIMULATED)
  'aws-actions/configure-aws-credentials': 'cloud:aws-credentials', // cloud.ts (SIMULATED)
  'azure/login': 'cloud:azure-login', // cloud.ts (SIMULATED)
};
export const LOCAL_EQUIVALENTS = Object.keys(TABLE);

export function localEquivalentFor(uses: string): string | undefined {
  const at = uses.lastIndexOf('@');
  if (at < 0) return undefined;
  return TABLE[uses.slice(0, at)];
}

const lines = (v: unknown) =>
  String(v ?? '')
    .split(/\r?\n/)
    .map((s) => s.trim())
    .filter(Boolean);
const globRe = (g: string) =>
  new RegExp(
    `^${g
      .replace(/[.+^${}()|[\]\\]/g, '\\$&')
      .replace(/\*/g, '.*')
      .replace(/\?/g, '.')}$`,
  );

/** Files (absolute) matched by a path list: files, directories (recursively), `*` in the last segment. */
interface Item {
  root: string;
  file: string;
}

function collect(paths: string[], cwd: string): Item[] {
  const out: Item[] = [];
  for (const p of paths) {
    if (p.startsWith('!')) continue;
    const abs = resolve(cwd, p);
    const base = basename(abs);
    if (/[*?]/.test(base)) {
      const dir = dirname(abs);
      if (!existsSync(dir)) continue;
      for (const f of readdirSync(dir)) if (globRe(base).test(f)) out.push({ root: dir, file: join(dir, f) });
    } else if (existsSync(abs)) out.push({ root: statSync(abs).isDirectory() ? abs : dirname(abs), file: abs });
  }
  return out;
}

function copyInto(items: Item[], dest: string): number {
  let n = 0;
  for (const { root, file } of items) {
    // A directory given as the path uploads its contents (as actions/upload-artifact does).
    const target = root === file ? dest : join(dest, relative(root, file));
    mkdirSync(dirname(target), { recursive: true });
    cpSync(file, target, { recursive: true });
    n += statSync(file).isDirectory() ? countFiles(file) : 1;
  }
  return n;
}

function countFiles(dir: string): number {
  let n = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) n += e.isDirectory() ? countFiles(join(dir, e.name)) : 1;
  return n;
}

function listFiles(items: Item[]): string[] {
  const out: string[] = [];
  const walkAbs = (p: string): string[] => (statSync(p).isDirectory() ? readdirSync(p).flatMap((e) => walkAbs(join(p, e))) : [p]);
  for (const { file } of items) out.push(...walkAbs(file));
  return out;
}

function commonRoot(items: Item[]): string {
  const roots = items.map((i) => i.root);
  return roots.reduce((a, b) => {
    while (!(`${b}/`.startsWith(`${a}/`) || a === b)) a = dirname(a);
    return a;
  });
}

/**
 * The artifact service (when the rehearsal has one): the real @actions/artifact client in a child.
 * Asynchronous on purpose: the service may live in this very process (a loopback fake in tests),
 * and a synchronous child would block it from answering.
 */
function service<T>(env: Record<string, string | undefined>, req: Record<string, unknown>): Promise<T> {
  return new Promise((res, rej) => {
    // The client's code is given with --eval; its `import '@actions/artifact'` resolves from hallmark's checkout.
    const child = spawn(process.execPath, ['--input-type=module', '--eval', ARTIFACT_CLIENT, JSON.stringify(req)], {
      cwd: HALLMARK_ROOT,
      env: { ...env, RUNNER_DEBUG: '' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (b) => (stdout += b));
    child.stderr.on('data', (b) => (stderr += b));
    const t = setTimeout(() => child.kill('SIGKILL'), 120_000);
    child.on('error', (e) => {
      clearTimeout(t);
      rej(new Error(`artifact service: ${e.message}`));
    });
    child.on('close', (code) => {
      clearTimeout(t);
      if (code !== 0)
        return rej(
          new Error(
            `artifact service: ${(stderr || stdout)
              .trim()
              .split('\n')
              .filter((l) => l.trim() && !l.startsWith('::debug::') && !/^\s+at /.test(l) && !/^Node\.js v/.test(l))
              .slice(-3)
              .join(' ')}`,
          ),
        );
      try {
        res(JSON.parse(stdout.trim().split('\n').at(-1) ?? '') as T);
      } catch {
        rej(new Error(`artifact service: unreadable answer ${JSON.stringify(stdout.slice(-200))}`));
      }
    });
  });
}

export async function runEquivalent(name: string, inputs: Inputs, ctx: EquivalentContext): Promise<EquivalentResult> {
  const { state, env, home, jobState } = ctx;
  if (name.startsWith('release:')) return runReleaseEquivalent(name.slice('release:'.length), inputs, ctx);
  if (name.startsWith('cloud:')) return runCloudEquivalent(name.slice('cloud:'.length), inputs, ctx);
  const workspace = home.workspace;
  const useService = Boolean(env.ACTIONS_RESULTS_URL && env.ACTIONS_RUNTIME_TOKEN);
  switch (name) {
    case 'checkout': {
      if (inputs.repository && inputs.repository !== state.github.repository)
        throw new Error(`checks out '${inputs.repository}', but the rehearsal only has this repository (${state.github.repository})`);
      const dest = resolve(workspace, inputs.path ?? '.');
      mkdirSync(dest, { recursive: true });
      // The working tree's tracked and untracked-but-not-ignored files: what a push would carry.
      const r = spawnSync('git', ['-C', state.root, 'ls-files', '-z', '--cached', '--others', '--exclude-standard'], {
        encoding: 'utf8',
        maxBuffer: 64 << 20,
      });
      let files: string[];
      if (r.status === 0)
        files = r.stdout
          .split('\0')
          .filter(Boolean)
          .filter((f) => existsSync(join(state.root, f)));
      else files = walk(state.root).filter((f) => !/^(node_modules|\.git)(\/|$)/.test(f));
      const runRel = relative(state.root, state.runDir);
      if (runRel && !runRel.startsWith('..')) files = files.filter((f) => f !== runRel && !f.startsWith(`${runRel}/`));
      for (const f of files) {
        mkdirSync(dirname(join(dest, f)), { recursive: true });
        cpSync(join(state.root, f), join(dest, f));
      }
      return {
        log: `checkout (local): ${files.length} files of ${state.root} → ${relative(workspace, dest) || '.'}\n`,
        outputs: { ref: state.github.ref, commit: state.github.sha },
      };
    }
    case 'upload-artifact': {
      const artifactName = inputs.name || 'artifact';
      if (!/^[^"<>|*?\r\n\\/:]+$/.test(artifactName)) throw new Error(`artifact name '${artifactName}' has a character GitHub refuses`);
      const dest = join(state.artifactsDir, artifactName);
      if (existsSync(dest) && inputs.overwrite !== 'true')
        throw new Error(
          `an artifact named '${artifactName}' already exists in this run (artifact names are unique per run; overwrite: true replaces)`,
        );
      const items = collect(lines(inputs.path), workspace);
      if (!items.length) {
        const mode = inputs['if-no-files-found'] || 'warn';
        if (mode === 'error') throw new Error(`no files found at ${lines(inputs.path).join(', ')}`);
        return { log: `upload-artifact (local): no files at ${lines(inputs.path).join(', ')} (${mode})\n`, outputs: {} };
      }
      if (useService) {
        const files = listFiles(items);
        // overwrite: true deletes an artifact of that name first, as actions/upload-artifact v4 does.
        const r = await service<{ id: number }>(env, {
          op: 'upload',
          name: artifactName,
          files,
          root: commonRoot(items),
          retentionDays: Number(inputs['retention-days'] || 0) || undefined,
          overwrite: inputs.overwrite === 'true',
        });
        return {
          log: `upload-artifact (local, artifact service): ${files.length} file(s) as '${artifactName}' (id ${r.id})\n`,
          outputs: { 'artifact-id': String(r.id) },
        };
      }
      if (inputs.overwrite === 'true') rmSync(dest, { recursive: true, force: true });
      mkdirSync(dest, { recursive: true });
      const n = copyInto(items, dest);
      writeFileSync(
        join(state.artifactsDir, `${artifactName}.meta.json`),
        JSON.stringify({ name: artifactName, retentionDays: Number(inputs['retention-days'] || 90), files: n }),
      );
      const id = String(readdirSync(state.artifactsDir).filter((f) => f.endsWith('.meta.json')).length);
      return {
        log: `upload-artifact (local): ${n} file(s) as '${artifactName}'\n`,
        outputs: { 'artifact-id': id, 'artifact-url': `file://${dest}` },
      };
    }
    case 'download-artifact': {
      const dest = resolve(workspace, inputs.path || '.');
      if (useService) {
        const listed = await service<{ id: number; name: string }[]>(env, { op: 'list' });
        const all = listed.map((a) => a.name);
        let picked: { id: number; name: string }[];
        if (inputs.name) {
          picked = listed.filter((a) => a.name === inputs.name);
          if (!picked.length) throw new Error(`no artifact named '${inputs.name}' in this run (have: ${all.join(', ') || 'none'})`);
        } else {
          const pattern = inputs.pattern;
          picked = pattern ? listed.filter((a) => globRe(pattern).test(a.name)) : listed;
        }
        const items = picked.map((a) => ({
          id: a.id,
          path: inputs.name || inputs['merge-multiple'] === 'true' ? dest : join(dest, a.name),
        }));
        for (const item of items) mkdirSync(item.path, { recursive: true });
        if (items.length) await service(env, { op: 'download', items });
        return {
          log: `download-artifact (local, artifact service): ${picked.map((a) => a.name).join(', ') || 'nothing'} → ${relative(workspace, dest) || '.'}\n`,
          outputs: { 'download-path': dest },
        };
      }
      const all = existsSync(state.artifactsDir) ? readdirSync(state.artifactsDir).filter((f) => !f.endsWith('.meta.json')) : [];
      let names: string[];
      if (inputs.name) {
        if (!all.includes(inputs.name))
          throw new Error(`no artifact named '${inputs.name}' in this run (have: ${all.join(', ') || 'none'})`);
        names = [inputs.name];
      } else {
        const pattern = inputs.pattern;
        names = pattern ? all.filter((a) => globRe(pattern).test(a)) : all;
      }
      const single = Boolean(inputs.name);
      for (const a of names) {
        const target = single || inputs['merge-multiple'] === 'true' ? dest : join(dest, a);
        mkdirSync(target, { recursive: true });
        cpSync(join(state.artifactsDir, a), target, { recursive: true });
      }
      return {
        log: `download-artifact (local): ${names.join(', ') || 'nothing'} → ${relative(workspace, dest) || '.'}\n`,
        outputs: { 'download-path': dest },
      };
    }
    case 'cache':
    case 'cache-restore':
    case 'cache-save': {
      const key = inputs.key;
      if (!key) throw new Error("input 'key' is required");
      const paths = lines(inputs.path);
      const slot = (k: string) => join(state.cacheDir, createHash('sha256').update(k).digest('hex').slice(0, 16));
      const save = () => {
        if (existsSync(slot(key))) return;
        mkdirSync(slot(key), { recursive: true });
        writeFileSync(join(slot(key), '.key'), key);
        paths.forEach(
          (p, i) => existsSync(resolve(workspace, p)) && cpSync(resolve(workspace, p), join(slot(key), String(i)), { recursive: true }),
        );
      };
      if (name === 'cache-save') {
        save();
        return { log: `cache (local): saved '${key}'\n` };
      }
      const candidates = [key, ...lines(inputs['restore-keys'])];
      let hit: string | undefined;
      if (existsSync(state.cacheDir))
        for (const c of candidates) {
          const exact = existsSync(slot(c)) ? c : undefined;
          const prefix = exact
            ? undefined
            : readdirSync(state.cacheDir)
                .map((d) => readFileSync(join(state.cacheDir, d, '.key'), 'utf8'))
                .find((k) => k.startsWith(c));
          hit = exact ?? prefix;
          if (hit) break;
        }
      if (hit) {
        const from = slot(hit);
        paths.forEach(
          (p, i) => existsSync(join(from, String(i))) && cpSync(join(from, String(i)), resolve(workspace, p), { recursive: true }),
        );
      }
      const outputs = { 'cache-hit': String(hit === key), 'cache-matched-key': hit ?? '', 'cache-primary-key': key };
      return {
        log: `cache (local): ${hit ? `restored '${hit}'` : 'miss'}\n`,
        outputs,
        post: name === 'cache' && hit !== key ? async () => save() : undefined,
      };
    }
    case 'upload-sarif': {
      // As on GitHub: the upload uses the job token, which needs security-events: write (rules.ts).
      if (jobState.permissions && jobState.permissions['security-events'] !== 'write' && !inputs.token)
        throw new Error(
          `Resource not accessible by integration: uploading SARIF needs 'security-events: write', and this job grants security-events: ${jobState.permissions['security-events']}`,
        );
      const f = resolve(workspace, inputs.sarif_file || '../results');
      if (!existsSync(f)) throw new Error(`SARIF file ${inputs.sarif_file} does not exist`);
      const files = statSync(f).isDirectory()
        ? readdirSync(f)
            .filter((x) => x.endsWith('.sarif'))
            .map((x) => join(f, x))
        : [f];
      let results = 0;
      const outDir = join(state.runDir, 'code-scanning');
      mkdirSync(outDir, { recursive: true });
      for (const file of files) {
        let doc: { version?: unknown; runs?: unknown };
        try {
          doc = JSON.parse(readFileSync(file, 'utf8'));
        } catch (e) {
          throw new Error(`${basename(file)} is not JSON: ${(e as Error).message}`);
        }
        if (doc.version !== '2.1.0' || !Array.isArray(doc.runs))
          throw new Error(`${basename(file)} is not SARIF 2.1.0 (version ${doc.version})`);
        results += (doc.runs as { results?: unknown }[]).reduce((n, r) => n + (Array.isArray(r.results) ? r.results.length : 0), 0);
        cpSync(file, join(outDir, `${(inputs.category || 'default').replace(/[^\w.-]+/g, '_')}-${basename(file)}`));
      }
      return {
        log: `upload-sarif (local): ${files.length} file(s), ${results} result(s) kept in ${outDir}\n`,
        outputs: { 'sarif-id': 'local' },
      };
    }
    default:
      throw new Error(`no local equivalent named ${name}`);
  }
}

function walk(root: string, rel = ''): string[] {
  const out: string[] = [];
  for (const e of readdirSync(join(root, rel), { withFileTypes: true })) {
    const p = rel ? `${rel}/${e.name}` : e.name;
    if (e.isDirectory()) {
      if (e.name !== 'node_modules' && e.name !== '.git') out.push(...walk(root, p));
    } else out.push(p);
  }
  return out;
}
