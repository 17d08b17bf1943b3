/**
 * Reads a Trivy JSON report (`--format json`, SchemaVersion 2) into the few fields the gate needs,
 * without building the whole document: the streaming scanner in json-scan.ts walks the JSON once,
 * this file extracts the fields of each finding under `Results[].Vulnerabilities[]`,
 * `Results[].Secrets[]` and `Results[].Misconfigurations[]`, and everything else (descriptions,
 * CVSS, code lines, package lists, `ExperimentalModifiedFindings`) is skipped without allocating
 * it. A 100 MB report costs about its own size in memory, and less time than `JSON.parse`.
 */
import { JsonScanner as Scanner, JsonSyntaxError } from './json-scan.js';
import { toSeverity, type Severity } from './severity.js';

export type FindingKind = 'vulnerability' | 'secret' | 'misconfiguration';

export interface Finding {
  kind: FindingKind;
  /** VulnerabilityID, secret RuleID, or misconfiguration ID. */
  id: string;
  /** Misconfigurations: the AVD ID (`AVD-DS-0002`) when the report has one. */
  avdId?: string;
  severity: Severity;
  /** The Result's Target (image layer/OS, lock file, config file, secret file). */
  target: string;
  resultClass?: string;
  pkgName?: string;
  pkgPath?: string;
  purl?: string;
  installed?: string;
  fixed?: string;
  /** Vulnerability status (`fixed`, `affected`, …) or misconfiguration status (`FAIL`, `PASS`, …). */
  status?: string;
  title?: string;
  url?: string;
  startLine?: number;
  endLine?: number;
}

export interface TrivyReport {
  schemaVersion: number;
  artifactName: string;
  artifactType: string;
  trivyVersion: string;
  /** Number of entries in Results (0 when the key is absent). */
  results: number;
  /** Every entry of the three finding arrays, misconfigurations of any Status included. */
  findings: Finding[];
  /** Entries under `ExperimentalModifiedFindings` (already suppressed by Trivy; never counted). */
  modified: number;
}

/** The report is not a Trivy JSON report (malformed JSON, another format, an unsupported schema). */
export class ReportError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ReportError';
  }
}

function str(v: string | number | undefined): string | undefined {
  return v === undefined ? undefined : String(v);
}
function num(v: string | number | undefined): number | undefined {
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
}

const ID_KEY: Record<FindingKind, string> = { vulnerability: 'VulnerabilityID', secret: 'RuleID', misconfiguration: 'ID' };

interface ResultCtx {
  target: string;
  resultClass?: string;
}

function readFinding(s: Scanner, kind: FindingKind, ctx: ResultCtx, out: Finding[]): void {
  if (s.peek() !== 0x7b)
    s.fail(`expected an object in ${kind === 'vulnerability' ? 'Vulnerabilities' : kind === 'secret' ? 'Secrets' : 'Misconfigurations'}`);
  const f: Finding = { kind, id: '', severity: 'UNKNOWN', target: ctx.target };
  if (ctx.resultClass) f.resultClass = ctx.resultClass;
  let severity: unknown;
  s.object((key) => {
    switch (key) {
      case 'VulnerabilityID':
      case 'RuleID':
      case 'ID':
        if (key === ID_KEY[kind]) f.id = str(s.readScalar()) ?? '';
        else s.skipValue();
        return;
      case 'AVDID':
        f.avdId = str(s.readScalar());
        return;
      case 'Severity':
        severity = s.readScalar();
        return;
      case 'PkgName':
        f.pkgName = str(s.readScalar());
        return;
      case 'PkgPath':
        f.pkgPath = str(s.readScalar());
        return;
      case 'InstalledVersion':
        f.installed = str(s.readScalar());
        return;
      case 'FixedVersion':
        f.fixed = str(s.readScalar());
        return;
      case 'Status':
        f.status = str(s.readScalar());
        return;
      case 'Title':
        f.title = str(s.readScalar());
        return;
      case 'PrimaryURL':
        f.url = str(s.readScalar());
        return;
      case 'StartLine':
        f.startLine = num(s.readScalar());
        return;
      case 'EndLine':
        f.endLine = num(s.readScalar());
        return;
      case 'PkgIdentifier':
        if (s.peek() !== 0x7b) return s.skipValue();
        s.object((k) => {
          if (k === 'PURL') f.purl = str(s.readScalar());
          else s.skipValue();
        });
        return;
      case 'CauseMetadata':
        if (s.peek() !== 0x7b) return s.skipValue();
        s.object((k) => {
          if (k === 'StartLine') f.startLine = num(s.readScalar());
          else if (k === 'EndLine') f.endLine = num(s.readScalar());
          else s.skipValue();
        });
        return;
      default:
        s.skipValue();
    }
  });
  f.severity = toSeverity(severity);
  out.push(f);
}

