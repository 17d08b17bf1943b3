/**
 * Unit tests of packages/oci/src/policy.ts: the shape of both policy kinds and the option rules.
 * Whether Kyverno accepts these shapes and judges pods as intended is proved with the real
 * Kyverno CLI in test/oci/policy-kyverno.test.ts; here only what needs no tool.
 */
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import {
  clusterPolicyImageReferences,
  imageValidatingPolicyGlobs,
  policyObject,
  renderPolicy,
  repositorySpellings,
  type PolicyOptions,
} from '@hallmark/oci';

const image = { registry: 'ghcr.io', repository: 'octo-org/shop' };
const pem = '-----BEGIN PUBLIC KEY-----\nMFkw\n-----END PUBLIC KEY-----\n';
const keyless = {
  keyless: {
    subject: 'https://github.com/o/p/.github/workflows/s.yml@refs/tags/v1',
    issuer: 'https://token.actions.githubusercontent.com',
  },
};
const y = (o: PolicyOptions) => parseYaml(renderPolicy(o));

describe('ClusterPolicy (default kind)', () => {
  it('defaults to a SigstoreBundle verifier (cosign >= 3) with per-rule Enforce and webhookConfiguration', () => {
    const p = y({ image, attestor: keyless });
    expect(p.apiVersion).toBe('kyverno.io/v1');
    expect(p.kind).toBe('ClusterPolicy');
    expect(Object.keys(p.spec).sort()).toEqual(['background', 'rules', 'webhookConfiguration']);
    expect(p.spec.webhookConfiguration).toEqual({ timeoutSeconds: 30 });
    const vi = p.spec.rules[0].verifyImages[0];
    expect(vi.type).toBe('SigstoreBundle');
    expect(vi.failureAction).toBe('Enforce');
    expect(vi).toMatchObject({ mutateDigest: true, verifyDigest: true, required: true });
    expect(p.spec.rules[1].validate.failureAction).toBe('Enforce');
  });
  it("signatureFormat 'legacy' (cosign 2.x) gives type Cosign", () => {
    expect(y({ image, attestor: keyless, signatureFormat: 'legacy' }).spec.rules[0].verifyImages[0].type).toBe('Cosign');
    expect(y({ image, attestor: keyless, signatureFormat: 'bundle' }).spec.rules[0].verifyImages[0].type).toBe('SigstoreBundle');
  });
  it('imageReferences are exactly the repository: <repo>:* and <repo>@*, no prefix glob', () => {
    const refs = y({ image, attestor: keyless }).spec.rules[0].verifyImages[0].imageReferences;
    expect(refs).toEqual(['ghcr.io/octo-org/shop:*', 'ghcr.io/octo-org/shop@*']);
    for (const r of refs) expect(r).not.toMatch(/shop\*/);
  });
  it('keyless attestor: exact subject and issuer, Rekor URL from options, then the attestor, then the public one', () => {
    const e = (o: Partial<PolicyOptions>) => y({ image, attestor: keyless, ...o }).spec.rules[0].verifyImages[0].attestors[0].entries[0];
    expect(e({})).toEqual({ keyless: { ...keyless.keyless, rekor: { url: 'https://rekor.sigstore.dev' } } });
    expect(e({ rekorUrl: 'https://rekor.internal' }).keyless.rekor).toEqual({ url: 'https://rekor.internal' });
    expect(e({ attestor: { keyless: { ...keyless.keyless, rekorUrl: 'https://r2' } } }).keyless.rekor).toEqual({ url: 'https://r2' });
  });
  it('key attestor: the PEM; tlog false adds rekor.ignoreTlog and ctlog.ignoreSCT, tlog true (default) neither', () => {
    const e = (o: Partial<PolicyOptions>) =>
      y({ image, attestor: { publicKey: pem }, ...o }).spec.rules[0].verifyImages[0].attestors[0].entries[0];
    expect(e({})).toEqual({ keys: { publicKeys: pem } });
    expect(e({ tlog: true })).toEqual({ keys: { publicKeys: pem } });
    expect(e({ tlog: false })).toEqual({ keys: { publicKeys: pem, rekor: { ignoreTlog: true }, ctlog: { ignoreSCT: true } } });
  });
  it('the latest rule denies per container of every list, by a regex on the image as written', () => {
    const v = y({ image, attestor: keyless }).spec.rules[1].validate;
    expect(v.message).toMatch(/untagged/);
    expect(v.message).toMatch(/latest@sha256/);
    expect(v.foreach).toHaveLength(1);
    expect(v.foreach[0].list).toBe('request.object.spec.[ephemeralContainers, initContainers, containers][]');
    expect(v.foreach[0].deny.conditions.any[0].key).toMatch(/^\{\{ regex_match\('.+', element\.image\) \}\}$/);
  });
});

