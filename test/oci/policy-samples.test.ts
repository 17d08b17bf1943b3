/**
 * packages/oci/src/policy.ts against the kyverno/policies samples (recorded in ../shared/fixtures;
 * an optional suite that skips when they are absent): the same shape as the samples, with exact
 * references and attestors. Kyverno's own verdicts: policy-kyverno.test.ts.
 */
import { expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { policyName, policyObject, renderPolicy } from '@hallmark/oci';
import { describeFixtures, fixtureText } from '../harness/fixtures.js';

const D = `sha256:${'0123456789abcdef'.repeat(4)}`;

describeFixtures('Kyverno policy against kyverno/policies samples', () => {
  const image = { registry: 'ghcr.io', repository: 'octo-org/shop' };
  const keylessSample = parseYaml(fixtureText('kyverno', 'verify-flux-images-keyless.yaml'));
  const keySample = parseYaml(fixtureText('kyverno', 'verify-image-key.yaml'));
  const latestSample = parseYaml(fixtureText('kyverno', 'disallow-latest-tag.yaml'));
  const keyless = parseYaml(
    renderPolicy({
      image,
      attestor: {
        keyless: {
          subject: 'https://github.com/o/p/.github/workflows/s.yml@refs/tags/v1',
          issuer: 'https://token.actions.githubusercontent.com',
        },
      },
      digest: D,
    }),
  );
  const pem = '-----BEGIN PUBLIC KEY-----\nMFkw\n-----END PUBLIC KEY-----\n';
  const keyed = parseYaml(renderPolicy({ image, attestor: { publicKey: pem } }));

  it('same apiVersion and kind as the samples; Enforce per rule (spec.validationFailureAction is deprecated)', () => {
    for (const p of [keyless, keyed]) {
      expect(p.apiVersion).toBe(keySample.apiVersion);
      expect(p.kind).toBe(keySample.kind);
      expect(p.spec.validationFailureAction).toBeUndefined();
      expect(p.spec.rules[0].verifyImages[0].failureAction).toBe('Enforce');
      expect(p.spec.rules[1].validate.failureAction).toBe('Enforce');
      expect(p.spec.rules.map((r: { match: unknown }) => r.match)).toEqual([keySample.spec.rules[0].match, keySample.spec.rules[0].match]);
    }
  });
  it('verifyImages rule has the samples’ shape (plus type and failureAction), with mutateDigest and verifyDigest on and exact references', () => {
    const mine = keyless.spec.rules[0].verifyImages[0];
    const sampleKeys = new Set([
      ...Object.keys(keylessSample.spec.rules[0].verifyImages[0]),
      ...Object.keys(keySample.spec.rules[0].verifyImages[0]),
      'required',
      'type',
      'failureAction',
    ]);
    for (const k of Object.keys(mine)) expect(sampleKeys.has(k), k).toBe(true);
    expect(mine.type).toBe('SigstoreBundle');
    expect(mine.imageReferences).toEqual(['ghcr.io/octo-org/shop:*', 'ghcr.io/octo-org/shop@*']);
    expect(mine.mutateDigest).toBe(true);
    expect(mine.verifyDigest).toBe(true);
  });
  it('keyless attestor has exactly the sample’s keys (subject, issuer, rekor.url) with exact values', () => {
    const sampleEntry = keylessSample.spec.rules[0].verifyImages[0].attestors[0].entries[0];
    const entry = keyless.spec.rules[0].verifyImages[0].attestors[0].entries[0];
    expect(Object.keys(entry.keyless).sort()).toEqual(Object.keys(sampleEntry.keyless).sort());
    expect(Object.keys(entry.keyless.rekor)).toEqual(Object.keys(sampleEntry.keyless.rekor));
    expect(entry.keyless.subject).toBe('https://github.com/o/p/.github/workflows/s.yml@refs/tags/v1');
    expect(entry.keyless.subject).not.toContain('*');
  });
  it('key attestor matches the sample’s keys.publicKeys shape with the PEM', () => {
    const sampleEntry = keySample.spec.rules[0].verifyImages[0].attestors[0].entries[0];
    const entry = keyed.spec.rules[0].verifyImages[0].attestors[0].entries[0];
    expect(Object.keys(entry)).toEqual(Object.keys(sampleEntry));
    expect(Object.keys(entry.keys)).toEqual(Object.keys(sampleEntry.keys));
    expect(entry.keys.publicKeys).toBe(pem);
  });
  it(':latest rule matches like the sample’s validate-image-tag rule but denies more than its `!*:latest` pattern (untagged, latest@sha256)', () => {
    const sampleRule = latestSample.spec.rules.find((r: { name: string }) => r.name === 'validate-image-tag');
    const mine = keyless.spec.rules[1];
    expect(mine.match).toEqual(sampleRule.match);
    expect(mine.validate.foreach[0].deny.conditions.any[0].key).toContain('regex_match(');
    expect(mine.validate.message).toMatch(/untagged/);
  });
  it('refuses wildcard subjects and keeps names DNS-1123', () => {
    expect(() =>
      policyObject({
        image,
        attestor: { keyless: { subject: 'https://github.com/o/*', issuer: 'https://token.actions.githubusercontent.com' } },
      }),
    ).toThrow(/exact/);
    const long = policyName({ registry: 'ghcr.io', repository: `octo-org/${'a'.repeat(80)}` });
    expect(long.length).toBeLessThanOrEqual(63);
    expect(long).toMatch(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/);
  });
});
