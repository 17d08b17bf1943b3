/**
 * flow.ts over injected Deps, in report mode (no Trivy run) and with a trivy that is not on PATH:
 * the reports written whatever the verdict, the outputs under their `-count` names, the gate-failed
 * message, the broad Trivy credentials kept from trivy and masked, and the audit subject and facts.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { auditFacts, auditSubject, flow, type FlowDeps } from '../../actions/trivy-gate/src/flow.js';
import { checkInputs, type RawInputs } from '../../actions/trivy-gate/src/inputs.js';

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const vuln = (id: string, severity: string, fixed = '1.0.1') => ({
  VulnerabilityID: id,
  PkgName: 'pkg',
  InstalledVersion: '1.0.0',
  FixedVersion: fixed,
  Status: fixed ? 'fixed' : 'affected',
  Severity: severity,
});
const REPORT = {
  SchemaVersion: 2,
  ArtifactName: 'app',
  ArtifactType: 'container_image',
  Trivy: { Version: '0.74.0' },
  Results: [
    {
      Target: 'app (alpine 3.20)',
      Class: 'os-pkgs',
      Vulnerabilities: [vuln('CVE-1', 'CRITICAL'), vuln('CVE-2', 'HIGH', ''), vuln('CVE-3', 'MEDIUM'), vuln('CVE-4', 'LOW')],
    },
  ],
};

function lab(env: Record<string, string> = {}) {
  const ws = mkdtempSync(join(tmpdir(), 'hallmark-trivy-flow-'));
  dirs.push(ws);
  mkdirSync(join(ws, 'scan'));
  writeFileSync(join(ws, 'scan', 'report.json'), JSON.stringify(REPORT));
  writeFileSync(join(ws, '.trivyignore'), 'CVE-3\n');
  const lines: string[] = [];
  const masked: string[] = [];
  const execs: { args: string[]; env?: Record<string, string | undefined> }[] = [];
  const stat = (p: string) => {
    try {
      const s = statSync(p);
      return s.isFile() ? ('file' as const) : s.isDirectory() ? ('dir' as const) : ('other' as const);
    } catch {
      return undefined;
    }
  };
  const deps: FlowDeps = {
    exec: async (_tool, args, o) => {
      execs.push({ args, env: o?.env });
      return { exitCode: 127, stdout: '', stderr: 'Unable to locate executable file: trivy', timedOut: false };
    },
    log: {
      info: (m) => lines.push(`info ${m}`),
      warning: (m) => lines.push(`warning ${m}`),
      errorAnnotation: (m, p) => lines.push(`error[${p.title}] ${m}`),
      untrusted: (t) => lines.push(`untrusted ${t}`),
    },
    now: () => new Date('2026-12-01T12:00:00Z'),
    sleep: async () => undefined,
    maskSecret: (v) => masked.push(v),
    env,
    temp: join(ws, '.temp'),
    workspace: ws,
    readFile: (p) => readFileSync(p),
    readText: (p) => readFileSync(p, 'utf8'),
    stat,
    cache: { store: undefined, os: 'Linux' },
    attempts: 1,
    backoffMs: 0,
  };
  const raw = (o: Partial<RawInputs> = {}): RawInputs => ({
    scanType: 'image',
    target: '',
    report: join(ws, 'scan', 'report.json'),
    reportShown: 'scan/report.json',
    severity: 'HIGH',
    ignoreUnfixed: false,
    scanners: [],
    scannersGiven: false,
    ignoreFile: '',
    ignoreFileShown: '',
    sarif: join(ws, 'out', 'r.sarif'),
    json: join(ws, 'out', 'r.json'),
    dbRepository: [],
    javaDbRepository: [],
    checksBundleRepository: [],
    cache: false,
    insecure: false,
    timeoutMs: 60_000,
    registryUsername: '',
    registryPasswordGiven: false,
    ...o,
  });
  const cfg = (o: Partial<RawInputs> = {}) =>
    checkInputs(raw(o), { workspace: ws, now: new Date('2026-12-01T12:00:00Z'), stat, readText: (p) => readFileSync(p, 'utf8') });
  return { ws, deps, lines, masked, execs, cfg };
}

describe('trivy-gate flow', () => {
  it('report mode: gates with the workspace .trivyignore, writes JSON and SARIF, counts under -count names, says why it failed', async () => {
    const l = lab();
    const cfg = l.cfg();
    const r = await flow(cfg, '', l.deps);
    // CVE-3 (MEDIUM) ignored by .trivyignore; HIGH threshold: CRITICAL + HIGH fail.
    expect(r.outputs).toEqual({
      passed: false,
      'critical-count': 1,
      'high-count': 1,
      'medium-count': 0,
      'low-count': 1,
      'unknown-count': 0,
      'failing-count': 2,
      json: join(l.ws, 'out', 'r.json'),
      sarif: join(l.ws, 'out', 'r.sarif'),
    });
    expect(r.failure).toBe('2 finding(s) at HIGH or above in app (CRITICAL 1, HIGH 1, MEDIUM 0, LOW 1, UNKNOWN 0)');
    expect(readFileSync(join(l.ws, 'out', 'r.json'))).toEqual(readFileSync(join(l.ws, 'scan', 'report.json')));
    const sarif = JSON.parse(readFileSync(join(l.ws, 'out', 'r.sarif'), 'utf8')) as { runs: { results: { ruleId: string }[] }[] };
    expect(sarif.runs[0]?.results.map((x) => x.ruleId).sort()).toEqual(['CVE-1', 'CVE-2', 'CVE-4']);
    expect(l.lines.filter((x) => x.startsWith('error['))).toEqual([
      'error[trivy-gate CRITICAL] CRITICAL CVE-1 in pkg 1.0.0 (fixed: 1.0.1) — app (alpine 3.20)',
      'error[trivy-gate HIGH] HIGH CVE-2 in pkg 1.0.0 (fixed: none) — app (alpine 3.20)',
    ]);
    expect(l.execs).toEqual([]);
    // The audit record: the verdict's inputs and counts, the ignore file by its hash.
    expect(auditFacts(cfg, r)).toMatchObject({
      severity: 'HIGH',
      'ignore-unfixed': false,
      'ignore-file-sha256': createHash('sha256').update('CVE-3\n').digest('hex'),
      'critical-count': 1,
      'failing-count': 2,
      passed: false,
      'trivy-version': '0.74.0',
    });
  });

  it('ignore-unfixed and severity none: passes and reports only', async () => {
    const l = lab();
    const r = await flow(l.cfg({ ignoreUnfixed: true, severity: 'none' }), '', l.deps);
    expect([r.outputs.passed, r.outputs['high-count'], r.outputs['failing-count'], r.failure]).toEqual([true, 0, 0, undefined]);
  });

  it('a scan: TRIVY_USERNAME/TRIVY_PASSWORD are masked and removed from every trivy run, with a warning; a missing trivy is scan-failed', async () => {
    const l = lab({ TRIVY_USERNAME: 'octo', TRIVY_PASSWORD: 'hunter2-canary' });
    const cfg = l.cfg({ report: '', reportShown: '', target: `ghcr.io/o/app@sha256:${'a'.repeat(64)}` });
    await expect(flow(cfg, '', l.deps)).rejects.toMatchObject({ reason: 'scan-failed' });
    expect(l.masked).toEqual(['octo', 'hunter2-canary']);
    expect(l.lines.some((x) => x.startsWith('warning trivy-gate: TRIVY_USERNAME, TRIVY_PASSWORD are not passed to trivy'))).toBe(true);
    expect(l.execs.length).toBeGreaterThan(0);
    for (const e of l.execs) expect(e.env).toMatchObject({ TRIVY_USERNAME: undefined, TRIVY_PASSWORD: undefined });
    expect(auditSubject(cfg)).toEqual({ image: 'ghcr.io/o/app', digest: `sha256:${'a'.repeat(64)}` });
    expect(auditSubject({ scanType: 'image', target: 'ghcr.io/o/app:1.2' })).toEqual({ image: 'ghcr.io/o/app', digest: undefined });
  });
});
