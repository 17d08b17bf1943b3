/**
 * trivy-gate under the hardening suites. Report mode takes real recorded Trivy reports
 * (../shared/fixtures/trivy) with hostile text planted in the fields Trivy copies from advisories
 * (titles, descriptions, package names, targets): the gate prints them in annotations, the summary
 * and SARIF. Scan mode runs an argv-recording `trivy` stand-in (answers `image --help` like current
 * Trivy and writes a report where `--output` says), so the argv can be checked.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'vitest';
import { fixtureText, hasFixtures } from '../../harness/fixtures.js';
import { runAction, runnerHome } from '../../harness/runner.js';
import { argvStandIn, readArgvLog } from '../lib.js';
import type { ActionHardening, Outcome } from './types.js';

let scratch: string;
let bin: string;
let n = 0;

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

const HELP = 'Usage:\n  trivy image [flags] IMAGE_NAME\n\nScan Flags\n      --scanners strings   comma-separated list of what security issues to detect (vuln,misconfig,secret,license) (default [vuln,secret])\n      --skip-check-update  skip fetching rego check updates\n      --java-db-repository strings   OCI repository(ies) to retrieve trivy-java-db in order of priority\n';
const EMPTY = JSON.stringify({ SchemaVersion: 2, ArtifactName: '.', ArtifactType: 'filesystem', Results: [] });
/** The stand-in: `image --help` prints current Trivy's help; a scan writes `$HARDENING_REPORT` to `--output`. */
const SCRIPT = `if (argv.includes('--help')) { process.stdout.write(${JSON.stringify(HELP)}); return; } const i = argv.indexOf('--output'); if (i >= 0) fs.writeFileSync(argv[i + 1], env.HARDENING_REPORT || ${JSON.stringify(EMPTY)});`;

/** DB downloads by repository name: `limited` answers 429 TOOMANYREQUESTS, `down` 503, `gone` MANIFEST_UNKNOWN, anything else succeeds. */
const DB_SCRIPT = `if (argv.includes('--help')) { process.stdout.write(${JSON.stringify(HELP)}); return; }
if (argv.includes('--download-db-only')) {
  const repo = argv[argv.indexOf('--db-repository') + 1];
  const fail = (m) => { process.stderr.write(m + '\\n'); process.exitCode = 1; env.HARDENING_TRIVY_EXIT = '1'; };
  if (repo.includes('limited')) fail('FATAL init error: DB error: failed to download vulnerability DB: OCI repository error: GET https://' + repo + ': TOOMANYREQUESTS: retry-after: 1s');
  else if (repo.includes('down')) fail('FATAL DB error: failed to download vulnerability DB: unexpected status code 503 Service Unavailable');
  else if (repo.includes('gone')) fail('FATAL DB error: failed to download vulnerability DB: MANIFEST_UNKNOWN: manifest unknown');
  return;
}
const i = argv.indexOf('--output'); if (i >= 0) fs.writeFileSync(argv[i + 1], ${JSON.stringify(EMPTY)});`;
const dbTries = (o: Outcome) => (o.calls ?? []).filter((c) => c.argv.includes('--download-db-only')).map((c) => c.argv[c.argv.indexOf('--db-repository') + 1]);