describe('ImageValidatingPolicy', () => {
  it('policies.kyverno.io/v1 with Deny, matchImageReferences globs, one cosign attestor and CEL validations', () => {
    const p = y({ image, attestor: keyless, kind: 'image-validating-policy' });
    expect(p.apiVersion).toBe('policies.kyverno.io/v1');
    expect(p.kind).toBe('ImageValidatingPolicy');
    expect(p.spec.validationActions).toEqual(['Deny']);
    expect(p.spec.webhookConfiguration).toEqual({ timeoutSeconds: 30 });
    expect(p.spec.matchImageReferences).toEqual([
      { glob: 'ghcr.io/octo-org/shop' },
      { glob: 'ghcr.io/octo-org/shop:*' },
      { glob: 'ghcr.io/octo-org/shop@*' },
    ]);
    expect(p.spec.validationConfigurations).toEqual({ mutateDigest: true, verifyDigest: true, required: true });
    expect(p.spec.attestors).toEqual([
      {
        name: 'signer',
        cosign: {
          keyless: { identities: [{ subject: keyless.keyless.subject, issuer: keyless.keyless.issuer }] },
          ctlog: { url: 'https://rekor.sigstore.dev' },
        },
      },
    ]);
    expect(p.spec.validations).toHaveLength(2);
    expect(p.spec.validations[1].expression).toContain('verifyImageSignatures(i, [attestors.signer]) > 0');
  });
  it('key mode with tlog false: ctlog.insecureIgnoreTlog and insecureIgnoreSCT', () => {
    const p = y({ image, attestor: { publicKey: pem }, kind: 'image-validating-policy', tlog: false });
    expect(p.spec.attestors[0].cosign).toEqual({ key: { data: pem }, ctlog: { insecureIgnoreTlog: true, insecureIgnoreSCT: true } });
    expect(y({ image, attestor: { publicKey: pem }, kind: 'image-validating-policy' }).spec.attestors[0].cosign).toEqual({
      key: { data: pem },
    });
  });
});

describe('repository spellings and globs', () => {
  it('Docker Hub repositories are matched however a Pod spells them; other registries one way', () => {
    expect(repositorySpellings({ registry: 'docker.io', repository: 'library/nginx' })).toEqual([
      'docker.io/library/nginx',
      'docker.io/nginx',
      'library/nginx',
      'nginx',
    ]);
    expect(repositorySpellings({ registry: 'docker.io', repository: 'octo/app' })).toEqual(['docker.io/octo/app', 'octo/app']);
    expect(repositorySpellings({ registry: '127.0.0.1:5000', repository: 'app' })).toEqual(['127.0.0.1:5000/app']);
    expect(clusterPolicyImageReferences({ registry: 'docker.io', repository: 'octo/app' })).toEqual([
      'docker.io/octo/app:*',
      'docker.io/octo/app@*',
      'octo/app:*',
      'octo/app@*',
    ]);
  });
  it('gobwas/glob metacharacters of an IPv6 registry are escaped in IVP globs', () => {
    expect(imageValidatingPolicyGlobs({ registry: '[::1]:5000', repository: 'app' })).toEqual([
      '\\[::1\\]:5000/app',
      '\\[::1\\]:5000/app:*',
      '\\[::1\\]:5000/app@*',
    ]);
  });
});

describe('option rules', () => {
  it('refuses wildcard identities, keyless without the log, a non-PEM key and an unknown kind', () => {
    expect(() => policyObject({ image, attestor: { keyless: { ...keyless.keyless, subject: 'https://github.com/o/*' } } })).toThrow(
      /exact/,
    );
    expect(() => policyObject({ image, attestor: { keyless: { ...keyless.keyless, issuer: '' } } })).toThrow(/issuer/);
    expect(() => policyObject({ image, attestor: keyless, tlog: false })).toThrow(/transparency log/);
    expect(() => policyObject({ image, attestor: { publicKey: 'not a key' } })).toThrow(/PEM/);
    expect(() => policyObject({ image, attestor: keyless, kind: 'policy' as never })).toThrow(/kind/);
    expect(() => policyObject({ image, attestor: keyless, signatureFormat: 'v2' as never })).toThrow(/format/);
  });
  it('records digest and source as annotations; the YAML starts with the do-not-edit line', () => {
    const text = renderPolicy({
      image,
      attestor: keyless,
      digest: `sha256:${'a'.repeat(64)}`,
      source: 'https://github.com/o/r/actions/runs/1',
    });
    expect(text.split('\n')[0]).toMatch(/^# Generated by hallmark build-sign/);
    const p = parseYaml(text);
    expect(p.metadata.annotations['hallmark.dev/signed-digest']).toBe(`sha256:${'a'.repeat(64)}`);
    expect(p.metadata.annotations['hallmark.dev/source']).toBe('https://github.com/o/r/actions/runs/1');
    expect(p.metadata.name).toBe('hallmark-verify-octo-org-shop');
  });
});
