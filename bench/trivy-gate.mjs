// trivy-gate on a large report, measured in one run against two baselines:
//   - jq computing the same per-severity counts (the tool people reach for),
//   - a bare `JSON.parse` of the file (readFileSync + JSON.parse, nothing else).
// The report (~100 MB by default) is generated from the shapes of the real Trivy reports in
// ../shared/fixtures/trivy: whole Vulnerability, Secret and Misconfiguration objects copied with
// new IDs and severities across many Results. Each measurement runs in its own process, measured
// by /usr/bin/time (wall time and peak RSS). Runs are interleaved; medians are reported. The
// gate's counts are checked against jq's before anything is timed.
//
//   node bench/trivy-gate.mjs [--mb 100] [--runs 5] [--json out.json]
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync, createWriteStream } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const opt = (name, def) => (args.includes(name) ? args[args.indexOf(name) + 1] : def);
const targetMb = Number(opt('--mb', 100));
const runs = Number(opt('--runs', 5));
const jsonOut = opt('--json', undefined);
const fixtures = process.env.HALLMARK_FIXTURES ? resolve(process.env.HALLMARK_FIXTURES) : resolve(root, '..', 'shared', 'fixtures');
const work = mkdtempSync(join(tmpdir(), 'hallmark-bench-trivy-'));
const node = process.execPath;

if (!existsSync(join(fixtures, 'trivy'))) {
  console.error(`bench: ${join(fixtures, 'trivy')} not found`);
  process.exit(1);
}
if (!existsSync('/usr/bin/time')) {
  console.error('bench: /usr/bin/time is needed for peak RSS');
  process.exit(1);
}

// 1. Shapes from the real reports.
const shapes = { vuln: [], secret: [], misconf: [], result: [] };
for (const f of [
  'image-alpine-3.9.json',
  'image-centos-7.json',
  'image-debian-buster.json',
  'image-distroless-base.json',
  'image-fluentd-os-and-lang.json',
  'repo-pip.json',
  'repo-git-test-repo.json',
  'repo-secrets.json',
  'config-helm-testchart-misconfig.json',
  'config-dockerfile-misconfig.json',
]) {
  const doc = JSON.parse(readFileSync(join(fixtures, 'trivy', f), 'utf8'));
  for (const r of doc.Results ?? []) {
    shapes.result.push({ Target: r.Target, Class: r.Class, Type: r.Type });
    for (const v of r.Vulnerabilities ?? []) shapes.vuln.push(v);
    for (const s of r.Secrets ?? []) shapes.secret.push(s);
    for (const m of r.Misconfigurations ?? []) shapes.misconf.push(m);
  }
}
const header = JSON.parse(readFileSync(join(fixtures, 'trivy', 'image-fluentd-os-and-lang.json'), 'utf8'));
delete header.Results;

// 2. Generate the report, streamed to disk (deterministic).
const reportPath = join(work, 'report.json');
const SEV = ['CRITICAL', 'HIGH', 'MEDIUM', 'LOW', 'UNKNOWN', 'HIGH', 'MEDIUM', 'LOW'];
let seed = 7;
const rnd = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
{
  const out = createWriteStream(reportPath);
  const write = (s) => new Promise((res) => (out.write(s) ? res() : out.once('drain', res)));
  const head = JSON.stringify(header, null, 2);
  await write(`${head.slice(0, -2)},\n  "Results": [\n`);
  let bytes = head.length;
  let n = 0;
  const limit = targetMb * 1024 * 1024;
  while (bytes < limit) {
    const base = shapes.result[n % shapes.result.length];
    const r = { Target: `${base.Target} #${n}`, Class: base.Class, Type: base.Type };
    const pick = (list, k) => list.map((x, i) => ({ ...x, Severity: SEV[Math.floor(rnd() * SEV.length)], [k]: `${x[k]}-${n}-${i}` }));
    const kind = n % 10;
    if (kind < 8) r.Vulnerabilities = pick(shapes.vuln, 'VulnerabilityID');
    else if (kind === 8) r.Secrets = pick(shapes.secret, 'RuleID');
    else r.Misconfigurations = pick(shapes.misconf, 'ID');
    const text = `${n ? ',\n' : ''}${JSON.stringify(r, null, 2)}`;
    bytes += text.length;
    await write(text);
    n++;
  }
  await write('\n  ]\n}\n');
  await new Promise((res) => out.end(res));
}
const size = statSync(reportPath).size;

