/**
 * The secret canary (test/hardening) never reaches an audit trail: real bundles run with canaries
 * as their secret inputs (slack-notify's webhook URL against a loopback sink, registry-login's
 * password on a refused input, audit-trail's own key password), their records (written by the
 * kit's run()) are joined by the real audit-trail bundle, signed by the real cosign 3 and
 * uploaded to the loopback artifact service (SIMULATED GitHub): no canary in any record, the
 * trail, the bundle, the artifact or anything the runs printed.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { AUDIT_FILE, verifyChain } from '@hallmark/audit';
import { startGitHubServices, type GitHubServices } from '../harness/github.js';
import { runAction } from '../harness/runner.js';
import { startServer, type TestServer } from '../harness/server.js';
import { binDir, toolPath } from '../harness/tools.js';
import { cleanupTracked, trackedDir, trackedHome } from '../harness/tracked.js';
import { canary, secretForms, withoutMaskCommands } from '../hardening/lib.js';

let gh: GitHubServices;
let sink: TestServer;
let lab: string;
let bin: string;

beforeAll(async () => {
  lab = trackedDir('hallmark-audit-canary-');
  gh = await startGitHubServices();
  sink = await startServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.end('ok');
  });
  bin = binDir(['cosign']);
}, 60_000);
afterAll(async () => {
  await gh?.close();
  await sink?.close();
  cleanupTracked();
});

it('no canary from any secret input reaches the records, the joined trail, its bundle or the artifact', async () => {
  const hook = canary('webhook');
  const regPassword = canary('registry-password');
  const keyPassword = canary('cosign-password');
  const g = spawnSync(toolPath('cosign'), ['generate-key-pair'], {
    cwd: lab,
    env: { PATH: '/usr/bin:/bin', HOME: lab, COSIGN_PASSWORD: keyPassword },
    encoding: 'utf8',
    timeout: 60_000,
  });
  expect(g.status, g.stderr).toBe(0);
  const key = readFileSync(join(lab, 'cosign.key'), 'utf8');

  // Two jobs' worth of records, written by the kit's run() inside real bundles.
  const job1 = trackedHome();
  const slack = await runAction('slack-notify', {
    home: job1,
    inputs: { 'webhook-url': `${sink.url}/services/T000/B000/${hook}`, status: 'success', title: 'deploy' },
    env: { GITHUB_JOB: 'notify' },
  });
  expect(slack.code, slack.stdout + slack.stderr).toBe(0);
  const job2 = trackedHome();
  const login = await runAction('registry-login', {
    home: job2,
    inputs: { registry: '127.0.0.1:5999', password: regPassword },
    env: { GITHUB_JOB: 'verify' },
  });
  expect(login.outputs['failure-reason']).toBe('invalid-input');
  const parts = join(trackedHome().temp, 'parts');
  for (const [name, home] of [
    ['hallmark-audit-part-x__notify', job1],
    ['hallmark-audit-part-x__verify', job2],
  ] as const) {
    const text = readFileSync(join(home.temp, AUDIT_FILE), 'utf8');
    expect(verifyChain(text).ok).toBe(true);
    mkdirSync(join(parts, name), { recursive: true });
    cpSync(join(home.temp, AUDIT_FILE), join(parts, name, AUDIT_FILE));
  }

  const home = trackedHome();
  const r = await runAction('audit-trail', {
    home,
    inputs: { parts, signing: 'key', 'cosign-key': key, 'cosign-password': keyPassword, tlog: 'false', 'artifact-name': 'audit-canary' },
    env: { ...gh.env, PATH: `${bin}:${process.env.PATH ?? '/usr/bin:/bin'}`, GITHUB_JOB: 'audit' },
    timeoutMs: 90_000,
  });
  expect(r.errors, r.stdout + r.stderr).toEqual([]);
  const trail = readFileSync(r.outputs.trail as string, 'utf8');
  // The records are there (so the check below looks at something): slack-notify passed, registry-login failed.
  expect(trail).toMatch(/"action":"slack-notify".*"verdict":"passed"/);
  expect(trail).toMatch(/"action":"registry-login".*"failureReason":"invalid-input"/);
  const places: [string, string][] = [
    ['trail', trail],
    ['bundle', readFileSync(r.outputs.bundle as string, 'utf8')],
    ['artifact', (gh.artifactBytes('audit-canary') as Buffer).toString('latin1')],
    ['audit-trail run', withoutMaskCommands(r.everything)],
    ['job1 records', readFileSync(join(job1.temp, AUDIT_FILE), 'utf8')],
    ['job2 records', readFileSync(join(job2.temp, AUDIT_FILE), 'utf8')],
  ];
  for (const secret of [hook, regPassword, keyPassword])
    for (const form of secretForms(secret))
      for (const [where, text] of places) expect(text.includes(form), `${where} holds a form of ${secret.slice(0, 14)}…`).toBe(false);
}, 180_000);
