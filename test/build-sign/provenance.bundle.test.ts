/**
 * build-sign's SLSA v1 provenance over real parts: a docker-registry on loopback holding a base
 * image, buildah building `FROM ${BASE_IMAGE}` (a global ARG) and pushing with --digestfile, and the
 * REAL cosign 3.1.2 attesting (`cosign attest --type slsaprovenance1`) and verifying
 * (`cosign verify-attestation --type slsaprovenance1`) in key mode without a transparency log and
 * keyless against the loopback Fulcio/Rekor (test/harness/sigstore.ts). The GitHub OIDC token
 * comes from the loopback GitHub services (test/harness/github.ts, a simulation). The admission
 * policy with `require-provenance` is judged by the REAL Kyverno CLI 1.19.0.
 *
 * Read at sigstore/cosign v3.1.2: cmd/cosign/cli/attest/attest.go (the predicate file is wrapped in
 * an in-toto statement whose subject is the image repository and digest), and
 * cmd/cosign/cli/verify/verify_attestation.go (`--output json` prints each verified DSSE envelope,
 * `payloadType` application/vnd.in-toto+json and the statement base64 in `payload`).
 */
import { execFile, execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml, stringify } from 'yaml';
import type { GitHubServices } from '../harness/github.js';
import { getManifest, hasRegistry, type Registry } from '../harness/registry.js';
import { runAction, visibleLog, type ActionResult, type RunnerHome } from '../harness/runner.js';
import { toolPath } from '../harness/tools.js';
import type { LoopbackSigstore } from '../harness/sigstore.js';
import {
  BUSYBOX,
  canaryKey,
  cosignCalls,
  hasBuildah,
  writeContext,
  type CosignVersion,
  type Lab,
  startSigningLab,
  type SigningLab,
} from '../harness/build-lab.js';
import { cleanupTracked, trackedHome } from '../harness/tracked.js';

const real = hasRegistry && hasBuildah && !!BUSYBOX;
const describeReal = real ? describe : describe.skip;
const run = promisify(execFile);

const PASSWORD = `canary-pw-${randomBytes(6).toString('hex')}`;
const BUILD_ARG_SECRET = `canary-build-arg-${randomBytes(8).toString('hex')}`;
const ISSUER = 'https://token.actions.githubusercontent.com';
const REUSABLE = 'hallmark-dev/hallmark/.github/workflows/build-sign-scan.yml@refs/tags/v1.2.3';
const BUILDER = `https://github.com/${REUSABLE}`;

let registry: Registry;
let lab: Lab;
let sigstore: LoopbackSigstore;
let gh: GitHubServices;
let key: { privateKey: string; publicKey: string };
let pubFile: string;
let baseDigest: string;

let signing: SigningLab | undefined;

beforeAll(async () => {
  if (!real) return;
  signing = await startSigningLab(PASSWORD);
  ({ lab, registry, sigstore, gh, key, pubFile } = signing);
  // The base image the app builds FROM: busybox FROM scratch, pushed as base:1.0.
  const ctx = writeContext(lab.dir, 'base-ctx');
  const env = { PATH: process.env.PATH, HOME: lab.dir, CONTAINERS_STORAGE_CONF: lab.storageConf, BUILDAH_ISOLATION: 'chroot' };
  execFileSync(
    'buildah',
    [
      'bud',
      '--quiet',
      '--format',
      'oci',
      '--build-arg',
      'NONCE=base',
      '-f',
      join(ctx, 'Containerfile'),
      '-t',
      `${registry.host}/base:1.0`,
      ctx,
    ],
    { env, stdio: 'pipe' },
  );
  const df = join(lab.dir, 'base-digest');
  execFileSync('buildah', ['push', '--quiet', '--tls-verify=false', '--digestfile', df, `${registry.host}/base:1.0`], {
    env,
    stdio: 'pipe',
  });
  baseDigest = readFileSync(df, 'utf8').trim();
}, 300_000);

afterAll(async () => {
  cleanupTracked();
  await signing?.stop();
});

/** An app context whose Containerfile builds FROM the base through a global ARG, and declares a build arg holding a canary. */
function writeApp(workspace: string): void {
  const dir = join(workspace, 'app');
  mkdirSync(dir, { recursive: true });
  writeFileSync(
    join(dir, 'Containerfile'),
    `# syntax=docker/dockerfile:1\nARG BASE_IMAGE=${registry.host}/base:0.9\nFROM \${BASE_IMAGE} AS runtime\nARG NONCE=none\nARG API_TOKEN\nLABEL dev.hallmark.test.nonce=$NONCE\nENTRYPOINT ["/bin/busybox"]\n`,
  );
}

