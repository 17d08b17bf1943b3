// Cold start of every action bundle, measured in one run against two baselines:
//   - `node -e ''` (the floor: Node itself),
//   - a core-only bundle (esbuild, @actions/core reading one input and failing): what any action costs at least.
// Each action is started with no inputs, so it runs until its first input error, exactly like a runner
// step with a missing input. Also: setup-tools with all 7 tools already in the tool cache (the warm path
// every later job takes), and the same bundles built with @vercel/ncc, for the bundler choice.
// NODE_EXTRA_CA_CERTS is unset (it adds ~50 ms to every Node 20 start). Runs are interleaved, medians reported.
//
//   node bench/cold-start.mjs [--runs 21] [--no-ncc] [--json out.json]
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const runs = Number(args[args.indexOf('--runs') + 1] ?? 0) || 21;
const withNcc = !args.includes('--no-ncc');
const jsonOut = args.includes('--json') ? args[args.indexOf('--json') + 1] : undefined;
const node = process.execPath;
const work = mkdtempSync(join(tmpdir(), 'hallmark-bench-'));

const env = { ...process.env };
delete env.NODE_EXTRA_CA_CERTS;
for (const k of Object.keys(env)) if (k.startsWith('INPUT_')) delete env[k];

function runnerEnv() {
  const d = mkdtempSync(join(work, 'r-'));
  for (const f of ['output', 'env', 'path', 'summary', 'state']) writeFileSync(join(d, f), '');
  mkdirSync(join(d, 'temp'));
  return {
    ...env,
    GITHUB_OUTPUT: join(d, 'output'),
    GITHUB_ENV: join(d, 'env'),
    GITHUB_PATH: join(d, 'path'),
    GITHUB_STEP_SUMMARY: join(d, 'summary'),
    GITHUB_STATE: join(d, 'state'),
    RUNNER_TEMP: join(d, 'temp'),
    GITHUB_WORKSPACE: d,
    GITHUB_REPOSITORY: 'octo-org/shop',
    GITHUB_SHA: '4f1c6b9e0a2d3c5b7e8f9a0b1c2d3e4f5a6b7c8d',
  };
}

function timeOnce(argv, extraEnv) {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(node, argv, { env: extraEnv, stdio: ['ignore', 'pipe', 'pipe'] });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  return { ms, status: r.status, stdout: r.stdout.toString() };
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

// ---- subjects ----
const subjects = [];
subjects.push({ name: "node -e ''", argv: ['-e', ''], env: () => env, expect: 0 });

const coreEntry = join(work, 'core-only.mjs');
writeFileSync(
  coreEntry,
  "import * as core from '@actions/core';\nconst v = core.getInput('x', { required: false });\nif (!v) core.setFailed(\"input 'x' is required\");\n",
);
mkdirSync(join(work, 'core-only'));
await build({
  entryPoints: [coreEntry],
  outfile: join(work, 'core-only', 'index.js'),
  bundle: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  minify: true,
  nodePaths: [join(root, 'node_modules')],
  banner: { js: 'import { createRequire as __cr } from "node:module"; const require = __cr(import.meta.url);' },
  logLevel: 'error',
});
writeFileSync(join(work, 'core-only', 'package.json'), '{"type":"module"}');
subjects.push({ name: 'core-only bundle', argv: [join(work, 'core-only', 'index.js')], env: runnerEnv, expect: 1, baseline: true });

const actions = readdirSync(join(root, 'dist'))
  .filter((n) => existsSync(join(root, 'dist', n, 'index.js')))
  .sort();
for (const a of actions)
  subjects.push({ name: a, argv: [join(root, 'dist', a, 'index.js')], env: runnerEnv, expect: 1, action: a, bundler: 'esbuild' });

// setup-tools, every tool already in the tool cache.
const PINNED = {
  cosign: '3.1.2',
  syft: '1.51.0',
  trivy: '0.74.0',
  terraform: '1.15.9',
  kubectl: '1.36.3',
  helm: '4.2.4',
  kyverno: '1.19.0',
};
if (actions.includes('setup-tools')) {
  const cacheDir = join(work, 'toolcache');
  for (const [tool, v] of Object.entries(PINNED)) {
    const dir = join(cacheDir, tool, v, 'x64');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, tool), '#!/bin/sh\necho cached\n', { mode: 0o755 });
    writeFileSync(`${dir}.complete`, '');
  }
  const warm = () => ({
    ...runnerEnv(),
    RUNNER_TOOL_CACHE: cacheDir,
    INPUT_TOOLS: Object.entries(PINNED)
      .map(([t, v]) => `${t}@${v}`)
      .join(','),
    INPUT_CACHE: 'true',
  });
  const probe = timeOnce([join(root, 'dist', 'setup-tools', 'index.js')], warm());
  subjects.push({
    name: 'setup-tools, 7 tools cached',
    argv: [join(root, 'dist', 'setup-tools', 'index.js')],
    env: warm,
    expect: 0,
    probe,
  });
}

