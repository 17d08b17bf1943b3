// The house in figures (issue 14, "the note shows the house before and after"): files per role in
// each action (inputs.ts / flow.ts / summary.ts / main.ts / runner.ts vs other names), the ten largest
// source files, and the lines longer than 160 characters. Prints Markdown.
//
//   node scripts/house-figures.mjs            the working tree
//   node scripts/house-figures.mjs --rev HEAD  a commit (read with git, the working tree untouched)
//   node scripts/house-figures.mjs --compare HEAD   both, before (the commit) and after (the working tree)
//
//   node scripts/house-figures.mjs --root DIR  another checkout (e.g. a formatted scratch copy)
//
// "Source" is actions/*/src/** and packages/*/src/** (.ts, .mts, .mjs) without the pinned trust
// material in actions/setup-tools/src/trust/ (keys and certificates as data); tests are test/**/*.ts.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const argv = process.argv.slice(2);
const root = argv.includes('--root')
  ? resolve(argv[argv.indexOf('--root') + 1] ?? '.')
  : resolve(dirname(fileURLToPath(import.meta.url)), '..');
const LONG = 160;
const CODE = /\.(ts|mts|mjs)$/;
const DATA = new Set(['sigstore-public-good.ts', 'helm-keys.ts', 'hashicorp.ts'].map((f) => `actions/setup-tools/src/trust/${f}`));
const ROLES = ['inputs.ts', 'flow.ts', 'summary.ts', 'main.ts', 'runner.ts'];

/** A view of the tree: the working tree, or a commit through git. */
function tree(rev) {
  if (!rev) {
    const files = [];
    const walk = (d) => {
      for (const e of readdirSync(join(root, d), { withFileTypes: true })) {
        if (e.name === 'node_modules' || e.name.startsWith('.')) continue;
        const p = d ? `${d}/${e.name}` : e.name;
        if (e.isDirectory()) walk(p);
        else if (e.isFile()) files.push(p);
      }
    };
    for (const top of ['actions', 'packages', 'test'])
      if (existsSync(join(root, top)) && statSync(join(root, top)).isDirectory()) walk(top);
    return { label: 'working tree', files: files.sort(), read: (f) => readFileSync(join(root, f), 'utf8') };
  }
  const out = execFileSync('git', ['ls-tree', '-r', '--name-only', rev, '--', 'actions', 'packages', 'test'], {
    cwd: root,
    encoding: 'utf8',
    maxBuffer: 1 << 26,
  });
  return {
    label: `${rev} (${execFileSync('git', ['rev-parse', '--short', rev], { cwd: root, encoding: 'utf8' }).trim()})`,
    files: out.split('\n').filter(Boolean).sort(),
    read: (f) => execFileSync('git', ['show', `${rev}:${f}`], { cwd: root, encoding: 'utf8', maxBuffer: 1 << 26 }),
  };
}

function figures(t) {
  const source = t.files.filter((f) => /^(actions\/[^/]+\/src|packages\/[^/]+\/src)\//.test(f) && CODE.test(f) && !DATA.has(f));
  const tests = t.files.filter((f) => f.startsWith('test/') && /\.ts$/.test(f));
  const lines = new Map();
  for (const f of [...source, ...tests]) lines.set(f, t.read(f).split('\n'));
  const long = (fs) => {
    let n = 0;
    let max = { len: 0, at: '' };
    for (const f of fs) {
      lines.get(f).forEach((l, i) => {
        if (l.length > LONG) n++;
        if (l.length > max.len) max = { len: l.length, at: `${f}:${i + 1}` };
      });
    }
    return { n, max };
  };
  const actions = [...new Set(t.files.filter((f) => /^actions\/[^/]+\/src\/main\.ts$/.test(f)).map((f) => f.split('/')[1]))].sort();
  const roles = actions.map((a) => {
    const own = source.filter((f) => f.startsWith(`actions/${a}/src/`)).map((f) => f.slice(`actions/${a}/src/`.length));
    return {
      action: a,
      has: ROLES.map((r) => own.includes(r)),
      other: own.filter((f) => !ROLES.includes(f)),
      lines: own.reduce((s, f) => s + lines.get(`actions/${a}/src/${f}`).length, 0),
    };
  });
  const largest = source
    .map((f) => ({ f, n: lines.get(f).length }))
    .sort((a, b) => b.n - a.n || a.f.localeCompare(b.f))
    .slice(0, 10);
  const mjs = source.filter((f) => /\.mjs$/.test(f));
  return {
    t,
    source,
    tests,
    roles,
    largest,
    long: { source: long(source), tests: long(tests) },
    mjsLines: mjs.reduce((s, f) => s + lines.get(f).length, 0),
    mjs: mjs.length,
  };
}

function render(x) {
  const yes = (b) => (b ? '✓' : '—');
  let s = `### ${x.t.label}\n\n`;
  s += `Source files: ${x.source.length} (${x.source.reduce((n, f) => n + x.t.read(f).split('\n').length, 0)} lines; .mjs: ${x.mjs} files, ${x.mjsLines} lines). Test files: ${x.tests.length}.\n\n`;
  s += `**Files per role** (✓ = the action has the file under its vocabulary name)\n\n`;
  s +=
    '| action | inputs.ts | flow.ts | summary.ts | main.ts | runner.ts | other files | src lines |\n| --- | --- | --- | --- | --- | --- | --- | --- |\n';
  for (const r of x.roles) s += `| ${r.action} | ${r.has.map(yes).join(' | ')} | ${r.other.join(', ') || '—'} | ${r.lines} |\n`;
  const full = x.roles.filter((r) => r.has[0] && r.has[1] && r.has[2] && r.has[3]).length;
  s += `\n${full} of ${x.roles.length} actions have all of inputs.ts, flow.ts, summary.ts and main.ts.\n\n`;
  s += `**The 10 largest source files** (lines)\n\n| lines | file |\n| --- | --- |\n`;
  for (const l of x.largest) s += `| ${l.n} | ${l.f} |\n`;
  s += `\n**Long lines** (> ${LONG} characters)\n\n| | lines > ${LONG} | longest | where |\n| --- | --- | --- | --- |\n`;
  s += `| source | ${x.long.source.n} | ${x.long.source.max.len} | ${x.long.source.max.at} |\n`;
  s += `| tests | ${x.long.tests.n} | ${x.long.tests.max.len} | ${x.long.tests.max.at} |\n`;
  return s;
}

const args = argv;
const at = (k) => (args.includes(k) ? args[args.indexOf(k) + 1] : undefined);
if (args.includes('--help')) {
  console.log('usage: node scripts/house-figures.mjs [--root DIR] [--rev <commit> | --compare <commit>]');
  process.exit(0);
}
const out = [`# The house in figures (${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC)\n`];
if (at('--compare')) out.push(render(figures(tree(at('--compare')))), render(figures(tree())));
else out.push(render(figures(tree(at('--rev')))));
process.stdout.write(`${out.join('\n')}`);
