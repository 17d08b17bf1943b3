/**
 * Reads a generated SBOM (SPDX 2.x JSON or CycloneDX JSON) back: how many packages it lists (the
 * described root — the image or directory itself — and operating-system entries not counted),
 * the licences they carry, which tool wrote it, and which image digest(s) its root says it
 * describes. An SBOM that does not parse, or describes another digest, is refused.
 */
export type SbomKind = 'spdx' | 'cyclonedx';

export interface SbomInfo {
  kind: SbomKind;
  /** `SPDX-2.3`, `CycloneDX 1.6` */
  spec: string;
  packages: number;
  /** Licence → number of packages carrying it (NOASSERTION/NONE/absent are `unknown`). */
  licenses: Record<string, number>;
  generator?: { name: string; version: string };
  /**
   * Manifest digests the described root names (image SBOMs). syft (v1.51.0) copies the digest of
   * the reference it was given into the root's version (SPDX `versionInfo`, CycloneDX
   * `metadata.component.version`: stereoscopesource/image_source.go Describe), and in SPDX also
   * writes the manifest digest it really fetched as the root's SHA256 checksum and in its
   * `pkg:oci/…@sha256%3A…` purl (spdxhelpers/to_format_model.go toRootPackage).
   */
  subjects: string[];
  /** The digests the generator says it fetched (SPDX root checksum and purl); differs from the asked digest for a multi-platform index. */
  measured: string[];
  /** The root's name as written (image reference or directory). */
  rootName?: string;
}

export class SbomError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SbomError';
  }
}

const DIGEST_IN = /sha256(?::|%3A|%3a)([a-f0-9]{64})(?![a-f0-9])/g;
type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => !!v && typeof v === 'object' && !Array.isArray(v);
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

function digestsIn(text: string | undefined): string[] {
  if (!text) return [];
  return [...text.matchAll(DIGEST_IN)].map((m) => `sha256:${m[1]}`);
}

/** A manifest digest named after `@` (a reference or purl) or as a bare `sha256:` version. */
function refDigests(values: (string | undefined)[]): string[] {
  const out: string[] = [];
  for (const v of values) {
    if (!v) continue;
    const at = v.lastIndexOf('@');
    if (at >= 0) out.push(...digestsIn(v.slice(at + 1)).slice(0, 1));
    else if (/^sha256:[a-f0-9]{64}$/.test(v)) out.push(v);
  }
  return out;
}

function unknownLicence(l: string | undefined): boolean {
  return !l || /^(NOASSERTION|NONE)$/i.test(l.trim());
}

function tally(into: Record<string, number>, licences: string[]): void {
  const known = [...new Set(licences.map((l) => l.trim()).filter((l) => !unknownLicence(l)))];
  if (known.length === 0) into.unknown = (into.unknown ?? 0) + 1;
  for (const l of known) into[l] = (into[l] ?? 0) + 1;
}

