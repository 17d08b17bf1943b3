/**
 * Unit tests of build-sign's domain and the shared cosign/policy code, driven without a runner:
 * input rules, builder argument arrays (checked against the real CLIs' flags), digest extraction,
 * cosign argument arrays and verify-output parsing (against recorded cosign output), the Kyverno
 * policy (against kyverno/policies samples), and the flow with fake tools.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { InputError, UserError } from '@hallmark/kit';
import {
  attestArgs,
  BUNDLE_SIGNATURE_TYPE,
  checkSigstoreOptions,
  checkVerified,
  CosignArgError,
  parseCosignVersion,
  signingConfigHasTlog,
  verifyAttestationArgs,
  githubWorkflowIdentity,
  keyFromInput,
  parsePublicKey,
  parseVerifyOutput,
  policyName,
  isLoopbackRegistry,
  policyObject,
  renderPolicy,
  signArgs,
  signBlobArgs,
  verifyArgs,
  writeSecretFile,
} from '@hallmark/oci';
import { checkInputs, checkSigstoreFiles, defaultTags, parseBuildArgs, type RawInputs } from '../../actions/build-sign/src/inputs.js';
import { digestFromBuildxMetadata, digestFromDockerPush, digestFromFile, planBuild } from '../../actions/build-sign/src/builders.js';
import { buildAndSign, type Deps, type ToolResult } from '../../actions/build-sign/src/flow.js';
import { describeFixtures, fixtureJson, fixtureText } from '../harness/fixtures.js';
import { cleanupTracked, trackedDir } from './setup.js';

afterAll(() => cleanupTracked());

const D = `sha256:${'0123456789abcdef'.repeat(4)}`;
const D2 = `sha256:${'fedcba9876543210'.repeat(4)}`;
const SHA = '4f1c6b9e0a2d3c5b7e8f9a0b1c2d3e4f5a6b7c8d';

function raw(over: Partial<RawInputs> = {}): RawInputs {
  return {
    image: 'ghcr.io/octo-org/shop', tags: [], tagsGiven: false, context: '.', file: '', platforms: [], buildArgs: '', builder: 'buildx', push: true, digest: '',
    sign: 'keyless', cosignKeyGiven: false, registry: '', registryUsername: '', registryPasswordGiven: false, registryInsecure: false, identity: '',
    issuer: 'https://token.actions.githubusercontent.com', policy: 'hallmark-policy.yaml', allowLatest: false,
    tlog: true, signingConfig: '', trustedRoot: '', policyKind: 'cluster-policy', ...over,
  };
}

describe('input rules', () => {
  it('defaults the tag to sha-<short sha> and keeps the image a bare repository', () => {
    const c = checkInputs(raw(), { sha: SHA });
    expect(c.tags).toEqual(['sha-4f1c6b9']);
    expect(c.image).toEqual({ registry: 'ghcr.io', repository: 'octo-org/shop' });
    expect(defaultTags('not-a-sha')).toEqual([]);
  });
  it('accepts metadata-action style full references of the same repository, deduplicated', () => {
    const c = checkInputs(raw({ tags: ['ghcr.io/octo-org/shop:v1', 'v1', 'sha-abc'], tagsGiven: true }), { sha: SHA });
    expect(c.tags).toEqual(['v1', 'sha-abc']);
  });
  it('refuses latest in any case unless allowed, with its own failure reason', () => {
    for (const t of ['latest', 'LATEST', 'ghcr.io/octo-org/shop:latest']) {
      let err: unknown;
      try {
        checkInputs(raw({ tags: [t], tagsGiven: true }), { sha: SHA });
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(UserError);
      expect((err as UserError).reason).toBe('latest-refused');
    }
    expect(checkInputs(raw({ tags: ['latest'], tagsGiven: true, allowLatest: true }), { sha: SHA }).tags).toEqual(['latest']);
  });
  it('takes a digest alone or as image@digest, and only sha256 with 64 hex', () => {
    expect(checkInputs(raw({ digest: D }), { sha: SHA }).digest).toBe(D);
    expect(checkInputs(raw({ digest: `ghcr.io/octo-org/shop@${D}` }), { sha: SHA }).digest).toBe(D);
    for (const bad of [D.slice(0, -1), `${D}0`, D.toUpperCase(), D.replace('sha256', 'sha512'), D.slice(7)]) {
      expect(() => checkInputs(raw({ digest: bad }), { sha: SHA })).toThrow(InputError);
    }
  });
  it('accepts os/arch[/variant] platforms only', () => {
    expect(checkInputs(raw({ platforms: ['linux/amd64', 'linux/arm64/v8', 'linux/arm/v7'] }), { sha: SHA }).platforms).toHaveLength(3);
    for (const bad of ['linux', 'linux/amd64/v8/x', 'Linux/AMD64', 'linux/amd64 ', '../etc']) {
      expect(() => checkInputs(raw({ platforms: [bad] }), { sha: SHA }), bad).toThrow(/platforms/);
    }
  });
  it('parses KEY=VALUE build args (values keep = and commas), refusing duplicates and bad keys', () => {
    expect(parseBuildArgs('A=1\n# c\n\nB=x=y,z\n')).toEqual([['A', '1'], ['B', 'x=y,z']]);
    expect(() => parseBuildArgs('A=1\nA=2')).toThrow(/twice/);
    expect(() => parseBuildArgs('1A=1')).toThrow(/KEY=VALUE/);
  });
  it('allows plain HTTP only to loopback registries', () => {
    expect(isLoopbackRegistry('127.0.0.1:5000')).toBe(true);
    expect(isLoopbackRegistry('localhost:5000')).toBe(true);
    expect(isLoopbackRegistry('127.0.0.1.evil.com')).toBe(false);
    expect(isLoopbackRegistry('ghcr.io')).toBe(false);
  });
});

describe('builder argument arrays', () => {
  const cfg = checkInputs(raw({ tags: ['sha-4f1c6b9', 'v1'], tagsGiven: true, platforms: ['linux/amd64', 'linux/arm64'], buildArgs: 'A=1' }), { sha: SHA });
  // Flags of the real CLIs (docker buildx build / docker build / buildah build, push, manifest push).
  const BUILDX = new Set(['--add-host', '--allow', '--annotation', '--attest', '--build-arg', '--build-context', '--builder', '--cache-from', '--cache-to', '--call', '--cgroup-parent', '--check', '--file', '-f', '--iidfile', '--label', '--load', '--metadata-file', '--network', '--no-cache', '--no-cache-filter', '--output', '-o', '--platform', '--progress', '--provenance', '--pull', '--push', '--quiet', '-q', '--sbom', '--secret', '--shm-size', '--ssh', '--tag', '-t', '--target', '--ulimit']);
  const DOCKER_BUILD = new Set(['--add-host', '--build-arg', '--cache-from', '--cgroup-parent', '--compress', '--cpu-period', '--cpu-quota', '--cpu-shares', '--cpuset-cpus', '--cpuset-mems', '--disable-content-trust', '--file', '-f', '--force-rm', '--iidfile', '--isolation', '--label', '--memory', '--memory-swap', '--network', '--no-cache', '--platform', '--pull', '--quiet', '--rm', '--security-opt', '--shm-size', '--squash', '--tag', '-t', '--target', '--ulimit']);
  const BUILDAH = new Set(['--file', '-f', '--build-arg', '--tag', '-t', '--platform', '--manifest', '--tls-verify', '--tls-verify=false', '--digestfile', '--all', '--authfile', '--format', '--layers', '--isolation', '--label', '--target', '--annotation', '--secret', '--cache-from', '--cache-to']);
  const flagsOf = (args: string[]) => args.filter((a) => a.startsWith('-')).map((a) => (a.includes('=') && !a.startsWith('--tls-verify') ? a.slice(0, a.indexOf('=')) : a));

  it('buildx: one command, metadata file, push, all tags and platforms; only real buildx flags', () => {
    const p = planBuild({ ...cfg, builder: 'buildx' }, '/w', 'u', '/ws/Dockerfile');
    expect(p.steps).toHaveLength(1);
    const args = p.steps[0]!.args;
    expect(args.slice(0, 2)).toEqual(['buildx', 'build']);
    // The generated OCI labels/annotations (pinned in build-options.test.ts) left aside here.
    const meta = args.flatMap((a, i) => (a === '--label' || a === '--annotation' ? [i, i + 1] : []));
    expect(meta.length).toBeGreaterThan(0);
    expect(args.filter((_, i) => !meta.includes(i))).toEqual(['buildx', 'build', '--file', '/ws/Dockerfile', '--build-arg', 'A=1', '--tag', 'ghcr.io/octo-org/shop:sha-4f1c6b9', '--tag', 'ghcr.io/octo-org/shop:v1', '--platform', 'linux/amd64,linux/arm64', '--metadata-file', '/w/buildx-metadata.json', '--push', '.']);
    for (const f of flagsOf(args.slice(2))) expect(BUILDX.has(f), f).toBe(true);
  });
  it('docker: build then one push per tag; only real docker build flags', () => {
    const p = planBuild({ ...cfg, builder: 'docker', platforms: ['linux/amd64'] }, '/w', 'u', '/ws/Dockerfile');
    expect(p.steps.map((s) => s.args[0])).toEqual(['build', 'push', 'push']);
    for (const f of flagsOf(p.steps[0]!.args.slice(1))) expect(DOCKER_BUILD.has(f), f).toBe(true);
    expect(p.steps[2]!.args).toEqual(['push', 'ghcr.io/octo-org/shop:v1']);
  });
  it('buildah: multi-platform builds a manifest list and pushes it --all with a digest file per tag', () => {
    const p = planBuild({ ...cfg, builder: 'buildah' }, '/w', 'u1', '/ws/Containerfile');
    expect(p.steps[0]!.args).toContain('--manifest');
    expect(p.steps[1]!.args).toEqual(['manifest', 'push', '--all', '--digestfile', '/w/digest-0', 'localhost/hallmark-build-u1:sha-4f1c6b9', 'docker://ghcr.io/octo-org/shop:sha-4f1c6b9']);
    for (const s of p.steps) for (const f of flagsOf(s.args)) expect(BUILDAH.has(f), f).toBe(true);
    const single = planBuild({ ...cfg, builder: 'buildah', platforms: [] }, '/w', 'u1', '/ws/Containerfile');
    expect(single.steps[1]!.args[0]).toBe('push');
  });
  it('reads the digest from each builder’s own report', () => {
    expect(digestFromFile(`${D}\n`)).toBe(D);
    expect(digestFromFile('sha256:short')).toBeUndefined();
    const push = `The push refers to repository [ghcr.io/octo-org/shop]\n5f70bf18a086: Pushed\nv1: digest: ${D2} size: 528\nsha-4f1c6b9: digest: ${D} size: 528\n`;
    expect(digestFromDockerPush(push, 'sha-4f1c6b9')).toBe(D);
    expect(digestFromDockerPush(push, 'v1')).toBe(D2);
    expect(digestFromBuildxMetadata(JSON.stringify({ 'containerimage.digest': D, 'image.name': 'x' }))).toBe(D);
    expect(digestFromBuildxMetadata('{"containerimage.config.digest":"' + D + '"}')).toBeUndefined();
  });
});

describe('cosign invocation (packages/oci/src/cosign.ts)', () => {
  const ref = `ghcr.io/octo-org/shop@${D}`;
  it('only ever signs by digest, and never passes key material as an argument', () => {
    expect(() => signArgs('ghcr.io/octo-org/shop:v1')).toThrow(/by digest/);
    expect(() => signArgs(`ghcr.io/octo-org/shop:v1@${D}`)).toThrow(/tag/);
    const k = keyFromInput('-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----\nabc\n-----END ENCRYPTED SIGSTORE PRIVATE KEY-----', 'pw', () => undefined);
    expect(k.ref).toBe('env://COSIGN_KEY');
    expect(k.env.COSIGN_PASSWORD).toBe('pw');
    const args = signArgs(ref, { key: k, annotations: { 'dev.hallmark/run': '1' } });
    expect(args).toEqual(['sign', '--yes', '--key', 'env://COSIGN_KEY', '-a', 'dev.hallmark/run=1', ref]);
    expect(args.join(' ')).not.toContain('BEGIN');
    expect(() => signArgs(ref, { key: { ref: '-----BEGIN X', env: {} } })).toThrow(/not hold the key/);
  });
  it('env://VAR keys must name a set variable', () => {
    expect(keyFromInput('env://MY_KEY', '', (n) => (n === 'MY_KEY' ? 'pem' : undefined)).ref).toBe('env://MY_KEY');
    expect(() => keyFromInput('env://MY_KEY', '', () => undefined)).toThrow(/not set/);
    expect(() => keyFromInput('env://1BAD', '', () => 'x')).toThrow(/does not name/);
  });
  it('keyless verify names the exact identity and issuer; patterns are refused', () => {
    expect(verifyArgs(ref, { identity: 'https://github.com/o/r/.github/workflows/x.yml@refs/heads/main', issuer: 'https://token.actions.githubusercontent.com' })).toEqual([
      'verify', '--certificate-identity', 'https://github.com/o/r/.github/workflows/x.yml@refs/heads/main', '--certificate-oidc-issuer', 'https://token.actions.githubusercontent.com', '--output', 'json', ref,
    ]);
    expect(() => verifyArgs(ref, { identity: '.*', issuer: 'https://token.actions.githubusercontent.com' })).toThrow(/exact/);
    expect(() => verifyArgs(ref, { identity: '', issuer: 'x' })).toThrow(/identity/);
  });
  it('attest and sign-blob argument arrays', () => {
    expect(attestArgs(ref, { predicate: '/t/sbom.json', type: 'spdxjson' })).toEqual(['attest', '--yes', '--predicate', '/t/sbom.json', '--type', 'spdxjson', ref]);
    expect(() => attestArgs(ref, { predicate: '/t/x', type: 'spdx json' })).toThrow();
    expect(signBlobArgs('/t/sbom.json', { bundle: '/t/sbom.json.sigstore.json', version: { major: 2 } })).toEqual(['sign-blob', '--yes', '--bundle', '/t/sbom.json.sigstore.json', '--new-bundle-format', '/t/sbom.json']);
    // cosign 3 writes a bundle by default (the flag is deprecated there); tlog off needs the signing config off too.
    expect(signBlobArgs('/t/sbom.json', { bundle: '/t/b.json', key: { ref: 'env://COSIGN_KEY', env: {} }, sigstore: { tlog: false } })).toEqual(['sign-blob', '--yes', '--bundle', '/t/b.json', '--key', 'env://COSIGN_KEY', '--use-signing-config=false', '--tlog-upload=false', '/t/sbom.json']);
    expect(() => signBlobArgs('/t/sbom.json', { bundle: '/t/b.json', sigstore: { tlog: false } })).toThrow(/keyless|log/i);
  });
  it('writes a secret file 0600 in a private directory and removes it', () => {
    const dir = trackedDir('hallmark-unit-');
    const f = writeSecretFile(dir, 'cosign.key', 'secret');
    expect(statSync(f.path).mode & 0o777).toBe(0o600);
    f.remove();
    expect(existsSync(f.path)).toBe(false);
  });
  it('derives the keyless identity from job_workflow_ref, not workflow_ref', () => {
    expect(githubWorkflowIdentity({ workflow_ref: 'o/caller/.github/workflows/ci.yml@refs/heads/main', job_workflow_ref: 'o/platform/.github/workflows/sign.yml@refs/tags/v1' })).toBe('https://github.com/o/platform/.github/workflows/sign.yml@refs/tags/v1');
    expect(githubWorkflowIdentity({ workflow_ref: 'o/r/.github/workflows/ci.yml@refs/heads/main' })).toBeUndefined();
  });
  it('parses the public key out of cosign public-key output', () => {
    expect(parsePublicKey('noise\n-----BEGIN PUBLIC KEY-----\nAAA\n-----END PUBLIC KEY-----\n')).toBe('-----BEGIN PUBLIC KEY-----\nAAA\n-----END PUBLIC KEY-----\n');
  });
});

describeFixtures('cosign verify output, as recorded from the real cosign', () => {
  it('keyless GitHub Actions output (jq-formatted array): digest, subject and issuer', () => {
    const text = fixtureText('cosign', 'verify-keyless-github-actions.json');
    const expected = fixtureJson<{ critical: { image: { 'docker-manifest-digest': string } }; optional: Record<string, string> }[]>('cosign', 'verify-keyless-github-actions.json');
    // stderr's check list merged in front of the JSON must not confuse the parser.
    const sigs = parseVerifyOutput(`${fixtureText('cosign', 'verify-keyless-github-actions.stderr.txt')}\n${text}`);
    expect(sigs).toHaveLength(expected.length);
    expect(sigs[0]!.digest).toBe(expected[0]!.critical.image['docker-manifest-digest']);
    expect(sigs[0]!.subject).toBe(expected[0]!.optional.Subject);
    expect(sigs[0]!.issuer).toBe(expected[0]!.optional.Issuer);
    const digest = expected[0]!.critical.image['docker-manifest-digest'];
    expect(checkVerified(sigs, { digest, identity: expected[0]!.optional.Subject, issuer: 'https://token.actions.githubusercontent.com' })).toEqual({ ok: true, signatures: 1, attestations: 0 });
    const other = checkVerified(sigs, { digest: D, identity: expected[0]!.optional.Subject });
    expect(other.ok).toBe(false);
    const wrongWho = checkVerified(sigs, { digest, identity: 'https://github.com/someone/else/.github/workflows/x.yml@refs/heads/main' });
    expect(wrongWho.ok).toBe(false);
  });
  it('key-mode compact output (one line, optional null)', () => {
    const expected = fixtureJson<{ critical: { image: { 'docker-manifest-digest': string } } }[]>('cosign', 'verify-key-compact.json');
    const sigs = parseVerifyOutput(fixtureText('cosign', 'verify-key-compact.json'));
    expect(sigs.map((s) => s.digest)).toEqual(expected.map((e) => e.critical.image['docker-manifest-digest']));
    expect(sigs[0]!.subject).toBeUndefined();
    expect(checkVerified(sigs, { digest: expected[0]!.critical.image['docker-manifest-digest'] }).ok).toBe(true);
    expect(checkVerified([], { digest: D }).ok).toBe(false);
  });
});

describeFixtures('Kyverno policy against kyverno/policies samples', () => {
  const image = { registry: 'ghcr.io', repository: 'octo-org/shop' };
  const keylessSample = parseYaml(fixtureText('kyverno', 'verify-flux-images-keyless.yaml'));
  const keySample = parseYaml(fixtureText('kyverno', 'verify-image-key.yaml'));
  const latestSample = parseYaml(fixtureText('kyverno', 'disallow-latest-tag.yaml'));
  const keyless = parseYaml(renderPolicy({ image, attestor: { keyless: { subject: 'https://github.com/o/p/.github/workflows/s.yml@refs/tags/v1', issuer: 'https://token.actions.githubusercontent.com' } }, digest: D }));
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
    const sampleKeys = new Set([...Object.keys(keylessSample.spec.rules[0].verifyImages[0]), ...Object.keys(keySample.spec.rules[0].verifyImages[0]), 'required', 'type', 'failureAction']);
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
    expect(() => policyObject({ image, attestor: { keyless: { subject: 'https://github.com/o/*', issuer: 'https://token.actions.githubusercontent.com' } } })).toThrow(/exact/);
    const long = policyName({ registry: 'ghcr.io', repository: `octo-org/${'a'.repeat(80)}` });
    expect(long.length).toBeLessThanOrEqual(63);
    expect(long).toMatch(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/);
  });
});

const TOKEN = `${Buffer.from('{}').toString('base64url')}.${Buffer.from(JSON.stringify({ iss: 'https://token.actions.githubusercontent.com', job_workflow_ref: 'octo-org/shop/.github/workflows/release.yml@refs/tags/v2' })).toString('base64url')}.sig`;

describe('the flow with fake tools', () => {
  function fakeDeps(handler: (tool: string, args: string[], env: Record<string, string | undefined>) => Partial<ToolResult>): Deps & { calls: { tool: string; args: string[] }[] } {
    const calls: { tool: string; args: string[] }[] = [];
    const temp = trackedDir('hallmark-flow-');
    return {
      calls,
      exec: async (tool, args, o) => {
        calls.push({ tool, args });
        return { exitCode: 0, stdout: '', stderr: '', timedOut: false, ...handler(tool, args, o.env ?? {}) };
      },
      getIdToken: async () => TOKEN,
      mask: () => undefined,
      info: () => undefined,
      warn: () => undefined,
      printUntrusted: () => undefined,
      oneLine: (t) => t.replace(/\n/g, ' '),
      displayCommand: (t, a) => [t, ...a].join(' '),
      scrubEnv: { 'INPUT_COSIGN-KEY': undefined },
      lookupEnv: () => undefined,
      tempDir: temp,
      workspace: temp,
      serverUrl: 'https://github.com',
    };
  }
  const cfg = checkInputs(raw({ digest: D }), { sha: SHA });
  const verifyOut = (digest: string, subject: string) => JSON.stringify([{ critical: { identity: { 'docker-reference': 'ghcr.io/octo-org/shop' }, image: { 'docker-manifest-digest': digest }, type: 'cosign container image signature' }, optional: { Issuer: 'https://token.actions.githubusercontent.com', Subject: subject } }]);
  const id = 'https://github.com/octo-org/shop/.github/workflows/release.yml@refs/tags/v2';

  it('verify-failed when cosign verify exits 0 but its payload names another digest', async () => {
    const deps = fakeDeps((_t, args) => (args[0] === 'verify' ? { stdout: verifyOut(D2, id) } : {}));
    const r = await buildAndSign(cfg, { cosignKey: '', cosignPassword: '', registryPassword: '' }, deps);
    expect(r.failure?.reason).toBe('verify-failed');
    expect(r.failure?.message).toContain(D2);
    expect(r.policy).toBeUndefined();
  });
  it('verify-failed when the reported subject is another workflow', async () => {
    const deps = fakeDeps((_t, args) => (args[0] === 'verify' ? { stdout: verifyOut(D, 'https://github.com/evil/x/.github/workflows/x.yml@refs/heads/main') } : {}));
    expect((await buildAndSign(cfg, { cosignKey: '', cosignPassword: '', registryPassword: '' }, deps)).failure?.reason).toBe('verify-failed');
  });
  it('passes when digest and identity match; tools never see INPUT_* variables', async () => {
    const envs: Record<string, string | undefined>[] = [];
    const deps = fakeDeps((_t, args, env) => {
      envs.push(env);
      return args[0] === 'verify' ? { stdout: verifyOut(D, id) } : {};
    });
    const r = await buildAndSign(cfg, { cosignKey: '', cosignPassword: '', registryPassword: '' }, deps);
    expect(r.failure).toBeUndefined();
    expect(r.verify).toBe('passed');
    expect(r.identity).toBe(id);
    expect(deps.calls.map((c) => c.args[0])).toEqual(['version', 'sign', 'verify']);
    for (const e of envs) expect('INPUT_COSIGN-KEY' in e && e['INPUT_COSIGN-KEY'] === undefined).toBe(true);
    expect(readFileSync(r.policy as string, 'utf8')).toContain(id);
  });
  it('sign-failed carries cosign’s own words, one line', async () => {
    const deps = fakeDeps((_t, args) => (args[0] === 'sign' ? { exitCode: 1, stderr: 'Error: signing [x]: getting signer: bad\nmore' } : {}));
    const r = await buildAndSign(cfg, { cosignKey: '', cosignPassword: '', registryPassword: '' }, deps);
    expect(r.failure?.reason).toBe('sign-failed');
    expect(r.failure?.message).toContain('getting signer: bad');
    expect(r.signed).toBe(false);
  });
  it('push-failed when two tags end up on different manifests', async () => {
    const c = checkInputs(raw({ builder: 'buildah', tags: ['a', 'b'], tagsGiven: true, sign: 'none' }), { sha: SHA });
    let n = 0;
    const { writeFileSync } = await import('node:fs');
    const deps = fakeDeps((tool, args) => {
      if (args[0] === 'push') writeFileSync(args[args.indexOf('--digestfile') + 1] as string, n++ === 0 ? D : D2);
      return {};
    });
    const r = await buildAndSign(c, { cosignKey: '', cosignPassword: '', registryPassword: '' }, deps);
    expect(r.failure?.reason).toBe('push-failed');
    expect(r.failure?.message).toMatch(/different manifests/);
  });
});

describe('registry login for docker/buildx', () => {
  it('docker login reads the password from stdin, never argv, and logs out even when the build fails', async () => {
    const temp = trackedDir('hallmark-flow-');
    const calls: { tool: string; args: string[]; input?: string }[] = [];
    const deps: Deps = {
      exec: async (tool, args, o) => {
        calls.push({ tool, args, input: o.input });
        return { exitCode: args[0] === 'build' ? 1 : 0, stdout: '', stderr: args[0] === 'build' ? 'boom' : '', timedOut: false };
      },
      getIdToken: async () => '',
      mask: () => undefined,
      info: () => undefined,
      warn: () => undefined,
      printUntrusted: () => undefined,
      oneLine: (t) => t,
      displayCommand: (t, a) => [t, ...a].join(' '),
      scrubEnv: {},
      lookupEnv: () => undefined,
      tempDir: temp,
      workspace: temp,
      serverUrl: 'https://github.com',
    };
    const c = checkInputs(raw({ builder: 'docker', registryUsername: 'bot', registryPasswordGiven: true, sign: 'none' }), { sha: SHA });
    const r = await buildAndSign(c, { cosignKey: '', cosignPassword: '', registryPassword: 'pw-canary-77' }, deps);
    expect(r.failure?.reason).toBe('build-failed');
    expect(calls.map((x) => x.args[0])).toEqual(['login', 'build', 'logout']);
    expect(calls[0]!.args).toEqual(['login', '--username', 'bot', '--password-stdin', 'ghcr.io']);
    expect(calls[0]!.input).toBe('pw-canary-77');
    expect(JSON.stringify(calls.map((x) => x.args))).not.toContain('pw-canary-77');
    expect(calls[2]!.args).toEqual(['logout', 'ghcr.io']);
    const { readdirSync } = await import('node:fs');
    expect(readdirSync(temp)).toEqual([]);
  });
});

describe('inputs a reusable workflow passes through', () => {
  it('a cosign-key next to sign: keyless is ignored with a warning, not an error', () => {
    const c = checkInputs(raw({ sign: 'keyless', cosignKeyGiven: true }), { sha: SHA });
    expect(c.warnings).toEqual([expect.stringContaining("'cosign-key' is set but sign is 'keyless'")]);
  });
});

/*
 * The Sigstore options (tlog / signing-config / trusted-root) per cosign major version, as read in
 * sigstore/cosign cmd/cosign/cli/options/{sign,attest,verify}.go and signcommon/common.go at v3.1.2
 * and v2.6.4 (and checked against both binaries' --help; the bundle tests run them for real).
 */
