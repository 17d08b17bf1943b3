/**
 * trivy-gate's domain on every real Trivy report in ../shared/fixtures/trivy (an optional
 * suite: skipped with a message when the fixtures are absent): the streaming reader against
 * JSON.parse and jq, the counting contract, ignore files and SARIF on recorded reports.
 */
import { readFileSync } from 'node:fs';
import { expect, it } from 'vitest';
import { evaluate } from '../../actions/trivy-gate/src/gate.js';
import { parseIgnoreFile } from '../../actions/trivy-gate/src/ignore.js';
import { toSarif } from '../../actions/trivy-gate/src/sarif.js';
import { type Finding, parseReport } from '../../actions/trivy-gate/src/trivy-report.js';
import { describeFixtures, fixtureFiles, fixturePath, fixtureText } from '../harness/fixtures.js';
import { hasJq, jqCounts, walkCounts } from './helpers.js';

const TRIVY_REPORTS = fixtureFiles('trivy', '.json').filter((f) => !f.startsWith('cyclonedx'));
const gateAll = (b: Buffer) => evaluate(parseReport(b), { threshold: 'none', ignoreUnfixed: false });

describeFixtures('real Trivy reports', () => {
  it('has the reports the issue names', () => {
    expect(TRIVY_REPORTS.length).toBeGreaterThanOrEqual(13);
  });

  it.each(TRIVY_REPORTS)('%s: counts equal jq and a JSON.parse walk', (name) => {
    const path = fixturePath('trivy', name);
    const ev = gateAll(readFileSync(path));
    const walked = walkCounts(JSON.parse(fixtureText('trivy', name)));
    expect(ev.counts).toEqual(walked);
    if (hasJq) expect(ev.counts).toEqual(jqCounts(path));
  });

  it.each(TRIVY_REPORTS)('%s: every finding field equals JSON.parse', (name) => {
    const doc = JSON.parse(fixtureText('trivy', name)) as { Results?: Record<string, unknown>[] };
    const expected: Partial<Finding>[] = [];
    for (const r of doc.Results ?? []) {
      for (const v of (r.Vulnerabilities as Record<string, unknown>[] | undefined) ?? [])
        expected.push({
          kind: 'vulnerability',
          id: v.VulnerabilityID as string,
          pkgName: v.PkgName as string,
          installed: v.InstalledVersion as string,
          fixed: (v.FixedVersion as string) ?? undefined,
          status: v.Status as string,
          target: r.Target as string,
          purl: (v.PkgIdentifier as { PURL?: string } | undefined)?.PURL,
        });
      for (const s of (r.Secrets as Record<string, unknown>[] | undefined) ?? [])
        expected.push({ kind: 'secret', id: s.RuleID as string, target: r.Target as string, startLine: s.StartLine as number });
      for (const m of (r.Misconfigurations as Record<string, unknown>[] | undefined) ?? [])
        expected.push({ kind: 'misconfiguration', id: m.ID as string, status: m.Status as string, target: r.Target as string });
    }
    const got = parseReport(readFileSync(fixturePath('trivy', name))).findings;
    expect(got).toHaveLength(expected.length);
    got.forEach((f, i) => expect(f).toMatchObject(JSON.parse(JSON.stringify(expected[i]))));
  });

  it('zero findings: no Results key at all, and a Result without finding arrays', () => {
    const a = parseReport(readFileSync(fixturePath('trivy', 'image-zero-findings-no-results.json')));
    expect(a.results).toBe(0);
    expect(a.findings).toEqual([]);
    const b = parseReport(readFileSync(fixturePath('trivy', 'image-zero-vulns-sl-micro.json')));
    expect(b.results).toBe(1);
    expect(b.findings).toEqual([]);
    expect(evaluate(b, { threshold: 'UNKNOWN', ignoreUnfixed: false }).passed).toBe(true);
  });

  it('ignore-unfixed drops exactly the vulnerabilities without a fix (centos, debian, distroless)', () => {
    for (const name of ['image-centos-7.json', 'image-debian-buster.json', 'image-distroless-base.json']) {
      const path = fixturePath('trivy', name);
      const ev = evaluate(parseReport(readFileSync(path)), { threshold: 'none', ignoreUnfixed: true });
      const doc = JSON.parse(fixtureText('trivy', name)) as { Results: { Vulnerabilities?: { FixedVersion?: string }[] }[] };
      const unfixed = doc.Results.flatMap((r) => r.Vulnerabilities ?? []).filter((v) => !v.FixedVersion).length;
      expect(unfixed).toBeGreaterThan(0);
      expect(ev.unfixedSkipped).toBe(unfixed);
      if (hasJq) expect(ev.counts).toEqual(jqCounts(path, { ignoreUnfixed: true }));
    }
  });

  it('the documented .trivyignore: exp: entries expire, AVD- IDs match misconfigurations, IDs apply to every kind', () => {
    const text = fixtureText('trivy', 'docs-example.trivyignore');
    const before = parseIgnoreFile(text, '.trivyignore', new Date('2022-12-31T12:00:00Z'));
    const after = parseIgnoreFile(text, '.trivyignore', new Date('2023-01-02T00:00:00Z'));
    expect(before.expired).toHaveLength(0);
    expect(after.expired.map((e) => e.id)).toEqual(['CVE-2019-14697']);
    const alpine = parseReport(readFileSync(fixturePath('trivy', 'image-alpine-3.9.json')));
    // CVE-2019-14697 is the 2 CRITICAL (musl, musl-utils): ignored before expiry, counted after.
    expect(evaluate(alpine, { threshold: 'CRITICAL', ignoreUnfixed: false, ignore: before }).counts.CRITICAL).toBe(0);
    const ev = evaluate(alpine, { threshold: 'CRITICAL', ignoreUnfixed: false, ignore: after });
    expect(ev.counts.CRITICAL).toBe(2);
    expect(ev.passed).toBe(false);
    expect(ev.expired[0]?.expiredAt).toBe('2023-01-01');
    // AVD-DS-0002 ignores the Dockerfile's DS-0002.
    const dockerfile = parseReport(readFileSync(fixturePath('trivy', 'config-dockerfile-misconfig.json')));
    const dev = evaluate(dockerfile, { threshold: 'HIGH', ignoreUnfixed: false, ignore: after });
    expect(dev.counts.HIGH).toBe(0);
    expect(dev.honoured.find((h) => h.entry.id === 'AVD-DS-0002')?.matched).toBe(1);
  });

  it('the documented .trivyignore.yaml: paths and purls are honoured, an expired entry is not', () => {
    const cfg = parseIgnoreFile(
      fixtureText('trivy', 'docs-example.trivyignore.yaml'),
      '.trivyignore.yaml',
      new Date('2026-11-30T00:00:00Z'),
    );
    expect(cfg.expired.map((e) => e.id)).toEqual(['CVE-2023-29491']);
    expect(cfg.active.find((e) => e.id === 'AVD-DS-0002')?.statement).toBe('The image needs root privileges');
    // AVD-DS-0002 only for docs/Dockerfile: the fixture's target is Dockerfile, so it still counts.
    const dockerfile = parseReport(readFileSync(fixturePath('trivy', 'config-dockerfile-misconfig.json')));
    expect(evaluate(dockerfile, { threshold: 'HIGH', ignoreUnfixed: false, ignore: cfg }).counts.HIGH).toBe(1);
    // aws-access-key-id (no paths) ignores the CRITICAL secret; the HIGH custom rule stays.
    const secrets = parseReport(readFileSync(fixturePath('trivy', 'repo-secrets.json')));
    const ev = evaluate(secrets, { threshold: 'HIGH', ignoreUnfixed: false, ignore: cfg });
    expect(ev.counts).toMatchObject({ CRITICAL: 0, HIGH: 1 });
    // a vulnerabilities entry never touches a secret of the same ID
    const cross = parseIgnoreFile('vulnerabilities:\n  - id: aws-access-key-id\n', 'x.yaml', new Date());
    expect(evaluate(secrets, { threshold: 'HIGH', ignoreUnfixed: false, ignore: cross }).counts.CRITICAL).toBe(1);
  });

  it('purls restrict by type/namespace/name; versions and qualifiers only when given', () => {
    const alpine = parseReport(readFileSync(fixturePath('trivy', 'image-alpine-3.9.json')));
    const now = new Date();
    const musl = parseIgnoreFile(
      'vulnerabilities:\n  - id: CVE-2019-14697\n    purls: ["pkg:apk/alpine/musl"]\n    statement: musl only\n',
      'i.yaml',
      now,
    );
    const ev = evaluate(alpine, { threshold: 'CRITICAL', ignoreUnfixed: false, ignore: musl });
    expect(ev.counts.CRITICAL).toBe(1);
    expect(ev.failingFindings[0]?.pkgName).toBe('musl-utils');
    const wrongVersion = parseIgnoreFile(
      'vulnerabilities:\n  - id: CVE-2019-14697\n    purls: ["pkg:apk/alpine/musl@9.9"]\n',
      'i.yaml',
      now,
    );
    expect(evaluate(alpine, { threshold: 'CRITICAL', ignoreUnfixed: false, ignore: wrongVersion }).counts.CRITICAL).toBe(2);
    const qual = parseIgnoreFile(
      'vulnerabilities:\n  - id: CVE-2019-14697\n    purls: ["pkg:apk/alpine/musl?arch=x86_64", "pkg:apk/alpine/musl-utils@1.1.20-r4?arch=aarch64"]\n',
      'i.yaml',
      now,
    );
    expect(evaluate(alpine, { threshold: 'CRITICAL', ignoreUnfixed: false, ignore: qual }).counts.CRITICAL).toBe(1);
  });

  it('paths are doublestar globs over the Result target', () => {
    const pip = parseReport(readFileSync(fixturePath('trivy', 'repo-pip.json')));
    const now = new Date();
    const hit = parseIgnoreFile('vulnerabilities:\n  - id: CVE-2019-14806\n    paths: ["**/requirements.txt"]\n', 'i.yaml', now);
    expect(evaluate(pip, { threshold: 'HIGH', ignoreUnfixed: false, ignore: hit }).counts.HIGH).toBe(0);
    const miss = parseIgnoreFile('vulnerabilities:\n  - id: CVE-2019-14806\n    paths: ["app/*.txt"]\n', 'i.yaml', now);
    expect(evaluate(pip, { threshold: 'HIGH', ignoreUnfixed: false, ignore: miss }).counts.HIGH).toBe(1);
    const anyId = parseIgnoreFile('vulnerabilities:\n  - paths: ["requirements.txt"]\n    statement: vendored\n', 'i.yaml', now);
    expect(evaluate(pip, { threshold: 'LOW', ignoreUnfixed: false, ignore: anyId }).ignoredFindings).toBe(2);
  });

  it('a SARIF report holds exactly the counted findings, with levels from severity', () => {
    const path = fixturePath('trivy', 'image-fluentd-os-and-lang.json');
    const report = parseReport(readFileSync(path));
    const ev = evaluate(report, { threshold: 'CRITICAL', ignoreUnfixed: false });
    const sarif = JSON.parse(toSarif(report, ev, 'dev')) as {
      version: string;
      runs: {
        results: { ruleId: string; level: string; locations: { physicalLocation: { artifactLocation: { uri: string } } }[] }[];
        tool: { driver: { rules: { id: string }[] } };
      }[];
    };
    expect(sarif.version).toBe('2.1.0');
    const results = sarif.runs[0]?.results ?? [];
    expect(results).toHaveLength(2);
    expect(results.map((r) => [r.ruleId, r.level]).sort()).toEqual(
      [
        ['CVE-2019-18224', 'error'],
        ['CVE-2020-8165', 'error'],
      ].sort(),
    );
    expect(results[0]?.locations[0]?.physicalLocation.artifactLocation.uri).toBe(
      'testdata/fixtures/images/fluentd-multiple-lockfiles.tar.gz',
    );
  });
});