function parseSpdx(doc: Obj): SbomInfo {
  const spec = str(doc.spdxVersion) as string;
  if (!/^SPDX-2\.\d+$/.test(spec)) throw new SbomError(`unsupported spdxVersion ${JSON.stringify(spec).slice(0, 40)}`);
  if (doc.packages !== undefined && !Array.isArray(doc.packages)) throw new SbomError('"packages" is not a list');
  const packages = ((doc.packages as unknown[]) ?? []).filter(isObj);
  const docId = str(doc.SPDXID) ?? 'SPDXRef-DOCUMENT';
  const roots = new Set<string>(
    (Array.isArray(doc.documentDescribes) ? doc.documentDescribes : []).filter((x): x is string => typeof x === 'string'),
  );
  for (const r of Array.isArray(doc.relationships) ? doc.relationships.filter(isObj) : []) {
    const type = str(r.relationshipType);
    if (type === 'DESCRIBES' && r.spdxElementId === docId && typeof r.relatedSpdxElement === 'string') roots.add(r.relatedSpdxElement);
    if (type === 'DESCRIBED_BY' && r.relatedSpdxElement === docId && typeof r.spdxElementId === 'string') roots.add(r.spdxElementId);
  }
  const licenses: Record<string, number> = {};
  let count = 0;
  const subjects: string[] = [];
  const measured: string[] = [];
  let rootName: string | undefined;
  for (const p of packages) {
    const id = str(p.SPDXID);
    if (id && roots.has(id)) {
      rootName ??= str(p.name);
      const refs = Array.isArray(p.externalRefs)
        ? p.externalRefs
            .filter(isObj)
            .filter((r) => r.referenceType === 'purl')
            .map((r) => str(r.referenceLocator))
        : [];
      const attributions = Array.isArray(p.attributionTexts)
        ? p.attributionTexts.filter((t): t is string => typeof t === 'string' && /^RepoDigest:/i.test(t))
        : [];
      const sums = Array.isArray(p.checksums)
        ? p.checksums
            .filter(isObj)
            .filter((c) => c.algorithm === 'SHA256' && typeof c.checksumValue === 'string')
            .map((c) => `sha256:${String(c.checksumValue).toLowerCase()}`)
        : [];
      // Only an image root names an image digest: syft 1.51 writes a file source's own sha256 as its
      // versionInfo (`SPDXRef-DocumentRoot-File-…`, purpose FILE), which is no manifest digest.
      const purpose = str(p.primaryPackagePurpose);
      if (purpose && purpose !== 'CONTAINER') continue;
      subjects.push(
        ...refDigests([str(p.name), str(p.versionInfo), ...refs, ...attributions.map((a) => a.replace(/^RepoDigest:\s*/i, ''))]),
      );
      if (str(p.primaryPackagePurpose) === 'CONTAINER') {
        const fetched = [
          ...sums.filter((s) => /^sha256:[a-f0-9]{64}$/.test(s)),
          ...refDigests(refs.filter((r) => r?.startsWith('pkg:oci/'))),
        ];
        subjects.push(...fetched);
        measured.push(...fetched);
      }
      continue;
    }
    if (str(p.primaryPackagePurpose) === 'OPERATING-SYSTEM') continue;
    // trivy's per-target grouping entries (a lock file) say `Class: lang-pkgs`: not packages.
    if (Array.isArray(p.attributionTexts) && p.attributionTexts.some((t) => typeof t === 'string' && /^Class:/.test(t))) continue;
    // Older trivy writes the same grouping as a versionless `SPDXRef-Application-…` (e.g. `node-pkg`).
    if (str(p.primaryPackagePurpose) === 'APPLICATION' && /^SPDXRef-Application-/.test(id ?? '') && !p.versionInfo) continue;
    count++;
    tally(licenses, [str(p.licenseConcluded), str(p.licenseDeclared)].filter((l): l is string => !!l && !unknownLicence(l)).slice(0, 1));
  }
  const creators =
    isObj(doc.creationInfo) && Array.isArray(doc.creationInfo.creators)
      ? doc.creationInfo.creators.filter((c): c is string => typeof c === 'string')
      : [];
  let generator: SbomInfo['generator'];
  for (const c of creators) {
    // `Tool: syft-1.51.0`; a syft built with plain `go install` says `Tool: syft-[not provided]`.
    const m = /^Tool:\s*([A-Za-z0-9_.]+)-(\S.*?)\s*$/.exec(c);
    if (m) {
      generator = { name: m[1] as string, version: m[2] as string };
      if (/^(syft|trivy)$/i.test(m[1] as string)) break;
    }
  }
  return {
    kind: 'spdx',
    spec,
    packages: count,
    licenses,
    generator,
    subjects: [...new Set(subjects)],
    measured: [...new Set(measured)],
    rootName,
  };
}

function flattenComponents(list: unknown, out: Obj[] = []): Obj[] {
  if (!Array.isArray(list)) return out;
  for (const c of list.filter(isObj)) {
    out.push(c);
    flattenComponents(c.components, out);
  }
  return out;
}

