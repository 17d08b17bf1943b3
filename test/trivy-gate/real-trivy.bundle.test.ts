/**
 * trivy-gate scan mode with the real Trivy 0.74 (toolPath('trivy'), built from the Go module proxy
 * by npm run tools), put on PATH as `trivy` the way setup-tools does. Scans that need no
 * vulnerability DB: misconfigurations of a Dockerfile (config) and secrets in a tree (fs).
 *
 * The misconfiguration checks come from a checks bundle this test builds and serves from a real
 * loopback docker-registry, behind a proxy that answers 429 TOOMANYREQUESTS for the first
 * `checks-bundle-repository`. The bundle's only check (HM-0001) exists nowhere else, and Trivy turns
 * its embedded checks off once a bundle is downloaded (trivy v0.74.0 pkg/commands/artifact/run.go,
 * initMisconfScannerOption), so which checks ran tells which bundle Trivy used.
 * Expected counts come from jq over the JSON Trivy wrote; every SARIF is validated by the SARIF
 * Multitool (zero errors, zero warnings).
 */
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGitHubServices } from '../harness/github.js';
import { startRegistry, type Registry } from '../harness/registry.js';
import { runAction, runtimes, type RunnerHome, type Runtime } from '../harness/runner.js';
import type { TestServer } from '../harness/server.js';
import {
  cleanupHomes,
  failingAt,
  hasJq,
  jqCounts,
  SEVS,
  trackedHome,
  trivyPath,
  validateSarif,
  walkCounts,
  type Counts,
} from './helpers.js';
import { BUNDLE_CHECK_ID, hostOf, labDir, pushChecksBundle, startMirrorProxy } from './lab.js';

// Assembled at run time so this file holds no secret-shaped literal.
const FAKE_AWS_KEY = ['AKIA', '2E0A8F3B', '244C9986'].join('');

let registry: Registry;
let proxy: TestServer;
let lab: ReturnType<typeof labDir>;
let configJson = '';
let PATH = '';
const fast = { HALLMARK_TRIVY_DB_ATTEMPTS: '2', HALLMARK_TRIVY_DB_BACKOFF_MS: '50' };

beforeAll(async () => {
  PATH = trivyPath();
  lab = labDir();
  registry = await startRegistry();
  proxy = await startMirrorProxy(registry.url);
  await pushChecksBundle(registry.url, 'aquasec/trivy-checks', lab.dir);
}, 120_000);

afterAll(async () => {
  cleanupHomes();
  await proxy?.close();
  await registry?.stop();
  lab?.cleanup();
});

function tree(ws: string): void {
  mkdirSync(join(ws, 'infra'), { recursive: true });
  writeFileSync(join(ws, 'infra', 'Dockerfile'), 'FROM alpine:3.17\nRUN apk add curl\n');
  mkdirSync(join(ws, 'app', 'scripts'), { recursive: true });
  writeFileSync(join(ws, 'app', 'scripts', 'deploy.sh'), `#!/bin/sh\nexport AWS_ACCESS_KEY_ID=${FAKE_AWS_KEY}\n`);
  writeFileSync(join(ws, 'app', 'README.md'), '# nothing secret here\n');
}

async function scan(
  rt: Runtime | undefined,
  inputs: Record<string, string>,
  home: RunnerHome = trackedHome(),
  env: Record<string, string> = {},
) {
  tree(home.workspace);
  return runAction('trivy-gate', { runtime: rt, home, inputs, env: { PATH, ...fast, ...env }, timeoutMs: 170_000 });
}

function countsOf(file: string): Counts {
  return hasJq ? jqCounts(file) : walkCounts(JSON.parse(readFileSync(file, 'utf8')));
}

type Misconf = { ID: string; AVDID?: string; Status: string; Severity: string };
type Doc = {
  ArtifactType: string;
  Trivy?: { Version?: string };
  Results: { Target: string; Class: string; Misconfigurations?: Misconf[] }[];
};

function expectCleanSarif(file: string): void {
  const v = validateSarif(file);
  expect(v.errors, `SARIF Multitool errors on ${file}`).toEqual([]);
  expect(v.warnings, `SARIF Multitool warnings on ${file}`).toEqual([]);
}

