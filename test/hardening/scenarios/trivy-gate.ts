/**
 * trivy-gate under the hardening suites. Report mode takes real recorded Trivy reports
 * (../shared/fixtures/trivy) with hostile text planted in the fields Trivy copies from advisories
 * (titles, descriptions, package names, targets): the gate prints them in annotations, the summary
 * and SARIF. Scan mode runs the REAL Trivy 0.74 (npm run tools) behind an argv tracer (lib.ts
 * `argvTracer`: records the argv, then execs the real binary), against real loopback parts: a
 * docker-registry with htpasswd auth holding an image buildah built, and a second one holding a
 * small vulnerability DB behind a recording proxy that answers 429 (`limited/`) or 503 (`down/`)
 * with an error message the scenario chooses.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'vitest';
import { fixtureText, hasFixtures } from '../../harness/fixtures.js';
import { startRegistry, type Registry } from '../../harness/registry.js';
import { runAction, runnerHome } from '../../harness/runner.js';
import type { TestServer } from '../../harness/server.js';
import { buildAlpineImage, buildDb, credentialsSeen, hostOf, htpasswd, pushDb, startMirrorProxy } from '../../trivy-gate/lab.js';
import { argvTracer, readArgvLog, realToolsMissing } from '../lib.js';
import type { ActionHardening, Outcome } from './types.js';

let scratch: string;
let bin: string;
let n = 0;
let imageRegistry: Registry | undefined;
let dbRegistry: Registry | undefined;
let proxy: TestServer | undefined;
let image = '';
/** What the DB proxy writes as the message of its 429/503 answers (a payload, for the stderr scenario). */
let proxyMessage: string | undefined;
const USER = 'octo-ci';
const PASSWORD = `CANARYREGISTRYPASSWORD${Math.random().toString(36).slice(2)}`;

interface Vuln {
  VulnerabilityID: string;
  PkgName: string;
  InstalledVersion?: string;
  FixedVersion?: string;
  Title?: string;
  Description?: string;
  Severity: string;
  PrimaryURL?: string;
}
interface Report {
  ArtifactName?: string;
  Results?: { Target: string; Vulnerabilities?: Vuln[] }[];
}

/** image-alpine-3.9.json with `text` planted in the advisory-derived fields of every finding. */
function hostileReport(text: string): string {
  const r = JSON.parse(fixtureText('trivy', 'image-alpine-3.9.json')) as Report;
  r.ArtifactName = `alpine:3.9 ${text}`;
  for (const res of r.Results ?? []) {
    res.Target = `${res.Target} ${text}`;
    for (const v of res.Vulnerabilities ?? []) {
      v.Title = text;
      v.Description = `${text}\n${text}`;
      v.PkgName = `${v.PkgName}${text.replace(/\s/g, '')}`;
      v.PrimaryURL = `https://avd.aquasec.com/nvd/${encodeURIComponent(text)}`;
    }
  }
  return JSON.stringify(r);
}

// Assembled at run time so this file holds no secret-shaped literal.
const FAKE_AWS_KEY = ['AKIA', '2E0A8F3B', '244C9986'].join('');
const db = () => `${hostOf(proxy as TestServer)}/aquasec/trivy-db`;
const dbTries = (o: Outcome) =>
  (o.calls ?? []).filter((c) => c.argv.includes('--download-db-only')).map((c) => c.argv[c.argv.indexOf('--db-repository') + 1]);
const FAST = { HALLMARK_TRIVY_DB_BACKOFF_MS: '0', HALLMARK_TRIVY_DB_ATTEMPTS: '1' };