async function build(
  inputs: Record<string, string>,
  opts: { env?: Record<string, string>; home?: RunnerHome; cosign?: CosignVersion } = {},
): Promise<ActionResult> {
  const home = opts.home ?? trackedHome();
  writeApp(home.workspace);
  return runAction('build-sign', {
    home,
    inputs: {
      image: `${registry.host}/octo-org/shop`,
      builder: 'buildah',
      context: 'app',
      'registry-insecure': 'true',
      'build-args': `NONCE=${randomBytes(8).toString('hex')}\nBASE_IMAGE=${registry.host}/base:1.0\nAPI_TOKEN=${BUILD_ARG_SECRET}`,
      provenance: 'true',
      ...inputs,
    },
    env: lab.env(
      { GITHUB_REPOSITORY_ID: '101', GITHUB_REPOSITORY_OWNER_ID: '202', RUNNER_ENVIRONMENT: 'github-hosted', ...opts.env },
      opts.cosign,
    ),
    timeoutMs: 90_000,
  });
}

const keyInputs = (extra: Record<string, string> = {}) => ({
  sign: 'key',
  'cosign-key': key.privateKey,
  'cosign-password': PASSWORD,
  tlog: 'false',
  ...extra,
});
const keylessInputs = (extra: Record<string, string> = {}) => ({
  'signing-config': sigstore.signingConfigPath,
  'trusted-root': sigstore.trustedRootPath,
  ...extra,
});

async function cosign(args: string[], which: CosignVersion = 'cosign'): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const r = await run(toolPath(which), args, { env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: lab.dir }, timeout: 60_000 });
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (e) {
    const x = e as { code: number; stdout: string; stderr: string };
    return { code: typeof x.code === 'number' ? x.code : 1, stdout: x.stdout ?? '', stderr: x.stderr ?? String(e) };
  }
}

interface Statement {
  _type: string;
  subject: { name: string; digest: { sha256: string } }[];
  predicateType: string;
  predicate: {
    buildDefinition: {
      buildType: string;
      externalParameters: { workflow: Record<string, string>; build: Record<string, unknown> };
      internalParameters: unknown;
      resolvedDependencies: { uri: string; digest: Record<string, string> }[];
    };
    runDetails: { builder: { id: string }; metadata: { invocationId: string; startedOn: string; finishedOn: string } };
  };
}

/** The statements real `cosign verify-attestation --output json` printed (one DSSE envelope per line). */
function statements(stdout: string): Statement[] {
  return stdout
    .split('\n')
    .filter((l) => l.trim().startsWith('{'))
    .map((l) => JSON.parse(l) as { payloadType: string; payload: string })
    .filter((e) => e.payloadType === 'application/vnd.in-toto+json')
    .map((e) => JSON.parse(Buffer.from(e.payload, 'base64').toString('utf8')) as Statement);
}

/** Every blob of the repository's referrers (the attestation bundles), as text. */
async function referrerBlobs(repo: string, digest: string): Promise<string> {
  const idx = await getManifest(registry.url, repo, digest.replace(':', '-'));
  let all = '';
  for (const m of (idx.json as { manifests?: { digest: string }[] } | undefined)?.manifests ?? []) {
    const man = (await getManifest(registry.url, repo, m.digest)).json as { layers: { digest: string }[] };
    for (const l of man.layers) {
      const b = Buffer.from(await (await fetch(`${registry.url}/v2/${repo}/blobs/${l.digest}`)).arrayBuffer()).toString('utf8');
      all += b;
      try {
        const env = (JSON.parse(b) as { dsseEnvelope?: { payload: string } }).dsseEnvelope;
        if (env) all += Buffer.from(env.payload, 'base64').toString('utf8');
      } catch {
        /* not JSON */
      }
    }
  }
  return all;
}

