/**
 * SARIF 2.1.0 for GitHub code scanning, built from the same findings the gate counted (after
 * ignore-unfixed and the ignore file), so the Security tab and the verdict never disagree.
 * Every counted finding is a result, whatever the threshold; the level follows the severity
 * (CRITICAL/HIGH error, MEDIUM warning, LOW/UNKNOWN note) and each rule carries a
 * `security-severity` so code scanning ranks it the way Trivy's own SARIF does.
 */
import { parseImageRef } from '@hallmark/oci';
import type { Evaluation } from './gate.js';
import type { Finding, TrivyReport } from './trivy-report.js';
import type { Severity } from './severity.js';

const LEVEL: Record<Severity, 'error' | 'warning' | 'note'> = {
  CRITICAL: 'error',
  HIGH: 'error',
  MEDIUM: 'warning',
  LOW: 'note',
  UNKNOWN: 'note',
};
/** Representative CVSS-style scores per severity band (code scanning buckets on these). */
const SECURITY_SEVERITY: Record<Severity, string> = { CRITICAL: '9.5', HIGH: '8.0', MEDIUM: '5.5', LOW: '2.0', UNKNOWN: '0.0' };
const KIND_TAG: Record<Finding['kind'], string> = {
  vulnerability: 'vulnerability',
  secret: 'secret',
  misconfiguration: 'misconfiguration',
};

function ruleId(f: Finding): string {
  return f.id || `${f.kind}-without-id`;
}

/** Trivy's pathRegex (pkg/report/sarif.go): the target without a trailing ` (distro version)`. */
const PATH_RE = /^([\s\S]+?)(?:\s*\((?:[\s\S]*?)\)[\s\S]*?)?$/;

/**
 * The location of a finding as Trivy's own SARIF writes it (trivy v0.74.0 pkg/report/sarif.go,
 * `ToPathUri` and `clearURI`): for OS-package results of an image, the target
 * `registry:5000/org/app@sha256:… (alpine 3.17.3)` becomes the image's repository path
 * (`org/app`; Docker Hub's bare `alpine:3.10` becomes `library/alpine`), since the image has no file
 * in the repository; a vulnerability's PkgPath wins over the target; other classes keep their
 * (file) target. Then made a relative URI reference, which SARIF requires next to a uriBaseId
 * (SARIF1004) and GitHub needs to place the alert: no scheme, no leading slash, each segment
 * percent-encoded (a `:` in the first segment would otherwise read as a scheme).
 */
export function pathUri(
  f: Pick<Finding, 'target' | 'resultClass' | 'pkgPath' | 'kind'>,
  report: Pick<TrivyReport, 'artifactType'>,
  base = '',
): string {
  let input = f.kind === 'vulnerability' && f.pkgPath ? f.pkgPath : f.target;
  let image = false;
  if (f.resultClass === 'os-pkgs' && report.artifactType === 'container_image') {
    input = PATH_RE.exec(input)?.[1] ?? input;
    try {
      input = parseImageRef(input).repository;
      image = true;
    } catch {
      /* not a reference: kept as it is, as Trivy does */
    }
  }
  let s = clearUri(input).replace(/^[a-z][a-z0-9+.-]*:\/\//i, '');
  if (!image && base) s = `${base.replace(/\/+$/, '')}/${s.replace(/^\.\/?/, '')}`;
  const segments = s.split('/').filter((x) => x !== '' && x !== '.');
  const uri = segments.map((seg, i) => encodeSegment(seg, i === 0)).join('/');
  return uri || 'unknown';
}

/** Trivy's clearURI: backslashes to slashes, Terraform module sources to the path they name. */
function clearUri(input: string): string {
  let s = input.replace(/\\/g, '/');
  if (s.startsWith('git@github.com:'))
    s = s
      .replace(/git@github\.com:/g, 'github.com/')
      .replace(/\.git/g, '')
      .replace(/\?ref=/g, '/tree/');
  else if (s.startsWith('git::https:/') && !s.startsWith('git::https://')) s = s.slice('git::https:/'.length).replace(/\.git/g, '');
  else if (s.startsWith('git::ssh://')) s = (s.includes('@') ? s.slice(s.indexOf('@') + 1) : s).replace(/\.git/g, '');
  else if (s.startsWith('git::')) s = s.slice('git::'.length).replace(/\.git/g, '');
  else if (s.startsWith('hg::')) s = s.slice('hg::'.length).replace(/\.hg/g, '');
  else if (s.startsWith('s3::')) s = s.slice('s3::'.length);
  else if (s.startsWith('gcs::')) s = s.slice('gcs::'.length);
  return s;
}

/** RFC 3986 pchar: unreserved and sub-delims kept, `@` kept, `:` kept except in the first segment. */
function encodeSegment(seg: string, first: boolean): string {
  const e = encodeURIComponent(seg).replace(/%(40|2B|2C|3B|3D|24|26)/g, (m) => decodeURIComponent(m));
  return first ? e : e.replace(/%3A/g, ':');
}

function messageOf(f: Finding): string {
  const parts: string[] = [];
  if (f.kind === 'vulnerability') {
    parts.push(
      `Package: ${f.pkgName ?? '?'}`,
      `Installed Version: ${f.installed ?? '?'}`,
      `Vulnerability ${f.id}`,
      `Severity: ${f.severity}`,
      `Fixed Version: ${f.fixed || '(none)'}`,
    );
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

/**
 * `base`: where the scanned directory is, relative to the repository root (fs and config scans
 * of a directory in the workspace), so a file target `Dockerfile` found under `infra/` is
 * `infra/Dockerfile` for code scanning.
 */
/**
 * SARIF2005 (ProvideToolProperties) wants a version that starts with a number, and a report without
 * one has none: Trivy built from source (`go install`) reports `dev` (trivy v0.74.0
 * pkg/version/app/version.go), older reports carry no version. Those become the semver pre-release
 * `0.0.0-dev` / `0.0.0-unknown`, with what the report said kept in the driver's properties.
 */
export function driverVersion(reported: string): { version: string; properties?: { reportedVersion: string } } {
  if (/^\d/.test(reported)) return { version: reported };
  const tag =
    reported
      .replace(/[^0-9A-Za-z.-]+/g, '-')
      .replace(/^[-.]+|[-.]+$/g, '')
      .slice(0, 40) || 'unknown';
  return { version: `0.0.0-${tag}`, ...(reported ? { properties: { reportedVersion: reported } } : {}) };
}

export function toSarif(report: TrivyReport, ev: Evaluation, toolVersion: string, opts: { base?: string } = {}): string {
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
        properties: {
          precision: 'very-high',
          'security-severity': SECURITY_SEVERITY[f.severity],
          tags: [KIND_TAG[f.kind], 'security', f.severity],
        },
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
            artifactLocation: { uri: pathUri(f, report, opts.base), uriBaseId: 'ROOTPATH' },
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
        tool: {
          driver: {
            fullName: 'Trivy Vulnerability Scanner (gated by hallmark trivy-gate)',
            informationUri: 'https://github.com/aquasecurity/trivy',
            name: 'Trivy',
            rules,
            ...driverVersion(toolVersion),
          },
        },
        results,
        columnKind: 'utf16CodeUnits',
        originalUriBaseIds: { ROOTPATH: { uri: 'file:///' } },
        properties: { artifactName: report.artifactName, artifactType: report.artifactType },
      },
    ],
  };
  return `${JSON.stringify(log)}\n`;
}
