/**
 * trivy-gate bundle tests in report mode: dist/trivy-gate/index.js run as the runner runs it, on
 * every real Trivy report under ../shared/fixtures/trivy, with the expected counts computed by jq
 * (and a JSON.parse walk) from the same file. Trivy is not on PATH here: report mode must not need it.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { describeFixtures, fixtureFiles, fixturePath, fixtureText, hasFixtures } from '../harness/fixtures.js';
import { runAction, runtimes, type Runtime } from '../harness/runner.js';
import { cleanupHomes, failingAt, hasJq, jqCounts, SEVS, trackedHome, validateSarif, walkCounts, type Counts } from './helpers.js';

afterAll(cleanupHomes);

const REPORTS = fixtureFiles('trivy', '.json').filter((f) => !f.startsWith('cyclonedx'));
const NO_TRIVY_PATH = '/usr/bin:/bin';

function expected(name: string): Counts {
  const path = fixturePath('trivy', name);
  return hasJq ? jqCounts(path) : walkCounts(JSON.parse(fixtureText('trivy', name)));
}

async function gate(rt: Runtime | undefined, inputs: Record<string, string>, setup?: (ws: string) => void) {
  const home = trackedHome();
  setup?.(home.workspace);
  const r = await runAction('trivy-gate', { runtime: rt, home, inputs, env: { PATH: NO_TRIVY_PATH }, timeoutMs: 30_000 });
  return r;
}

describe.each(runtimes())('trivy-gate report mode ($name)', (rt) => {
  describeFixtures('real reports', () => {
    it.each(REPORTS)('%s: outputs equal the counts computed by jq; reports written', async (name) => {
      const exp = expected(name);
      const r = await gate(rt, { report: fixturePath('trivy', name), severity: 'HIGH' });
      const failing = failingAt(exp, 'HIGH');
      for (const s of SEVS) expect(r.outputs[`${s.toLowerCase()}-count`], s).toBe(String(exp[s]));
      expect(r.outputs['failing-count']).toBe(String(failing));
      expect(r.outputs.passed).toBe(String(failing === 0));
      expect(r.code).toBe(failing === 0 ? 0 : 1);
      expect(r.outputs['failure-reason']).toBe(failing === 0 ? '' : 'gate-failed');
      // Reports are there whatever the verdict: JSON byte-identical, SARIF with one result per counted finding.
      expect(r.outputs.json).toBe(join(r.home.workspace, 'trivy-results.json'));
      expect(readFileSync(r.outputs.json as string)).toEqual(readFileSync(fixturePath('trivy', name)));
      const sarif = JSON.parse(readFileSync(r.outputs.sarif as string, 'utf8')) as { runs: { results: unknown[] }[] };
      expect(sarif.runs[0]?.results).toHaveLength(SEVS.reduce((n, s) => n + exp[s], 0));
      // One ::error per failing finding (≤ 10) plus the verdict line.
      expect(r.errors).toHaveLength(failing === 0 ? 0 : Math.min(failing, 10) + 1);
      if (failing) expect(r.errors.at(-1)).toMatch(new RegExp(`^trivy-gate: ${failing} finding\\(s\\) at HIGH or above`));
      expect(r.summary).toMatch(/\| Severity \| Count \| Fails the gate \|/);
      for (const s of SEVS) expect(r.summary).toContain(`| ${s} | ${exp[s]} |`);
    });
  });

  it('severity none reports without failing; lowercase severity is accepted', async () => {
    if (!hasFixtures) return;
    const none = await gate(rt, { report: fixturePath('trivy', 'image-alpine-3.9.json'), severity: 'none' });
    expect([none.code, none.outputs.passed, none.outputs['failing-count'], none.outputs['critical-count']]).toEqual([0, 'true', '0', '2']);
    expect(none.errors).toEqual([]);
    const low = await gate(rt, { report: fixturePath('trivy', 'image-alpine-3.9.json'), severity: 'medium' });
    expect([low.code, low.outputs['failing-count']]).toEqual([1, '6']);
  });

  it('an expired ignore is not honoured and is named in a warning; honoured ones are listed with their reason', async () => {
    if (!hasFixtures) return;
    const r = await gate(
      rt,
      { report: fixturePath('trivy', 'image-alpine-3.9.json'), severity: 'MEDIUM', 'ignore-file': '.trivyignore.yaml' },
      (ws) =>
        writeFileSync(
          join(ws, '.trivyignore.yaml'),
          'vulnerabilities:\n  - id: CVE-2019-14697\n    expired_at: 2024-01-01\n    statement: waiting for musl\n  - id: CVE-2019-1549\n    statement: not reachable from our code\n    expired_at: 2999-01-01\n',
        ),
    );
    expect(r.warnings.some((w) => w.includes('CVE-2019-14697') && /expired on 2024-01-01 and is NOT honoured/.test(w))).toBe(true);
    // 6 findings: 2 × CVE-2019-1549 ignored → 2 CRITICAL + 2 MEDIUM left.
    expect([r.outputs['critical-count'], r.outputs['medium-count'], r.outputs['failing-count']]).toEqual(['2', '2', '4']);
    expect(r.summary).toContain('not reachable from our code');
    expect(r.summary).toMatch(/Expired, \*\*not\*\* honoured: `CVE-2019-14697/);
  });

  it('a .trivyignore at the workspace root is applied by default and says so', async () => {
    if (!hasFixtures) return;
    const r = await gate(rt, { report: fixturePath('trivy', 'repo-secrets.json') }, (ws) =>
      writeFileSync(join(ws, '.trivyignore'), '# accepted\naws-access-key-id\n'),
    );
    expect([r.outputs['critical-count'], r.outputs['high-count']]).toEqual(['0', '1']);
    expect(r.stdout).toMatch(/ignore file \.trivyignore: 1 active entry, 0 expired/);
  });
});

describe('trivy-gate SARIF accepted by GitHub and the SARIF spec (node24 only)', () => {
  // Microsoft's SARIF Multitool, `validate --rule-kind "Gh;Sarif"`, over the SARIF the bundle wrote
  // for every real report: image reports (OS packages, language packages), filesystem, config
  // (Dockerfile, Helm) and secret reports. Zero errors and zero warnings.
  describeFixtures('real reports', () => {
    it.each(REPORTS)('%s', async (name) => {
      const r = await gate(undefined, { report: fixturePath('trivy', name), severity: 'none' });
      expect(r.code).toBe(0);
      const v = validateSarif(r.outputs.sarif as string);
      expect(v.errors).toEqual([]);
      expect(v.warnings).toEqual([]);
    });
  });
});

describe('trivy-gate report mode (node24 only)', () => {
  it('annotations are capped at 10 with a line saying how many more; the summary lists the top 20', async () => {
    const vulns = Array.from({ length: 25 }, (_, i) => ({
      VulnerabilityID: `CVE-2026-${1000 + i}`,
      PkgName: `pkg${i}`,
      InstalledVersion: '1.0',
      FixedVersion: '1.1',
      Status: 'fixed',
      Severity: i % 2 ? 'HIGH' : 'CRITICAL',
      PrimaryURL: `https://avd.aquasec.com/nvd/cve-2026-${1000 + i}`,
    }));
    const r = await gate(undefined, { report: 'many.json', severity: 'HIGH' }, (ws) =>
      writeFileSync(
        join(ws, 'many.json'),
        JSON.stringify({
          SchemaVersion: 2,
          ArtifactName: 'app',
          ArtifactType: 'container_image',
          Results: [{ Target: 'app (debian 12)', Vulnerabilities: vulns }],
        }),
      ),
    );
    expect(r.code).toBe(1);
    expect(r.errors).toHaveLength(11);
    expect(r.stdout).toContain('15 more failing finding(s) not annotated');
    expect(r.summary).toContain('Failing findings (top 20 of 25)');
    expect(r.summary.match(/\[CVE-2026-\d+\]\(https:\/\/avd\.aquasec\.com/g)).toHaveLength(20);
    expect(r.summary).toContain('| pkg0 | 1.0 → 1.1 |');
  });

  it('report text cannot inject workflow commands or markdown', async () => {
    const evil = {
      VulnerabilityID: 'CVE-1',
      PkgName: '::set-output name=passed::true',
      InstalledVersion: '<img src=x>',
      FixedVersion: '1',
      Severity: 'CRITICAL',
      Title: '[click](https://evil)',
    };
    const r = await gate(undefined, { report: 'evil.json' }, (ws) =>
      writeFileSync(
        join(ws, 'evil.json'),
        JSON.stringify({ SchemaVersion: 2, Results: [{ Target: 'x\n::add-mask::y', Vulnerabilities: [evil] }] }),
      ),
    );
    expect(r.outputs.passed).toBe('false');
    expect(r.commands.filter((c) => c.command === 'set-output' || c.command === 'add-mask')).toEqual([]);
    expect(r.summary).not.toContain('<img');
    expect(r.summary).not.toContain('[click](https://evil)');
  });

  const badReports: [string, string, RegExp][] = [
    ['malformed JSON', '{"SchemaVersion": 2, "Results": [', /not a usable Trivy JSON report: malformed JSON/],
    ['non-Trivy JSON', '{"name":"package.json","version":"1.0.0"}', /no SchemaVersion/],
    ['a CycloneDX SBOM', '{"bomFormat":"CycloneDX","specVersion":"1.6","components":[]}', /CycloneDX document/],
  ];
  it.each(badReports)('refuses %s with bad-report, writing nothing', async (_n, text, re) => {
    const r = await gate(undefined, { report: 'r.json' }, (ws) => writeFileSync(join(ws, 'r.json'), text));
    expect(r.code).toBe(1);
    expect(r.errors).toHaveLength(1);
    expect(r.errors[0]).toMatch(/^trivy-gate: input 'report' \(r\.json\) is not a usable Trivy JSON report/);
    expect(r.errors[0]).toMatch(re);
    expect(r.outputs['failure-reason']).toBe('bad-report');
    expect(r.outputs.passed).toBeUndefined();
  });

  describeFixtures('recorded SARIF and CycloneDX', () => {
    it.each(['image-alpine-3.10.sarif', 'cyclonedx-npm-with-vulns.json'])('%s given as report is refused clearly', async (name) => {
      const r = await gate(undefined, { report: fixturePath('trivy', name) });
      expect(r.outputs['failure-reason']).toBe('bad-report');
      expect(r.errors[0]).toMatch(/(SARIF log|CycloneDX document), not a Trivy JSON report/);
    });
  });

  it('leaves nothing behind for later steps: no env, no PATH, no state', async () => {
    if (!hasFixtures) return;
    const r = await gate(undefined, { report: fixturePath('trivy', 'repo-pip.json') });
    expect(r.env).toEqual({});
    expect(r.path).toEqual([]);
    expect(r.state).toEqual({});
  });
});
