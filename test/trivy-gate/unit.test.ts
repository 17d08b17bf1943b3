/**
 * trivy-gate domain tests, no runner: the streaming report reader against JSON.parse and jq on
 * every real Trivy report in ../shared/fixtures/trivy, the counting contract, ignore files (both
 * formats, expiry, paths, purls), SARIF, and refused inputs.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { checkInputs, type Env, type RawInputs } from '../../actions/trivy-gate/src/config.js';
import { evaluate, isUnfixed } from '../../actions/trivy-gate/src/gate.js';
import { globToRegExp, IgnoreFileError, matchIgnore, parseIgnoreFile, parsePurl, purlMatches } from '../../actions/trivy-gate/src/ignore.js';
import { parseReport, ReportError, type Finding } from '../../actions/trivy-gate/src/report.js';
import { driverVersion, pathUri, toSarif } from '../../actions/trivy-gate/src/sarif.js';
import { checkTrivy, isPermanent, runScan, scanArgs, type ScanDeps } from '../../actions/trivy-gate/src/scan.js';
import { describeFixtures, fixtureFiles, fixturePath, fixtureText } from '../harness/fixtures.js';
import { hasJq, jqCounts, walkCounts } from './helpers.js';

const TRIVY_REPORTS = fixtureFiles('trivy', '.json').filter((f) => !f.startsWith('cyclonedx'));
const buf = (s: string) => Buffer.from(s, 'utf8');
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
        expected.push({ kind: 'vulnerability', id: v.VulnerabilityID as string, pkgName: v.PkgName as string, installed: v.InstalledVersion as string, fixed: (v.FixedVersion as string) ?? undefined, status: v.Status as string, target: r.Target as string, purl: (v.PkgIdentifier as { PURL?: string } | undefined)?.PURL });
      for (const s of (r.Secrets as Record<string, unknown>[] | undefined) ?? []) expected.push({ kind: 'secret', id: s.RuleID as string, target: r.Target as string, startLine: s.StartLine as number });
      for (const m of (r.Misconfigurations as Record<string, unknown>[] | undefined) ?? []) expected.push({ kind: 'misconfiguration', id: m.ID as string, status: m.Status as string, target: r.Target as string });
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
    const cfg = parseIgnoreFile(fixtureText('trivy', 'docs-example.trivyignore.yaml'), '.trivyignore.yaml', new Date('2026-11-30T00:00:00Z'));
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
    const musl = parseIgnoreFile('vulnerabilities:\n  - id: CVE-2019-14697\n    purls: ["pkg:apk/alpine/musl"]\n    statement: musl only\n', 'i.yaml', now);
    const ev = evaluate(alpine, { threshold: 'CRITICAL', ignoreUnfixed: false, ignore: musl });
    expect(ev.counts.CRITICAL).toBe(1);
    expect(ev.failingFindings[0]?.pkgName).toBe('musl-utils');
    const wrongVersion = parseIgnoreFile('vulnerabilities:\n  - id: CVE-2019-14697\n    purls: ["pkg:apk/alpine/musl@9.9"]\n', 'i.yaml', now);
    expect(evaluate(alpine, { threshold: 'CRITICAL', ignoreUnfixed: false, ignore: wrongVersion }).counts.CRITICAL).toBe(2);
    const qual = parseIgnoreFile('vulnerabilities:\n  - id: CVE-2019-14697\n    purls: ["pkg:apk/alpine/musl?arch=x86_64", "pkg:apk/alpine/musl-utils@1.1.20-r4?arch=aarch64"]\n', 'i.yaml', now);
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
    const sarif = JSON.parse(toSarif(report, ev, 'dev')) as { version: string; runs: { results: { ruleId: string; level: string; locations: { physicalLocation: { artifactLocation: { uri: string } } }[] }[]; tool: { driver: { rules: { id: string }[] } } }[] };
    expect(sarif.version).toBe('2.1.0');
    const results = sarif.runs[0]?.results ?? [];
    expect(results).toHaveLength(2);
    expect(results.map((r) => [r.ruleId, r.level]).sort()).toEqual([['CVE-2019-18224', 'error'], ['CVE-2020-8165', 'error']].sort());
    expect(results[0]?.locations[0]?.physicalLocation.artifactLocation.uri).toBe('testdata/fixtures/images/fluentd-multiple-lockfiles.tar.gz');
  });
});

describe('SARIF locations (Trivy v0.74.0 pkg/report/sarif.go ToPathUri, then a relative URI reference)', () => {
  const img = { artifactType: 'container_image' };
  const os = (target: string): Finding => ({ kind: 'vulnerability', id: 'CVE-1', severity: 'HIGH', target, resultClass: 'os-pkgs' });
  it('an OS-package result of an image is the repository path, whatever the registry form', () => {
    expect(pathUri(os('127.0.0.1:5000/octo-org/shop@sha256:' + 'a'.repeat(64) + ' (alpine 3.17.3)'), img)).toBe('octo-org/shop');
    expect(pathUri(os('localhost:5000/shop:v1 (alpine 3.17.3)'), img)).toBe('shop');
    expect(pathUri(os('alpine:3.10 (alpine 3.10.9)'), img)).toBe('library/alpine');
    expect(pathUri(os('ghcr.io/octo-org/app:1.2 (debian 12.5)'), img)).toBe('octo-org/app');
    // Never the reference itself: `alpine:3.10` with a uriBaseId reads as an absolute URI (SARIF1004).
    expect(pathUri(os('alpine:3.10 (alpine 3.10.9)'), img)).not.toContain(':');
  });
  it('other classes keep their file target; PkgPath wins; unsafe characters are percent-encoded', () => {
    expect(pathUri({ kind: 'vulnerability', target: 'Node.js', resultClass: 'lang-pkgs', pkgPath: 'usr/lib/node_modules/@npmcli/x/package.json' }, img)).toBe('usr/lib/node_modules/@npmcli/x/package.json');
    expect(pathUri({ kind: 'secret', target: '/app/my secrets/.env', resultClass: 'secret' }, img)).toBe('app/my%20secrets/.env');
    expect(pathUri({ kind: 'misconfiguration', target: 'c:\\infra\\Dockerfile', resultClass: 'config' }, { artifactType: 'filesystem' })).toBe('c%3A/infra/Dockerfile');
    expect(pathUri({ kind: 'misconfiguration', target: 'git::https://example.com/vpc.git/main.tf', resultClass: 'config' }, { artifactType: 'filesystem' })).toBe('example.com/vpc/main.tf');
    expect(pathUri({ kind: 'misconfiguration', target: 'Dockerfile', resultClass: 'config' }, { artifactType: 'filesystem' }, 'infra')).toBe('infra/Dockerfile');
    expect(pathUri({ kind: 'misconfiguration', target: '', resultClass: 'config' }, { artifactType: 'filesystem' })).toBe('unknown');
  });
  it('a tool version that is not a number becomes a 0.0.0 pre-release (SARIF2005), keeping what Trivy said', () => {
    expect(driverVersion('0.74.0')).toEqual({ version: '0.74.0' });
    expect(driverVersion('dev')).toEqual({ version: '0.0.0-dev', properties: { reportedVersion: 'dev' } });
    expect(driverVersion('')).toEqual({ version: '0.0.0-unknown' });
  });
});

describe('report reader', () => {
  it('matches JSON.parse on escapes, unicode, odd key order and nested look-alike keys', () => {
    const doc = {
      Results: [
        {
          Vulnerabilities: [
            { Severity: 'HIGH', VulnerabilityID: 'CVE-1 "quoted" \\ back', PkgName: 'p\u00e9k\u{1F600}', Layer: { Vulnerabilities: [{ Severity: 'CRITICAL' }] }, Nested: [[{}], '"]}'] },
            { Severity: 'SEVERE', VulnerabilityID: 'CVE-2', Title: 'tab\there\nnewline' },
            { VulnerabilityID: 'CVE-3' },
          ],
          Packages: [{ Vulnerabilities: [{ Severity: 'CRITICAL' }] }],
          Target: 'late target',
          Misconfigurations: [
            { ID: 'X', Severity: 'LOW', Status: 'PASS' },
            { ID: 'Y', Severity: 'LOW', Status: 'FAIL', CauseMetadata: { StartLine: 3, EndLine: 9, Code: { Lines: [{ Number: 3 }] } } },
          ],
          ExperimentalModifiedFindings: [{ Finding: { VulnerabilityID: 'CVE-9', Severity: 'CRITICAL' } }],
        },
      ],
      SchemaVersion: 2,
    };
    const text = JSON.stringify(doc, null, 1);
    const r = parseReport(buf(text));
    expect(r.findings.map((f) => [f.id, f.severity, f.target])).toEqual([
      ['CVE-1 "quoted" \\ back', 'HIGH', 'late target'],
      ['CVE-2', 'UNKNOWN', 'late target'],
      ['CVE-3', 'UNKNOWN', 'late target'],
      ['X', 'LOW', 'late target'],
      ['Y', 'LOW', 'late target'],
    ]);
    expect(r.findings[0]?.pkgName).toBe('p\u00e9k\u{1F600}');
    expect(r.findings[1]?.title).toBe('tab\there\nnewline');
    expect(r.findings[4]).toMatchObject({ startLine: 3, endLine: 9 });
    expect(r.modified).toBe(1);
    const ev = evaluate(r, { threshold: 'LOW', ignoreUnfixed: false });
    expect(ev.counts).toEqual(walkCounts(doc));
    expect(ev.counts).toEqual({ CRITICAL: 0, HIGH: 1, MEDIUM: 0, LOW: 1, UNKNOWN: 2 });
    expect(ev.nonFailures).toBe(1);
    expect(ev.modifiedByTrivy).toBe(1);
  });

  it('handles null arrays, a BOM and Results: null', () => {
    expect(parseReport(buf('\ufeff{"SchemaVersion":2,"Results":[{"Target":"t","Vulnerabilities":null,"Secrets":null}]}')).findings).toEqual([]);
    expect(parseReport(buf('{"SchemaVersion":2,"Results":null}')).results).toBe(0);
  });

  const bad: [string, string, RegExp][] = [
    ['empty file', '', /empty/],
    ['not JSON', 'hello', /malformed JSON/],
    ['truncated', '{"SchemaVersion":2,"Results":[{"Target":"a","Vulnerabilities":[{"Severity":"HIGH"', /malformed JSON/],
    ['unterminated string', '{"SchemaVersion":2,"ArtifactName":"abc', /unterminated string/],
    ['trailing garbage', '{"SchemaVersion":2} {}', /after the JSON document/],
    ['mismatched bracket in a skipped value', '{"SchemaVersion":2,"Metadata":{"a":[1,2}}', /mismatched bracket/],
    ['bad literal', '{"SchemaVersion":2,"Metadata":{"a":nope}}', /expected null|unexpected/],
    ['bad number where the gate reads one', '{"SchemaVersion":01}', /bad number/],
    ['a JSON array (old Trivy)', '[{"Target":"x"}]', /JSON array/],
    ['no SchemaVersion', '{"hello":"world"}', /no SchemaVersion/],
    ['SchemaVersion 1', '{"SchemaVersion":1,"Results":[]}', /SchemaVersion 1/],
    ['Results not an array', '{"SchemaVersion":2,"Results":{}}', /not an array/],
    ['a finding that is not an object', '{"SchemaVersion":2,"Results":[{"Vulnerabilities":["CVE-1"]}]}', /expected an object/],
    ['CycloneDX', '{"bomFormat":"CycloneDX","specVersion":"1.5"}', /CycloneDX/],
    ['SPDX', '{"spdxVersion":"SPDX-2.3"}', /SPDX/],
    ['SARIF', '{"version":"2.1.0","$schema":"https://x/sarif","runs":[]}', /SARIF/],
  ];
  it.each(bad)('refuses %s', (_n, text, re) => {
    expect(() => parseReport(buf(text))).toThrow(ReportError);
    expect(() => parseReport(buf(text))).toThrow(re);
  });

  describeFixtures('recorded non-Trivy-JSON files', () => {
    it('refuses the CycloneDX and SARIF fixtures with a clear error', () => {
      expect(() => parseReport(readFileSync(fixturePath('trivy', 'cyclonedx-npm-with-vulns.json')))).toThrow(/CycloneDX document, not a Trivy JSON report/);
      expect(() => parseReport(readFileSync(fixturePath('trivy', 'image-alpine-3.10.sarif')))).toThrow(/SARIF log, not a Trivy JSON report/);
    });
  });

  it('agrees with JSON.parse on randomly generated reports', () => {
    let seed = 42;
    const rnd = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
    const sevs = ['CRITICAL', 'HIGH', 'MEDIUM', 'LOW', 'UNKNOWN', '', 'weird'];
    const strs = ['a', 'é', '\\', '"', '\u2028', 'x\ny', '{[]}', '\u0001'];
    for (let n = 0; n < 50; n++) {
      const results = Array.from({ length: Math.floor(rnd() * 4) }, () => {
        const r: Record<string, unknown> = { Target: strs[Math.floor(rnd() * strs.length)] };
        for (const k of ['Vulnerabilities', 'Secrets', 'Misconfigurations']) {
          if (rnd() < 0.3) continue;
          r[k] = rnd() < 0.1 ? null : Array.from({ length: Math.floor(rnd() * 5) }, () => {
            const f: Record<string, unknown> = { Description: strs[Math.floor(rnd() * strs.length)], CVSS: { nvd: { V3Score: rnd() * 10 } }, References: [strs[0], strs[3]] };
            const s = sevs[Math.floor(rnd() * sevs.length)];
            if (s) f.Severity = s;
            if (k === 'Misconfigurations') f.Status = rnd() < 0.7 ? 'FAIL' : 'PASS';
            return f;
          });
        }
        return r;
      });
      const doc = { SchemaVersion: 2, ArtifactName: 'gen', Results: results };
      const text = JSON.stringify(doc, null, rnd() < 0.5 ? 2 : undefined);
      expect(gateAll(buf(text)).counts).toEqual(walkCounts(doc));
    }
  });
});

describe('ignore files', () => {
  const now = new Date('2026-11-30T12:00:00Z');
  const refused: [string, string, string, RegExp][] = [
    ['bad YAML', 'i.yaml', 'vulnerabilities: [\n', /not valid YAML/],
    ['unknown section (typo)', 'i.yaml', 'vulnerability:\n  - id: CVE-1\n', /unknown section 'vulnerability'/],
    ['unknown entry key', 'i.yaml', 'vulnerabilities:\n  - id: CVE-1\n    expires: 2020-01-01\n', /unknown key 'expires'/],
    ['bad expired_at', 'i.yaml', 'vulnerabilities:\n  - id: CVE-1\n    expired_at: next week\n', /vulnerabilities\[0\] \(CVE-1\): expiry date/],
    ['empty entry', 'i.yaml', 'secrets:\n  - statement: all of them\n', /empty entry would ignore everything/],
    ['bad purl', 'i.yaml', 'vulnerabilities:\n  - id: CVE-1\n    purls: ["musl"]\n', /not a package URL/],
    ['purls outside vulnerabilities', 'i.yaml', 'secrets:\n  - id: x\n    purls: ["pkg:npm/x"]\n', /vulnerabilities only/],
    ['bad glob', 'i.yaml', 'vulnerabilities:\n  - id: CVE-1\n    paths: ["a/[b"]\n', /unclosed \[/],
    ['plain file with a bad exp date', '.trivyignore', 'CVE-1\nCVE-2 exp:2024-13-45x\n', /line 2 \(CVE-2\): expiry date/],
    ['not a mapping', 'i.yml', '- CVE-1\n', /must be a mapping/],
  ];
  it.each(refused)('refuses %s, naming where', (_n, file, text, re) => {
    expect(() => parseIgnoreFile(text, file, now)).toThrow(IgnoreFileError);
    expect(() => parseIgnoreFile(text, file, now)).toThrow(re);
  });

  it('reads expired_at as a date or an RFC 3339 time', () => {
    const cfg = parseIgnoreFile('vulnerabilities:\n  - id: A\n    expired_at: 2026-11-30\n  - id: B\n    expired_at: 2026-11-30T13:00:00Z\n  - id: C\n    expired_at: 2027-01-01\n', 'i.yaml', now);
    expect(cfg.expired.map((e) => e.id)).toEqual(['A']);
    expect(cfg.active.map((e) => e.id)).toEqual(['B', 'C']);
  });

  it('globs follow doublestar', () => {
    const t = (p: string, s: string) => globToRegExp(p).test(s);
    expect(t('**/x.txt', 'x.txt')).toBe(true);
    expect(t('**/x.txt', 'a/b/x.txt')).toBe(true);
    expect(t('a/**', 'a/b/c')).toBe(true);
    expect(t('a/*', 'a/b/c')).toBe(false);
    expect(t('a/*/c', 'a/b/c')).toBe(true);
    expect(t('usr/lib/*.{so,a}', 'usr/lib/x.so')).toBe(true);
    expect(t('usr/lib/*.{so,a}', 'usr/lib/x.sox')).toBe(false);
    expect(t('file?.txt', 'file1.txt')).toBe(true);
    expect(t('[!a]bc', 'xbc')).toBe(true);
    expect(t('[!a]bc', 'abc')).toBe(false);
    expect(t('a.b', 'axb')).toBe(false);
  });

  it('purls parse and match as Trivy does', () => {
    const p = parsePurl('pkg:npm/%40angular/core@1.2.3?arch=x&distro=y#sub/path');
    expect(p).toEqual({ type: 'npm', namespace: '@angular', name: 'core', version: '1.2.3', qualifiers: { arch: 'x', distro: 'y' }, subpath: 'sub/path' });
    const target = parsePurl('pkg:deb/debian/libssl1.1@1.1.1n-0?arch=amd64&distro=debian-11') as NonNullable<ReturnType<typeof parsePurl>>;
    expect(purlMatches(parsePurl('pkg:deb/debian/libssl1.1') as never, target)).toBe(true);
    expect(purlMatches(parsePurl('pkg:deb/debian/libssl1.1?distro=debian-11') as never, target)).toBe(true);
    expect(purlMatches(parsePurl('pkg:deb/debian/libssl1.1?distro=debian-12') as never, target)).toBe(false);
    expect(purlMatches(parsePurl('pkg:deb/ubuntu/libssl1.1') as never, target)).toBe(false);
  });

  it('matches a vulnerability by its package path too', () => {
    const cfg = parseIgnoreFile('vulnerabilities:\n  - id: CVE-7\n    paths: ["app/node_modules/**"]\n', 'i.yaml', now);
    const f: Finding = { kind: 'vulnerability', id: 'CVE-7', severity: 'HIGH', target: 'Node.js', pkgPath: 'app/node_modules/lodash/package.json' };
    expect(matchIgnore(cfg, f)?.id).toBe('CVE-7');
    expect(matchIgnore(cfg, { ...f, pkgPath: 'other/package.json' })).toBeUndefined();
  });
});

