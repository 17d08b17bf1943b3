/**
 * verify-image under the hardening suites: the REAL cosign 3.1.2 behind lib.ts's argv tracer, a
 * real docker-registry and the loopback Sigstore of test/verify-image/lab.ts (keyless certificates
 * for a token we make: the one simulated part). The secret input is `public-key`, masked on read.
 */
import { mkdirSync, mkdtempSync, rmSync, copyFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'vitest';
import { runAction, runnerHome, type ActionResult } from '../../harness/runner.js';
import { hasRegistry } from '../../harness/registry.js';
import { startServer, type TestServer } from '../../harness/server.js';
import { CALLER, provenance, startVerifyLab, WORKFLOW, type VerifyLab } from '../../verify-image/lab.js';
import { argvTracer, readArgvLog, realToolsMissing } from '../lib.js';
import type { ActionHardening, Outcome } from './types.js';

let lab: VerifyLab;
let scratch: string;
let bin: string;
let busy: TestServer;
let keyless: string;
let keyed: string;
let other: { publicKey: string };
let seq = 0;
const ENV_CANARIES = ['env:GITHUB_TOKEN', 'env:ACTIONS_RUNTIME_TOKEN'];
const envOf = (c: Record<string, string>) =>
  Object.fromEntries(
    Object.entries(c)
      .filter(([k]) => k.startsWith('env:'))
      .map(([k, v]) => [k.slice(4), v]),
  );
const GH = `https://github.com/${WORKFLOW}`;

async function verify(inputs: Record<string, string>, env: Record<string, string> = {}): Promise<Outcome & { result: ActionResult }> {
  const home = runnerHome('hallmark-hard-verify-');
  mkdirSync(join(home.workspace, 'sigstore'), { recursive: true });
  copyFileSync(lab.sigstore.trustedRootPath, join(home.workspace, 'sigstore/trusted_root.json'));
  const log = join(scratch, `argv-${++seq}.jsonl`);
  const r = await runAction('verify-image', {
    home,
    inputs: { 'trusted-root': 'sigstore/trusted_root.json', ...inputs },
    env: { PATH: `${bin}:${process.env.PATH ?? '/usr/bin:/bin'}`, HARDENING_ARGV_LOG: log, ...env },
    timeoutMs: 60_000,
  });
  return { result: r, calls: readArgvLog(log), scan: [lab.registry.dir] };
}

const hardening: ActionHardening = {
  action: 'verify-image',
  missing: () => (!hasRegistry ? 'docker-registry is not installed' : realToolsMissing(['cosign'])),
  async start() {
    scratch = mkdtempSync(join(tmpdir(), 'hallmark-hard-verify-'));
    bin = join(scratch, 'bin');
    argvTracer(bin, 'cosign');
    lab = await startVerifyLab();
    const claims = { job_workflow_ref: `${WORKFLOW}@refs/tags/v1`, repository: CALLER };
    keyless = await lab.pushImage();
    await lab.signKeyless(keyless, claims);
    await lab.attestKeyless(keyless, claims, provenance({ builder: `${GH}@refs/tags/v1` }));
    keyed = await lab.pushImage();
    await lab.signKey(keyed);
    await lab.attestKey(keyed, provenance({ builder: `${GH}@refs/tags/v1` }));
    const { generateKeyPairSync } = await import('node:crypto');
    other = { publicKey: generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ type: 'spki', format: 'pem' }).toString() };
    busy = await startServer((_req, res) => {
      res.writeHead(503, { 'content-type': 'text/plain', 'retry-after': '0' });
      res.end('busy');
    });
  },
  async stop() {
    await busy?.close();
    await lab?.close();
    if (scratch) rmSync(scratch, { recursive: true, force: true });
  },

  canary: [
    {
      name: 'key mode, signature and provenance verified: the public key is masked and appears nowhere',
      labels: ['input:public-key', ...ENV_CANARIES],
      expect: { code: 0 },
      async run(c) {
        const o = await verify({ 'image-ref': keyed, 'public-key': lab.publicKey, tlog: 'false', 'trusted-root': '' }, envOf(c));
        expect(o.result.outputs.signer).toMatch(/^key:sha256:/);
        return { ...o, values: { 'input:public-key': lab.publicKey } };
      },
    },
    {
      name: 'key mode, another key (signature-invalid): still masked, nowhere',
      labels: ['input:public-key', ...ENV_CANARIES],
      expect: { code: 1, reason: 'signature-invalid' },
      async run(c) {
        const o = await verify({ 'image-ref': keyed, 'public-key': other.publicKey, tlog: 'false', 'trusted-root': '' }, envOf(c));
        return { ...o, values: { 'input:public-key': other.publicKey } };
      },
    },
    {
      name: 'keyless, verified: runner tokens appear nowhere',
      labels: [...ENV_CANARIES],
      expect: { code: 0 },
      run: (c) => verify({ 'image-ref': keyless }, envOf(c)),
    },
  ],

  injection: [
    {
      name: 'payloads in allowed-refs are refused in one inert error line',
      kind: 'workflow',
      async run(p) {
        const o = await verify({ 'image-ref': keyless, 'allowed-refs': `branches: ${p.payload}` });
        expect(o.result.outputs['failure-reason']).toBe('invalid-input');
        return o;
      },
    },
    {
      name: 'payloads in a verified provenance predicate (builder id) are named inertly in the error and summary',
      kind: 'workflow',
      serial: true,
      async run(p) {
        const img = await lab.pushImage();
        const claims = { job_workflow_ref: `${WORKFLOW}@refs/tags/v1`, repository: CALLER };
        await lab.signKeyless(img, claims);
        await lab.attestKeyless(img, claims, provenance({ builder: `${GH}@refs/tags/v1${p.payload}` }));
        const o = await verify({ 'image-ref': img });
        expect(o.result.outputs['failure-reason']).toBe('provenance-rejected');
        return o;
      },
    },
    {
      name: 'shell payloads in source-repository and workflow never reach cosign',
      kind: 'shell',
      async run(p) {
        const a = await verify({ 'image-ref': keyless, 'source-repository': `octo-org/${p.payload}` });
        expect(a.result.outputs['failure-reason']).toBe('invalid-input');
        const b = await verify({ 'image-ref': keyless, workflow: `hallmark-dev/hallmark/.github/workflows/${p.payload}` });
        expect(b.result.outputs['failure-reason']).toBe('invalid-input');
        return { ...a, calls: [...(a.calls ?? []), ...(b.calls ?? [])] };
      },
      check(o) {
        expect(o.calls ?? []).toEqual([]);
      },
    },
  ],

  faults: [
    {
      name: 'a registry answering 503 to everything: tool-failed (no verdict on the signature), a bounded number of requests',
      async run() {
        const before = busy.requests.length;
        const host = busy.url.replace(/^http:\/\//, '');
        const o = await verify({ 'image-ref': `${host}/shop/api@sha256:${'b'.repeat(64)}` });
        expect(o.result.code).toBe(1);
        expect(o.result.outputs['failure-reason']).toBe('tool-failed');
        expect(o.result.outputs.passed).toBe('false');
        const n = busy.requests.length - before;
        expect(n).toBeGreaterThan(0);
        expect(n).toBeLessThanOrEqual(10);
      },
    },
    {
      name: 'a registry that is not listening: tool-failed',
      async run() {
        const o = await verify({ 'image-ref': `127.0.0.1:1/shop/api@sha256:${'c'.repeat(64)}` });
        expect(o.result.outputs['failure-reason']).toBe('tool-failed');
        expect(o.result.errors[0]).toContain('could not run to a verdict');
      },
    },
    {
      name: 'no cosign on PATH: tool-failed naming setup-tools, nothing else runs',
      async run() {
        const r = await runAction('verify-image', { inputs: { 'image-ref': keyless }, env: { PATH: '/nonexistent' } });
        expect(r.outputs['failure-reason']).toBe('tool-failed');
        expect(r.errors[0]).toContain('setup-tools');
      },
    },
  ],
};

export default hardening;