function readResult(s: Scanner, findings: Finding[], counters: { modified: number }): void {
  if (s.peek() !== 0x7b) s.fail('expected an object in Results');
  // Target and Class usually come first, but JSON objects are unordered: findings read before
  // them are patched at the end of the object.
  const ctx: ResultCtx = { target: '' };
  const first = findings.length;
  s.object((key) => {
    switch (key) {
      case 'Target':
        ctx.target = str(s.readScalar()) ?? '';
        return;
      case 'Class':
        ctx.resultClass = str(s.readScalar());
        return;
      case 'Vulnerabilities':
        return s.nullableArray(() => readFinding(s, 'vulnerability', ctx, findings));
      case 'Secrets':
        return s.nullableArray(() => readFinding(s, 'secret', ctx, findings));
      case 'Misconfigurations':
        return s.nullableArray(() => readFinding(s, 'misconfiguration', ctx, findings));
      case 'ExperimentalModifiedFindings':
      case 'ModifiedFindings':
        if (s.peek() === 0x5b)
          return s.array(() => {
            counters.modified++;
            s.skipValue();
          });
        return s.skipValue();
      default:
        s.skipValue();
    }
  });
  for (let i = first; i < findings.length; i++) {
    const f = findings[i] as Finding;
    f.target = ctx.target;
    if (ctx.resultClass) f.resultClass = ctx.resultClass;
  }
}

/** Parses a Trivy JSON report; throws ReportError with a message a person can act on. */
export function parseReport(buf: Buffer): TrivyReport {
  try {
    return readReport(buf);
  } catch (e) {
    if (e instanceof JsonSyntaxError) throw new ReportError(e.message);
    throw e;
  }
}

function readReport(buf: Buffer): TrivyReport {
  const s = new Scanner(buf);
  // A UTF-8 byte order mark is tolerated.
  if (buf[0] === 0xef && buf[1] === 0xbb && buf[2] === 0xbf) s.p = 3;
  const c = s.peek();
  if (c === -1) throw new ReportError('the file is empty');
  if (c === 0x5b)
    throw new ReportError('the file is a JSON array, not a Trivy JSON report (an old Trivy before SchemaVersion 2, or another tool)');
  if (c !== 0x7b) {
    s.fail('expected a JSON object');
  }
  const findings: Finding[] = [];
  const counters = { modified: 0 };
  const seen = new Set<string>();
  let schemaVersion: unknown;
  let artifactName = '';
  let artifactType = '';
  let trivyVersion = '';
  let results = 0;
  let resultsShape = true;
  s.object((key) => {
    seen.add(key);
    switch (key) {
      case 'SchemaVersion':
        schemaVersion = s.readScalar();
        return;
      case 'ArtifactName':
        artifactName = str(s.readScalar()) ?? '';
        return;
      case 'ArtifactType':
        artifactType = str(s.readScalar()) ?? '';
        return;
      case 'Trivy':
        if (s.peek() !== 0x7b) return s.skipValue();
        s.object((k) => {
          if (k === 'Version') trivyVersion = str(s.readScalar()) ?? '';
          else s.skipValue();
        });
        return;
      case 'Results':
        if (s.peek() === 0x6e) return s.literal('null');
        if (s.peek() !== 0x5b) {
          resultsShape = false;
          return s.skipValue();
        }
        s.array(() => {
          results++;
          readResult(s, findings, counters);
        });
        return;
      default:
        s.skipValue();
    }
  });
  if (s.peek() !== -1) s.fail('unexpected data after the JSON document');

  if (seen.has('bomFormat'))
    throw new ReportError(
      'the file is a CycloneDX document, not a Trivy JSON report: run trivy with --format json (an SBOM is scanned with scan-type: sbom)',
    );
  if (seen.has('spdxVersion'))
    throw new ReportError(
      'the file is an SPDX document, not a Trivy JSON report: run trivy with --format json (an SBOM is scanned with scan-type: sbom)',
    );
  if (seen.has('runs') && (seen.has('$schema') || seen.has('version')))
    throw new ReportError(
      'the file is a SARIF log, not a Trivy JSON report: run trivy with --format json (trivy-gate writes the SARIF itself)',
    );
  if (schemaVersion === undefined) throw new ReportError('the file is JSON but not a Trivy JSON report (no SchemaVersion)');
  if (schemaVersion !== 2)
    throw new ReportError(
      `the report has SchemaVersion ${JSON.stringify(schemaVersion)}; trivy-gate reads SchemaVersion 2 (Trivy ≥ 0.20 with --format json)`,
    );
  if (!resultsShape) throw new ReportError("the report's Results is not an array");
  return { schemaVersion: 2, artifactName, artifactType, trivyVersion, results, findings, modified: counters.modified };
}