describe('gate', () => {
  const f = (severity: Finding['severity'], extra: Partial<Finding> = {}): Finding => ({ kind: 'vulnerability', id: `CVE-${Math.random()}`, severity, target: 't', fixed: '1.0', status: 'fixed', ...extra });
  const report = (findings: Finding[]) => ({ schemaVersion: 2, artifactName: 'a', artifactType: 'container_image', trivyVersion: 'dev', results: 1, findings, modified: 0 });

  it('fails at the threshold and above, never with none', () => {
    const r = report([f('CRITICAL'), f('HIGH'), f('MEDIUM'), f('LOW'), f('UNKNOWN')]);
    expect(evaluate(r, { threshold: 'CRITICAL', ignoreUnfixed: false }).failing).toBe(1);
    expect(evaluate(r, { threshold: 'HIGH', ignoreUnfixed: false }).failing).toBe(2);
    expect(evaluate(r, { threshold: 'MEDIUM', ignoreUnfixed: false }).failing).toBe(3);
    expect(evaluate(r, { threshold: 'LOW', ignoreUnfixed: false }).failing).toBe(4);
    expect(evaluate(r, { threshold: 'UNKNOWN', ignoreUnfixed: false }).failing).toBe(5);
    const none = evaluate(r, { threshold: 'none', ignoreUnfixed: false });
    expect([none.failing, none.passed, none.counts.CRITICAL]).toEqual([0, true, 1]);
  });

  it('orders failing findings highest first, stable', () => {
    const r = report([f('HIGH', { id: 'h1' }), f('CRITICAL', { id: 'c1' }), f('HIGH', { id: 'h2' }), f('CRITICAL', { id: 'c2' })]);
    expect(evaluate(r, { threshold: 'HIGH', ignoreUnfixed: false }).failingFindings.map((x) => x.id)).toEqual(['c1', 'c2', 'h1', 'h2']);
  });

  it('unfixed means no fixed version or a status other than fixed; never a secret', () => {
    expect(isUnfixed(f('HIGH', { fixed: undefined, status: 'affected' }))).toBe(true);
    expect(isUnfixed(f('HIGH', { fixed: '', status: undefined }))).toBe(true);
    expect(isUnfixed(f('HIGH', { fixed: '2.0', status: 'will_not_fix' }))).toBe(true);
    expect(isUnfixed(f('HIGH', { fixed: '2.0', status: undefined }))).toBe(false);
    expect(isUnfixed({ kind: 'secret', id: 's', severity: 'HIGH', target: 't' })).toBe(false);
  });
});