// 3. The gate, bundled from the action's own sources (the same code dist/trivy-gate runs).
const gateEntry = join(work, 'gate-entry.ts');
writeFileSync(
  gateEntry,
  `
import { readFileSync } from 'node:fs';
import { parseReport } from ${JSON.stringify(join(root, 'actions/trivy-gate/src/trivy-report.ts'))};
import { evaluate } from ${JSON.stringify(join(root, 'actions/trivy-gate/src/gate.ts'))};
import { toSarif } from ${JSON.stringify(join(root, 'actions/trivy-gate/src/sarif.ts'))};
const [file, mode] = process.argv.slice(2);
if (mode === 'inproc') {
  // The same two jobs in one process, alternated: a steadier ratio than whole processes on a busy machine.
  const g = [], p = [];
  for (let i = 0; i < 5; i++) {
    let t = performance.now();
    evaluate(parseReport(readFileSync(file)), { threshold: 'HIGH', ignoreUnfixed: false });
    g.push(performance.now() - t);
    t = performance.now();
    JSON.parse(readFileSync(file, 'utf8'));
    p.push(performance.now() - t);
  }
  const med = (xs) => [...xs].sort((a, b) => a - b)[2];
  process.stdout.write(JSON.stringify({ gate: med(g), parse: med(p) }));
  process.exit(0);
}
const report = parseReport(readFileSync(file));
const ev = evaluate(report, { threshold: 'HIGH', ignoreUnfixed: false });
let sarifBytes = 0;
if (mode === 'sarif') sarifBytes = toSarif(report, ev, 'dev').length;
process.stdout.write(JSON.stringify({ counts: ev.counts, findings: report.findings.length, sarifBytes }));
`,
);
const gateJs = join(work, 'gate.mjs');
await build({
  entryPoints: [gateEntry],
  outfile: gateJs,
  bundle: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  logLevel: 'error',
  banner: { js: 'import { createRequire as __cr } from "node:module"; const require = __cr(import.meta.url);' },
});
const parseJs = join(work, 'parse.mjs');
writeFileSync(
  parseJs,
  `import { readFileSync } from 'node:fs';\nconst doc = JSON.parse(readFileSync(process.argv[2], 'utf8'));\nprocess.stdout.write(String(Array.isArray(doc.Results) ? doc.Results.length : 0));\n`,
);
const JQ = `[ (.Results // [])[] | ((.Vulnerabilities // [])[]), ((.Secrets // [])[]), ((.Misconfigurations // [])[] | select(.Status == "FAIL")) | (.Severity // "UNKNOWN") | if IN("CRITICAL","HIGH","MEDIUM","LOW") then . else "UNKNOWN" end ] | reduce .[] as $s ({CRITICAL:0,HIGH:0,MEDIUM:0,LOW:0,UNKNOWN:0}; .[$s] += 1)`;

const cmds = {
  gate: [node, gateJs, reportPath, 'count'],
  'gate+sarif': [node, gateJs, reportPath, 'sarif'],
  'JSON.parse': [node, parseJs, reportPath],
  jq: ['jq', '-c', JQ, reportPath],
};

// Correctness first: the gate's counts equal jq's.
const gateOut = JSON.parse(execFileSync(node, [gateJs, reportPath, 'count'], { encoding: 'utf8', maxBuffer: 1 << 26 }));
const jqOut = JSON.parse(execFileSync('jq', ['-c', JQ, reportPath], { encoding: 'utf8', maxBuffer: 1 << 26 }));
if (JSON.stringify(gateOut.counts) !== JSON.stringify(jqOut)) {
  console.error(`bench: counts differ: gate ${JSON.stringify(gateOut.counts)} vs jq ${JSON.stringify(jqOut)}`);
  process.exit(1);
}

function measure(cmd) {
  const r = spawnSync('/usr/bin/time', ['-f', '%e %M', ...cmd], { encoding: 'utf8', maxBuffer: 1 << 26 });
  if (r.status !== 0) throw new Error(`${cmd.join(' ')} failed: ${r.stderr.slice(-500)}`);
  const [sec, kb] = r.stderr.trim().split('\n').at(-1).split(' ').map(Number);
  return { ms: sec * 1000, rss: kb * 1024 };
}

const samples = Object.fromEntries(Object.keys(cmds).map((k) => [k, []]));
for (let i = 0; i < runs; i++) for (const [k, cmd] of Object.entries(cmds)) samples[k].push(measure(cmd));
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const res = Object.fromEntries(
  Object.entries(samples).map(([k, s]) => [k, { ms: median(s.map((x) => x.ms)), rss: median(s.map((x) => x.rss)) }]),
);

const mb = (b) => `${(b / 1048576).toFixed(0)} MB`;
console.log(
  `report: ${mb(size)}, ${gateOut.findings} findings, counts ${JSON.stringify(gateOut.counts)} (equal to jq's); ${runs} interleaved runs, medians`,
);
console.log('');
console.log('| run | wall | peak RSS | RSS / file size |');
console.log('| --- | --- | --- | --- |');
for (const [k, v] of Object.entries(res)) console.log(`| ${k} | ${v.ms.toFixed(0)} ms | ${mb(v.rss)} | ${(v.rss / size).toFixed(2)}× |`);
console.log('');
const ratio = (a, b) => (res[a].ms / res[b].ms).toFixed(2);
console.log(`gate / jq: ${ratio('gate', 'jq')}× (goal < 1)`);
console.log(`gate / JSON.parse: ${ratio('gate', 'JSON.parse')}× (goal ≤ 1.5)`);
console.log(`gate+sarif / JSON.parse: ${ratio('gate+sarif', 'JSON.parse')}×`);
console.log(`gate peak RSS / file size: ${(res.gate.rss / size).toFixed(2)}× (goal ≤ 3)`);
const inproc = JSON.parse(execFileSync(node, ['--max-old-space-size=4096', gateJs, reportPath, 'inproc'], { encoding: 'utf8' }));
console.log(
  `in one process (5 alternated runs, medians): gate ${inproc.gate.toFixed(0)} ms, JSON.parse ${inproc.parse.toFixed(0)} ms → ${(inproc.gate / inproc.parse).toFixed(2)}×`,
);
if (jsonOut) writeFileSync(jsonOut, JSON.stringify({ size, runs, results: res }, null, 2));
rmSync(work, { recursive: true, force: true });
