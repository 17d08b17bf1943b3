/**
 * The admission policy's provenance requirement (packages/oci/src/policy.ts `requireProvenance`), in
 * both kinds (ClusterPolicy and ImageValidatingPolicy),
 * judged by the REAL Kyverno CLI 1.19.0 (`kyverno apply … -p --output-format json`) against images
 * in a real loopback registry (docker-registry), built with buildah FROM scratch, signed AND
 * attested by the REAL cosign 3.1.2 (`cosign attest --type slsaprovenance1`, key mode without a
 * transparency log, Sigstore bundles as OCI referrers). The predicates are the ones build-sign
 * writes (actions/build-sign/src/provenance.ts provenanceStatement).
 *
 * What was read at kyverno v1.19.0: pkg/engine/internal/imageverifier.go (an `attestations` entry
 * of verifyImages with `type`), pkg/engine/internal/utils.go EvaluateConditions (the conditions see the predicate as the
 * JMESPath root), pkg/image/verifiers/cpol/cosign/sigstore.go (SigstoreBundle keeps the DSSE in-toto
 * bundles of that predicate type and verifies them with the attestor's key). What the real tool
 * showed: with SigstoreBundle, an image with no provenance (or provenance by another key) is denied
 * as "image attestations verification failed, verifiedCount: 0 … no matching signatures found"
 * (the bundles are filtered by predicate type before verification, so none verify), not with
 * imageverifier.go's "attestions not found for predicate type" that our reading expected. For an
 * ImageValidatingPolicy, `extractPayload()` returns the whole in-toto statement (the predicate is
 * under `.predicate`: `.runDetails` at the top is "no such key"), and a CEL error is reported as
 * result `error` of a rule named `evaluation`.
 */
import { execFile, execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml, stringify } from 'yaml';
import { builderIdRegexp, renderPolicy, SLSA_PROVENANCE_V1_TYPE, type PolicyOptions } from '@hallmark/oci';
import { provenanceStatement, type ProvenanceInput } from '../../actions/build-sign/src/provenance.js';
import type { Registry } from '../harness/registry.js';
import { toolPath } from '../harness/tools.js';
import { startKyvernoLab, type KyvernoLab } from './kyverno-lab.js';

const run = promisify(execFile);
const PASSWORD = 'h4-provenance-policy-password';
const WORKFLOW = 'https://github.com/hallmark-dev/hallmark/.github/workflows/build-sign-scan.yml';
const GOOD_BUILDER = `${WORKFLOW}@refs/tags/v1.2.3`;
const SOURCE = 'octo-org/shop';

let registry: Registry;
let dir: string;
let repo: string;
let kyvernoEnv: NodeJS.ProcessEnv;
const key: Record<'a' | 'b', { key: string; pub: string }> = { a: { key: '', pub: '' }, b: { key: '', pub: '' } };
/** digests by role */
const d = { good: '', none: '', foreignBuilder: '', foreignRepo: '', otherKey: '', branchBuilder: '' };

function tool(bin: string, args: string[], env: Record<string, string> = {}): string {
  return execFileSync(bin, args, {
    cwd: dir,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { PATH: process.env.PATH, HOME: dir, DOCKER_CONFIG: join(dir, 'docker'), ...env },
  });
}

let lab: KyvernoLab;
const buildAndPush = (nonce: string): string => lab.buildAndPush(`${repo}:${nonce}`, nonce);

const cosignKeyArgs = (k: string) => ['--key', k, '--use-signing-config=false', '--tlog-upload=false', '--allow-http-registry', '-y'];

function sign(k: string, digest: string): void {
  tool(toolPath('cosign'), ['sign', ...cosignKeyArgs(k), `${repo}@${digest}`], { COSIGN_PASSWORD: PASSWORD });
}

function predicate(digest: string, over: Partial<ProvenanceInput> & { repository?: string } = {}): Record<string, unknown> {
  const { repository, ...rest } = over;
  const s = provenanceStatement({
    image: { registry: registry.host, repository: 'shop' },
    digest,
    build: { context: 'app', file: 'app/Containerfile', platforms: [], buildArgNames: ['NONCE'], builder: 'buildah' },
    github: {
      serverUrl: 'https://github.com',
      repository: repository ?? SOURCE,
      ref: 'refs/heads/main',
      sha: 'c'.repeat(40),
      workflowRef: `${repository ?? SOURCE}/.github/workflows/ci.yml@refs/heads/main`,
      eventName: 'push',
      repositoryId: '1',
      repositoryOwnerId: '2',
      runnerEnvironment: 'github-hosted',
      runId: '77',
      runAttempt: '1',
    },
    builderId: GOOD_BUILDER,
    bases: [],
    startedOn: new Date('2026-12-01T10:00:00Z'),
    finishedOn: new Date('2026-12-01T10:01:00Z'),
    ...rest,
  });
  return s.predicate as unknown as Record<string, unknown>;
}

