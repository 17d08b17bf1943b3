/**
 * Reads a Trivy JSON report (`--format json`, SchemaVersion 2) into the few fields the gate needs,
 * without building the whole document: a byte-level scanner walks the JSON once, extracts the
 * fields of each finding under `Results[].Vulnerabilities[]`, `Results[].Secrets[]` and
 * `Results[].Misconfigurations[]`, and skips everything else (descriptions, CVSS, code lines,
 * package lists, `ExperimentalModifiedFindings`) without allocating it. A 100 MB report costs
 * about its own size in memory, and less time than `JSON.parse`.
 *
 * Skipped values are checked structurally (strings closed, brackets balanced, literals spelled
 * right, numbers made of number characters); values the gate reads are decoded exactly as
 * JSON.parse would.
 */
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

const QUOTE = 0x22;
const TRUE = [0x74, 0x72, 0x75, 0x65];
const FALSE = [0x66, 0x61, 0x6c, 0x73, 0x65];
const NULL = [0x6e, 0x75, 0x6c, 0x6c];
const BACKSLASH = 0x5c;

class Scanner {
  p = 0;
  constructor(readonly b: Buffer) {}

  fail(what: string): never {
    const at = this.p >= this.b.length ? 'the end of the file' : `byte ${this.p}`;
    throw new ReportError(`malformed JSON: ${what} at ${at}`);
  }