async function kyverno(policyText: string, image: string): Promise<{ verdict: string; message: string }> {
  const dir = join(lab.dir, `kyverno-${randomBytes(4).toString('hex')}`);
  mkdirSync(join(dir, 'docker'), { recursive: true });
  writeFileSync(join(dir, 'docker', 'config.json'), '{}');
  writeFileSync(join(dir, 'policy.yaml'), policyText);
  writeFileSync(
    join(dir, 'pod.yaml'),
    stringify({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'p', namespace: 'default' },
      spec: { containers: [{ name: 'c', image }] },
    }),
  );
  let out = '';
  try {
    out = (
      await run(
        toolPath('kyverno'),
        ['apply', join(dir, 'policy.yaml'), '--resource', join(dir, 'pod.yaml'), '-p', '--output-format', 'json', '--remove-color'],
        { env: { PATH: process.env.PATH, HOME: dir, DOCKER_CONFIG: join(dir, 'docker') }, timeout: 90_000 },
      )
    ).stdout;
  } catch (e) {
    const x = e as { stdout?: string; stderr?: string };
    out = `${x.stdout ?? ''}${x.stderr ?? ''}`;
  }
  const at = out.indexOf('{"kind"');
  if (at < 0) throw new Error(`kyverno printed no policy report:\n${out.slice(0, 2000)}`);
  const results = (
    (JSON.parse(out.slice(at).trim().split('\n')[0]!) as { results?: { rule: string; result: string; message?: string }[] }).results ?? []
  ).filter((r) => r.rule === 'verify-image-signature');
  return {
    verdict: results.length && results.every((r) => r.result === 'pass') ? 'pass' : results.length ? 'fail' : 'absent',
    message: results.map((r) => r.message ?? '').join('\n'),
  };
}