async function gate(inputs: Record<string, string>, o: { env?: Record<string, string>; setup?: (ws: string) => void } = {}): Promise<Outcome> {
  const home = runnerHome('hallmark-hard-trivy-');
  o.setup?.(home.workspace);
  const log = join(scratch, `argv-${++n}.jsonl`);
  const r = await runAction('trivy-gate', {
    home,
    inputs: { severity: 'HIGH', ...inputs },
    env: { PATH: `${bin}:/usr/bin:/bin`, HARDENING_ARGV_LOG: log, HARDENING_TRIVY_SCRIPT: SCRIPT, ...o.env },
    timeoutMs: 30_000,
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

const ENV = ['env:GITHUB_TOKEN', 'env:TRIVY_PASSWORD', 'env:ACTIONS_RUNTIME_TOKEN'];
const envOf = (c: Record<string, string>) => Object.fromEntries(Object.entries(c).filter(([k]) => k.startsWith('env:')).map(([k, v]) => [k.slice(4), v]));

const hardening: ActionHardening = {
  action: 'trivy-gate',
  missing: () => (hasFixtures ? undefined : 'the recorded Trivy reports (../shared/fixtures/trivy) are absent'),
  async start() {
    scratch = mkdtempSync(join(tmpdir(), 'hallmark-hard-trivy-'));
    bin = join(scratch, 'bin');
    argvStandIn(bin, 'trivy');
  },
  async stop() {
    if (scratch) rmSync(scratch, { recursive: true, force: true });
  },

  canary: [
    {
      name: 'report mode, gate passes, with registry and runner tokens in the environment',
      labels: ENV,
      expect: { code: 0 },
      run: (c) => gate({ report: 'in.json', severity: 'none' }, { env: envOf(c), setup: reportFile(fixtureText('trivy', 'image-alpine-3.9.json')) }),
    },
    {
      name: 'report mode, gate fails, with registry and runner tokens in the environment',
      labels: ENV,
      expect: { code: 1, reason: 'gate-failed' },
      run: (c) => gate({ report: 'in.json' }, { env: envOf(c), setup: reportFile(fixtureText('trivy', 'image-alpine-3.9.json')) }),
    },
    {
      name: 'scan mode (fs) with TRIVY_PASSWORD for a private registry: handed to trivy, printed nowhere',
      labels: ENV,
      expect: { code: 0 },
      async run(c) {
        const o = await gate({ 'scan-type': 'config', target: 'infra' }, { env: envOf(c), setup: (ws) => mkdirSync(join(ws, 'infra')) });
        expect(o.calls?.some((x) => x.argv[0] === 'config'), o.result.stdout).toBe(true);
        return o;
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
      name: 'payload in a report trivy wrote (scan mode) and in its stderr',
      kind: 'workflow',
      run: (p) => gate({ 'scan-type': 'config', target: 'infra' }, { env: { HARDENING_REPORT: hostileReport(p.payload), HARDENING_STDERR: p.payload }, setup: (ws) => mkdirSync(join(ws, 'infra')) }),
    },
    {
      name: 'payload as the stderr of a failing trivy',
      kind: 'workflow',
      run: (p) => gate({ 'scan-type': 'config', target: 'infra' }, { env: { HARDENING_STDERR: p.payload, HARDENING_TRIVY_EXIT: '1' }, setup: (ws) => mkdirSync(join(ws, 'infra')) }),
      check: (o) => expect(o.result.outputs['failure-reason']).toBe('scan-failed'),
    },
    {
      name: 'payload in ignore-file entries',
      kind: 'workflow',
      run: (p) => gate({ report: 'in.json', 'ignore-file': '.trivyignore' }, { setup: (ws) => (reportFile(fixtureText('trivy', 'image-alpine-3.9.json'))(ws), writeFileSync(join(ws, '.trivyignore'), `# ${p.payload}\nCVE-2019-14697 exp:2020-01-01\n${p.payload.split(/\r?\n/)[0]}\n`)) }),
    },
    {
      name: 'shell payload as the scan target reaches trivy as one argument after --',
      kind: 'shell',
      run: (p) => gate({ 'scan-type': 'config', target: `dirs/${p.payload}` }, { setup: (ws) => mkdirSync(join(ws, 'dirs', p.payload), { recursive: true }) }),
      check: (o, p) => {
        if (o.result.outputs['failure-reason'] === 'invalid-input') return expect(o.calls ?? []).toEqual([]);
        const scan = (o.calls ?? []).find((x) => x.argv[0] === 'config');
        expect(scan, o.result.stdout).toBeDefined();
        const argv = scan!.argv;
        const last = argv.at(-1) as string;
        expect(argv.at(-2)).toBe('--');
        expect(last === `dirs/${p.payload}` || last.endsWith(`/dirs/${p.payload}`), JSON.stringify(argv)).toBe(true);
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
      name: 'trivy killed mid-scan (no report written): scan-failed, no half report gated',
      async run() {
        const o = await gate({ 'scan-type': 'config', target: 'infra' }, { env: { HARDENING_TRIVY_SCRIPT: `if (argv.includes('--help')) { process.stdout.write(${JSON.stringify(HELP)}); return; } process.exitCode = 137;`, HARDENING_TRIVY_EXIT: '137' }, setup: (ws) => mkdirSync(join(ws, 'infra')) });
        expect(o.result.code).toBe(1);
        expect(o.result.outputs['failure-reason']).toBe('scan-failed');
        expect(o.result.outputs.passed).toBeUndefined();
      },
    },
    {
      name: 'DB registry rate-limited (429 TOOMANYREQUESTS) on every try: 3 tries with backoff, then the next mirror serves it',
      async run() {
        const o = await gate(
          { 'scan-type': 'fs', target: 'src', scanners: 'vuln', cache: 'false', 'db-repository': 'limited.example/trivy-db, good.example/trivy-db' },
          { env: { HARDENING_TRIVY_SCRIPT: DB_SCRIPT, HALLMARK_TRIVY_DB_BACKOFF_MS: '0' }, setup: (ws) => mkdirSync(join(ws, 'src')) },
        );
        expect(o.result.code, o.result.stdout).toBe(0);
        expect(dbTries(o)).toEqual(['limited.example/trivy-db', 'limited.example/trivy-db', 'limited.example/trivy-db', 'good.example/trivy-db']);
        expect(o.result.warnings.filter((w) => w.includes('limited.example'))).toHaveLength(3);
      },
    },
    {
      name: 'DB registries all failing (5xx / not found): bounded tries, a missing repository is not retried, db-unavailable',
      async run() {
        const o = await gate(
          { 'scan-type': 'fs', target: 'src', scanners: 'vuln', cache: 'false', 'db-repository': 'down.example/trivy-db, gone.example/trivy-db' },
          { env: { HARDENING_TRIVY_SCRIPT: DB_SCRIPT, HALLMARK_TRIVY_DB_BACKOFF_MS: '0' }, setup: (ws) => mkdirSync(join(ws, 'src')) },
        );
        expect(o.result.code).toBe(1);
        expect(o.result.outputs['failure-reason']).toBe('db-unavailable');
        expect(dbTries(o)).toEqual(['down.example/trivy-db', 'down.example/trivy-db', 'down.example/trivy-db', 'gone.example/trivy-db']);
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