describe('Sigstore options on the cosign argument arrays', () => {
  const ref = `ghcr.io/octo-org/shop@${D}`;
  const key = { ref: 'env://COSIGN_KEY', env: {} };
  it('cosign 3, tlog off: --use-signing-config=false with --tlog-upload=false (cosign 3 refuses the latter next to a signing config)', () => {
    expect(signArgs(ref, { key, sigstore: { tlog: false } })).toEqual(['sign', '--yes', '--key', 'env://COSIGN_KEY', '--use-signing-config=false', '--tlog-upload=false', ref]);
    expect(attestArgs(ref, { key, predicate: '/t/s.json', type: 'spdxjson', sigstore: { tlog: false }, version: { major: 3 } })).toEqual(['attest', '--yes', '--predicate', '/t/s.json', '--type', 'spdxjson', '--key', 'env://COSIGN_KEY', '--use-signing-config=false', '--tlog-upload=false', ref]);
    expect(verifyArgs(ref, { key }, { allowHttp: true }, { tlog: false })).toEqual(['verify', '--key', 'env://COSIGN_KEY', '--insecure-ignore-tlog=true', '--allow-http-registry', '--output', 'json', ref]);
  });
  it('cosign 3 with a signing config: only --signing-config (the file says whether there is a log), and --trusted-root everywhere', () => {
    const sg = { tlog: true, signingConfig: '/ws/sc.json', trustedRoot: '/ws/tr.json' };
    expect(signArgs(ref, { sigstore: sg })).toEqual(['sign', '--yes', '--signing-config', '/ws/sc.json', '--trusted-root', '/ws/tr.json', ref]);
    expect(verifyAttestationArgs(ref, { identity: 'https://github.com/o/r/.github/workflows/x.yml@refs/heads/main', issuer: 'https://token.actions.githubusercontent.com' }, 'spdxjson', {}, sg)).toEqual([
      'verify-attestation', '--type', 'spdxjson', '--certificate-identity', 'https://github.com/o/r/.github/workflows/x.yml@refs/heads/main', '--certificate-oidc-issuer', 'https://token.actions.githubusercontent.com', '--trusted-root', '/ws/tr.json', '--output', 'json', ref,
    ]);
    expect(signArgs(ref, { key, sigstore: { tlog: false, signingConfig: '/ws/sc.json' } })).toEqual(['sign', '--yes', '--key', 'env://COSIGN_KEY', '--signing-config', '/ws/sc.json', ref]);
  });
  it('cosign 2: --tlog-upload=false alone; signing-config and trusted-root refused (cosign 2 reads them only in its bundle format)', () => {
    expect(signArgs(ref, { key, sigstore: { tlog: false }, version: { major: 2 } })).toEqual(['sign', '--yes', '--key', 'env://COSIGN_KEY', '--tlog-upload=false', ref]);
    expect(verifyArgs(ref, { key }, { version: { major: 2 } }, { tlog: false })).toContain('--insecure-ignore-tlog=true');
    expect(() => signArgs(ref, { key, sigstore: { tlog: true, signingConfig: '/ws/sc.json' }, version: { major: 2 } })).toThrow(/cosign 3/);
    expect(() => verifyArgs(ref, { key }, { version: { major: 2 } }, { tlog: true, trustedRoot: '/ws/tr.json' })).toThrow(/cosign 3/);
  });
  it('tlog on adds nothing: the default arrays are unchanged', () => {
    expect(signArgs(ref, { key, sigstore: { tlog: true } })).toEqual(['sign', '--yes', '--key', 'env://COSIGN_KEY', ref]);
  });
  it('keyless requires the transparency log; paths must be absolute', () => {
    expect(() => checkSigstoreOptions('keyless', { tlog: false })).toThrow(CosignArgError);
    expect(() => signArgs(ref, { sigstore: { tlog: false } })).toThrow(/key mode/);
    expect(() => verifyArgs(ref, { identity: 'https://github.com/o/r/.github/workflows/x.yml@refs/heads/main', issuer: 'https://token.actions.githubusercontent.com' }, {}, { tlog: false })).toThrow(/key mode/);
    expect(checkSigstoreOptions('key', { tlog: false })).toEqual({ tlog: false });
    expect(() => checkSigstoreOptions('key', { tlog: true, trustedRoot: 'rel/tr.json' })).toThrow(/absolute/);
  });
  it('parses cosign version --json (2 and 3) and the text form', () => {
    expect(parseCosignVersion('{\n  "gitVersion": "v3.1.2",\n  "gitCommit": "unknown"\n}\n')).toEqual({ major: 3, minor: 1, patch: 2, raw: 'v3.1.2' });
    expect(parseCosignVersion('{"gitVersion":"v2.6.4"}')?.major).toBe(2);
    expect(parseCosignVersion('  ______\nGitVersion:    v2.4.1\nGitCommit: x\n')?.minor).toBe(4);
    expect(parseCosignVersion('devel')).toBeUndefined();
  });
  it('signing configs with and without a transparency log', () => {
    const sc = (extra: object) => JSON.stringify({ mediaType: 'application/vnd.dev.sigstore.signingconfig.v0.2+json', caUrls: [], ...extra });
    expect(signingConfigHasTlog(sc({ rekorTlogUrls: [{ url: 'https://rekor.internal' }] }))).toBe(true);
    expect(signingConfigHasTlog(sc({ rekorTlogUrls: [] }))).toBe(false);
    expect(() => signingConfigHasTlog('{"mediaType":"application/vnd.dev.sigstore.trustedroot+json;version=0.1"}')).toThrow(/not a Sigstore signing config/);
  });
});

