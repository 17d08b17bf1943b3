// smoke-test throughput: N HTTP checks against a loopback server that answers every request after
// a fixed latency, run by the real bundle at a given concurrency, measured in one run against
//   - the ideal: ceil(N / concurrency) × latency (perfect overlap, zero overhead),
//   - a sequential `curl` loop over the same N URLs (what a shell smoke script does),
//   - the floor on this machine: the same requests from a bare node:http keep-alive client (no checks,
//     no reports), which shows how much of the gap to the ideal is the machine's CPU, not the engine.
// The server runs in its own process. Reported: the action's wall time (process start to exit,
// including Node start-up), the engine time from the JSON report, and their ratios.
//
//   node bench/smoke-test.mjs [--checks 500] [--concurrency 50] [--latency 100] [--curl-checks 500] [--json out.json]
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const opt = (name, dflt) => (args.includes(`--${name}`) ? Number(args[args.indexOf(`--${name}`) + 1]) : dflt);
const N = opt('checks', 500);
const C = opt('concurrency', 50);
const LAT = opt('latency', 100);
const CURL_N = opt('curl-checks', N);
const jsonOut = args.includes('--json') ? args[args.indexOf('--json') + 1] : undefined;
const bundle = join(root, 'dist', 'smoke-test', 'index.js');
const work = mkdtempSync(join(tmpdir(), 'hallmark-bench-smoke-'));

// ---- the server, in its own process ----
const serverSrc = `
const http = require('node:http');
let hits = 0;
const s = http.createServer((req, res) => { hits++; setTimeout(() => { res.writeHead(200, { 'content-type': 'application/json' }); res.end('{"status":"up"}'); }, ${LAT}); });
s.keepAliveTimeout = 5000;
s.listen(0, '127.0.0.1', () => process.stdout.write(String(s.address().port) + '\\n'));
process.stdin.on('data', () => process.stdout.write('hits ' + hits + '\\n'));
`;
const server = spawn(process.execPath, ['-e', serverSrc], { stdio: ['pipe', 'pipe', 'inherit'] });
const port = await new Promise((res) => server.stdout.once('data', (b) => res(Number(String(b).trim()))));
const hits = () =>
  new Promise((res) => {
    server.stdout.once('data', (b) => res(Number(String(b).replace('hits ', '').trim())));
    server.stdin.write('?\n');
  });
const base = `http://127.0.0.1:${port}`;

