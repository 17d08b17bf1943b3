/**
 * inputs.ts and scan.ts: the checked config, the Trivy arguments built from it, an old Trivy
 * refused, download errors classified.
 */
import { describe, expect, it } from 'vitest';
import { checkInputs, type Env, type RawInputs } from '../../actions/trivy-gate/src/inputs.js';
import { checkTrivy, isPermanent, runScan, scanArgs, type ScanDeps } from '../../actions/trivy-gate/src/scan.js';

describe('scan arguments and inputs', () => {
  const env = (files: Record<string, 'file' | 'dir'> = {}): Env => ({
    workspace: '/ws',
    now: new Date('2026-11-30T00:00:00Z'),
    stat: (p) => files[p],
    readText: () => '',
  });
  const raw = (o: Partial<RawInputs> = {}): RawInputs => ({
    scanType: 'image',
    target: `ghcr.io/o/app@sha256:${'a'.repeat(64)}`,
    report: '',
    reportShown: '',
    severity: 'HIGH',
    ignoreUnfixed: false,
    scanners: [],
    scannersGiven: false,
    ignoreFile: '',
    ignoreFileShown: '',
    sarif: '/ws/trivy-results.sarif',
    json: '/ws/trivy-results.json',
    dbRepository: [],
    javaDbRepository: [],
    checksBundleRepository: [],
    cache: true,
    insecure: false,
    timeoutMs: 900_000,
    registryUsername: '',
    registryPasswordGiven: false,
    ...o,
  });
  const deps = { cacheDir: '/tmp/c', emptyIgnoreFile: '/tmp/e' };

  it('never passes severity, exit-code policy or the user ignore file to Trivy; target after --; telemetry and version check off', () => {
    const cfg = checkInputs(raw(), env());
    const args = scanArgs(cfg, deps);
    expect(args.slice(0, 1)).toEqual(['image']);
    expect(args).not.toContain('--severity');
    expect(args).not.toContain('--ignore-unfixed');
    expect(args[args.indexOf('--exit-code') + 1]).toBe('0');
    expect(args[args.indexOf('--ignorefile') + 1]).toBe('/tmp/e');
    expect(args[args.indexOf('--scanners') + 1]).toBe('vuln,secret,misconfig');
    expect(args).toContain('--skip-db-update');
    // The checks bundle is fetched before the scan through our mirrors; the scan never fetches it.
    expect(args).toContain('--skip-check-update');
    expect(args).not.toContain('--checks-bundle-repository');
    expect(args).toEqual(expect.arrayContaining(['--disable-telemetry', '--skip-version-check']));
    expect(args.slice(-2)).toEqual(['--', cfg.target]);
    // Java DB repositories: one list, tried in order by Trivy.
    expect(args[args.indexOf('--java-db-repository') + 1]).toBe(
      'mirror.gcr.io/aquasec/trivy-java-db,ghcr.io/aquasecurity/trivy-java-db,public.ecr.aws/aquasecurity/trivy-java-db',
    );
    // An SBOM scan needs no checks bundle and no Java DB.
    const sbom = scanArgs(checkInputs(raw({ scanType: 'sbom', target: '/ws/bom.json' }), env({ '/ws/bom.json': 'file' })), deps);
    expect(sbom).not.toContain('--skip-check-update');
    expect(sbom).not.toContain('--java-db-repository');
  });

  it('checks-bundle-repository: the default mirrors with tag 2; a repository without a tag gets :2', () => {
    expect(checkInputs(raw(), env()).checksBundleRepository).toEqual([
      'mirror.gcr.io/aquasec/trivy-checks:2',
      'ghcr.io/aquasecurity/trivy-checks:2',
    ]);
    expect(
      checkInputs(raw({ checksBundleRepository: ['127.0.0.1:5000/aquasec/trivy-checks', 'registry.example:443/checks:v3'] }), env())
        .checksBundleRepository,
    ).toEqual(['127.0.0.1:5000/aquasec/trivy-checks:2', 'registry.example:443/checks:v3']);
    expect(() => checkInputs(raw({ checksBundleRepository: ['https://ghcr.io/x'] }), env())).toThrow(
      /input 'checks-bundle-repository' must be a list of OCI repositories without a scheme/,
    );
  });

  it('registry login: scoped to the image registry (Docker Hub under its legacy key); image scans only; both halves required', () => {
    expect(
      checkInputs(raw({ target: '127.0.0.1:5000/o/app:1', registryUsername: 'octo', registryPasswordGiven: true }), env()).login,
    ).toEqual({ username: 'octo', registry: '127.0.0.1:5000' });
    expect(checkInputs(raw({ target: 'alpine:3.20', registryUsername: 'octo', registryPasswordGiven: true }), env()).login?.registry).toBe(
      'https://index.docker.io/v1/',
    );
    expect(() => checkInputs(raw({ registryUsername: 'octo' }), env())).toThrow(/input 'registry-password' is required/);
    expect(() => checkInputs(raw({ registryPasswordGiven: true }), env())).toThrow(/input 'registry-username' is required/);
    expect(() => checkInputs(raw({ registryUsername: 'oc:to', registryPasswordGiven: true }), env())).toThrow(
      /input 'registry-username' must be one word/,
    );
    expect(() =>
      checkInputs(
        raw({ scanType: 'fs', target: '/ws/src', registryUsername: 'octo', registryPasswordGiven: true }),
        env({ '/ws/src': 'dir' }),
      ),
    ).toThrow(/input 'registry-username' is only used with scan-type image/);
  });

  it('a mutable tag warns; a digest does not', () => {
    expect(checkInputs(raw({ target: 'ghcr.io/o/app:1.2' }), env()).warnings[0]).toMatch(/mutable tag/);
    expect(checkInputs(raw(), env()).warnings).toEqual([]);
  });

  it('default scanners follow the scan type; config refuses vuln', () => {
    expect(checkInputs(raw({ scanType: 'config', target: '/ws/infra' }), env({ '/ws/infra': 'dir' })).scanners).toEqual(['misconfig']);
    expect(() =>
      checkInputs(raw({ scanType: 'config', target: '/ws/infra', scanners: ['vuln'], scannersGiven: true }), env({ '/ws/infra': 'dir' })),
    ).toThrow(/input 'scanners' can only be misconfig/);
  });

  // The Trivy runs themselves are proved with the real Trivy 0.74 (real-trivy.bundle.test.ts,
  // image-db.bundle.test.ts); here only what no current Trivy can show: an old one is refused.
  const scanDeps = (help: string, version = 'Version: 0.58.1\n'): ScanDeps & { calls: string[][] } => {
    const calls: string[][] = [];
    return {
      calls,
      exec: async (_tool, args) => {
        calls.push(args);
        return { exitCode: 0, stdout: args[0] === '--version' ? version : help, stderr: '', timedOut: false };
      },
      sleep: async () => undefined,
      info: () => undefined,
      warn: () => undefined,
      untrusted: () => undefined,
      oneLine: (t) => t,
      env: {},
      cacheDir: '/tmp/c',
      emptyIgnoreFile: '/tmp/e',
      emptyDir: '/tmp/d',
      readText: () => undefined,
      now: () => new Date(),
    };
  };
  it('a Trivy without --disable-telemetry/--skip-version-check (older than 0.63) is refused naming its version, before any download or scan', async () => {
    const d = scanDeps(
      'Usage:\n  trivy image [flags]\n      --scanners strings   (vuln,misconfig,secret,license)\n      --skip-check-update\n',
    );
    await expect(checkTrivy(d)).rejects.toThrow(/trivy 0\.58\.1 is too old: trivy-gate needs Trivy 0\.63\.0 or later/);
    const cfg = checkInputs(raw({ scanType: 'fs', target: '/ws/src', scanners: ['vuln'], scannersGiven: true }), env({ '/ws/src': 'dir' }));
    const d2 = scanDeps('--scanners strings');
    await expect(runScan(cfg, d2, { dbFresh: false, checksFresh: false })).rejects.toMatchObject({ reason: 'scan-failed' });
    expect(d2.calls.map((c) => c[0])).toEqual(['image', '--version']);
  });

  it('classifies download errors: only a missing repository or denied access is not retried', () => {
    expect(isPermanent('FATAL: GET https://x/v2/trivy-db/manifests/2: TOOMANYREQUESTS: retry-after: 1s')).toBe(false);
    expect(isPermanent('unexpected status code 503 Service Unavailable')).toBe(false);
    expect(isPermanent('INFO Downloading DB...')).toBe(false);
    expect(isPermanent('MANIFEST_UNKNOWN: manifest unknown')).toBe(true);
    expect(isPermanent('GET https://x/v2/: UNAUTHORIZED: authentication required')).toBe(true);
  });
});