function attest(k: string, digest: string, pred: Record<string, unknown>): void {
  const f = join(dir, `pred-${digest.slice(7, 19)}.json`);
  writeFileSync(f, JSON.stringify(pred));
  tool(toolPath('cosign'), ['attest', ...cosignKeyArgs(k), '--type', 'slsaprovenance1', '--predicate', f, `${repo}@${digest}`], {
    COSIGN_PASSWORD: PASSWORD,
  });
}

let seq = 0;
interface Result {
  rule: string;
  result: string;
  message: string;
}
async function kyverno(
  policy: string,
  image: string,
  rule = 'verify-image-signature',
): Promise<{ code: number; results: Result[]; verdict: 'pass' | 'fail' | 'absent'; message: string }> {
  const n = ++seq;
  const pf = join(dir, `policy-${n}.yaml`);
  const rf = join(dir, `pod-${n}.yaml`);
  writeFileSync(pf, policy);
  writeFileSync(
    rf,
    stringify({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: `pod-${n}`, namespace: 'default' },
      spec: { containers: [{ name: 'c', image }] },
    }),
  );
  let code = 0;
  let out = '';
  try {
    out = (
      await run(toolPath('kyverno'), ['apply', pf, '--resource', rf, '-p', '--output-format', 'json', '--remove-color'], {
        env: kyvernoEnv,
        timeout: 90_000,
      })
    ).stdout;
  } catch (e) {
    const err = e as { code?: number; stdout?: string; stderr?: string };
    code = typeof err.code === 'number' ? err.code : -1;
    out = `${err.stdout ?? ''}${err.stderr ?? ''}`;
  }
  if (process.env.SHOW_KYVERNO) console.log(out.slice(0, 3000));
  const at = out.indexOf('{"kind"');
  if (at < 0) throw new Error(`kyverno printed no policy report (exit ${code}):\n${out.slice(0, 2000)}`);
  const report = JSON.parse(out.slice(at).trim().split('\n')[0]!) as { results?: Result[] };
  const results = (report.results ?? [])
    .filter((r) => r.rule === rule)
    .map((r) => ({ rule: r.rule, result: r.result, message: r.message ?? '' }));
  const verdict = results.length === 0 ? 'absent' : results.every((r) => r.result === 'pass') ? 'pass' : 'fail';
  return { code, results, verdict, message: results.map((r) => r.message).join('\n') };
}

const opts = (over: Partial<PolicyOptions> = {}): PolicyOptions => ({
  image: { registry: registry.host, repository: 'shop' },
  attestor: { publicKey: key.a.pub },
  tlog: false,
  requireProvenance: { builderIdRegexp: builderIdRegexp(WORKFLOW, ['refs/tags/v*']), sourceRepository: SOURCE },
  ...over,
});

beforeAll(async () => {
  lab = await startKyvernoLab('hallmark-provenance-kyverno-');
  ({ dir, registry, repo, env: kyvernoEnv } = lab);
  for (const name of ['a', 'b'] as const) key[name] = lab.keyPair(name, PASSWORD);
  for (const role of Object.keys(d) as (keyof typeof d)[]) {
    d[role] = buildAndPush(role.toLowerCase());
    sign(key.a.key, d[role]); // every image is signed by key A: only the provenance differs
  }
  attest(key.a.key, d.good, predicate(d.good));
  attest(
    key.a.key,
    d.foreignBuilder,
    predicate(d.foreignBuilder, { builderId: 'https://github.com/octo-org/shop/.github/workflows/ci.yml@refs/heads/main' }),
  );
  attest(key.a.key, d.foreignRepo, predicate(d.foreignRepo, { repository: 'evil-org/shop' }));
  attest(key.b.key, d.otherKey, predicate(d.otherKey));
  attest(key.a.key, d.branchBuilder, predicate(d.branchBuilder, { builderId: `${WORKFLOW}@refs/heads/main` }));
}, 300_000);

afterAll(async () => {
  await lab?.stop();
});