  /** Skips whitespace and returns the next byte (-1 at the end). */
  peek(): number {
    const b = this.b;
    let p = this.p;
    while (p < b.length) {
      const c = b[p] as number;
      if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) p++;
      else break;
    }
    this.p = p;
    return p < b.length ? (b[p] as number) : -1;
  }

  expect(c: number, what: string): void {
    if (this.peek() !== c) this.fail(`expected ${what}`);
    this.p++;
  }

  /** At an opening quote: returns the index of the closing quote. */
  private stringEnd(): number {
    const b = this.b;
    const start = this.p + 1;
    // Short strings (keys, IDs, versions) are scanned here; a native indexOf call costs more than
    // the loop for them. Long ones (descriptions) jump with indexOf.
    const lim = Math.min(b.length, start + 48);
    let from = start;
    for (let i = start; i < lim; i++) {
      if (b[i] === QUOTE) {
        if (b[i - 1] !== BACKSLASH || this.evenBackslashes(start, i)) return i;
      }
      from = i + 1;
    }
    for (;;) {
      const q = b.indexOf(QUOTE, from);
      if (q < 0) {
        this.p = b.length;
        this.fail('unterminated string');
      }
      if (b[q - 1] !== BACKSLASH || this.evenBackslashes(start, q)) return q;
      from = q + 1;
    }
  }

  /** Whether the quote at `q` is preceded by an even number of backslashes (so it closes the string). */
  private evenBackslashes(start: number, q: number): boolean {
    let n = 0;
    for (let i = q - 1; i >= start && this.b[i] === BACKSLASH; i--) n++;
    return n % 2 === 0;
  }

  readString(): string {
    if (this.peek() !== QUOTE) this.fail('expected a string');
    const start = this.p;
    const end = this.stringEnd();
    this.p = end + 1;
    const b = this.b;
    let plain = true;
    for (let i = start + 1; i < end; i++) {
      const c = b[i] as number;
      if (c === BACKSLASH || c < 0x20) {
        plain = false;
        break;
      }
    }
    if (plain) return b.toString('utf8', start + 1, end);
    try {
      return JSON.parse(b.toString('utf8', start, end + 1)) as string;
    } catch {
      this.p = start;
      return this.fail('bad escape or control character in string');
    }
  }

  skipString(): void {
    this.p = this.stringEnd() + 1;
  }

  /** A scalar the gate keeps: strings as they are, numbers and booleans as text; null as undefined. */
  readScalar(): string | number | undefined {
    const c = this.peek();
    if (c === QUOTE) return this.readString();
    if (c === 0x6e) {
      this.literal('null');
      return undefined;
    }
    if (c === 0x74 || c === 0x66) {
      this.literal(c === 0x74 ? 'true' : 'false');
      return undefined;
    }
    if (c === 0x2d || (c >= 0x30 && c <= 0x39)) return this.number();
    this.skipValue();
    return undefined;
  }

  literal(word: string): void {
    if (this.b.toString('latin1', this.p, this.p + word.length) !== word) this.fail(`expected ${word}`);
    this.p += word.length;
  }

  number(): number {
    const b = this.b;
    const start = this.p;
    let p = start;
    while (p < b.length) {
      const c = b[p] as number;
      if ((c >= 0x30 && c <= 0x39) || c === 0x2d || c === 0x2b || c === 0x2e || c === 0x65 || c === 0x45) p++;
      else break;
    }
    const text = b.toString('latin1', start, p);
    if (!/^-?(0|[1-9]\d*)(\.\d+)?([eE][-+]?\d+)?$/.test(text)) this.fail('bad number');
    this.p = p;
    return Number(text);
  }

  /** Skips any value; containers are walked iteratively with strings jumped over. */
  skipValue(): void {
    const c = this.peek();
    if (c === QUOTE) return this.skipString();
    if (c === 0x7b || c === 0x5b) return this.skipContainer();
    if (c === 0x74) return this.literal('true');
    if (c === 0x66) return this.literal('false');
    if (c === 0x6e) return this.literal('null');
    if (c === 0x2d || (c >= 0x30 && c <= 0x39)) {
      this.number();
      return;
    }
    this.fail(c < 0 ? 'unexpected end' : 'unexpected character');
  }

  private skipContainer(): void {
    const b = this.b;
    const stack: number[] = [];
    let p = this.p;
    while (p < b.length) {
      const c = b[p] as number;
      if (c === QUOTE) {
        this.p = p;
        this.skipString();
        p = this.p;
        continue;
      }
      if (c === 0x7b || c === 0x5b) stack.push(c === 0x7b ? 0x7d : 0x5d);
      else if (c === 0x7d || c === 0x5d) {
        if (stack.pop() !== c) {
          this.p = p;
          this.fail('mismatched bracket');
        }
        if (stack.length === 0) {
          this.p = p + 1;
          return;
        }
      } else if (c === 0x74 || c === 0x66 || c === 0x6e) {
        const word = c === 0x74 ? TRUE : c === 0x66 ? FALSE : NULL;
        for (let k = 1; k < word.length; k++) {
          if (b[p + k] !== word[k]) {
            this.p = p;
            this.fail('unexpected literal');
          }
        }
        p += word.length;
        continue;
      } else if (c === 0x2d || (c >= 0x30 && c <= 0x39)) {
        // Numbers inside skipped values: their characters are consumed, not converted.
        p++;
        while (p < b.length) {
          const d = b[p] as number;
          if ((d >= 0x30 && d <= 0x39) || d === 0x2e || d === 0x65 || d === 0x45 || d === 0x2b || d === 0x2d) p++;
          else break;
        }
        continue;
      } else if (!(c === 0x2c || c === 0x3a || c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09)) {
        this.p = p;
        this.fail('unexpected character');
      }
      p++;
    }
    this.p = p;
    this.fail('unterminated object or array');
  }

  /** Walks an object, calling `onKey` positioned at each value; onKey must consume the value. */
  object(onKey: (key: string) => void): void {
    this.expect(0x7b, "'{'");
    if (this.peek() === 0x7d) {
      this.p++;
      return;
    }
    for (;;) {
      const key = this.readString();
      this.expect(0x3a, "':'");
      onKey(key);
      const c = this.peek();
      this.p++;
      if (c === 0x2c) continue;
      if (c === 0x7d) return;
      this.p--;
      this.fail("expected ',' or '}'");
    }
  }

  /** Walks an array, calling `onItem` positioned at each item; onItem must consume it. */
  array(onItem: () => void): void {
    this.expect(0x5b, "'['");
    if (this.peek() === 0x5d) {
      this.p++;
      return;
    }
    for (;;) {
      onItem();
      const c = this.peek();
      this.p++;
      if (c === 0x2c) continue;
      if (c === 0x5d) return;
      this.p--;
      this.fail("expected ',' or ']'");
    }
  }

  /** null or an array. */
  nullableArray(onItem: () => void): void {
    if (this.peek() === 0x6e) return this.literal('null');
    if (this.peek() !== 0x5b) this.fail('expected an array');
    this.array(onItem);
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
  if (s.peek() !== 0x7b) s.fail(`expected an object in ${kind === 'vulnerability' ? 'Vulnerabilities' : kind === 'secret' ? 'Secrets' : 'Misconfigurations'}`);
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
        if (s.peek() === 0x5b) return s.array(() => {
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
  const s = new Scanner(buf);
  // A UTF-8 byte order mark is tolerated.
  if (buf[0] === 0xef && buf[1] === 0xbb && buf[2] === 0xbf) s.p = 3;
  const c = s.peek();
  if (c === -1) throw new ReportError('the file is empty');
  if (c === 0x5b) throw new ReportError('the file is a JSON array, not a Trivy JSON report (an old Trivy before SchemaVersion 2, or another tool)');
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

  if (seen.has('bomFormat')) throw new ReportError('the file is a CycloneDX document, not a Trivy JSON report: run trivy with --format json (an SBOM is scanned with scan-type: sbom)');
  if (seen.has('spdxVersion')) throw new ReportError('the file is an SPDX document, not a Trivy JSON report: run trivy with --format json (an SBOM is scanned with scan-type: sbom)');
  if (seen.has('runs') && (seen.has('$schema') || seen.has('version'))) throw new ReportError('the file is a SARIF log, not a Trivy JSON report: run trivy with --format json (trivy-gate writes the SARIF itself)');
  if (schemaVersion === undefined) throw new ReportError('the file is JSON but not a Trivy JSON report (no SchemaVersion)');
  if (schemaVersion !== 2) throw new ReportError(`the report has SchemaVersion ${JSON.stringify(schemaVersion)}; trivy-gate reads SchemaVersion 2 (Trivy ≥ 0.20 with --format json)`);
  if (!resultsShape) throw new ReportError('the report\'s Results is not an array');
  return { schemaVersion: 2, artifactName, artifactType, trivyVersion, results, findings, modified: counters.modified };
}
