/**
 * Unit tests of the provenance half of packages/oci/src/policy.ts: builderIdRegexp (what the
 * policy matches the builder id with) and the shape of the ClusterPolicy's provenance attestation.
 * Whether Kyverno admits and denies with it is proved by the real Kyverno CLI in
 * test/oci/policy-provenance-kyverno.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { builderIdRegexp, PolicyArgError, policyObject, renderPolicy, SLSA_PROVENANCE_V1_TYPE, type PolicyOptions } from '@hallmark/oci';

const wf = 'https://github.com/hallmark-dev/hallmark/.github/workflows/build-sign-scan.yml';
const image = { registry: 'ghcr.io', repository: 'octo-org/shop' };
const keyless = { keyless: { subject: `${wf}@refs/tags/v1.2.3`, issuer: 'https://token.actions.githubusercontent.com' } };
const req = { builderIdRegexp: builderIdRegexp(wf, ['refs/tags/v1.*']), sourceRepository: 'octo-org/shop' };

describe('builderIdRegexp', () => {
  it('matches the workflow at an allowed ref only, with no backslashes', () => {
    const re = builderIdRegexp(wf, ['refs/tags/v1.*', 'refs/heads/main']);
    expect(re).not.toContain('\\');
    const r = new RegExp(re);
    expect(r.test(`${wf}@refs/tags/v1.2.3`)).toBe(true);
    expect(r.test(`${wf}@refs/heads/main`)).toBe(true);
    expect(r.test(`${wf}@refs/tags/v2.0.0`)).toBe(false);
    expect(r.test(`${wf}@refs/tags/v1x2`)).toBe(false); // the dot after v1 is literal
    expect(r.test(`${wf}@refs/heads/main2`)).toBe(false);
    expect(r.test(`${wf}@refs/heads/feature/main`)).toBe(false);
    expect(r.test(`${wf}@refs/tags/v1.2.3/x`)).toBe(false);
    expect(r.test('https://github.com/hallmark-dev/hallmark/.github/workflows/build-sign-scanXyml@refs/heads/main')).toBe(false);
    expect(r.test('https://github.com/evil/hallmark/.github/workflows/build-sign-scan.yml@refs/heads/main')).toBe(false);
    expect(r.test(`x${wf}@refs/heads/main`)).toBe(false);
  });
  it('refuses patterns it cannot express safely', () => {
    expect(() => builderIdRegexp(wf, [])).toThrow(/at least one/);
    expect(() => builderIdRegexp(wf, ['main'])).toThrow(/refs\/tags/);
    expect(() => builderIdRegexp(wf, ['refs/heads/(a|b)'])).toThrow(PolicyArgError);
    expect(() => builderIdRegexp(`${wf}@refs/heads/main`, ['refs/heads/main'])).toThrow(/without @/);
  });
});

describe('ClusterPolicy requireProvenance', () => {
  const y = (o: Partial<PolicyOptions>) => parseYaml(renderPolicy({ image, attestor: keyless, ...o }));
  it('adds one attestation of the SLSA v1 type, signed by the same attestor, with the builder and repository conditions', () => {
    const vi = y({ requireProvenance: req }).spec.rules[0].verifyImages[0];
    expect(vi.attestations).toEqual([
      {
        type: SLSA_PROVENANCE_V1_TYPE,
        attestors: vi.attestors,
        conditions: [
          {
            all: [
              {
                key: `{{ regex_match('${req.builderIdRegexp}', runDetails.builder.id) }}`,
                operator: 'Equals',
                value: true,
                message: 'the provenance builder id is not an allowed hallmark build-sign-scan ref',
              },
              {
                key: '{{ buildDefinition.externalParameters.workflow.repository }}',
                operator: 'Equals',
                value: 'octo-org/shop',
                message: 'the provenance source repository is not octo-org/shop',
              },
            ],
          },
        ],
      },
    ]);
    expect(SLSA_PROVENANCE_V1_TYPE).toBe('https://slsa.dev/provenance/v1');
  });
  it('an optional source ref adds a third condition; without requireProvenance nothing changes', () => {
    const vi = y({ requireProvenance: { ...req, sourceRef: 'refs/heads/main' } }).spec.rules[0].verifyImages[0];
    expect(vi.attestations[0].conditions[0].all[2]).toMatchObject({
      key: '{{ buildDefinition.externalParameters.workflow.ref }}',
      value: 'refs/heads/main',
    });
    expect(y({}).spec.rules[0].verifyImages[0].attestations).toBeUndefined();
  });
  it.each([
    ['a quote in the regexp', { ...req, builderIdRegexp: "^x')|y$" }, /builder id regexp/],
    ['a backslash in the regexp', { ...req, builderIdRegexp: '^a\\.b$' }, /builder id regexp/],
    ['a source repository that is not owner/name', { ...req, sourceRepository: 'octo-org' }, /owner\/name/],
    ['a short source ref', { ...req, sourceRef: 'main' }, /full ref/],
  ])('refuses %s', (_what, r, re) => {
    expect(() => policyObject({ image, attestor: keyless, requireProvenance: r })).toThrow(re);
  });
});

describe('ImageValidatingPolicy requireProvenance', () => {
  it('declares the in-toto attestation and checks it after the signature: verified by the signer, then builder, repository (and ref)', () => {
    const p = parseYaml(
      renderPolicy({
        image,
        attestor: keyless,
        kind: 'image-validating-policy',
        requireProvenance: { ...req, sourceRef: 'refs/heads/main' },
      }),
    );
    expect(p.spec.attestations).toEqual([{ name: 'provenance', intoto: { type: SLSA_PROVENANCE_V1_TYPE } }]);
    const v = p.spec.validations as { expression: string; message: string }[];
    expect(v.map((x) => x.message)).toEqual([
      expect.stringContaining("must not use the 'latest' tag"),
      `ghcr.io/octo-org/shop must be signed by ${keyless.keyless.subject}`,
      `ghcr.io/octo-org/shop must carry SLSA provenance (${SLSA_PROVENANCE_V1_TYPE}) by the same signer`,
      'the provenance builder id is not an allowed hallmark build-sign-scan ref',
      'the provenance source repository is not octo-org/shop',
      'the provenance source ref is not refs/heads/main',
    ]);
    expect(v[2]!.expression).toContain('verifyAttestationSignatures(i, attestations.provenance, [attestors.signer]) > 0');
    expect(v[3]!.expression).toContain(
      `extractPayload(i, attestations.provenance).predicate.runDetails.builder.id.matches('${req.builderIdRegexp}')`,
    );
    expect(parseYaml(renderPolicy({ image, attestor: keyless, kind: 'image-validating-policy' })).spec.attestations).toBeUndefined();
  });
});
