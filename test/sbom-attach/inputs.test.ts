/**
 * sbom-attach's inputs (actions/sbom-attach/src/inputs.ts) as plain data: image by digest or path,
 * formats, service and artifact names, attach and signing modes, registry login, tlog and the
 * Sigstore files.
 */
import { describe, expect, it } from 'vitest';
import { InputError } from '@hallmark/kit';
import { checkInputs, defaultArtifactName, type RawInputs } from '../../actions/sbom-attach/src/inputs.js';
import { base, ctx, D } from './raw-inputs.js';

const inputErr = (raw: Partial<RawInputs>) => {
  try {
    checkInputs({ ...base, ...raw }, ctx);
  } catch (e) {
    if (e instanceof InputError) return e.message;
    throw e;
  }
  return undefined;
};

describe('checkInputs', () => {
  it('defaults: service from the repository, artifact name per service and commit, attach none without signing', () => {
    const c = checkInputs(base, ctx);
    expect(c.service).toBe('shop');
    expect(c.artifactName).toBe('sbom-shop-4f1c6b9');
    expect(c.attach).toBe('none');
    expect(c.notes.join()).toMatch(/no signing is configured/);
    expect(c.image).toEqual({ registry: 'ghcr.io', repository: 'octo-org/shop', digest: D });
    expect(defaultArtifactName('api', '')).toBe('sbom-api');
  });
  it('auto attach is attest when a key is given or OIDC is available', () => {
    expect(checkInputs({ ...base, cosignKeyGiven: true }, ctx)).toMatchObject({ attach: 'attest', signing: 'key' });
    expect(checkInputs({ ...base, oidcAvailable: true }, ctx)).toMatchObject({ attach: 'attest', signing: 'keyless' });
    expect(checkInputs({ ...base, oidcAvailable: true, attach: 'referrer' }, ctx)).toMatchObject({ attach: 'referrer', signing: 'none' });
  });
  it('path mode: service from the GitHub repository, no attach', () => {
    const c = checkInputs({ ...base, image: '', path: 'app', oidcAvailable: true }, ctx);
    expect(c).toMatchObject({ path: 'app', service: 'shop', attach: 'none', image: undefined });
  });
  it.each([
    [{ image: 'ghcr.io/octo-org/shop:1.0' }, /input 'image' must name the image by digest/],
    [{ image: `ghcr.io/octo-org/shop:1.0@${D}` }, /input 'image' must not carry a tag/],
    [{ image: `ghcr.io/octo-org/shop@sha256:${'a'.repeat(63)}` }, /input 'image' .*64 lowercase hex/],
    [{ image: '' }, /input 'image' is required/],
    [{ path: 'x' }, /input 'path' cannot be used together with 'image'/],
    [{ formats: ['spdx'] }, /input 'format' must be a list of spdx-json, cyclonedx-json/],
    [{ formats: [] }, /input 'format' must list at least one/],
    [{ service: 'a b' }, /input 'service'/],
    [{ artifactName: 'sbom:x' }, /input 'artifact-name'/],
    [{ retentionDays: 91 }, /input 'retention-days'/],
    [{ attach: 'attest' }, /input 'attach' is 'attest', which signs/],
    [{ image: '', path: 'app', attach: 'referrer' }, /input 'attach' is 'referrer', which needs 'image'/],
    [{ signBlob: true }, /input 'sign-blob'/],
    [{ registryUsername: 'bot' }, /input 'registry-password' is required/],
    [{ registryPasswordGiven: true }, /input 'registry-username' is required/],
    [{ registryInsecure: true }, /input 'registry-insecure' may only be true for an image in a loopback registry/],
    [
      { oidcAvailable: true, tlog: false },
      /input 'tlog' must stay true for keyless signing \(no cosign-key\): tlog: false is only possible in key mode/,
    ],
    [{ oidcAvailable: true, signBlob: true, attach: 'none', tlog: false }, /input 'tlog' must stay true for keyless signing/],
    [{ cosignKeyGiven: true, signingConfig: 'a\nb' }, /input 'signing-config' must be one file path/],
  ] as [Partial<RawInputs>, RegExp][])('refuses %o', (raw, re) => {
    expect(inputErr(raw)).toMatch(re);
  });
  it('tlog, signing-config, trusted-root: key mode may turn the log off; unused when nothing is signed', () => {
    expect(checkInputs({ ...base, cosignKeyGiven: true, tlog: false }, ctx)).toMatchObject({ signing: 'key', sigstore: { tlog: false } });
    expect(checkInputs({ ...base, oidcAvailable: true, signingConfig: 'sc.json', trustedRoot: 'tr.json' }, ctx).sigstore).toEqual({
      tlog: true,
      signingConfig: 'sc.json',
      trustedRoot: 'tr.json',
    });
    const unused = checkInputs({ ...base, tlog: false, attach: 'referrer' }, ctx);
    expect(unused.signing).toBe('none');
    expect(unused.notes.join()).toMatch(/tlog, signing-config and trusted-root only apply when cosign signs/);
  });
  it('allows plain HTTP for a loopback registry', () => {
    expect(checkInputs({ ...base, image: `127.0.0.1:5000/o/app@${D}`, registryInsecure: true }, ctx).registryInsecure).toBe(true);
  });
});
