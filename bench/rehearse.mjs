// The demo pipeline's wall time and critical path (seed 002 asks for sub-minute local pipeline
// runs). Runs `examples/demo.mjs` (the whole pipeline rehearsed on this machine: buildah, registry,
// real syft, trivy 0.74 and cosign 3, podman, HTTP smoke test, Slack sink) and reads its run record.
// Ratios come from the same run: how much of the pipeline's time the critical path takes, how much
// the parallel jobs save, and what the rehearsal engine adds on top of the steps themselves.
//
//   node bench/rehearse.mjs [--runs 3] [--json out.json]
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const runs = Number(args[args.indexOf('--runs') + 1] ?? 0) || 1;
const jsonOut = args.includes('--json') ? args[args.indexOf('--json') + 1] : undefined;
const work = mkdtempSync(join(tmpdir(), 'hallmark-bench-rehearse-'));
const s = (ms) => `${(ms / 1000).toFixed(1)} s`;
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

function demo(recordFile) {
  return new Promise((res) => {
    const t0 = performance.now();
    const child = spawn(process.execPath, [join(root, 'examples/demo.mjs')], {
      cwd: root,
      env: { ...process.env, DEMO_RECORD: recordFile },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (b) => (out += b));
    child.stderr.on('data', (b) => (out += b));
    child.on('close', (code) => res({ code, out, wallMs: performance.now() - t0 }));
  });
}

const results = [];
for (let i = 0; i < runs; i++) {
  const recordFile = join(work, `run-${i}.json`);
  const r = await demo(recordFile);
  if (r.code !== 0) {
    console.error(r.out.split('\n').slice(-40).join('\n'));
    console.error(`bench/rehearse: the demo failed (exit ${r.code})`);
    rmSync(work, { recursive: true, force: true });
    process.exit(1);
  }
  const record = JSON.parse(readFileSync(recordFile, 'utf8'));
  const jobs = record.jobs.filter((j) => j.durationMs !== undefined && !j.calls);
  const jobSum = jobs.reduce((n, j) => n + j.durationMs, 0);
  const stepSum = jobs.reduce((n, j) => n + j.steps.reduce((m, st) => m + (st.durationMs ?? 0), 0), 0);
  const critical = record.criticalPath;
  const criticalSum = critical.reduce((n, j) => n + j.durationMs, 0);
  const slowest = jobs.reduce((a, b) => (b.durationMs > a.durationMs ? b : a));
  results.push({
    wallMs: Math.round(r.wallMs),
    pipelineMs: record.durationMs,
    setupMs: Math.round(r.wallMs - record.durationMs),
    criticalPath: critical,
    criticalSumMs: criticalSum,
    jobSumMs: jobSum,
    stepSumMs: stepSum,
    /** sum of all job times / pipeline time: > 1 means independent jobs ran side by side. */
    parallelism: +(jobSum / record.durationMs).toFixed(2),
    /** critical path / pipeline time: close to 1 means the scheduler adds no waiting. */
    criticalShare: +(criticalSum / record.durationMs).toFixed(2),
    /** (job time − step time) / job time: what the engine spends around the steps. */
    engineOverhead: +((jobSum - stepSum) / jobSum).toFixed(3),
    slowestJob: {
      name: slowest.name,
      durationMs: slowest.durationMs,
      steps: slowest.steps.map((st) => ({ name: st.name, durationMs: st.durationMs })),
    },
  });
}

const pick = results.find((x) => x.wallMs === median(results.map((y) => y.wallMs)));
console.log(`demo pipeline (workflows/demo.yml), ${runs} run(s), median shown, Node ${process.versions.node}`);
console.log(`  wall time          ${s(pick.wallMs)}  (set-up of registry/sink/keys ${s(pick.setupMs)}, pipeline ${s(pick.pipelineMs)})`);
console.log(`  critical path      ${pick.criticalPath.map((j) => `${j.name} ${s(j.durationMs)}`).join(' → ')}`);
console.log(
  `  critical / pipeline ${pick.criticalShare}   all jobs / pipeline ${pick.parallelism} (parallel scan ∥ sbom)   engine overhead ${(pick.engineOverhead * 100).toFixed(1)} % of job time`,
);
console.log(
  `  slowest job: ${pick.slowestJob.name} ${s(pick.slowestJob.durationMs)} — ${pick.slowestJob.steps.map((st) => `${st.name} ${s(st.durationMs ?? 0)}`).join(', ')}`,
);
if (runs > 1) console.log(`  wall times: ${results.map((x) => s(x.wallMs)).join(', ')}`);
if (jsonOut) writeFileSync(jsonOut, JSON.stringify({ runs: results, median: pick }, null, 2));
rmSync(work, { recursive: true, force: true });
