/**
 * Vitest global setup, before any test file runs:
 *
 * 1. The real test peers exist (`npm run tools`: cosign, syft, trivy, helm, kyverno,
 *    terraform/OpenTofu from the Go module proxy, cached outside the checkout). The first run on a
 *    fresh machine builds them (minutes); every later run only checks the cache.
 * 2. Every bundle under dist/ is built from the source as it is now (CONTRIBUTING.md, "Bundles and
 *    their source"): bundle tests run dist/<name>/index.js, so an edited source with an old bundle
 *    would test the old code. The check is by CONTENT, never by mtime (a fresh clone has arbitrary
 *    mtimes): a bundle's key is the SHA-256 of the files it is built from (the action's src/, every
 *    package's src/ and package.json, the root package.json and package-lock.json,
 *    scripts/build.mjs). `.tmp/dist-stamps.json` remembers, per bundle, the key and the SHA-256 of
 *    the dist/<name>/ bytes last built or checked. A bundle is rebuilt (`node scripts/build.mjs
 *    <names>`, deterministic: same source, same bytes) when its key or its dist bytes differ from the
 *    stamp. Without a stamp (a fresh clone, a new bundle), git decides: inputs and dist/<name>/ as
 *    committed means the committed bundle is current (CI's drift check holds that) and nothing is
 *    built; otherwise it is rebuilt. Set HALLMARK_NO_REBUILD=1 to only report stale bundles (then the
 *    run fails with "run npm run build").
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { ROOT } from './runner.js';

export default function setup(): void {
  const r = spawnSync(process.execPath, [join(ROOT, 'scripts', 'tools.mjs')], {
    stdio: ['ignore', 'ignore', 'inherit'],
    timeout: 90 * 60_000,
  });
  if (r.status !== 0) throw new Error(`npm run tools failed (exit ${r.status ?? r.signal}): the tests need the real tools`);
  ensureFreshBundles();
}

/** Every file under `dir` (relative to ROOT, sorted), skipping node_modules. */
function filesUnder(dir: string): string[] {
  if (!existsSync(dir)) return [];
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      if (e.name === 'node_modules') continue;
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.isFile()) out.push(relative(ROOT, p));
    }
  };
  walk(dir);
  return out.sort();
}

function hashFiles(files: string[]): string {
  const h = createHash('sha256');
  for (const f of files) {
    h.update(`${f}\0`);
    h.update(readFileSync(join(ROOT, f)));
    h.update('\0');
  }
  return h.digest('hex');
}

/** The bundles scripts/build.mjs makes: every action with a src/main.ts, and `rehearse` when the build script knows it. */
export function bundleTargets(): string[] {
  const actions = readdirSync(join(ROOT, 'actions')).filter((n) => existsSync(join(ROOT, 'actions', n, 'src', 'main.ts')));
  const build = readFileSync(join(ROOT, 'scripts', 'build.mjs'), 'utf8');
  const rehearse = existsSync(join(ROOT, 'packages', 'rehearse', 'src', 'engine.ts')) && build.includes("'rehearse'");
  return [...actions.sort(), ...(rehearse ? ['rehearse'] : [])];
}

/** The files a bundle is built from (a superset: every package, since any may be imported). */
export function bundleInputs(name: string): string[] {
  const shared = [
    ...readdirSync(join(ROOT, 'packages')).flatMap((p) => [
      ...filesUnder(join(ROOT, 'packages', p, 'src')),
      ...(existsSync(join(ROOT, 'packages', p, 'package.json')) ? [`packages/${p}/package.json`] : []),
    ]),
    'package.json',
    'package-lock.json',
    'scripts/build.mjs',
  ];
  const own = name === 'rehearse' ? [] : filesUnder(join(ROOT, 'actions', name, 'src'));
  return [...new Set([...own, ...shared])].filter((f) => existsSync(join(ROOT, f))).sort();
}

export function bundleKey(name: string): string {
  return hashFiles(bundleInputs(name));
}

function distHash(name: string): string {
  const dir = join(ROOT, 'dist', name);
  return existsSync(dir) ? hashFiles(filesUnder(dir)) : 'absent';
}

/** True when git shows the bundle's inputs and its dist/ exactly as committed (and the bundle is committed). */
function committedAndClean(name: string, inputs: string[]): boolean {
  const tracked = spawnSync('git', ['ls-files', '--', `dist/${name}`], { cwd: ROOT, encoding: 'utf8' });
  if (tracked.status !== 0 || tracked.stdout.trim() === '') return false;
  const st = spawnSync('git', ['status', '--porcelain', '--untracked-files=all', '--', `dist/${name}`, ...inputs], {
    cwd: ROOT,
    encoding: 'utf8',
    maxBuffer: 1 << 24,
  });
  return st.status === 0 && st.stdout.trim() === '';
}

type Stamps = Record<string, { key: string; dist: string }>;

export function ensureFreshBundles(): void {
  const stampFile = join(ROOT, '.tmp', 'dist-stamps.json');
  mkdirSync(join(ROOT, '.tmp'), { recursive: true });
  const lock = join(ROOT, '.tmp', 'dist-build.lock');
  withLock(lock, () => {
    let stamps: Stamps = {};
    try {
      stamps = JSON.parse(readFileSync(stampFile, 'utf8')) as Stamps;
    } catch {
      stamps = {};
    }
    const stale: string[] = [];
    for (const name of bundleTargets()) {
      const inputs = bundleInputs(name);
      const key = hashFiles(inputs);
      const dist = distHash(name);
      const s = stamps[name];
      if (s ? s.key === key && s.dist === dist : dist !== 'absent' && committedAndClean(name, inputs)) stamps[name] = { key, dist };
      else stale.push(name);
    }
    if (stale.length && /^(1|true)$/i.test(process.env.HALLMARK_NO_REBUILD ?? '')) {
      throw new Error(
        `dist/ is older than its source for: ${stale.join(', ')} — run npm run build (or node scripts/build.mjs ${stale.join(' ')})`,
      );
    }
    if (stale.length) {
      const t0 = Date.now();
      const b = spawnSync(process.execPath, [join(ROOT, 'scripts', 'build.mjs'), ...stale], {
        cwd: ROOT,
        encoding: 'utf8',
        timeout: 10 * 60_000,
      });
      if (b.status !== 0)
        throw new Error(
          `the bundles' source changed and rebuilding failed (node scripts/build.mjs ${stale.join(' ')}):\n${b.stderr}${b.stdout}`,
        );
      for (const name of stale) stamps[name] = { key: bundleKey(name), dist: distHash(name) };
      process.stderr.write(`bundles: rebuilt ${stale.join(', ')} from changed source in ${((Date.now() - t0) / 1000).toFixed(1)} s\n`);
    }
    writeFileSync(stampFile, `${JSON.stringify(stamps, null, 2)}\n`);
  });
}

/** Runs `fn` holding a directory lock, so concurrent test runs do not rebuild the same bundles at once. */
function withLock(dir: string, fn: () => void): void {
  const deadline = Date.now() + 5 * 60_000;
  for (;;) {
    try {
      mkdirSync(dir);
      break;
    } catch {
      // A lock older than ten minutes was left by a killed run.
      try {
        if (Date.now() - statSync(dir).mtimeMs > 10 * 60_000) rmSync(dir, { recursive: true, force: true });
      } catch {
        /* gone meanwhile */
      }
      if (Date.now() > deadline)
        throw new Error(`another test run holds ${dir} for more than 5 minutes; remove it if no test run is active`);
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 200);
    }
  }
  try {
    fn();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