async function gate(
  inputs: Record<string, string>,
  o: { env?: Record<string, string>; setup?: (ws: string) => void } = {},
): Promise<Outcome> {
  const home = runnerHome('hallmark-hard-trivy-');
  o.setup?.(home.workspace);
  const log = join(scratch, `argv-${++n}.jsonl`);
  const r = await runAction('trivy-gate', {
    home,
    inputs: { severity: 'HIGH', ...inputs },
    env: { PATH: `${bin}:/usr/bin:/bin`, HARDENING_ARGV_LOG: log, ...FAST, ...o.env },
    timeoutMs: 100_000,
  });
  const files = ['trivy-results.json', 'trivy-results.sarif'].map((f) => {
    try {
      return { name: f, data: readFileSync(join(home.workspace, f), 'utf8') };
    } catch {
      return { name: f, data: '' };
    }
  });
  return { result: r, calls: readArgvLog(log), blobs: files };
}

function reportFile(text: string): (ws: string) => void {
  return (ws) => writeFileSync(join(ws, 'in.json'), text);
}

/** A tree with one AWS key in `<dir>/deploy.sh`: Trivy's secret scanner reports it as CRITICAL. */
function secretTree(dir: string): (ws: string) => void {
  return (ws) => {
    mkdirSync(join(ws, dir), { recursive: true });
    writeFileSync(join(ws, dir, 'deploy.sh'), `#!/bin/sh\nexport AWS_ACCESS_KEY_ID=${FAKE_AWS_KEY}\n`);
  };
}

const ENV = ['env:GITHUB_TOKEN', 'env:TRIVY_PASSWORD', 'env:ACTIONS_RUNTIME_TOKEN'];
const envOf = (c: Record<string, string>) =>
  Object.fromEntries(
    Object.entries(c)
      .filter(([k]) => k.startsWith('env:'))
      .map(([k, v]) => [k.slice(4), v]),
  );