describe('scan arguments and inputs', () => {
  const env = (files: Record<string, 'file' | 'dir'> = {}): Env => ({ workspace: '/ws', now: new Date('2026-11-30T00:00:00Z'), stat: (p) => files[p], readText: () => '' });
  const raw = (o: Partial<RawInputs> = {}): RawInputs => ({ scanType: 'image', target: 'ghcr.io/o/app@sha256:' + 'a'.repeat(64), report: '', severity: 'HIGH', ignoreUnfixed: false, scanners: [], scannersGiven: false, ignoreFile: '', sarif: 'trivy-results.sarif', json: 'trivy-results.json', dbRepository: [], javaDbRepository: [], checksBundleRepository: [], cache: true, insecure: false, timeoutMs: 900_000, registryUsername: '', registryPasswordGiven: false, ...o });
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
    expect(args[args.indexOf('--java-db-repository') + 1]).toBe('mirror.gcr.io/aquasec/trivy-java-db,ghcr.io/aquasecurity/trivy-java-db,public.ecr.aws/aquasecurity/trivy-java-db');
    // An SBOM scan needs no checks bundle and no Java DB.
    const sbom = scanArgs(checkInputs(raw({ scanType: 'sbom', target: 'bom.json' }), env({ '/ws/bom.json': 'file' })), deps);
    expect(sbom).not.toContain('--skip-check-update');
    expect(sbom).not.toContain('--java-db-repository');
  });

  it('checks-bundle-repository: the default mirrors with tag 2; a repository without a tag gets :2', () => {
    expect(checkInputs(raw(), env()).checksBundleRepository).toEqual(['mirror.gcr.io/aquasec/trivy-checks:2', 'ghcr.io/aquasecurity/trivy-checks:2']);
    expect(checkInputs(raw({ checksBundleRepository: ['127.0.0.1:5000/aquasec/trivy-checks', 'registry.example:443/checks:v3'] }), env()).checksBundleRepository).toEqual(['127.0.0.1:5000/aquasec/trivy-checks:2', 'registry.example:443/checks:v3']);
    expect(() => checkInputs(raw({ checksBundleRepository: ['https://ghcr.io/x'] }), env())).toThrow(/input 'checks-bundle-repository' must be a list of OCI repositories without a scheme/);
  });

  it('registry login: scoped to the image registry (Docker Hub under its legacy key); image scans only; both halves required', () => {
    expect(checkInputs(raw({ target: '127.0.0.1:5000/o/app:1', registryUsername: 'octo', registryPasswordGiven: true }), env()).login).toEqual({ username: 'octo', registry: '127.0.0.1:5000' });
    expect(checkInputs(raw({ target: 'alpine:3.20', registryUsername: 'octo', registryPasswordGiven: true }), env()).login?.registry).toBe('https://index.docker.io/v1/');
    expect(() => checkInputs(raw({ registryUsername: 'octo' }), env())).toThrow(/input 'registry-password' is required/);
    expect(() => checkInputs(raw({ registryPasswordGiven: true }), env())).toThrow(/input 'registry-username' is required/);
    expect(() => checkInputs(raw({ registryUsername: 'oc:to', registryPasswordGiven: true }), env())).toThrow(/input 'registry-username' must be one word/);
    expect(() => checkInputs(raw({ scanType: 'fs', target: 'src', registryUsername: 'octo', registryPasswordGiven: true }), env({ '/ws/src': 'dir' }))).toThrow(/input 'registry-username' is only used with scan-type image/);
  });

  it('a mutable tag warns; a digest does not', () => {
    expect(checkInputs(raw({ target: 'ghcr.io/o/app:1.2' }), env()).warnings[0]).toMatch(/mutable tag/);
    expect(checkInputs(raw(), env()).warnings).toEqual([]);
  });

  it('default scanners follow the scan type; config refuses vuln', () => {
    expect(checkInputs(raw({ scanType: 'config', target: 'infra' }), env({ '/ws/infra': 'dir' })).scanners).toEqual(['misconfig']);
    expect(() => checkInputs(raw({ scanType: 'config', target: 'infra', scanners: ['vuln'], scannersGiven: true }), env({ '/ws/infra': 'dir' }))).toThrow(/input 'scanners' can only be misconfig/);
  });

  // The Trivy runs themselves are proved with the real Trivy 0.74 (real-trivy.test.ts,
  // image-db.test.ts); here only what no current Trivy can show: an old one is refused.
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
    const d = scanDeps('Usage:\n  trivy image [flags]\n      --scanners strings   (vuln,misconfig,secret,license)\n      --skip-check-update\n');
    await expect(checkTrivy(d)).rejects.toThrow(/trivy 0\.58\.1 is too old: trivy-gate needs Trivy 0\.63\.0 or later/);
    const cfg = checkInputs(raw({ scanType: 'fs', target: 'src', scanners: ['vuln'], scannersGiven: true }), env({ '/ws/src': 'dir' }));
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