describeReal('build-sign provenance, key mode (cosign 3.1.2, no transparency log, OIDC token for the builder id)', () => {
  let r: ActionResult;
  let digest: string;
  let ref: string;
  beforeAll(async () => {
    gh.oidcClaims.job_workflow_ref = REUSABLE;
    r = await build(keyInputs({ tags: 'prov-key', 'require-provenance': 'true', 'builder-refs': 'refs/tags/v1.*' }), { env: gh.env });
    digest = r.outputs.digest as string;
    ref = r.outputs['image-ref'] as string;
  }, 180_000);

  it('attests, and real cosign verify-attestation --type slsaprovenance1 accepts it for the key and rejects another key', async () => {
    expect(r.errors, r.stdout + r.stderr).toEqual([]);
    expect(r.outputs['provenance-attested']).toBe('true');
    const ok = await cosign([
      'verify-attestation',
      '--type',
      'slsaprovenance1',
      '--key',
      pubFile,
      '--insecure-ignore-tlog=true',
      '--allow-http-registry',
      '--output',
      'json',
      ref,
    ]);
    expect(ok.code, ok.stderr).toBe(0);
    const [s, ...more] = statements(ok.stdout);
    expect(more).toEqual([]);
    // The subject is the built digest, the predicate what build-sign wrote.
    expect(s!.predicateType).toBe('https://slsa.dev/provenance/v1');
    expect(s!.subject).toEqual([{ name: `${registry.host}/octo-org/shop`, digest: { sha256: digest.slice('sha256:'.length) } }]);
    expect(s!.predicate.runDetails.builder.id).toBe(BUILDER);
    expect(s!.predicate.buildDefinition.buildType).toBe('https://github.com/hallmark-dev/hallmark/buildtypes/build-sign/v1');
    expect(s!.predicate.buildDefinition.externalParameters.workflow).toEqual({
      repository: 'octo-org/shop',
      ref: 'refs/heads/main',
      path: '.github/workflows/ci.yml',
    });
    expect(s!.predicate.buildDefinition.externalParameters.build).toEqual({
      context: 'app',
      file: 'app/Containerfile',
      platforms: [],
      buildArgs: ['NONCE', 'BASE_IMAGE', 'API_TOKEN'],
      builder: 'buildah',
    });
    expect(s!.predicate.buildDefinition.internalParameters).toEqual({
      github: { event_name: 'push', repository_id: '101', repository_owner_id: '202', runner_environment: 'github-hosted' },
    });
    expect(s!.predicate.runDetails.metadata.invocationId).toBe('https://github.com/octo-org/shop/actions/runs/9100200300/attempts/1');
    expect(Date.parse(s!.predicate.runDetails.metadata.finishedOn)).toBeGreaterThanOrEqual(
      Date.parse(s!.predicate.runDetails.metadata.startedOn),
    );
    // The FROM base (through the ARG, overridden by the build arg) resolved to the digest the registry holds.
    expect(s!.predicate.buildDefinition.resolvedDependencies).toEqual([
      { uri: 'git+https://github.com/octo-org/shop@refs/heads/main', digest: { gitCommit: '4f1c6b9e0a2d3c5b7e8f9a0b1c2d3e4f5a6b7c8d' } },
      { uri: `pkg:docker/${registry.host}/base@1.0`, digest: { sha256: baseDigest.slice('sha256:'.length) } },
    ]);
    expect((await getManifest(registry.url, 'base', '1.0')).digest).toBe(baseDigest);
    // The output file is the statement that was attested, as cosign wrote it: cosign 3.1.2 wraps the
    // predicate in an in-toto Statement v0.1 (pkg/cosign/attestation/attestation.go), not v1.
    expect(JSON.parse(readFileSync(r.outputs.provenance as string, 'utf8'))).toEqual(s);
    expect(s!._type).toBe('https://in-toto.io/Statement/v0.1');

    const other = canaryKey(lab, 'other-pw');
    const otherPub = join(lab.dir, 'other-prov.pub');
    writeFileSync(otherPub, other.publicKey);
    const wrong = await cosign([
      'verify-attestation',
      '--type',
      'slsaprovenance1',
      '--key',
      otherPub,
      '--insecure-ignore-tlog=true',
      '--allow-http-registry',
      '--output',
      'json',
      ref,
    ]);
    expect(wrong.code).not.toBe(0);
  });

  it('asked cosign to attest by digest with the key by reference, then verified it', () => {
    const calls = cosignCalls(lab).filter((c) => c.argv.includes(ref));
    expect(calls.map((c) => c.cmd)).toEqual(['sign', 'verify', 'attest', 'verify-attestation']);
    const attest = calls[2]!.argv;
    expect(attest.slice(0, 3)).toEqual(['attest', '--yes', '--predicate']);
    expect(attest.slice(4)).toEqual([
      '--type',
      'slsaprovenance1',
      '--key',
      'env://COSIGN_KEY',
      '--use-signing-config=false',
      '--tlog-upload=false',
      '--allow-http-registry',
      ref,
    ]);
    expect(calls[3]!.argv).toEqual([
      'verify-attestation',
      '--type',
      'slsaprovenance1',
      '--key',
      'env://COSIGN_PUBLIC_KEY',
      '--insecure-ignore-tlog=true',
      '--allow-http-registry',
      '--output',
      'json',
      ref,
    ]);
  });

  it('build-arg values never appear: not in the statement, the registry, the log or the outputs', async () => {
    expect(readFileSync(r.outputs.provenance as string, 'utf8')).not.toContain(BUILD_ARG_SECRET);
    const blobs = await referrerBlobs('octo-org/shop', digest);
    expect(blobs).toContain('https://slsa.dev/provenance/v1'); // the attestation is there and was read
    expect(blobs).not.toContain(BUILD_ARG_SECRET);
    expect(JSON.stringify(r.outputs)).not.toContain(BUILD_ARG_SECRET);
    expect(visibleLog(r)).not.toContain(PASSWORD);
  });

  it('the generated policy requires the provenance; real Kyverno admits this image and denies a signed one without provenance', async () => {
    const policyText = readFileSync(r.outputs.policy as string, 'utf8');
    const vi = parseYaml(policyText).spec.rules[0].verifyImages[0];
    expect(vi.attestations[0].type).toBe('https://slsa.dev/provenance/v1');
    expect(JSON.stringify(vi.attestations[0].conditions)).toContain('octo-org/shop');
    expect((await kyverno(policyText, ref)).verdict).toBe('pass');
    // Same key, same repository, no provenance: signed, but denied under this policy.
    const bare = await build(keyInputs({ tags: 'prov-none', provenance: 'false' }), { env: gh.env });
    expect(bare.errors, bare.stdout).toEqual([]);
    expect(bare.outputs['provenance-attested']).toBe('false');
    const v = await kyverno(policyText, bare.outputs['image-ref'] as string);
    expect(v.verdict).toBe('fail');
    expect(v.message).toContain('image attestations verification failed');
  });
});