describe('verify output: cosign 3 bundles among attestations', () => {
  const entry = (type: string, digest = D) => ({ critical: { identity: { 'docker-reference': `ghcr.io/octo-org/shop@${digest}` }, image: { 'docker-manifest-digest': digest }, type }, optional: {} });
  it('picks the image signature and counts attestations without judging them; fails when only attestations verified', () => {
    const sigs = parseVerifyOutput(`\n${JSON.stringify([entry(BUNDLE_SIGNATURE_TYPE), entry('https://spdx.dev/Document'), entry('https://cyclonedx.org/bom')])}\n`);
    expect(sigs.map((x) => x.kind)).toEqual(['signature', 'attestation', 'attestation']);
    expect(checkVerified(sigs, { digest: D })).toEqual({ ok: true, signatures: 1, attestations: 2 });
    const only = checkVerified(parseVerifyOutput(JSON.stringify([entry('https://spdx.dev/Document')])), { digest: D });
    expect(only).toEqual({ ok: false, problem: expect.stringContaining('no image signature') });
    // An image signature over another digest still fails, whatever else verified.
    expect(checkVerified(parseVerifyOutput(JSON.stringify([entry(BUNDLE_SIGNATURE_TYPE, D2), entry('https://spdx.dev/Document')])), { digest: D }).ok).toBe(false);
  });
});

