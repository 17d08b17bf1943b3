/**
 * The SBOM reader (actions/sbom-attach/src/sbom.ts) over real recorded syft and trivy output
 * (../shared/fixtures: an optional suite that skips when they are absent), with counts computed here
 * independently from the documents.
 */
import { expect, it } from 'vitest';
import { checkSubject, parseSbom, SbomError, topLicenses } from '../../actions/sbom-attach/src/sbom.js';
import { describeFixtures, fixtureJson, fixtureText } from '../harness/fixtures.js';

const D = `sha256:${'ab'.repeat(32)}`;

type Spdx = {
  packages: { SPDXID: string; licenseConcluded?: string; licenseDeclared?: string; primaryPackagePurpose?: string }[];
  relationships?: { spdxElementId: string; relatedSpdxElement: string; relationshipType: string }[];
};

describeFixtures('parseSbom over recorded syft and trivy output', () => {
  it('syft SPDX image snapshot: root excluded, licences, tool, and the digest the root names', () => {
    const doc = fixtureJson<Spdx>('syft', 'spdx-json-image.golden.json');
    const roots = new Set(
      (doc.relationships ?? [])
        .filter((r) => r.relationshipType === 'DESCRIBES' && r.spdxElementId === 'SPDXRef-DOCUMENT')
        .map((r) => r.relatedSpdxElement),
    );
    const info = parseSbom(fixtureText('syft', 'spdx-json-image.golden.json'));
    expect(info.packages).toBe(doc.packages.filter((p) => !roots.has(p.SPDXID)).length);
    expect(info.packages).toBe(2);
    expect(info.licenses).toEqual({ MIT: 1, unknown: 1 });
    expect(info.generator).toEqual({ name: 'syft', version: 'v0.42.0-bogus' });
    expect(info.subjects).toEqual(['sha256:2731251dc34951c0e50fcc643b4c5f74922dad1a5d98f302b504cf46cd5d9368']);
    expect(checkSubject(info, 'sha256:2731251dc34951c0e50fcc643b4c5f74922dad1a5d98f302b504cf46cd5d9368')).toBeUndefined();
    expect(checkSubject(info, D)).toMatch(/describes sha256:2731.*, not sha256:abab/);
  });
  it('real syft 0.91.0 and 0.103.1 SPDX: the file root is not counted; generator version read', () => {
    const a = parseSbom(fixtureText('syft', 'spdx-2.3-gomod-syft-0.91.0.json'));
    expect(a).toMatchObject({ kind: 'spdx', spec: 'SPDX-2.3', packages: 1, generator: { name: 'syft', version: '0.91.0' }, subjects: [] });
    expect(checkSubject(a, D)).toMatch(/names no image digest/);
    const b = parseSbom(fixtureText('syft', 'spdx-2.3-npm-dir-syft-0.103.1.json'));
    expect(b).toMatchObject({ packages: 1, licenses: { 'Apache-2.0': 1 }, generator: { version: '0.103.1' } });
  });
  it('syft CycloneDX (1.7 tools.components, and the legacy 1.6 tools array): root and operating system excluded', () => {
    const doc = fixtureJson<{ components: { type: string }[] }>('syft', 'cyclonedx-json-image.golden.json');
    const info = parseSbom(fixtureText('syft', 'cyclonedx-json-image.golden.json'));
    expect(info.packages).toBe(doc.components.filter((c) => c.type !== 'operating-system').length);
    expect(info).toMatchObject({
      kind: 'cyclonedx',
      spec: 'CycloneDX 1.7',
      licenses: { MIT: 1, unknown: 1 },
      generator: { name: 'syft', version: 'v0.42.0-bogus' },
    });
    expect(parseSbom(fixtureText('syft', 'cyclonedx-1.6-gomod.json'))).toMatchObject({
      spec: 'CycloneDX 1.6',
      packages: 1,
      generator: { name: 'syft', version: '[not provided]' },
    });
  });
  it('trivy CycloneDX: its per-target grouping component is not a package', () => {
    const doc = fixtureJson<{ components: { type: string }[] }>('trivy', 'cyclonedx-npm-with-vulns.json');
    const info = parseSbom(fixtureText('trivy', 'cyclonedx-npm-with-vulns.json'));
    expect(info.packages).toBe(doc.components.filter((c) => c.type === 'library').length);
    expect(info.generator).toEqual({ name: 'trivy', version: 'dev' });
  });
  it('refuses what is not an SBOM', () => {
    expect(() => parseSbom('{"not":"json"')).toThrow(SbomError);
    expect(() => parseSbom('[]')).toThrow(/not a JSON object/);
    expect(() => parseSbom('{"SchemaVersion":2,"Results":[]}')).toThrow(/neither SPDX/);
    expect(() => parseSbom('{"spdxVersion":"SPDX-3.0","packages":[]}')).toThrow(/unsupported spdxVersion/);
    expect(() => parseSbom('{"bomFormat":"CycloneDX","specVersion":"1.6","components":{}}')).toThrow(/not a list/);
  });
  it('top licences: most common first, unknown left out', () => {
    expect(topLicenses({ MIT: 3, 'Apache-2.0': 3, Zlib: 1, unknown: 9 }, 2)).toEqual([
      ['Apache-2.0', 3],
      ['MIT', 3],
    ]);
  });
});
