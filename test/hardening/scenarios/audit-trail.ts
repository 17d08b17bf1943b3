/**
 * audit-trail under the hardening suites: parts written by the real record writer
 * (@hallmark/audit), the REAL cosign 3.1.2 behind lib.ts's argv tracer (key made by
 * `cosign generate-key-pair`; `tlog: false`, so nothing leaves the machine), the loopback
 * artifact and OIDC services (SIMULATED GitHub). Canaries: the cosign key and its password, the
 * runtime token (only in the artifact service's Authorization header). The uploaded artifact and
 * the trail are scanned too.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'vitest';
import { appendAuditRecord, AUDIT_FILE, type AuditEntry } from '@hallmark/audit';
import { fakeJwt, startGitHubServices, type GitHubServices } from '../../harness/github.js';
import { runAction, runnerHome, type ActionResult, type RunnerHome } from '../../harness/runner.js';
import type { RecordedRequest } from '../../harness/server.js';
import { argvTracer, canary, readArgvLog, realToolsMissing, realToolsPath, toolPath } from '../lib.js';
import type { ActionHardening, Outcome } from './types.js';

let gh: GitHubServices;
let lab: string;
let bin: string;
let toolsPath: string;
let key: string;
const KEY_PASSWORD = canary('cosign-password');
let n = 0;

const runtimeJwt = (c: string) => fakeJwt({ scp: 'Actions.GenericRead:0 Actions.Results:run-backend-1:job-backend-1', hardening: c });
const NO_OIDC = { ACTIONS_ID_TOKEN_REQUEST_URL: undefined, ACTIONS_ID_TOKEN_REQUEST_TOKEN: undefined };

function entry(action: string, job: string, over: Partial<AuditEntry> = {}): AuditEntry {
  const run = {
    repository: 'octo-org/shop',
    workflowRef: 'w',
    runId: '1',
    runAttempt: '1',
    job,
    actor: 'a',
    event: 'push',
    sha: 'a'.repeat(40),
    ref: 'refs/heads/main',
  };
  return {
    time: new Date(Date.parse('2026-12-01T10:00:00Z') + ++n * 1000).toISOString(),
    action,
    version: '1',
    run,
    subject: { digest: `sha256:${'d'.repeat(64)}` },
    verdict: 'passed',
    facts: {},
    ...over,
  };
}

function parts(home: RunnerHome, extra: Partial<AuditEntry> = {}): string {
  const dir = join(home.temp, 'parts');
  appendAuditRecord(
    join(dir, 'hallmark-audit-part-x__build', AUDIT_FILE),
    entry('build-sign', 'build', { facts: { builder: 'buildah', pushed: true } }),
  );
  appendAuditRecord(
    join(dir, 'hallmark-audit-part-x__scan', AUDIT_FILE),
    entry('trivy-gate', 'scan', { facts: { severity: 'HIGH', 'failing-count': 0 }, ...extra }),
  );
  return dir;
}

async function trail(
  inputs: Record<string, string>,
  e: Record<string, string | undefined> = {},
  extra: Partial<AuditEntry> = {},
): Promise<{ r: ActionResult; requests: RecordedRequest[]; home: RunnerHome; log: string }> {
  const mark = gh.requests.length;
  const home = runnerHome('hallmark-hard-audit-');
  const log = join(lab, `argv-${++n}.jsonl`);
  const r = await runAction('audit-trail', {
    home,
    inputs: { parts: parts(home, extra), signing: 'key', 'cosign-key': key, 'cosign-password': KEY_PASSWORD, tlog: 'false', ...inputs },
    env: { ...gh.env, ...NO_OIDC, PATH: `${bin}:${toolsPath}`, HARDENING_ARGV_LOG: log, ...e },
    timeoutMs: 90_000,
  });
  return { r, requests: gh.requests.slice(mark), home, log };
}

function outcome(o: { r: ActionResult; requests: RecordedRequest[]; log: string }, c: Record<string, string>, artifact?: string): Outcome {
  const bytes = artifact ? gh.artifactBytes(artifact) : undefined;
  return {
    result: o.r,
    servers: [
      {
        name: 'github',
        requests: () => o.requests,
        allow: [{ label: 'env:ACTIONS_RUNTIME_TOKEN', header: 'authorization', path: /^\/twirp\// }],
      },
    ],
    blobs: bytes ? [{ name: `artifact ${artifact}`, data: bytes }] : [],
    calls: readArgvLog(o.log),
    values: {
      'input:cosign-key': key,
      'input:cosign-password': KEY_PASSWORD,
      ...(c['env:ACTIONS_RUNTIME_TOKEN'] ? { 'env:ACTIONS_RUNTIME_TOKEN': runtimeJwt(c['env:ACTIONS_RUNTIME_TOKEN']) } : {}),
    },
  };
}

const LABELS = ['input:cosign-key', 'input:cosign-password', 'env:ACTIONS_RUNTIME_TOKEN'];

const hardening: ActionHardening = {
  action: 'audit-trail',
  missing: () => realToolsMissing(['cosign']),
  async start() {
    lab = mkdtempSync(join(tmpdir(), 'hallmark-hard-audit-'));
    bin = join(lab, 'bin');
    argvTracer(bin, 'cosign');
    toolsPath = realToolsPath(['cosign']);
    gh = await startGitHubServices();
    const g = spawnSync(toolPath('cosign'), ['generate-key-pair'], {
      cwd: lab,
      env: { PATH: '/usr/bin:/bin', HOME: lab, COSIGN_PASSWORD: KEY_PASSWORD },
      encoding: 'utf8',
    });
    if (g.status !== 0) throw new Error(`cosign generate-key-pair: ${g.stderr}`);
    key = readFileSync(join(lab, 'cosign.key'), 'utf8');
  },
  async stop() {
    await gh?.close();
    if (lab) rmSync(lab, { recursive: true, force: true });
  },

  canary: [
    {
      name: 'key mode: trail joined, signed with the key, uploaded',
      labels: LABELS,
      expect: { code: 0 },
      async run(c) {
        const name = `audit-canary-${++n}`;
        const o = await trail({ 'artifact-name': name }, { ACTIONS_RUNTIME_TOKEN: runtimeJwt(c['env:ACTIONS_RUNTIME_TOKEN'] as string) });
        expect(o.r.outputs.signed, o.r.stdout).toBe('true');
        expect(gh.artifacts.get(name)?.finalized).toBe(true);
        return outcome(o, c, name);
      },
    },
    {
      name: 'wrong key password: sign-failed, nothing uploaded',
      labels: ['input:cosign-password', 'env:ACTIONS_RUNTIME_TOKEN'],
      expect: { code: 1, reason: 'sign-failed' },
      async run(c) {
        const o = await trail(
          { 'cosign-password': c['input:cosign-password'] as string, 'artifact-name': `audit-badpw-${++n}` },
          { ACTIONS_RUNTIME_TOKEN: runtimeJwt(c['env:ACTIONS_RUNTIME_TOKEN'] as string) },
        );
        const out = outcome(o, c);
        out.values = { ...out.values, 'input:cosign-password': c['input:cosign-password'] as string };
        return out;
      },
    },
  ],

  injection: [
    {
      name: 'payloads in part records (facts, subject, failure text) stay inert in the log, summary and outputs',
      kind: 'workflow',
      async run(p) {
        const o = await trail(
          { signing: 'none', 'cosign-key': '', 'cosign-password': '', upload: 'false' },
          {},
          {
            subject: { digest: p.payload.slice(0, 1000), environment: p.payload.slice(0, 1000) },
            facts: { severity: p.payload.slice(0, 1000) },
          },
        );
        expect(o.r.outputs['record-count']).toBe('3');
        return { result: o.r, calls: readArgvLog(o.log) };
      },
    },
    {
      name: 'payloads in facts values: one line is recorded as data, more lines are refused',
      kind: 'workflow',
      async run(p) {
        const o = await trail({
          signing: 'none',
          'cosign-key': '',
          'cosign-password': '',
          upload: 'false',
          facts: JSON.stringify({ environment: p.payload.slice(0, 256) }),
        });
        expect(['', 'invalid-input']).toContain(o.r.outputs['failure-reason'] ?? '');
        return { result: o.r, calls: readArgvLog(o.log) };
      },
    },
    {
      name: 'shell payloads in artifact-name never reach cosign',
      kind: 'shell',
      async run(p) {
        const o = await trail({ 'artifact-name': p.payload.slice(0, 120) });
        expect(o.r.outputs['failure-reason']).toBe('invalid-input');
        return { result: o.r, calls: readArgvLog(o.log) };
      },
      check(o) {
        expect(o.calls ?? []).toEqual([]);
      },
    },
  ],

  faults: [
    {
      name: 'the artifact service answers 500 to every upload: upload-failed after a bounded number of tries',
      async run() {
        const mark = gh.requests.length;
        gh.intercept = (req, res) => {
          if (!req.url.includes('CreateArtifact')) return false;
          res.writeHead(500, { 'content-type': 'application/json' });
          res.end('{"msg":"boom"}');
          return true;
        };
        try {
          const o = await trail({ 'artifact-name': `audit-fault-${++n}` });
          expect(o.r.code).toBe(1);
          expect(o.r.outputs['failure-reason']).toBe('upload-failed');
          const tries = gh.requests.slice(mark).filter((q) => q.url.includes('CreateArtifact')).length;
          expect(tries).toBeGreaterThan(0);
          expect(tries).toBeLessThanOrEqual(10);
        } finally {
          gh.intercept = undefined;
        }
      },
    },
    {
      name: 'keyless without an OIDC token (no id-token permission): sign-failed, nothing signed or uploaded',
      async run() {
        const name = `audit-nooidc-${++n}`;
        const o = await trail({ signing: 'keyless', 'cosign-key': '', 'cosign-password': '', tlog: 'true', 'artifact-name': name });
        expect(o.r.outputs['failure-reason']).toBe('sign-failed');
        expect(o.r.errors.join()).toMatch(/id-token: write/);
        expect(readArgvLog(o.log).filter((c) => c.argv.includes('sign-blob'))).toEqual([]);
        expect(gh.artifactBytes(name)).toBeUndefined();
      },
    },
  ],
};
export default hardening;
