// Builds every action (or the ones named on the command line) into dist/<name>/index.js with
// esbuild: one ESM entry per action, plus lazily loaded chunks for libraries only some paths need
// (e.g. @actions/artifact), a {"type":"module"} package.json, and licenses.txt for what was bundled.
// Deterministic: the same sources give byte-identical output.
import { build } from 'esbuild';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const all = readdirSync(join(root, 'actions'), { withFileTypes: true })
  .filter((d) => d.isDirectory() && existsSync(join(root, 'actions', d.name, 'src', 'main.ts')))
  .map((d) => d.name)
  .sort();
const wanted = process.argv.slice(2).filter((a) => !a.startsWith('-'));
// `rehearse` is the rehearsal engine (packages/rehearse), not an action: built with the actions.
const withRehearse = !wanted.length || wanted.includes('rehearse');
const names = wanted.length ? wanted.filter((n) => n !== 'rehearse') : all;
for (const n of names)
  if (!all.includes(n)) {
    console.error(`build: no action named ${n} (have: ${all.join(', ')}, rehearse)`);
    process.exit(1);
  }

// The version every bundle reports (the kit's audit records carry it): the root package.json's.
const version = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).version;

// More entry points bundled next to an action's index.js (sharing its chunks): the audit:verify CLI
// (`npm run audit:verify`) ships with audit-trail as dist/audit-trail/verify.js.
const extraEntries = { 'audit-trail': { verify: join(root, 'packages', 'audit', 'src', 'cli-main.ts') } };

// esbuild's ESM output needs `require` for the CommonJS code inside some dependencies.
const banner =
  'import { createRequire as __hallmarkCreateRequire } from "node:module"; const require = __hallmarkCreateRequire(import.meta.url);';

function licenseOf(pkgDir) {
  for (const f of ['LICENSE', 'LICENSE.md', 'LICENSE.txt', 'license', 'LICENCE', 'license.md']) {
    const p = join(pkgDir, f);
    if (existsSync(p)) return readFileSync(p, 'utf8').trim();
  }
  return '';
}

function packageDirOf(file) {
  // node_modules/<pkg> or node_modules/@scope/pkg, innermost.
  const parts = file.split('/');
  const i = parts.lastIndexOf('node_modules');
  if (i < 0) return undefined;
  const n = parts[i + 1]?.startsWith('@') ? 3 : 2;
  return parts.slice(0, i + n).join('/');
}

// Each bundle is built in a sibling directory and swapped in with two renames, so a test running
// meanwhile never finds dist/<name> half-written or missing (the output is byte-identical).
function stagingDir(name) {
  const dir = join(root, 'dist', `.${name}.tmp-${process.pid}`);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  return dir;
}
function swapIn(staged, name) {
  const final = join(root, 'dist', name);
  const old = `${final}.old-${process.pid}`;
  if (existsSync(final)) renameSync(final, old);
  renameSync(staged, final);
  rmSync(old, { recursive: true, force: true });
}

let failed = false;
await Promise.all(
  names.map(async (name) => {
    const out = stagingDir(name);
    const t0 = Date.now();
    try {
      const result = await build({
        entryPoints: { index: join(root, 'actions', name, 'src', 'main.ts'), ...(extraEntries[name] ?? {}) },
        outdir: out,
        bundle: true,
        splitting: true,
        chunkNames: 'chunks/[name]-[hash]',
        format: 'esm',
        platform: 'node',
        target: 'node20',
        minify: true,
        legalComments: 'none',
        metafile: true,
        banner: { js: banner },
        define: { __HALLMARK_VERSION__: JSON.stringify(version) },
        logLevel: 'warning',
        absWorkingDir: root,
        mainFields: ['module', 'main'],
        conditions: ['import', 'node'],
      });
      writeFileSync(join(out, 'package.json'), '{\n  "type": "module"\n}\n');
      const pkgs = new Map();
      for (const input of Object.keys(result.metafile.inputs)) {
        const dir = packageDirOf(input);
        if (!dir || pkgs.has(dir)) continue;
        const pj = JSON.parse(readFileSync(join(root, dir, 'package.json'), 'utf8'));
        pkgs.set(dir, { name: pj.name, version: pj.version, license: pj.license ?? '', text: licenseOf(join(root, dir)) });
      }
      const entries = [...pkgs.values()].sort((a, b) => (a.name + a.version).localeCompare(b.name + b.version));
      writeFileSync(join(out, 'licenses.txt'), entries.map((p) => `${p.name}@${p.version}\n${p.license}\n${p.text}\n`).join('\n'));
      const size = Object.values(result.metafile.outputs).reduce((s, o) => s + o.bytes, 0);
      swapIn(out, name);
      console.log(`built ${relative(root, join(root, 'dist', name))}/index.js  ${(size / 1024).toFixed(0)} kB  ${Date.now() - t0} ms`);
    } catch (e) {
      failed = true;
      rmSync(out, { recursive: true, force: true });
      console.error(`build: ${name} failed: ${e.message}`);
    }
  }),
);

// The rehearsal engine: dist/rehearse/engine.js (rehearse(), for examples/demo.mjs and scripts),
// dist/rehearse/rules.js (GitHub's rules, for scripts/lint-workflows.mjs) and dist/rehearse/cli.js
// (npm run rehearse). Its dependencies stay in node_modules: it runs from a checkout, never on a runner.
if (withRehearse) {
  const out = stagingDir('rehearse');
  const t0 = Date.now();
  try {
    const src = join(root, 'packages', 'rehearse', 'src');
    await build({
      entryPoints: { engine: join(src, 'engine.ts'), cli: join(src, 'cli.ts'), rules: join(src, 'rules.ts') },
      outdir: out,
      bundle: true,
      splitting: true,
      chunkNames: 'chunks/[name]-[hash]',
      format: 'esm',
      platform: 'node',
      target: 'node20',
      packages: 'external',
      legalComments: 'none',
      logLevel: 'warning',
      absWorkingDir: root,
    });
    writeFileSync(join(out, 'package.json'), '{\n  "type": "module"\n}\n');
    swapIn(out, 'rehearse');
    console.log(`built dist/rehearse/{engine,cli,rules}.js  ${Date.now() - t0} ms`);
  } catch (e) {
    failed = true;
    rmSync(out, { recursive: true, force: true });
    console.error(`build: rehearse failed: ${e.message}`);
  }
}
if (failed) process.exit(1);