try {
  // ---- smoke-test ----
  const checks = [
    'defaults: { retries: 0, timeout: 10s }',
    'checks:',
    ...Array.from(
      { length: N },
      (_, i) => `  - http: { url: "${base}/health/${i}", expect: { status: 200, json: { path: status, equals: up } } }`,
    ),
  ].join('\n');
  const d = join(work, 'runner');
  mkdirSync(join(d, 'temp'), { recursive: true });
  for (const f of ['output', 'env', 'path', 'summary', 'state']) writeFileSync(join(d, f), '');
  writeFileSync(join(d, 'smoke.yml'), `${checks}\n`);
  const env = {
    PATH: process.env.PATH,
    HOME: d,
    NO_COLOR: '1',
    GITHUB_OUTPUT: join(d, 'output'),
    GITHUB_STEP_SUMMARY: join(d, 'summary'),
    GITHUB_ENV: join(d, 'env'),
    GITHUB_PATH: join(d, 'path'),
    GITHUB_STATE: join(d, 'state'),
    RUNNER_TEMP: join(d, 'temp'),
    GITHUB_WORKSPACE: d,
    INPUT_CHECKS: 'smoke.yml',
    INPUT_CONCURRENCY: String(C),
  };
  const before = await hits();
  const t0 = process.hrtime.bigint();
  const r = await new Promise((res) => {
    const child = spawn(process.execPath, [bundle], { env, cwd: d, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (b) => (out += b));
    child.stderr.on('data', (b) => (out += b));
    child.on('close', (code) => res({ code, out }));
  });
  const wallMs = Number(process.hrtime.bigint() - t0) / 1e6;
  const served = (await hits()) - before;
  if (r.code !== 0) throw new Error(`smoke-test failed:\n${r.out.slice(-2000)}`);
  const report = JSON.parse(readFileSync(join(d, 'smoke-report.json'), 'utf8'));
  if (report.passed !== N || served !== N)
    throw new Error(`expected ${N} passes and requests, got ${report.passed} passes and ${served} requests`);
  const ideal = Math.ceil(N / C) * LAT;

  // ---- the floor on this machine: bare node:http keep-alive requests, same N and concurrency ----
  const { Agent, get } = await import('node:http');
  const agent = new Agent({ keepAlive: true });
  let next = 0;
  const f0 = process.hrtime.bigint();
  await Promise.all(
    Array.from({ length: C }, async () => {
      while (next < N) {
        const i = next++;
        await new Promise((res, rej) =>
          get(`${base}/health/${i}`, { agent }, (r) => {
            r.resume();
            r.on('end', res);
          }).on('error', rej),
        );
      }
    }),
  );
  const floorMs = Number(process.hrtime.bigint() - f0) / 1e6;
  agent.destroy();

  // ---- sequential curl loop ----
  let curlMs;
  const hasCurl = spawnSync('curl', ['--version']).status === 0;
  if (hasCurl && CURL_N > 0) {
    const c0 = process.hrtime.bigint();
    for (let i = 0; i < CURL_N; i++) {
      const body = execFileSync('curl', ['-sS', '--fail', '--max-time', '10', `${base}/health/${i}`], { encoding: 'utf8' });
      if (!body.includes('"up"')) throw new Error(`curl: unexpected body ${body}`);
    }
    curlMs = (Number(process.hrtime.bigint() - c0) / 1e6) * (N / CURL_N);
  }

  const fmt = (ms) => `${(ms / 1000).toFixed(2)} s`;
  const rows = [
    ['ideal (ceil(N/concurrency) × latency)', ideal, 1],
    ['bare node:http keep-alive loop (machine floor)', floorMs, floorMs / ideal],
    ['smoke-test engine (report durationMs)', report.durationMs, report.durationMs / ideal],
    ['smoke-test step (process wall time)', wallMs, wallMs / ideal],
    ...(curlMs !== undefined
      ? [[`sequential curl loop${CURL_N < N ? ` (${CURL_N} run, scaled to ${N})` : ''}`, curlMs, curlMs / ideal]]
      : []),
  ];
  console.log(`smoke-test bench: ${N} HTTP checks, concurrency ${C}, server latency ${LAT} ms, node ${process.version}`);
  for (const [name, ms, ratio] of rows) console.log(`  ${name.padEnd(48)} ${fmt(ms).padStart(9)}   ${ratio.toFixed(2)}× ideal`);
  console.log(`  smoke-test engine / machine floor: ${(report.durationMs / floorMs).toFixed(2)}×`);
  if (curlMs !== undefined) console.log(`  curl loop / smoke-test step: ${(curlMs / wallMs).toFixed(1)}× slower`);
  const ok = (x) => (x <= 1.2 ? 'met' : 'NOT met');
  console.log(
    `  goal ≤ 1.2× ideal: checks (engine) ${(report.durationMs / ideal).toFixed(2)}× → ${ok(report.durationMs / ideal)}; whole step incl. Node start-up and parsing ${N} checks ${(wallMs / ideal).toFixed(2)}× → ${ok(wallMs / ideal)}`,
  );
  if (jsonOut)
    writeFileSync(
      jsonOut,
      JSON.stringify(
        {
          checks: N,
          concurrency: C,
          latencyMs: LAT,
          idealMs: ideal,
          engineMs: report.durationMs,
          floorMs,
          wallMs,
          curlMs,
          node: process.version,
        },
        null,
        2,
      ),
    );
} finally {
  server.kill();
  rmSync(work, { recursive: true, force: true });
}
