/**
 * SARIF 2.1.0 for GitHub code scanning, built from the same findings the gate counted (after
 * ignore-unfixed and the ignore file), so the Security tab and the verdict never disagree.
 * Every counted finding is a result, whatever the threshold; the level follows the severity
 * (CRITICAL/HIGH error, MEDIUM warning, LOW/UNKNOWN note) and each rule carries a
 * `security-severity` so code scanning ranks it the way Trivy's own SARIF does.
 */
import type { Evaluation } from './gate.js';
import type { Finding, TrivyReport } from './report.js';
import type { Severity } from './severity.js';

const LEVEL: Record<Severity, 'error' | 'warning' | 'note'> = { CRITICAL: 'error', HIGH: 'error', MEDIUM: 'warning', LOW: 'note', UNKNOWN: 'note' };
/** Representative CVSS-style scores per severity band (code scanning buckets on these). */
const SECURITY_SEVERITY: Record<Severity, string> = { CRITICAL: '9.5', HIGH: '8.0', MEDIUM: '5.5', LOW: '2.0', UNKNOWN: '0.0' };
const KIND_TAG: Record<Finding['kind'], string> = { vulnerability: 'vulnerability', secret: 'secret', misconfiguration: 'misconfiguration' };

function ruleId(f: Finding): string {
  return f.id || `${f.kind}-without-id`;
}

function uriOf(f: Finding, report: TrivyReport): string {
  // Image findings have no file in the repository; code scanning still needs a location.
  const base = report.artifactType === 'container_image' ? report.artifactName || f.target : f.target || report.artifactName;
  return (base || 'unknown').replace(/\\/g, '/').replace(/^\.?\/+/, '').replace(/ \(.*\)$/, '') || 'unknown';
}

function messageOf(f: Finding): string {
  const parts: string[] = [];
  if (f.kind === 'vulnerability') {
    parts.push(`Package: ${f.pkgName ?? '?'}`, `Installed Version: ${f.installed ?? '?'}`, `Vulnerability ${f.id}`, `Severity: ${f.severity}`, `Fixed Version: ${f.fixed || '(none)'}`);
  } else if (f.kind === 'secret') {
    parts.push(`Secret ${f.id}`, `Severity: ${f.severity}`);
  } else {
    parts.push(`Misconfiguration ${f.id}`, `Severity: ${f.severity}`);
  }
  if (f.title) parts.push(`Title: ${f.title}`);
  parts.push(`Target: ${f.target}`);
  if (f.url) parts.push(`Link: ${f.url}`);
  return parts.join('\n');
}

export function toSarif(report: TrivyReport, ev: Evaluation, toolVersion: string): string {
  const rules: object[] = [];
  const ruleIndex = new Map<string, number>();
  const results: object[] = [];
  for (const f of ev.counted) {
    const id = ruleId(f);
    let idx = ruleIndex.get(id);
    if (idx === undefined) {
      idx = rules.length;
      ruleIndex.set(id, idx);
      rules.push({
        id,
        name: f.kind === 'vulnerability' ? 'OsPackageVulnerability' : f.kind === 'secret' ? 'Secret' : 'Misconfiguration',
        shortDescription: { text: f.title || id },
        fullDescription: { text: f.title || id },
        defaultConfiguration: { level: LEVEL[f.severity] },
        ...(f.url && /^https?:\/\//.test(f.url) ? { helpUri: f.url } : {}),
        help: { text: messageOf(f) },
        properties: { precision: 'very-high', 'security-severity': SECURITY_SEVERITY[f.severity], tags: [KIND_TAG[f.kind], 'security', f.severity] },
      });
    }
    const startLine = f.startLine && f.startLine > 0 ? f.startLine : 1;
    const endLine = f.endLine && f.endLine >= startLine ? f.endLine : startLine;
    results.push({
      ruleId: id,
      ruleIndex: idx,
      level: LEVEL[f.severity],
      message: { text: messageOf(f) },
      locations: [
        {
          physicalLocation: {
            artifactLocation: { uri: uriOf(f, report), uriBaseId: 'ROOTPATH' },
            region: { startLine, startColumn: 1, endLine, endColumn: 1 },
          },
          message: { text: `${f.target}${f.pkgName ? `: ${f.pkgName}@${f.installed ?? ''}` : ''}` },
        },
      ],
    });
  }
  const log = {
    version: '2.1.0',
    $schema: 'https://raw.githubusercontent.com/oasis-tcs/sarif-spec/main/sarif-2.1/schema/sarif-schema-2.1.0.json',
    runs: [
      {
        tool: { driver: { fullName: 'Trivy Vulnerability Scanner (gated by hallmark trivy-gate)', informationUri: 'https://github.com/aquasecurity/trivy', name: 'Trivy', rules, version: toolVersion || 'unknown' } },
        results,
        columnKind: 'utf16CodeUnits',
        originalUriBaseIds: { ROOTPATH: { uri: 'file:///' } },
        properties: { artifactName: report.artifactName, artifactType: report.artifactType },
      },
    ],
  };
  return `${JSON.stringify(log)}\n`;
}