describe('the new inputs: tlog, signing-config, trusted-root, policy-kind', () => {
  it('keyless with tlog false is refused, naming tlog', () => {
    expect(() => checkInputs(raw({ tlog: false }), { sha: SHA })).toThrow(/input 'tlog' may only be false with sign: key/);
    expect(checkInputs(raw({ sign: 'key', cosignKeyGiven: true, tlog: false }), { sha: SHA }).tlog).toBe(false);
  });
  it('paths resolve against the workspace; the files must exist and be what they claim', () => {
    const ws = trackedDir('hallmark-sigfiles-');
    const c = checkInputs(raw({ sign: 'key', cosignKeyGiven: true, tlog: false, signingConfig: 'sigstore/sc.json', trustedRoot: `${ws}/tr.json` }), { sha: SHA, workspace: ws });
    expect(c.signingConfig).toBe(`${ws}/sigstore/sc.json`);
    expect(c.trustedRoot).toBe(`${ws}/tr.json`);
    const files: Record<string, string> = {};
    const read = (p: string) => files[p];
    expect(() => checkSigstoreFiles(c, read)).toThrow(/input 'signing-config' must name an existing file/);
    files[`${ws}/sigstore/sc.json`] = JSON.stringify({ mediaType: 'application/vnd.dev.sigstore.signingconfig.v0.2+json', rekorTlogUrls: [{ url: 'https://rekor.internal' }] });
    expect(() => checkSigstoreFiles(c, read)).toThrow(/input 'signing-config' names a transparency log \(https:\/\/rekor\.internal\) but tlog is false/);
    files[`${ws}/sigstore/sc.json`] = JSON.stringify({ mediaType: 'application/vnd.dev.sigstore.signingconfig.v0.2+json', rekorTlogUrls: [] });
    expect(() => checkSigstoreFiles(c, read)).toThrow(/input 'trusted-root' must name an existing file/);
    files[`${ws}/tr.json`] = '{"not":"a root"}';
    expect(() => checkSigstoreFiles(c, read)).toThrow(/input 'trusted-root' is not a Sigstore trusted root/);
    files[`${ws}/tr.json`] = JSON.stringify({ mediaType: 'application/vnd.dev.sigstore.trustedroot+json;version=0.1' });
    expect(checkSigstoreFiles(c, read)).toEqual({});
    const keyless = checkInputs(raw({ signingConfig: '/x/sc.json' }), { sha: SHA });
    expect(checkSigstoreFiles(keyless, () => JSON.stringify({ mediaType: 'application/vnd.dev.sigstore.signingconfig.v0.2+json', rekorTlogUrls: [{ url: 'http://127.0.0.1:9/' }] }))).toEqual({ rekorUrl: 'http://127.0.0.1:9/' });
  });
  it('an unknown policy kind is refused', () => {
    expect(() => checkInputs(raw({ policyKind: 'pod-policy' as never }), { sha: SHA })).toThrow(/input 'policy-kind' must be one of cluster-policy, image-validating-policy/);
  });
});