describe('ClusterPolicy with requireProvenance, judged by kyverno apply 1.19.0', () => {
  it('the rendered rule carries one slsa provenance attestation with the same key and the two conditions', () => {
    const vi = parseYaml(renderPolicy(opts())).spec.rules[0].verifyImages[0];
    expect(vi.attestations).toHaveLength(1);
    expect(vi.attestations[0].type).toBe(SLSA_PROVENANCE_V1_TYPE);
    expect(vi.attestations[0].attestors).toEqual(vi.attestors);
    expect(vi.attestations[0].conditions[0].all.map((c: { key: string }) => c.key)).toEqual([
      `{{ regex_match('${builderIdRegexp(WORKFLOW, ['refs/tags/v*'])}', runDetails.builder.id) }}`,
      '{{ buildDefinition.externalParameters.workflow.repository }}',
    ]);
  });

  it('admits a signed image whose provenance names our builder at an allowed ref and the source repository', async () => {
    const v = await kyverno(renderPolicy(opts()), `${repo}@${d.good}`);
    expect(v.verdict, v.message).toBe('pass');
    expect(v.code).toBe(0);
  });

  it('denies a signed image with no provenance attestation', async () => {
    const v = await kyverno(renderPolicy(opts()), `${repo}@${d.none}`);
    expect(v.verdict).toBe('fail');
    // SigstoreBundle filters the bundles by predicate type before verifying: none left → no verified attestation.
    expect(v.message).toMatch(
      /image attestations verification failed, verifiedCount: 0, requiredCount: 1, error: sigstore bundle verification failed: no matching signatures found/,
    );
    expect(v.code).not.toBe(0);
    // Control: without the requirement the same image is admitted (the signature is good).
    const plain = await kyverno(renderPolicy(opts({ requireProvenance: undefined })), `${repo}@${d.none}`);
    expect(plain.verdict).toBe('pass');
  });

  it('denies provenance from a foreign builder, with the condition message', async () => {
    const v = await kyverno(renderPolicy(opts()), `${repo}@${d.foreignBuilder}`);
    expect(v.verdict).toBe('fail');
    expect(v.message).toContain('the provenance builder id is not an allowed hallmark build-sign-scan ref');
  });

  it('denies our builder at a ref that is not allowed, and admits it when that ref is allowed', async () => {
    expect((await kyverno(renderPolicy(opts()), `${repo}@${d.branchBuilder}`)).verdict).toBe('fail');
    const branches = opts({
      requireProvenance: { builderIdRegexp: builderIdRegexp(WORKFLOW, ['refs/tags/v*', 'refs/heads/main']), sourceRepository: SOURCE },
    });
    expect((await kyverno(renderPolicy(branches), `${repo}@${d.branchBuilder}`)).verdict).toBe('pass');
  });

  it('denies provenance for another source repository', async () => {
    const v = await kyverno(renderPolicy(opts()), `${repo}@${d.foreignRepo}`);
    expect(v.verdict).toBe('fail');
    expect(v.message).toContain(`the provenance source repository is not ${SOURCE}`);
  });

  it('denies provenance signed by another key (the image signature itself is good)', async () => {
    const v = await kyverno(renderPolicy(opts()), `${repo}@${d.otherKey}`);
    expect(v.verdict).toBe('fail');
    expect(v.message).toMatch(/image attestations verification failed, verifiedCount: 0, requiredCount: 1/);
  });

  it('an optional source ref condition is evaluated too', async () => {
    const onMain = opts({
      requireProvenance: {
        builderIdRegexp: builderIdRegexp(WORKFLOW, ['refs/tags/v*']),
        sourceRepository: SOURCE,
        sourceRef: 'refs/heads/main',
      },
    });
    expect((await kyverno(renderPolicy(onMain), `${repo}@${d.good}`)).verdict).toBe('pass');
    const onRelease = opts({
      requireProvenance: {
        builderIdRegexp: builderIdRegexp(WORKFLOW, ['refs/tags/v*']),
        sourceRepository: SOURCE,
        sourceRef: 'refs/heads/release',
      },
    });
    const v = await kyverno(renderPolicy(onRelease), `${repo}@${d.good}`);
    expect(v.verdict).toBe('fail');
    expect(v.message).toContain('the provenance source ref is not refs/heads/release');
  });
});

describe('ImageValidatingPolicy with requireProvenance, judged by kyverno apply 1.19.0', () => {
  const NAME = 'hallmark-verify-shop';
  const ivp = (over: Partial<PolicyOptions> = {}) => renderPolicy(opts({ kind: 'image-validating-policy', ...over }));
  it('admits the signed image with good provenance', async () => {
    const v = await kyverno(ivp(), `${repo}@${d.good}`, NAME);
    expect(v.verdict, v.message).toBe('pass');
  });
  it.each([
    ['no provenance', () => d.none, `must carry SLSA provenance (${SLSA_PROVENANCE_V1_TYPE}) by the same signer`],
    ['provenance by another key', () => d.otherKey, 'must carry SLSA provenance'],
    ['a foreign builder', () => d.foreignBuilder, 'the provenance builder id is not an allowed hallmark build-sign-scan ref'],
    [
      'our builder at a branch that is not allowed',
      () => d.branchBuilder,
      'the provenance builder id is not an allowed hallmark build-sign-scan ref',
    ],
    ['another source repository', () => d.foreignRepo, `the provenance source repository is not ${SOURCE}`],
  ])('denies %s, with the message of the failing check', async (_what, dg, message) => {
    const v = await kyverno(ivp(), `${repo}@${dg()}`, NAME);
    expect(v.verdict).toBe('fail');
    expect(v.message).toContain(message);
  });
  it('control: without the requirement, the image with no provenance is admitted', async () => {
    expect((await kyverno(ivp({ requireProvenance: undefined }), `${repo}@${d.none}`, NAME)).verdict).toBe('pass');
  });
});
