/**
 * build-sign's flow (actions/build-sign/src/flow.ts) over fake tools: verify failures, tags on
 * different manifests, the docker login/logout around a build, and the cosign version the flow
 * follows (the argument arrays and admission policy for cosign 3 and a pinned cosign 2).
 */
import { readFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { BUNDLE_SIGNATURE_TYPE } from '@hallmark/oci';
import { checkInputs } from '../../actions/build-sign/src/inputs.js';
import { buildAndSign, type Deps, type ToolResult } from '../../actions/build-sign/src/flow.js';
import { cleanupTracked, trackedDir } from '../harness/tracked.js';
import { D, D2, quietDeps, raw, SHA } from './raw-inputs.js';

afterAll(() => cleanupTracked());

const TOKEN = `${Buffer.from('{}').toString('base64url')}.${Buffer.from(JSON.stringify({ iss: 'https://token.actions.githubusercontent.com', job_workflow_ref: 'octo-org/shop/.github/workflows/release.yml@refs/tags/v2' })).toString('base64url')}.sig`;

describe('the flow with fake tools', () => {
  function fakeDeps(
    handler: (tool: string, args: string[], env: Record<string, string | undefined>) => Partial<ToolResult>,
  ): Deps & { calls: { tool: string; args: string[] }[] } {
    const calls: { tool: string; args: string[] }[] = [];
    const deps = quietDeps(trackedDir('hallmark-flow-'), {
      exec: async (tool, args, o) => {
        calls.push({ tool, args });
        return { exitCode: 0, stdout: '', stderr: '', timedOut: false, ...handler(tool, args, o.env ?? {}) };
      },
      getIdToken: async () => TOKEN,
      oneLine: (t) => t.replace(/\n/g, ' '),
    });
    return Object.assign(deps, { calls });
  }
  const cfg = checkInputs(raw({ digest: D }), { sha: SHA });
  const verifyOut = (digest: string, subject: string) =>
    JSON.stringify([
      {
        critical: {
          identity: { 'docker-reference': 'ghcr.io/octo-org/shop' },
          image: { 'docker-manifest-digest': digest },
          type: 'cosign container image signature',
        },
        optional: { Issuer: 'https://token.actions.githubusercontent.com', Subject: subject },
      },
    ]);
  const id = 'https://github.com/octo-org/shop/.github/workflows/release.yml@refs/tags/v2';

  it('verify-failed when cosign verify exits 0 but its payload names another digest', async () => {
    const deps = fakeDeps((_t, args) => (args[0] === 'verify' ? { stdout: verifyOut(D2, id) } : {}));
    const r = await buildAndSign(cfg, { cosignKey: '', cosignPassword: '', registryPassword: '' }, deps);
    expect(r.failure?.reason).toBe('verify-failed');
    expect(r.failure?.message).toContain(D2);
    expect(r.policy).toBeUndefined();
  });
  it('verify-failed when the reported subject is another workflow', async () => {
    const deps = fakeDeps((_t, args) =>
      args[0] === 'verify' ? { stdout: verifyOut(D, 'https://github.com/evil/x/.github/workflows/x.yml@refs/heads/main') } : {},
    );
    expect((await buildAndSign(cfg, { cosignKey: '', cosignPassword: '', registryPassword: '' }, deps)).failure?.reason).toBe(
      'verify-failed',
    );
  });
  it('passes when digest and identity match; cosign is handed only what it needs (the OIDC token to sign, nothing to verify)', async () => {
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
    // The kit's exec drops INPUT_* and masked values from what tools inherit; the flow adds only these.
    expect(envs.map((e) => Object.keys(e).sort())).toEqual([[], ['SIGSTORE_ID_TOKEN'], []]);
    expect(envs[1]!.SIGSTORE_ID_TOKEN).toBe(TOKEN);
    expect(readFileSync(r.policy as string, 'utf8')).toContain(id);
  });
  it('sign-failed carries cosign’s own words, one line', async () => {
    const deps = fakeDeps((_t, args) =>
      args[0] === 'sign' ? { exitCode: 1, stderr: 'Error: signing [x]: getting signer: bad\nmore' } : {},
    );
    const r = await buildAndSign(cfg, { cosignKey: '', cosignPassword: '', registryPassword: '' }, deps);
    expect(r.failure?.reason).toBe('sign-failed');
    expect(r.failure?.message).toContain('getting signer: bad');
    expect(r.signed).toBe(false);
  });
  it('push-failed when two tags end up on different manifests', async () => {
    const c = checkInputs(raw({ builder: 'buildah', tags: ['a', 'b'], tagsGiven: true, sign: 'none' }), { sha: SHA });
    let n = 0;
    const { writeFileSync } = await import('node:fs');
    const deps = fakeDeps((_tool, args) => {
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
    const deps = quietDeps(temp, {
      exec: async (tool, args, o) => {
        calls.push({ tool, args, input: o.input });
        return { exitCode: args[0] === 'build' ? 1 : 0, stdout: '', stderr: args[0] === 'build' ? 'boom' : '', timedOut: false };
      },
    });
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

describe('the flow follows the detected cosign version', () => {
  function deps(version: string, seen: { args: string[]; env: Record<string, string | undefined> }[]): Deps {
    return quietDeps(trackedDir('hallmark-flow-'), {
      exec: async (_tool, args, o) => {
        seen.push({ args, env: o.env ?? {} });
        const out =
          args[0] === 'version'
            ? version
            : args[0] === 'verify'
              ? JSON.stringify([
                  {
                    critical: {
                      identity: { 'docker-reference': 'ghcr.io/octo-org/shop' },
                      image: { 'docker-manifest-digest': D },
                      type: version.includes('v2.') ? 'cosign container image signature' : BUNDLE_SIGNATURE_TYPE,
                    },
                    optional: {},
                  },
                ])
              : '';
        return { exitCode: 0, stdout: out, stderr: '', timedOut: false };
      },
      getIdToken: async () => TOKEN,
    });
  }
  it('cosign 3: SigstoreBundle policy; keyless gets the OIDC token in SIGSTORE_ID_TOKEN, never in argv', async () => {
    const seen: { args: string[]; env: Record<string, string | undefined> }[] = [];
    const r = await buildAndSign(
      checkInputs(raw({ digest: D, policyKind: 'image-validating-policy' }), { sha: SHA }),
      { cosignKey: '', cosignPassword: '', registryPassword: '' },
      deps('{"gitVersion":"v3.1.2"}', seen),
    );
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
    d.exec = async (tool, args, o) =>
      args[0] === 'public-key'
        ? (seen.push({ args, env: o.env ?? {} }), { exitCode: 0, stdout: pub, stderr: '', timedOut: false })
        : exec(tool, args, o);
    const r = await buildAndSign(cfg, { cosignKey: pem, cosignPassword: 'pw', registryPassword: '' }, d);
    expect(r.failure).toBeUndefined();
    expect(seen.find((x) => x.args[0] === 'sign')!.args).toEqual([
      'sign',
      '--yes',
      '--key',
      'env://COSIGN_KEY',
      '--tlog-upload=false',
      `ghcr.io/octo-org/shop@${D}`,
    ]);
    const policy = parseYaml(readFileSync(r.policy as string, 'utf8'));
    expect(policy.kind).toBe('ClusterPolicy');
    expect(policy.spec.rules[0].verifyImages[0].type).toBe('Cosign');
    const ws = trackedDir('hallmark-sc-');
    const { writeFileSync } = await import('node:fs');
    writeFileSync(
      `${ws}/sc.json`,
      JSON.stringify({ mediaType: 'application/vnd.dev.sigstore.signingconfig.v0.2+json', rekorTlogUrls: [] }),
    );
    const withSc = checkInputs(raw({ digest: D, sign: 'key', cosignKeyGiven: true, tlog: false, signingConfig: 'sc.json' }), {
      sha: SHA,
      workspace: ws,
    });
    const r2 = await buildAndSign(withSc, { cosignKey: pem, cosignPassword: 'pw', registryPassword: '' }, d);
    expect(r2.failure).toEqual({
      reason: 'invalid-input',
      message: expect.stringMatching(/^input 'signing-config' needs cosign 3 or later \(this runner has cosign v2\.6\.4/),
    });
  });
});
