#!/usr/bin/env node
// The hallmark demo: the whole pipeline on this machine, every tool real.
//
//   npm run demo            (after `npm ci && npm run build`)
//
// 1. checks the Debian packages the real parts need and installs the missing ones (says so), and
//    the real cosign, syft and trivy (`npm run tools`: built once from the Go module proxy at
//    setup-tools' default versions, then cached);
// 2. starts a loopback OCI registry (docker-registry) and a local Slack sink that prints messages;
// 3. builds a small Trivy vulnerability DB (test/trivy-gate's builder) and pushes it to that
//    registry, since the public DB mirrors are not reachable here; makes a cosign key pair;
// 4. rehearses workflows/demo.yml with packages/rehearse: buildah build + push (real digest),
//    trivy 0.74 scan by digest, syft SBOM, cosign 3 signature + SBOM attestation into the registry
//    (key mode, no transparency log: no public Rekor here), cosign verify, podman run, HTTP smoke
//    test, Slack message;
// 5. prints the wall time and the critical path, stops everything it started.
// Simulated: only GitHub (the rehearsal runs the workflow) and Slack (the local sink).
// Exit 0 when the pipeline went green.
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { createServer as netServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { rehearse } from '../dist/rehearse/engine.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const DEB = ['docker-registry', 'buildah', 'podman', 'runc', 'conmon', 'busybox-static'];
const ACTIONS = process.env.DEMO_WORKFLOW ? ['build-sign'] : ['build-sign', 'trivy-gate', 'sbom-attach', 'smoke-test', 'slack-notify'];
const TOOLS = ['cosign', 'syft', 'trivy'];
const SIMULATED = [
  'GitHub (the rehearsal runs the workflow: runner, artifacts, code scanning)',
  'Slack (a local sink prints each message)',
];

const t0 = performance.now();
const say = (s) => process.stdout.write(`demo: ${s}\n`);
const cleanups = [];
async function cleanup() {
  for (const c of cleanups.reverse()) {
    try {
      await c();
    } catch {
      /* best effort */
    }
  }
}
process.on('SIGINT', async () => {
  await cleanup();
  process.exit(130);
});

/** A Block Kit message as lines of text, roughly as Slack shows it: header, sections, fields, context. */
function renderSlack(msg) {
  const lines = [];
  const text = (t) =>
    String(t ?? '')
      .replace(/<([^|<>]+)\|([^<>]+)>/g, '$2') // <url|label> links: the label
      .replace(/&lt;/g, '<')
      .replace(/&gt;/g, '>')
      .replace(/&amp;/g, '&');
  const blocks = (list) => {
    for (const b of Array.isArray(list) ? list : []) {
      if (b?.type === 'header') lines.push(text(b.text?.text));
      else if (b?.type === 'section') {
        if (b.text?.text) lines.push(...text(b.text.text).split('\n'));
        for (const f of b.fields ?? []) lines.push(text(f.text).replace(/^\*([^*]+)\*\n/, '$1: '));
      } else if (b?.type === 'context') lines.push((b.elements ?? []).map((e) => text(e.text)).join(' · '));
    }
  };
  blocks(msg.blocks);
  for (const a of msg.attachments ?? []) blocks(a.blocks);
  if (!lines.length && msg.text) lines.push(...text(msg.text).split('\n'));
  return lines;
}

function freePort() {
  return new Promise((res, rej) => {
    const s = netServer();
    s.once('error', rej);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => res(port));
    });
  });
}

// 1. Debian packages.
const missing = DEB.filter(
  (p) => spawnSync('dpkg-query', ['-W', '-f=${Status}', p], { encoding: 'utf8' }).stdout?.includes('install ok installed') !== true,
);
if (missing.length) {
  say(`installing Debian packages the demo runs for real: ${missing.join(' ')}`);
  const sudo = process.getuid?.() === 0 ? [] : ['sudo'];
  const run = (args) =>
    spawnSync(sudo[0] ?? args[0], sudo.length ? args : args.slice(1), {
      stdio: 'inherit',
      env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
    });
  if (run(['apt-get', 'update']).status !== 0 || run(['apt-get', 'install', '-y', '--no-install-recommends', ...missing]).status !== 0) {
    say('apt-get failed; install the packages above and rerun');
    process.exit(1);
  }
} else say(`Debian packages present: ${DEB.join(' ')}`);
const absent = ACTIONS.filter((a) => !existsSync(join(ROOT, 'dist', a, 'index.js')));
if (absent.length) {
  say(`bundles missing in dist/: ${absent.join(', ')} (run \`npm run build\` first)`);
  process.exit(1);
}
// The real tools (npm run tools): cached after the first run, built from the Go module proxy before.
let tools;
try {
  const { ensureTools } = await import('../scripts/tools.mjs');
  tools = ensureTools({ only: TOOLS, log: (m) => say(`tools: ${m}`) });
} catch (e) {
  say(`the real tools are missing and could not be built: ${e.message}`);
  process.exit(1);
}
say(`real tools (npm run tools): ${TOOLS.map((t) => `${t} ${tools[t].version}`).join(', ')}`);