// The same actions bundled by ncc, for the bundler comparison.
if (withNcc) {
  const nccBin = join(root, 'node_modules', '@vercel', 'ncc', 'dist', 'ncc', 'cli.js');
  for (const a of actions) {
    const out = join(work, 'ncc', a);
    const t0 = Date.now();
    const r = spawnSync(
      node,
      [
        nccBin,
        'build',
        join(root, 'actions', a, 'src', 'main.ts'),
        '-o',
        out,
        '--license',
        'licenses.txt',
        '--minify',
        '--transpile-only',
        '--quiet',
      ],
      { cwd: root, env, encoding: 'utf8' },
    );
    if (r.status !== 0) {
      console.error(`ncc build of ${a} failed: ${(r.stderr || r.stdout).slice(0, 400)}`);
      continue;
    }
    subjects.push({
      name: `${a} (ncc)`,
      argv: [join(out, 'index.js')],
      env: runnerEnv,
      expect: 1,
      action: a,
      bundler: 'ncc',
      buildMs: Date.now() - t0,
      dir: out,
    });
  }
}

// ---- measure, interleaved ----
for (const s of subjects) s.times = [];
for (const s of subjects) timeOnce(s.argv, s.env()); // warm the page cache
for (let i = 0; i < runs; i++) {
  for (const s of subjects) {
    const r = timeOnce(s.argv, s.env());
    if (r.status !== s.expect) throw new Error(`${s.name}: exit ${r.status}, expected ${s.expect}: ${r.stdout.slice(0, 300)}`);
    s.times.push(r.ms);
  }
}

const dirSize = (d) =>
  readdirSync(d, { recursive: true })
    .map((f) => join(d, String(f)))
    .filter((f) => statSync(f).isFile() && f.endsWith('.js'))
    .reduce((n, f) => n + statSync(f).size, 0);
const base = subjects.find((s) => s.baseline);
const baseMs = median(base.times);
const rows = subjects.map((s) => {
  const ms = median(s.times);
  const size = s.action ? dirSize(s.bundler === 'ncc' ? s.dir : join(root, 'dist', s.action)) : undefined;
  return { subject: s.name, medianMs: +ms.toFixed(1), vsCoreOnly: +(ms / baseMs).toFixed(2), jsBytes: size };
});
console.log(`cold start, median of ${runs} interleaved runs, Node ${process.versions.node}, NODE_EXTRA_CA_CERTS unset`);
console.table(rows);
if (withNcc) {
  console.log('bundler comparison (esbuild = what dist/ ships):');
  const cmp = actions.map((a) => {
    const e = rows.find((r) => r.subject === a);
    const n = rows.find((r) => r.subject === `${a} (ncc)`);
    return n
      ? {
          action: a,
          esbuildKB: Math.round(e.jsBytes / 1024),
          nccKB: Math.round(n.jsBytes / 1024),
          sizeRatio: +(e.jsBytes / n.jsBytes).toFixed(2),
          esbuildMs: e.medianMs,
          nccMs: n.medianMs,
          startRatio: +(e.medianMs / n.medianMs).toFixed(2),
        }
      : { action: a, ncc: 'build failed' };
  });
  console.table(cmp);
}
if (jsonOut) writeFileSync(jsonOut, JSON.stringify({ runs, node: process.versions.node, rows }, null, 2));
rmSync(work, { recursive: true, force: true });
