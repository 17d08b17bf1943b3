/**
 * verify-image's inputs (actions/verify-image/src/inputs.ts) and the cosign arguments the flow builds
 * from them; action.yml declares what main.ts reads and every failure reason.
 */
import { describe, expect, it } from 'vitest';
import { cosignArgs, keyFingerprint } from '../../actions/verify-image/src/flow.js';
import { checkInputs, type RawInputs, type Runner } from '../../actions/verify-image/src/inputs.js';
import { CALLER, DIGEST, IMG } from './lab.js';

const runner: Runner = { workspace: '/nonexistent-ws', repository: CALLER, serverUrl: 'https://github.com', readText: () => undefined };
const raw = (o: Partial<RawInputs> = {}): RawInputs => ({
  imageRef: IMG,
  publicKey: '',
  workflow: '',
  allowedRefs: [],
  sourceRepository: '',
  requireProvenance: true,
  requireDefaultBranch: false,
  defaultBranch: '',
  tlog: true,
  trustedRoot: '',
  ...o,
});
const PEM =
  '-----BEGIN PUBLIC KEY-----\nMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE8Xr2nmVx4Qq3jU7vY0c1Xnq0N3x7VQqg1b0XwQh3o0bZ0Qm5W3xg2M8m2ys9yI5l3Q0z7k2m8o5rZx8Q9tK1aQ==\n-----END PUBLIC KEY-----\n';

describe('inputs and cosign arguments', () => {
  it('keyless: regexp, issuer and workflow repository in place of an exact identity; digest last; no key anywhere', () => {
    const cfg = checkInputs(raw(), runner);
    const args = cosignArgs(cfg, 'verify', 3);
    expect(args).toEqual([
      'verify',
      '--certificate-identity-regexp',
      cfg.policy.identityRegexp,
      '--certificate-github-workflow-repository',
      CALLER,
      '--certificate-oidc-issuer',
      'https://token.actions.githubusercontent.com',
      '--output',
      'json',
      IMG,
    ]);
    expect(cosignArgs(cfg, 'verify-attestation', 3).slice(0, 3)).toEqual(['verify-attestation', '--type', 'slsaprovenance1']);
    expect(args).not.toContain('--certificate-identity');
  });
  it('the source repository defaults to the caller’s (GITHUB_REPOSITORY) and can be named', () => {
    expect(checkInputs(raw(), runner).policy.sourceRepository).toBe(CALLER);
    expect(checkInputs(raw({ sourceRepository: 'octo-org/other' }), runner).policy.sourceRepository).toBe('octo-org/other');
  });
  it('key mode: --key env://COSIGN_PUBLIC_KEY, the PEM only in env; tlog false adds --insecure-ignore-tlog=true', () => {
    const cfg = checkInputs(raw({ publicKey: PEM, tlog: false }), runner);
    const args = cosignArgs(cfg, 'verify', 3);
    expect(args).toEqual(['verify', '--key', 'env://COSIGN_PUBLIC_KEY', '--insecure-ignore-tlog=true', '--output', 'json', IMG]);
    expect(cfg.key?.env.COSIGN_PUBLIC_KEY).toBe(PEM);
    expect(JSON.stringify(args)).not.toContain('BEGIN');
  });
  it.each([
    [{ imageRef: '127.0.0.1:5000/shop/api:v1' }, "input 'image-ref' must be an image by digest"],
    [{ imageRef: `127.0.0.1:5000/shop/api:v1@${DIGEST}` }, "input 'image-ref' must be an image by digest"],
    [{ imageRef: '' }, "input 'image-ref' is required"],
    [{ publicKey: 'not a key' }, "input 'public-key' must be a PEM public key"],
    [{ tlog: false }, "input 'tlog' may be false only with public-key"],
    [{ workflow: 'a/b/.github/workflows/x.yml@v1' }, "input 'workflow' must not carry an @ref"],
    [{ allowedRefs: ['branches: .*'] }, "input 'allowed-refs' branch"],
    [{ sourceRepository: 'a/b/c' }, "input 'source-repository' must be a GitHub repository"],
    [{ requireDefaultBranch: true }, "input 'default-branch' is required"],
    [
      { requireDefaultBranch: true, requireProvenance: false, defaultBranch: 'main' },
      "input 'require-default-branch' needs require-provenance",
    ],
    [{ trustedRoot: '../x.json' }, "input 'trusted-root' must be a path inside the workspace"],
    [{ trustedRoot: 'sigstore/missing.json' }, "input 'trusted-root': no such file in the repository"],
  ])('refuses %j', (o, msg) => expect(() => checkInputs(raw(o as Partial<RawInputs>), runner)).toThrow(msg));
  it('the fingerprint is the SHA-256 of the key’s SubjectPublicKeyInfo', async () => {
    const { generateKeyPairSync, createHash } = await import('node:crypto');
    const { publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const pem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
    expect(keyFingerprint(pem)).toBe(
      `key:sha256:${createHash('sha256')
        .update(publicKey.export({ type: 'spki', format: 'der' }))
        .digest('hex')}`,
    );
  });
});

describe('action.yml agrees with the code', () => {
  it('declares every input main.ts reads, and lists every failure reason the flow can give', async () => {
    const { readFileSync } = await import('node:fs');
    const { parse } = await import('yaml');
    const { ROOT } = await import('../harness/runner.js');
    const yml = parse(readFileSync(`${ROOT}/actions/verify-image/action.yml`, 'utf8')) as {
      inputs: Record<string, unknown>;
      outputs: Record<string, { description: string }>;
    };
    const main = readFileSync(`${ROOT}/actions/verify-image/src/main.ts`, 'utf8');
    const read = [...main.matchAll(/input\.(?:string|secret|boolean|raw)\('([a-z-]+)'/g)].map((m) => m[1]);
    expect(new Set(read)).toEqual(new Set(Object.keys(yml.inputs)));
    const flow = readFileSync(`${ROOT}/actions/verify-image/src/flow.ts`, 'utf8');
    const reasons = /export type FailureReason = ([^;]+);/
      .exec(flow)![1]!
      .match(/'[a-z-]+'/g)!
      .map((s) => s.slice(1, -1));
    for (const r of ['invalid-input', ...reasons]) expect(yml.outputs['failure-reason']!.description).toContain(`\`${r}\``);
    expect(Object.keys(yml.outputs).sort()).toEqual(['failure-reason', 'mode', 'passed', 'signer', 'source-ref', 'source-repository']);
  });
});