const work = mkdtempSync(join(tmpdir(), 'hallmark-demo-'));
cleanups.push(() => rmSync(work, { recursive: true, force: true }));

try {
  // 2a. The registry.
  const regPort = await freePort();
  const regDir = join(work, 'registry');
  mkdirSync(regDir);
  writeFileSync(
    join(regDir, 'config.yml'),
    `version: 0.1\nlog:\n  level: error\n  accesslog:\n    disabled: true\nstorage:\n  filesystem:\n    rootdirectory: ${join(regDir, 'data')}\n  delete:\n    enabled: true\nhttp:\n  addr: 127.0.0.1:${regPort}\n`,
  );
  const regBin = ['/usr/bin/docker-registry', '/usr/sbin/docker-registry'].find((p) => existsSync(p));
  const registry = spawn(regBin, ['serve', join(regDir, 'config.yml')], { stdio: 'ignore' });
  cleanups.push(
    () =>
      new Promise((r) => {
        if (registry.exitCode !== null) return r();
        registry.once('exit', r);
        registry.kill('SIGTERM');
        setTimeout(() => registry.kill('SIGKILL'), 2000).unref();
      }),
  );
  for (let i = 0; ; i++) {
    try {
      if ((await fetch(`http://127.0.0.1:${regPort}/v2/`)).status === 200) break;
    } catch {
      /* not yet */
    }
    if (i > 200) throw new Error('docker-registry did not start');
    await new Promise((r) => setTimeout(r, 25));
  }
  say(`registry: docker-registry on 127.0.0.1:${regPort}`);

  // 2b. The Slack sink: prints every message it receives.
  const received = [];
  const sink = createServer((req, res) => {
    let body = '';
    req.on('data', (b) => (body += b));
    req.on('end', () => {
      let msg;
      try {
        msg = JSON.parse(body);
      } catch {
        res.writeHead(400).end('invalid_payload');
        return;
      }
      received.push(msg);
      process.stdout.write(
        `\n┌─ Slack (local sink) ─────────────────────────────\n${renderSlack(msg)
          .map((l) => `│ ${l}`)
          .join('\n')}\n└──────────────────────────────────────────────────\n\n`,
      );
      res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
    });
  });
  await new Promise((r) => sink.listen(0, '127.0.0.1', r));
  cleanups.push(() => new Promise((r) => sink.close(r)));
  const slackUrl = `http://127.0.0.1:${sink.address().port}/services/T000/B000/demo`;
  say(`slack: local sink on ${slackUrl.replace(/\/services.*/, '/services/…')}`);

  // 3a. A Trivy vulnerability DB, built here (test/trivy-gate's builder) and served by the registry.
  const { build } = await import('esbuild');
  const labJs = join(ROOT, '.tmp', `demo-trivy-lab-${process.pid}.mjs`);
  mkdirSync(dirname(labJs), { recursive: true });
  const labTs = join(ROOT, 'test/trivy-gate/lab.ts');
  // import.meta.url stays the source's, so the lab finds its DB builder (test/trivy-gate/trivydb) next to it.
  await build({
    entryPoints: [labTs],
    bundle: true,
    platform: 'node',
    format: 'esm',
    outfile: labJs,
    logLevel: 'error',
    packages: 'external',
    define: { 'import.meta.url': JSON.stringify(pathToFileURL(labTs).href) },
  });
  cleanups.push(() => rmSync(labJs, { force: true }));
  const trivyLab = await import(labJs);
  const dbWork = join(work, 'trivy-db');
  mkdirSync(dbWork);
  const trivyDb = `127.0.0.1:${regPort}/hallmark-demo/trivy-db`;
  await trivyLab.pushDb(`http://127.0.0.1:${regPort}`, 'hallmark-demo/trivy-db', trivyLab.buildDb(dbWork, []));
  say(`trivy DB: built here, served as ${trivyDb}:2`);

  // 3b. A cosign key pair, made by the real cosign.
  const password = randomBytes(12).toString('hex');
  const keys = join(work, 'keys');
  mkdirSync(keys);
  const gen = spawnSync(tools.cosign.path, ['generate-key-pair', '--output-key-prefix', join(keys, 'cosign')], {
    env: { ...process.env, COSIGN_PASSWORD: password },
    encoding: 'utf8',
  });
  if (gen.status !== 0) throw new Error(`cosign generate-key-pair failed: ${gen.stderr}`);

  // buildah's storage in the demo's temp dir (vfs, chroot isolation), through buildah's own variables.
  const storageConf = join(work, 'storage.conf');
  writeFileSync(
    storageConf,
    `[storage]\ndriver = "vfs"\ngraphroot = "${join(work, 'storage/root')}"\nrunroot = "${join(work, 'storage/run')}"\n`,
  );

  // 4. The rehearsal.
  const stateDir = join(work, 'state');
  mkdirSync(stateDir);
  const appPort = await freePort();
  const podman = (...args) =>
    spawnSync(
      'podman',
      [
        '--root',
        join(stateDir, 'podman/root'),
        '--runroot',
        join(stateDir, 'podman/runroot'),
        '--storage-driver',
        'vfs',
        '--runtime',
        'runc',
        '--cgroup-manager',
        'cgroupfs',
        '--events-backend',
        'file',
        ...args,
      ],
      { encoding: 'utf8' },
    );
  cleanups.push(() => podman('rm', '-f', '-t', '0', 'hallmark-demo-hello'));
  mkdirSync(join(ROOT, '.tmp'), { recursive: true });
  say(`┌ SIMULATED (only): ${SIMULATED.join('; ')}`);
  say(`└ REAL: buildah, docker-registry, podman, ${TOOLS.map((t) => `${t} ${tools[t].version}`).join(', ')}`);
  const record = await rehearse({
    workflow: process.env.DEMO_WORKFLOW ?? 'workflows/demo.yml',
    root: ROOT,
    event: 'workflow_dispatch',
    inputs: { registry: `127.0.0.1:${regPort}`, port: String(appPort), 'state-dir': stateDir, 'trivy-db': trivyDb },
    secrets: {
      COSIGN_KEY: readFileSync(join(keys, 'cosign.key'), 'utf8'),
      COSIGN_PASSWORD: password,
      COSIGN_PUBLIC_KEY: readFileSync(join(keys, 'cosign.pub'), 'utf8'),
      SLACK_WEBHOOK_URL: slackUrl,
    },
    approve: true,
    // setup-tools steps hand out these real binaries.
    tools,
    env: { CONTAINERS_STORAGE_CONF: storageConf, BUILDAH_ISOLATION: 'chroot', TRIVY_NO_PROGRESS: 'true' },
    runDir: join(work, 'run'),
    record: process.env.DEMO_RECORD ?? join(ROOT, '.tmp', 'demo-run.json'),
    verbose: process.argv.includes('--verbose'),
  });
  if (record.status === 'success') {
    const page = await fetch(`http://127.0.0.1:${appPort}/`)
      .then((r) => r.text())
      .catch((e) => `(${e.message})`);
    say(`the deployed service answered: ${page.trim()}`);
  }
  say(`Slack messages received by the sink: ${received.length}`);
  say(
    `wall time ${((performance.now() - t0) / 1000).toFixed(1)} s (pipeline ${(record.durationMs / 1000).toFixed(1)} s); critical path: ${record.criticalPath.map((j) => `${j.name} ${(j.durationMs / 1000).toFixed(1)}s`).join(' → ')}`,
  );
  say(
    `simulated: ${SIMULATED.map((x) => x.replace(/ \(.*$/, '')).join(', ')}; real tools run: ${Object.entries(record.realTools)
      .map(([t, v]) => `${t} ${v.version}`)
      .join(', ')}`,
  );
  say(record.status === 'success' ? 'GREEN' : `RED (${record.error ?? 'see the job tree above'})`);
  await cleanup();
  process.exit(record.status === 'success' && received.length > 0 ? 0 : 1);
} catch (e) {
  say(`failed: ${e.message}`);
  await cleanup();
  process.exit(1);
}