describe('the flow follows the detected cosign version', () => {
  function deps(version: string, seen: { args: string[]; env: Record<string, string | undefined> }[]): Deps {
    const temp = trackedDir('hallmark-flow-');
    return {
      exec: async (_tool, args, o) => {
        seen.push({ args, env: o.env ?? {} });
        const out = args[0] === 'version' ? version : args[0] === 'verify' ? JSON.stringify([{ critical: { identity: { 'docker-reference': 'ghcr.io/octo-org/shop' }, image: { 'docker-manifest-digest': D }, type: version.includes('v2.') ? 'cosign container image signature' : BUNDLE_SIGNATURE_TYPE }, optional: {} }]) : '';
        return { exitCode: 0, stdout: out, stderr: '', timedOut: false };
      },
      getIdToken: async () => TOKEN,
      mask: () => undefined, info: () => undefined, warn: () => undefined, printUntrusted: () => undefined,
      oneLine: (t) => t, displayCommand: (t, a) => [t, ...a].join(' '), scrubEnv: {}, lookupEnv: () => undefined,
      tempDir: temp, workspace: temp, serverUrl: 'https://github.com',
    };
  }
  it('cosign 3: SigstoreBundle policy; keyless gets the OIDC token in SIGSTORE_ID_TOKEN, never in argv', async () => {
    const seen: { args: string[]; env: Record<string, string | undefined> }[] = [];
    const r = await buildAndSign(checkInputs(raw({ digest: D, policyKind: 'image-validating-policy' }), { sha: SHA }), { cosignKey: '', cosignPassword: '', registryPassword: '' }, deps('{"gitVersion":"v3.1.2"}', seen));
    expect(r.failure).toBeUndefined();
    expect(r.cosignVersion).toBe('v3.1.2');
    const sign = seen.find((x) => x.args[0] === 'sign')!;
    expect(sign.env.SIGSTORE_ID_TOKEN).toBe(TOKEN);
    expect(JSON.stringify(seen.map((x) => x.args))).not.toContain(TOKEN);
    expect(seen.find((x) => x.args[0] === 'verify')!.env.SIGSTORE_ID_TOKEN).toBeUndefined();
    const policy = parseYaml(readFileSync(r.policy as string, 'utf8'));
    expect(policy.kind).toBe('ImageValidatingPolicy');
  });
  it('cosign 2: legacy (Cosign) ClusterPolicy, --tlog-upload=false only; signing-config refused naming the input', async () => {
    const seen: { args: string[]; env: Record<string, string | undefined> }[] = [];
    const cfg = checkInputs(raw({ digest: D, sign: 'key', cosignKeyGiven: true, tlog: false }), { sha: SHA });
    const pem = '-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----\nabc\n-----END ENCRYPTED SIGSTORE PRIVATE KEY-----';
    const { generateKeyPairSync } = await import('node:crypto');
    const pub = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ type: 'spki', format: 'pem' }).toString();
    const d = deps('{"gitVersion":"v2.6.4"}', seen);
    const exec = d.exec;
    d.exec = async (tool, args, o) => (args[0] === 'public-key' ? (seen.push({ args, env: o.env ?? {} }), { exitCode: 0, stdout: pub, stderr: '', timedOut: false }) : exec(tool, args, o));
    const r = await buildAndSign(cfg, { cosignKey: pem, cosignPassword: 'pw', registryPassword: '' }, d);
    expect(r.failure).toBeUndefined();
    expect(seen.find((x) => x.args[0] === 'sign')!.args).toEqual(['sign', '--yes', '--key', 'env://COSIGN_KEY', '--tlog-upload=false', `ghcr.io/octo-org/shop@${D}`]);
    const policy = parseYaml(readFileSync(r.policy as string, 'utf8'));
    expect(policy.kind).toBe('ClusterPolicy');
    expect(policy.spec.rules[0].verifyImages[0].type).toBe('Cosign');
    const ws = trackedDir('hallmark-sc-');
    const { writeFileSync } = await import('node:fs');
    writeFileSync(`${ws}/sc.json`, JSON.stringify({ mediaType: 'application/vnd.dev.sigstore.signingconfig.v0.2+json', rekorTlogUrls: [] }));
    const withSc = checkInputs(raw({ digest: D, sign: 'key', cosignKeyGiven: true, tlog: false, signingConfig: 'sc.json' }), { sha: SHA, workspace: ws });
    const r2 = await buildAndSign(withSc, { cosignKey: pem, cosignPassword: 'pw', registryPassword: '' }, d);
    expect(r2.failure).toEqual({ reason: 'invalid-input', message: expect.stringMatching(/^input 'signing-config' needs cosign 3 or later \(this runner has cosign v2\.6\.4/) });
  });
});