function parseCycloneDx(doc: Obj): SbomInfo {
  const specVersion = str(doc.specVersion);
  if (!specVersion || !/^1\.\d+$/.test(specVersion))
    throw new SbomError(`unsupported CycloneDX specVersion ${JSON.stringify(specVersion ?? null)}`);
  if (doc.components !== undefined && !Array.isArray(doc.components)) throw new SbomError('"components" is not a list');
  const meta = isObj(doc.metadata) ? doc.metadata : {};
  const root = isObj(meta.component) ? meta.component : undefined;
  const rootRef = root ? str(root['bom-ref']) : undefined;
  const licenses: Record<string, number> = {};
  let count = 0;
  for (const c of flattenComponents(doc.components)) {
    if (rootRef && c['bom-ref'] === rootRef) continue;
    if (c.type === 'operating-system') continue;
    // syft lists every file it read as a `type: file` component (cyclonedxhelpers ToFormatModel,
    // syft v1.51.0 syft/format/common/cyclonedxhelpers/to_format_model.go): files, not packages.
    if (c.type === 'file') continue;
    // trivy's per-target grouping entries (a lock file, an OS package DB) carry its Class property: not packages.
    if (Array.isArray(c.properties) && c.properties.some((p) => isObj(p) && p.name === 'aquasecurity:trivy:Class')) continue;
    count++;
    const ls: string[] = [];
    for (const l of Array.isArray(c.licenses) ? c.licenses.filter(isObj) : []) {
      if (typeof l.expression === 'string') ls.push(l.expression);
      else if (isObj(l.license)) {
        const v = str(l.license.id) ?? str(l.license.name);
        if (v) ls.push(v);
      }
    }
    tally(licenses, ls);
  }
  let generator: SbomInfo['generator'];
  const tools = meta.tools;
  const toolList: Obj[] = Array.isArray(tools)
    ? tools.filter(isObj)
    : isObj(tools)
      ? [
          ...(Array.isArray(tools.components) ? tools.components.filter(isObj) : []),
          ...(Array.isArray(tools.services) ? tools.services.filter(isObj) : []),
        ]
      : [];
  const t = toolList.find((x) => /^(syft|trivy)$/i.test(String(x.name))) ?? toolList[0];
  if (t && typeof t.name === 'string') generator = { name: t.name, version: str(t.version) ?? 'unknown' };
  const subjects: string[] = [];
  // Only a container root names an image digest (a syft file/directory source is `type: file`).
  if (root && (root.type === undefined || root.type === 'container')) {
    const props = Array.isArray(root.properties)
      ? root.properties
          .filter(isObj)
          .filter((p) => /RepoDigest$/i.test(String(p.name)))
          .map((p) => str(p.value))
      : [];
    subjects.push(...refDigests([str(root.name), str(root.version), str(root.purl), str(root['bom-ref']), ...props]));
  }
  return {
    kind: 'cyclonedx',
    spec: `CycloneDX ${specVersion}`,
    packages: count,
    licenses,
    generator,
    subjects: [...new Set(subjects)],
    measured: [],
    rootName: root ? str(root.name) : undefined,
  };
}

/** Parses SBOM text; throws SbomError saying what is wrong. */
export function parseSbom(text: string): SbomInfo {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    throw new SbomError(`is not JSON (${(e as Error).message.slice(0, 120)})`);
  }
  if (!isObj(doc)) throw new SbomError('is not a JSON object');
  if (typeof doc.spdxVersion === 'string') return parseSpdx(doc);
  if (doc.bomFormat === 'CycloneDX') return parseCycloneDx(doc);
  throw new SbomError('is neither SPDX JSON (no spdxVersion) nor CycloneDX JSON (no bomFormat: CycloneDX)');
}

/** The SBOM kind each requested format must produce. */
export function expectedKind(format: 'spdx-json' | 'cyclonedx-json'): SbomKind {
  return format === 'spdx-json' ? 'spdx' : 'cyclonedx';
}

/** Problems that make the SBOM unfit for `digest` (image mode). */
export function checkSubject(info: SbomInfo, digest: string): string | undefined {
  if (info.subjects.includes(digest)) return undefined;
  if (info.subjects.length === 0)
    return `its root (${JSON.stringify((info.rootName ?? 'none').slice(0, 120))}) names no image digest, so nothing shows it describes ${digest}`;
  return `it describes ${info.subjects.join(', ')}, not ${digest}`;
}

/** The `n` most common licences, most common first (ties by name); `unknown` last. */
export function topLicenses(licenses: Record<string, number>, n = 5): [string, number][] {
  return Object.entries(licenses)
    .filter(([l]) => l !== 'unknown')
    .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
    .slice(0, n);
}