describeReal('build-sign provenance, keyless over the loopback Sigstore (cosign 3.1.2)', () => {
  it('the builder id is the job_workflow_ref the certificate names; verify-attestation for that identity accepts it', async () => {
    gh.oidcClaims.job_workflow_ref = REUSABLE;
    const logged = sigstore.logged.length;
    const r = await build(keylessInputs({ tags: 'prov-keyless' }), { env: gh.env });
    expect(r.errors, r.stdout + r.stderr).toEqual([]);
    expect(r.outputs.identity).toBe(BUILDER);
    expect(r.outputs['provenance-attested']).toBe('true');
    // The signature and the provenance, each a DSSE entry in the loopback Rekor.
    expect(sigstore.logged.slice(logged)).toEqual(['dsse', 'dsse']);
    const ref = r.outputs['image-ref'] as string;
    const ok = await cosign([
      'verify-attestation',
      '--type',
      'slsaprovenance1',
      '--certificate-identity',
      BUILDER,
      '--certificate-oidc-issuer',
      ISSUER,
      '--trusted-root',
      sigstore.trustedRootPath,
      '--allow-http-registry',
      '--output',
      'json',
      ref,
    ]);
    expect(ok.code, ok.stderr).toBe(0);
    const [s] = statements(ok.stdout);
    expect(s!.subject[0]!.digest.sha256).toBe((r.outputs.digest as string).slice('sha256:'.length));
    expect(s!.predicate.runDetails.builder.id).toBe(BUILDER);
    const other = await cosign([
      'verify-attestation',
      '--type',
      'slsaprovenance1',
      '--certificate-identity',
      'https://github.com/octo-org/shop/.github/workflows/ci.yml@refs/heads/main',
      '--certificate-oidc-issuer',
      ISSUER,
      '--trusted-root',
      sigstore.trustedRootPath,
      '--allow-http-registry',
      '--output',
      'json',
      ref,
    ]);
    expect(other.code).not.toBe(0);
  });
});

describeReal('build job writes, sign job attests (as build-sign-scan does)', () => {
  it('sign none writes the statement; digest + provenance-file attests it; a statement for another digest is refused', async () => {
    gh.oidcClaims.job_workflow_ref = REUSABLE;
    const built = await build({ sign: 'none', tags: 'prov-split' });
    expect(built.errors, built.stdout).toEqual([]);
    const file = built.outputs.provenance as string;
    const written = JSON.parse(readFileSync(file, 'utf8')) as Statement;
    expect(written.subject[0]!.digest.sha256).toBe((built.outputs.digest as string).slice(7));
    expect(built.outputs['provenance-attested']).toBe('false');
    // Before the signing job proves its identity, the builder id is the caller's workflow.
    expect(written.predicate.runDetails.builder.id).toBe('https://github.com/octo-org/shop/.github/workflows/ci.yml@refs/heads/main');

    const home = trackedHome();
    const r = await runAction('build-sign', {
      home,
      inputs: {
        image: `${registry.host}/octo-org/shop`,
        digest: built.outputs.digest as string,
        'registry-insecure': 'true',
        provenance: 'true',
        'provenance-file': file,
        ...keylessInputs(),
      },
      // "Re-run failed jobs": the sign job's attempt 2 attests the build job's statement of attempt 1.
      env: lab.env({ ...gh.env, GITHUB_RUN_ATTEMPT: '2' }),
      timeoutMs: 90_000,
    });
    expect(r.errors, r.stdout + r.stderr).toEqual([]);
    expect(r.outputs['provenance-attested']).toBe('true');
    const ok = await cosign([
      'verify-attestation',
      '--type',
      'slsaprovenance1',
      '--certificate-identity',
      BUILDER,
      '--certificate-oidc-issuer',
      ISSUER,
      '--trusted-root',
      sigstore.trustedRootPath,
      '--allow-http-registry',
      '--output',
      'json',
      r.outputs['image-ref'] as string,
    ]);
    expect(ok.code, ok.stderr).toBe(0);
    const [s] = statements(ok.stdout);
    // The build job's facts, with the builder id the signing job proved.
    expect(s!.predicate.runDetails.builder.id).toBe(BUILDER);
    expect(s!.predicate.buildDefinition).toEqual(written.predicate.buildDefinition);

    // The same statement offered for another digest: refused before anything is signed.
    const other = await build({ sign: 'none', tags: 'prov-split-2', provenance: 'false' });
    const before = cosignCalls(lab).length;
    const bad = await runAction('build-sign', {
      home: trackedHome(),
      inputs: {
        image: `${registry.host}/octo-org/shop`,
        digest: other.outputs.digest as string,
        'registry-insecure': 'true',
        provenance: 'true',
        'provenance-file': file,
        ...keylessInputs(),
      },
      env: lab.env(gh.env),
      timeoutMs: 90_000,
    });
    expect(bad.code).toBe(1);
    expect(bad.outputs['failure-reason']).toBe('invalid-input');
    expect(bad.errors).toEqual([
      expect.stringMatching(
        /^build-sign: input 'provenance-file' must be the statement build-sign wrote for .*@sha256:[0-9a-f]{64} in this run: it describes /,
      ),
    ]);
    expect(
      cosignCalls(lab)
        .slice(before)
        .map((c) => c.cmd)
        .filter((c) => c !== 'version'),
    ).toEqual([]);
  });
});