const hardening: ActionHardening = {
  action: 'trivy-gate',
  missing: () => (hasFixtures ? realToolsMissing(['trivy']) : 'the recorded Trivy reports (../shared/fixtures/trivy) are absent'),
  async start() {
    scratch = mkdtempSync(join(tmpdir(), 'hallmark-hard-trivy-'));
    bin = join(scratch, 'bin');
    argvTracer(bin, 'trivy');
    imageRegistry = await startRegistry({ htpasswd: await htpasswd(scratch, USER, PASSWORD) });
    dbRegistry = await startRegistry();
    proxy = await startMirrorProxy(dbRegistry.url, { message: () => proxyMessage ?? 'retry-after: 1s' });
    await pushDb(dbRegistry.url, 'aquasec/trivy-db', buildDb(scratch, ['musl:CVE-2099-0001:1.2.4-r0:CRITICAL']));
    image = `${imageRegistry.host}/octo-org/shop@${buildAlpineImage(scratch, `${imageRegistry.host}/octo-org/shop:v1`, ['musl:1.2.3-r4'], `${USER}:${PASSWORD}`)}`;
  },
  async stop() {
    await proxy?.close();
    await imageRegistry?.stop();
    await dbRegistry?.stop();
    if (scratch) {
      try {
        rmSync(scratch, { recursive: true, force: true });
      } catch {
        /* vfs layers: best effort */
      }
    }
  },

  canary: [
    {
      name: 'report mode, gate passes, with registry and runner tokens in the environment',
      labels: ENV,
      expect: { code: 0 },
      run: (c) =>
        gate({ report: 'in.json', severity: 'none' }, { env: envOf(c), setup: reportFile(fixtureText('trivy', 'image-alpine-3.9.json')) }),
    },
    {
      name: 'report mode, gate fails, with registry and runner tokens in the environment',
      labels: ENV,
      expect: { code: 1, reason: 'gate-failed' },
      run: (c) => gate({ report: 'in.json' }, { env: envOf(c), setup: reportFile(fixtureText('trivy', 'image-alpine-3.9.json')) }),
    },
    {
      name: 'image scan with registry-password (and TRIVY_PASSWORD set): the login reaches the image registry only, the DB mirror sees no credential, nothing printed',
      labels: ['input:registry-password', ...ENV],
      expect: { code: 1, reason: 'gate-failed' },
      async run(c) {
        const before = (proxy as TestServer).requests.length;
        const o = await gate(
          {
            target: image,
            scanners: 'vuln',
            insecure: 'true',
            cache: 'false',
            'db-repository': db(),
            'java-db-repository': db().replace('trivy-db', 'trivy-java-db'),
            'registry-username': USER,
            'registry-password': PASSWORD,
          },
          { env: { ...envOf(c), TRIVY_USERNAME: USER } },
        );
        // The scan read the image behind the login and found the DB's CVE.
        expect(o.result.outputs['critical-count'], o.result.stdout).toBe('1');
        // Not one credential reached the DB mirror (the canary suite checks the canaries too).
        expect(credentialsSeen(proxy as TestServer, before)).toEqual([]);
        const requests = (proxy as TestServer).requests.slice(before);
        return { ...o, values: { 'input:registry-password': PASSWORD }, servers: [{ name: 'DB mirror', requests: () => requests }] };
      },
    },
  ],

  injection: [
    {
      name: 'payload in advisory titles, descriptions, package names and targets (gate fails: annotations, summary, SARIF)',
      kind: 'workflow',
      run: (p) => gate({ report: 'in.json' }, { setup: reportFile(hostileReport(p.payload)) }),
      check: (o) => {
        expect(o.result.outputs['failure-reason']).toBe('gate-failed');
        // One annotation per failing finding (≤ 10) plus the verdict: the payload added none.
        expect(o.result.errors.length).toBeLessThanOrEqual(11);
        expect(() => JSON.parse(String(o.blobs?.[1]?.data))).not.toThrow();
      },
    },
    {
      name: 'payload in the file path of a secret real trivy found (target in annotations, summary, SARIF)',
      kind: 'workflow',
      run: (p) =>
        gate({ 'scan-type': 'fs', target: 'src', scanners: 'secret' }, { setup: secretTree(`src/${p.payload.replace(/\//g, '_')}`) }),
      check: (o) => {
        expect(o.result.outputs['failure-reason'], o.result.stdout).toBe('gate-failed');
        expect(o.result.outputs['critical-count']).toBe('1');
        expect(() => JSON.parse(String(o.blobs?.[1]?.data))).not.toThrow();
      },
    },
    {
      name: "payload in a DB mirror's 429 error message, printed by real trivy on stderr",
      kind: 'workflow',
      serial: true,
      async run(p) {
        proxyMessage = p.payload;
        try {
          return await gate(
            {
              'scan-type': 'fs',
              target: 'src',
              scanners: 'vuln',
              cache: 'false',
              insecure: 'true',
              'db-repository': `${hostOf(proxy as TestServer)}/limited/trivy-db`,
            },
            { setup: (ws) => mkdirSync(join(ws, 'src')) },
          );
        } finally {
          proxyMessage = undefined;
        }
      },
      check: (o) => expect(o.result.outputs['failure-reason'], o.result.stdout).toBe('db-unavailable'),
    },
    {
      name: 'payload in ignore-file entries',
      kind: 'workflow',
      run: (p) =>
        gate(
          { report: 'in.json', 'ignore-file': '.trivyignore' },
          {
            setup: (ws) => (
              reportFile(fixtureText('trivy', 'image-alpine-3.9.json'))(ws),
              writeFileSync(join(ws, '.trivyignore'), `# ${p.payload}\nCVE-2019-14697 exp:2020-01-01\n${p.payload.split(/\r?\n/)[0]}\n`)
            ),
          },
        ),
    },
    {
      name: 'shell payload as the scan target reaches trivy as one argument after --',
      kind: 'shell',
      run: (p) =>
        gate(
          { 'scan-type': 'fs', target: `dirs/${p.payload}`, scanners: 'secret' },
          { setup: (ws) => mkdirSync(join(ws, 'dirs', p.payload), { recursive: true }) },
        ),
      check: (o, p) => {
        if (o.result.outputs['failure-reason'] === 'invalid-input') return expect(o.calls ?? []).toEqual([]);
        const scan = (o.calls ?? []).find((x) => x.argv[0] === 'fs');
        expect(scan, o.result.stdout).toBeDefined();
        const argv = scan!.argv;
        const last = argv.at(-1) as string;
        expect(argv.at(-2)).toBe('--');
        expect(last === `dirs/${p.payload}` || last.endsWith(`/dirs/${p.payload}`), JSON.stringify(argv)).toBe(true);
        // Real trivy scanned that directory: its report names it.
        const doc = JSON.parse(String(o.blobs?.[0]?.data)) as { ArtifactName?: string };
        expect(doc.ArtifactName?.endsWith(`dirs/${p.payload}`), doc.ArtifactName).toBe(true);
      },
    },
    {
      name: 'shell payload as an image reference is refused or one argument after --',
      kind: 'shell',
      run: (p) => gate({ 'scan-type': 'image', target: p.payload, 'db-repository': '127.0.0.1:9/none' }),
      check: (o, p) => {
        if (o.result.outputs['failure-reason'] === 'invalid-input') return expect(o.calls ?? []).toEqual([]);
        for (const c of o.calls ?? []) if (c.argv.includes(p.payload)) expect(c.argv.at(-2)).toBe('--');
      },
    },
  ],

  faults: [
    {
      name: 'an SBOM real trivy cannot read: scan-failed, no half report gated',
      async run() {
        const o = await gate(
          { 'scan-type': 'sbom', target: 'bom.json', scanners: 'license' },
          { setup: (ws) => writeFileSync(join(ws, 'bom.json'), '{"not":"an sbom"}') },
        );
        expect(o.result.code).toBe(1);
        expect(o.result.outputs['failure-reason'], o.result.stdout).toBe('scan-failed');
        expect(o.result.outputs.passed).toBeUndefined();
      },
    },
    {
      name: 'DB registry rate-limited (429 TOOMANYREQUESTS) on every try: 3 tries with backoff, then the next mirror serves it',
      async run() {
        const limited = `${hostOf(proxy as TestServer)}/limited/trivy-db`;
        const o = await gate(
          { 'scan-type': 'fs', target: 'src', scanners: 'vuln', cache: 'false', insecure: 'true', 'db-repository': `${limited}, ${db()}` },
          { env: { HALLMARK_TRIVY_DB_ATTEMPTS: '3' }, setup: (ws) => mkdirSync(join(ws, 'src')) },
        );
        expect(o.result.code, o.result.stdout).toBe(0);
        expect(dbTries(o)).toEqual([limited, limited, limited, db()]);
        expect(o.result.warnings.filter((w) => w.includes(limited))).toHaveLength(3);
      },
    },
    {
      name: 'DB registries all failing (5xx / not found): bounded tries, a missing repository is not retried, db-unavailable',
      async run() {
        const down = `${hostOf(proxy as TestServer)}/down/trivy-db`;
        const gone = `${hostOf(proxy as TestServer)}/gone/trivy-db`;
        const o = await gate(
          { 'scan-type': 'fs', target: 'src', scanners: 'vuln', cache: 'false', insecure: 'true', 'db-repository': `${down}, ${gone}` },
          { env: { HALLMARK_TRIVY_DB_ATTEMPTS: '3' }, setup: (ws) => mkdirSync(join(ws, 'src')) },
        );
        expect(o.result.code).toBe(1);
        expect(o.result.outputs['failure-reason']).toBe('db-unavailable');
        expect(dbTries(o)).toEqual([down, down, down, gone]);
        // Nothing was scanned without a DB.
        expect((o.calls ?? []).some((c) => c.argv[0] === 'fs')).toBe(false);
      },
    },
    {
      name: 'a report cut mid-write (truncated JSON): bad-report, not a pass',
      async run() {
        const full = fixtureText('trivy', 'image-alpine-3.9.json');
        const o = await gate({ report: 'in.json', severity: 'none' }, { setup: reportFile(full.slice(0, Math.floor(full.length / 2))) });
        expect(o.result.code).toBe(1);
        expect(o.result.outputs['failure-reason']).toBe('bad-report');
        expect(o.result.outputs.passed).toBeUndefined();
      },
    },
  ],
};

export default hardening;
