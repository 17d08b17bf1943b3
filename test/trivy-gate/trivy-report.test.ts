/**
 * trivy-report.ts (over json-scan.ts): the streaming reader matches JSON.parse on escapes,
 * odd key orders and random reports, and refuses what is not a Trivy JSON report.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { evaluate } from '../../actions/trivy-gate/src/gate.js';
import { parseReport, ReportError } from '../../actions/trivy-gate/src/trivy-report.js';
import { describeFixtures, fixturePath } from '../harness/fixtures.js';
import { walkCounts } from './helpers.js';

const buf = (s: string) => Buffer.from(s, 'utf8');
const gateAll = (b: Buffer) => evaluate(parseReport(b), { threshold: 'none', ignoreUnfixed: false });

describe('report reader', () => {
  it('matches JSON.parse on escapes, unicode, odd key order and nested look-alike keys', () => {
    const doc = {
      Results: [
        {
          Vulnerabilities: [
            {
              Severity: 'HIGH',
              VulnerabilityID: 'CVE-1 "quoted" \\ back',
              PkgName: 'p\u00e9k\u{1F600}',
              Layer: { Vulnerabilities: [{ Severity: 'CRITICAL' }] },
              Nested: [[{}], '"]}'],
            },
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
    expect(parseReport(buf('\ufeff{"SchemaVersion":2,"Results":[{"Target":"t","Vulnerabilities":null,"Secrets":null}]}')).findings).toEqual(
      [],
    );
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
      expect(() => parseReport(readFileSync(fixturePath('trivy', 'cyclonedx-npm-with-vulns.json')))).toThrow(
        /CycloneDX document, not a Trivy JSON report/,
      );
      expect(() => parseReport(readFileSync(fixturePath('trivy', 'image-alpine-3.10.sarif')))).toThrow(
        /SARIF log, not a Trivy JSON report/,
      );
    });
  });

  it('agrees with JSON.parse on randomly generated reports', () => {
    let seed = 42;
    const rnd = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
    const sevs = ['CRITICAL', 'HIGH', 'MEDIUM', 'LOW', 'UNKNOWN', '', 'weird'];
    const strs = ['a', 'é', '\\', '"', '\u2028', 'x\ny', '{[]}', '\u0001'];
    for (let n = 0; n < 50; n++) {
      const results = Array.from({ length: Math.floor(rnd() * 4) }, () => {
        const r: Record<string, unknown> = { Target: strs[Math.floor(rnd() * strs.length)] };
        for (const k of ['Vulnerabilities', 'Secrets', 'Misconfigurations']) {
          if (rnd() < 0.3) continue;
          r[k] =
            rnd() < 0.1
              ? null
              : Array.from({ length: Math.floor(rnd() * 5) }, () => {
                  const f: Record<string, unknown> = {
                    Description: strs[Math.floor(rnd() * strs.length)],
                    CVSS: { nvd: { V3Score: rnd() * 10 } },
                    References: [strs[0], strs[3]],
                  };
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