describeReal('build-sign provenance: other signers and refusals', () => {
  it('key mode without an OIDC token: the builder id is the calling workflow, with a warning that says so', async () => {
    const r = await build(keyInputs({ tags: 'prov-no-oidc' }));
    expect(r.errors, r.stdout + r.stderr).toEqual([]);
    expect(r.outputs['provenance-attested']).toBe('true');
    expect(r.warnings.join('\n')).toContain(
      'Key mode without an OIDC token: the provenance builder id is the calling workflow https://github.com/octo-org/shop/.github/workflows/ci.yml@refs/heads/main',
    );
    const ok = await cosign([
      'verify-attestation',
      '--type',
      'slsaprovenance1',
      '--key',
      pubFile,
      '--insecure-ignore-tlog=true',
      '--allow-http-registry',
      '--output',
      'json',
      r.outputs['image-ref'] as string,
    ]);
    expect(ok.code, ok.stderr).toBe(0);
    expect(statements(ok.stdout)[0]!.predicate.runDetails.builder.id).toBe(
      'https://github.com/octo-org/shop/.github/workflows/ci.yml@refs/heads/main',
    );
  });

  it('cosign 2.6.4 (a user pin) attests in the legacy .att layout, and its verify-attestation accepts it', async () => {
    gh.oidcClaims.job_workflow_ref = REUSABLE;
    const r = await build(keyInputs({ tags: 'prov-cosign2' }), { env: gh.env, cosign: 'cosign2' });
    expect(r.errors, r.stdout + r.stderr).toEqual([]);
    expect(r.outputs['cosign-version']).toBe('v2.6.4');
    expect(r.outputs['provenance-attested']).toBe('true');
    const digest = r.outputs.digest as string;
    const all = ((await (await fetch(`${registry.url}/v2/octo-org/shop/tags/list`)).json()) as { tags: string[] }).tags;
    expect(all).toContain(`${digest.replace(':', '-')}.att`);
    const ok = await cosign(
      [
        'verify-attestation',
        '--type',
        'slsaprovenance1',
        '--key',
        pubFile,
        '--insecure-ignore-tlog=true',
        '--allow-http-registry',
        '--output',
        'json',
        r.outputs['image-ref'] as string,
      ],
      'cosign2',
    );
    expect(ok.code, ok.stderr).toBe(0);
    const [s] = statements(ok.stdout);
    expect(s!.subject[0]!.digest.sha256).toBe(digest.slice(7));
    expect(s!.predicate.runDetails.builder.id).toBe(BUILDER);
  });

  it('an unresolvable FROM base fails with provenance-failed before anything is built', async () => {
    const before = cosignCalls(lab).length;
    const r = await build(keyInputs({ tags: 'prov-missing-base', 'build-args': `BASE_IMAGE=${registry.host}/base:does-not-exist` }));
    expect(r.code).toBe(1);
    expect(r.outputs['failure-reason']).toBe('provenance-failed');
    expect(r.errors).toEqual([`build-sign: the base image ${registry.host}/base:does-not-exist is not in ${registry.host}`]);
    expect(r.outputs.digest).toBe('');
    expect(r.stdout).not.toContain('Building:');
    expect(
      cosignCalls(lab)
        .slice(before)
        .map((c) => c.cmd)
        .filter((c) => c !== 'version' && c !== 'public-key'),
    ).toEqual([]);
  });

  it.each([
    [
      'provenance-file without digest',
      { 'provenance-file': 'p.json' },
      "build-sign: input 'provenance-file' only applies with 'digest' (a build writes its own statement)",
    ],
    [
      'builder-refs that are not refs',
      { 'require-provenance': 'true', 'builder-refs': 'v1.*' },
      'build-sign: input \'builder-refs\' must be refs/tags/… or refs/heads/… patterns (a * matches within one path segment), got "v1.*"',
    ],
  ])('%s → one error naming the input, nothing run', async (_what, inputs, error) => {
    const before = cosignCalls(lab).length;
    const r = await build(keyInputs(inputs));
    expect(r.code).toBe(1);
    expect(r.outputs['failure-reason']).toBe('invalid-input');
    expect(r.errors).toEqual([error]);
    expect(cosignCalls(lab).length).toBe(before);
  });
});
