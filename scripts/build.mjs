// Builds every action (or the ones named on the command line) into dist/<name>/index.js with
// esbuild: one ESM entry per action, plus lazily loaded chunks for libraries only some paths need
// (e.g. @actions/artifact), a {"type":"module"} package.json, and licenses.txt for what was bundled.
// Deterministic: the same sources give byte-identical output.
import { build } from 'esbuild';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const all = readdirSync(join(root, 'actions'), { withFileTypes: true })
  .filter((d) => d.isDirectory() && existsSync(join(root, 'actions', d.name, 'src', 'main.ts')))
  .map((d) => d.name)
  .sort();
const wanted = process.argv.slice(2).filter((a) => !a.startsWith('-'));
const names = wanted.length ? wanted : all;
for (const n of names) if (!all.includes(n)) { console.error(`build: no action named ${n} (have: ${all.join(', ')})`); process.exit(1); }

// esbuild's ESM output needs `require` for the CommonJS code inside some dependencies.
const banner = 'import { createRequire as __hallmarkCreateRequire } from "node:module"; const require = __hallmarkCreateRequire(import.meta.url);';

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

let failed = false;
await Promise.all(names.map(async (name) => {
  const out = join(root, 'dist', name);
  rmSync(out, { recursive: true, force: true });
  mkdirSync(out, { recursive: true });
  const t0 = Date.now();
  try {
    const result = await build({
      entryPoints: { index: join(root, 'actions', name, 'src', 'main.ts') },
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
    console.log(`built ${relative(root, out)}/index.js  ${(size / 1024).toFixed(0)} kB  ${Date.now() - t0} ms`);
  } catch (e) {
    failed = true;
    console.error(`build: ${name} failed: ${e.message}`);
  }
}));
if (failed) process.exit(1);