describe('trivy-gate with the real Trivy 0.74', () => {
  describe('config scan of a Dockerfile (node24), checks bundle through a rate-limited mirror', () => {
    it('falls back past 429 to the next checks-bundle-repository, scans with that bundle only, gates, caches the bundle; a .trivyignore in the workspace is not read by Trivy', async () => {
      const gh = await startGitHubServices();
      const home = trackedHome();
      // A .trivyignore in Trivy's working directory that Trivy would pick up by default, and the
      // ignore file the caller actually chose (an unrelated entry).
      writeFileSync(join(home.workspace, '.trivyignore'), `${BUNDLE_CHECK_ID}\nAVD-DS-0002\nDS002\n`);
      writeFileSync(join(home.workspace, 'ci.trivyignore'), '# reviewed 2026-11\nCVE-2000-0001\n');
      const limited = `${hostOf(proxy)}/limited/trivy-checks`;
      const served = `${hostOf(proxy)}/aquasec/trivy-checks`;
      const before = proxy.requests.length;
      const inputs = {
        'scan-type': 'config',
        target: 'infra',
        severity: 'MEDIUM',
        'ignore-file': 'ci.trivyignore',
        insecure: 'true',
        'checks-bundle-repository': `${limited}\n${served}`,
      };
      const r = await scan(undefined, inputs, home, gh.env);
      // The rate-limited mirror was really asked, twice, and answered 429; the next one served it.
      const seen = proxy.requests.slice(before);
      expect(seen.filter((q) => q.path.startsWith('/v2/limited/')).length).toBeGreaterThanOrEqual(2);
      expect(r.warnings.filter((w) => w.includes(`${limited}:2`))).toHaveLength(2);
      expect(r.stdout).toContain(`checks bundle downloaded from ${served}:2`);
      expect(seen.some((q) => q.path === '/v2/aquasec/trivy-checks/manifests/2')).toBe(true);

      const jsonPath = join(home.workspace, 'trivy-results.json');
      configJson = jsonPath;
      expect(r.outputs.json).toBe(jsonPath);
      const doc = JSON.parse(readFileSync(jsonPath, 'utf8')) as Doc;
      expect(doc.Results[0]?.Class).toBe('config');
      const failed = doc.Results.flatMap((x) => x.Misconfigurations ?? []).filter((m) => m.Status === 'FAIL');
      // Only the bundle's check ran (the embedded ones, e.g. DS-0002 "root user", are off), and
      // Trivy did not apply the workspace's .trivyignore that names it.
      expect(failed.map((m) => m.ID)).toEqual([BUNDLE_CHECK_ID]);
      const exp = countsOf(jsonPath);
      expect(exp).toEqual({ CRITICAL: 0, HIGH: 0, MEDIUM: 1, LOW: 0, UNKNOWN: 0 });
      for (const s of SEVS) expect(r.outputs[`${s.toLowerCase()}-count`]).toBe(String(exp[s]));
      expect(r.outputs['failing-count']).toBe(String(failingAt(exp, 'MEDIUM')));
      expect([r.code, r.outputs.passed, r.outputs['failure-reason']]).toEqual([1, 'false', 'gate-failed']);
      // SARIF: one result per counted finding, at the file's path from the repository root, valid.
      const sarif = JSON.parse(readFileSync(r.outputs.sarif as string, 'utf8')) as {
        runs: { results: { locations: { physicalLocation: { artifactLocation: { uri: string } } }[] }[] }[];
      };
      expect(sarif.runs[0]?.results).toHaveLength(1);
      expect(sarif.runs[0]?.results[0]?.locations[0]?.physicalLocation.artifactLocation.uri).toBe('infra/Dockerfile');
      expectCleanSarif(r.outputs.sarif as string);
      // Trivy's cache stayed under RUNNER_TEMP; nothing is exported to later steps.
      expect(r.env).toEqual({});
      expect(r.path).toEqual([]);
      // A config scan needs no vulnerability DB.
      expect(r.stdout).not.toMatch(/vulnerability DB downloaded/);

      // The bundle went to the Actions cache, keyed by date. A later job (Trivy's cache dir gone)
      // restores it and asks no mirror at all.
      const key = `trivy-gate-checks-Linux-${new Date().toISOString().slice(0, 10)}`;
      expect(gh.caches.filter((c) => c.finalized).map((c) => c.key)).toEqual([key]);
      rmSync(join(home.temp, 'trivy-gate'), { recursive: true, force: true });
      const quiet = proxy.requests.length;
      const again = await scan(undefined, inputs, home, gh.env);
      await gh.close();
      expect(again.stdout).toContain('checks bundle restored from the cache');
      expect(again.stdout).toContain('checks bundle from the cache is fresh; not downloading');
      expect(proxy.requests.length).toBe(quiet);
      expect(JSON.parse(readFileSync(jsonPath, 'utf8')) as Doc).toMatchObject({
        Results: [{ Misconfigurations: [{ ID: BUNDLE_CHECK_ID }] }],
      });
      expect([again.code, again.outputs['medium-count']]).toEqual([1, '1']);
    }, 400_000);

    it('every checks mirror rate-limited: a warning, the checks built into Trivy, and the gate still decides', async () => {
      const home = trackedHome();
      const limited = `${hostOf(proxy)}/limited/trivy-checks`;
      const r = await scan(
        undefined,
        { 'scan-type': 'config', target: 'infra', severity: 'HIGH', insecure: 'true', cache: 'false', 'checks-bundle-repository': limited },
        home,
        { HALLMARK_TRIVY_DB_ATTEMPTS: '1' },
      );
      expect(r.warnings.some((w) => /checks bundle could not be downloaded from .*checks built into this trivy/.test(w))).toBe(true);
      const jsonPath = join(home.workspace, 'trivy-results.json');
      const doc = JSON.parse(readFileSync(jsonPath, 'utf8')) as Doc;
      const failed = doc.Results.flatMap((x) => x.Misconfigurations ?? []).filter((m) => m.Status === 'FAIL');
      // Trivy's embedded checks ran: the root-user check fails on this Dockerfile; ours did not run.
      expect(failed.some((m) => m.ID === 'DS-0002' || m.AVDID === 'AVD-DS-0002' || m.ID === 'DS002')).toBe(true);
      expect(failed.some((m) => m.ID === BUNDLE_CHECK_ID)).toBe(false);
      const exp = countsOf(jsonPath);
      expect(exp.HIGH).toBeGreaterThanOrEqual(1);
      for (const s of SEVS) expect(r.outputs[`${s.toLowerCase()}-count`]).toBe(String(exp[s]));
      expect([r.code, r.outputs['failure-reason']]).toEqual([1, 'gate-failed']);
      expectCleanSarif(r.outputs.sarif as string);
    }, 200_000);
  });

  it('the JSON real Trivy wrote, gated with its IDs in a .trivyignore.yaml, passes (report mode, no second scan)', async () => {
    expect(configJson).not.toBe('');
    const doc = JSON.parse(readFileSync(configJson, 'utf8')) as Doc;
    const failed = doc.Results.flatMap((x) => x.Misconfigurations ?? []).filter((m) => m.Status === 'FAIL');
    expect(failed.length).toBeGreaterThan(0);
    const home = trackedHome();
    writeFileSync(
      join(home.workspace, '.trivyignore.yaml'),
      `misconfigurations:\n${failed.map((m) => `  - id: ${m.ID}\n    paths: ["Dockerfile"]\n    statement: base image runs as root by design\n`).join('')}`,
    );
    const r = await runAction('trivy-gate', {
      home,
      inputs: { report: configJson, severity: 'LOW' },
      env: { PATH: '/usr/bin:/bin' },
      timeoutMs: 30_000,
    });
    expect([r.code, r.outputs.passed, r.outputs['failing-count']]).toEqual([0, 'true', '0']);
    expect(r.summary).toContain('base image runs as root by design');
    // Each honoured entry suppressed exactly its one finding.
    expect(r.summary.match(/base image runs as root by design \| never \| 1 \|/g)).toHaveLength(failed.length);
    expectCleanSarif(r.outputs.sarif as string);
  });

  describe(`secret scan of a tree (${runtimes()[0]?.name})`, () => {
    it('finds the AWS key, counts it CRITICAL, and the key never reaches the log or summary; a leading-dash path stays a path', async () => {
      const home = trackedHome();
      // The tree is under a directory named like a flag: the target goes after `--`.
      const dir = join(home.workspace, '-rf', 'scripts');
      mkdirSync(dir, { recursive: true });
      writeFileSync(join(dir, 'deploy.sh'), `#!/bin/sh\nexport AWS_ACCESS_KEY_ID=${FAKE_AWS_KEY}\n`);
      const r = await scan(runtimes()[0], { 'scan-type': 'fs', target: '-rf', scanners: 'secret', severity: 'CRITICAL' }, home);
      const jsonPath = join(r.home.workspace, 'trivy-results.json');
      const exp = countsOf(jsonPath);
      expect(exp.CRITICAL).toBe(1);
      expect(r.outputs['critical-count']).toBe('1');
      expect([r.code, r.outputs['failure-reason']]).toEqual([1, 'gate-failed']);
      expect(r.errors[0]).toMatch(/CRITICAL secret aws-access-key-id .* in scripts\/deploy\.sh line 2/);
      // Trivy masks the match in its JSON; our log and summary print no more than that.
      expect(r.everything).not.toContain(FAKE_AWS_KEY);
      const sarif = JSON.parse(readFileSync(r.outputs.sarif as string, 'utf8')) as {
        runs: { results: { locations: { physicalLocation: { artifactLocation: { uri: string } } }[] }[] }[];
      };
      expect(sarif.runs[0]?.results[0]?.locations[0]?.physicalLocation.artifactLocation.uri).toBe('-rf/scripts/deploy.sh');
      expectCleanSarif(r.outputs.sarif as string);
      // No trivy run left a private docker config behind (no registry login was given anyway).
      expect(existsSync(join(home.temp, 'trivy-gate', 'docker'))).toBe(false);
    }, 180_000);
  });

  it('trivy missing from PATH fails with scan-failed and a hint', async () => {
    const home = trackedHome();
    tree(home.workspace);
    const r = await runAction('trivy-gate', {
      home,
      inputs: { 'scan-type': 'fs', target: 'app', scanners: 'secret' },
      env: { PATH: '/usr/bin:/bin' },
      timeoutMs: 30_000,
    });
    expect([r.code, r.outputs['failure-reason']]).toEqual([1, 'scan-failed']);
    expect(r.errors).toEqual([expect.stringMatching(/^trivy-gate: trivy is not on PATH: install it first/)]);
  });
});
