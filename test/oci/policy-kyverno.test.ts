/**
 * The admission policy build-sign writes (packages/oci/src/policy.ts), judged by the REAL Kyverno
 * CLI 1.19.0 (`kyverno apply <policy> --resource <pod> -p --output-format json`) against images in
 * a real loopback registry (docker-registry), built with buildah FROM scratch and signed by REAL
 * cosign 3.1.2 (Sigstore bundle as an OCI referrer) and REAL cosign 2.6.4 (legacy `.sig` tag).
 *
 * What the real tools showed (read at the tags):
 * - kyverno apply reaches the registry without `--registry` (that flag only feeds image data to
 *   context variables): cmd/cli/kubectl-kyverno/processor/policy_processor.go always builds a
 *   registry client, and go-containerregistry (pkg/name/registry.go `Scheme()`) talks plain HTTP
 *   to 127.0.0.1:<port> by itself, so no TLS is needed.
 * - The verdicts come per rule in the policy report (`-p`): for a ClusterPolicy the verifyImages
 *   rule reports twice (verification, then the "image verified" check of the validate phase); an
 *   ImageValidatingPolicy reports one result named after the policy, whose message is that of the
 *   first failing validation (pkg/image/verification/evaluator/policy.go).
 * - `kyverno apply` runs only the validating half of an ImageValidatingPolicy
 *   (cmd/cli/kubectl-kyverno/commands/apply/command.go applyImageValidatingPolicies calls
 *   HandleValidating, never HandleMutating), so a tag is not pinned to its digest first and a
 *   matched image given by tag is refused with "image … does not have a digest" (verifyDigest).
 * - cosign 3.1.2 refuses `--tlog-upload=false` unless `--use-signing-config=false` is also given
 *   ("--tlog-upload=false is not supported with --signing-config or --use-signing-config";
 *   cmd/cosign/cli/options/sign.go, the flag is deprecated for a signing config without Rekor).
 */
import { execFile, execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml, stringify } from 'yaml';
import { policyObject, renderPolicy, type PolicyOptions } from '@hallmark/oci';
import type { Registry } from '../harness/registry.js';
import { toolPath } from '../harness/tools.js';
import { startKyvernoLab, type KyvernoLab } from './kyverno-lab.js';

const run = promisify(execFile);
const PASSWORD = 'h2-policy-test-password';

let registry: Registry;
let dir: string;
let repo: string; // 127.0.0.1:<port>/shop
const d = { signed: '', unsigned: '', otherKey: '', legacy: '', worker: '', front: '' }; // digests by role
const pub: Record<'a' | 'b', string> = { a: '', b: '' };
let kyvernoEnv: NodeJS.ProcessEnv;

let lab: KyvernoLab;
const buildAndPush = (ref: string, nonce: string): string => lab.buildAndPush(ref, nonce);
const keyPair = (name: string) => lab.keyPair(name, PASSWORD);

/** Key mode with no transparency log (air-gapped), as build-sign's `tlog: false` does. */
function sign(tool: 'cosign' | 'cosign2', key: string, ref: string): void {
  // cosign 3.1.2 (cmd/cosign/cli/options/sign.go): --tlog-upload=false only with --use-signing-config=false.
  const args =
    tool === 'cosign'
      ? ['sign', '--key', key, '--use-signing-config=false', '--tlog-upload=false', '-y', ref]
      : ['sign', '--key', key, '--tlog-upload=false', '-y', ref];
  execFileSync(toolPath(tool), args, {
    env: { PATH: process.env.PATH, HOME: dir, DOCKER_CONFIG: join(dir, 'docker'), COSIGN_PASSWORD: PASSWORD },
    stdio: 'pipe',
  });
}

interface RuleResult {
  policy: string;
  rule: string;
  result: string;
  message: string;
}
interface Verdict {
  code: number;
  results: RuleResult[];
  out: string;
  /** 'pass' if every result of the rule passed, 'fail' if one failed (or errored), 'absent' when the rule never ran. */
  rule(name: string): 'pass' | 'fail' | 'absent';
  messages(name: string): string;
}

let seq = 0;
function podYaml(containers: string[], initContainers: string[] = []): string {
  const c = (list: string[], p: string) => list.map((image, i) => ({ name: `${p}${i}`, image }));
  const spec: Record<string, unknown> = { containers: c(containers, 'c') };
  if (initContainers.length) spec.initContainers = c(initContainers, 'i');
  return stringify({ apiVersion: 'v1', kind: 'Pod', metadata: { name: `pod-${++seq}`, namespace: 'default' }, spec });
}

/** A Deployment: Kyverno's autogen (ClusterPolicy rules `autogen-*`, IVP pod-controller rewrite) must cover it. */
function deploymentYaml(image: string): string {
  const labels = { app: 'shop' };
  return stringify({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: `deploy-${++seq}`, namespace: 'default' },
    spec: { selector: { matchLabels: labels }, template: { metadata: { labels }, spec: { containers: [{ name: 'c', image }] } } },
  });
}

/** `kyverno apply <policy> --resource <pod> -p --output-format json`: the policy report's results. */
async function kyverno(
  policy: string | Record<string, unknown>,
  containers: string[] | { yaml: string },
  initContainers: string[] = [],
): Promise<Verdict> {
  const n = ++seq;
  const pf = join(dir, `policy-${n}.yaml`);
  const rf = join(dir, `resource-${n}.yaml`);
  writeFileSync(pf, typeof policy === 'string' ? policy : stringify(policy));
  writeFileSync(rf, Array.isArray(containers) ? podYaml(containers, initContainers) : containers.yaml);
  let code = 0;
  let out = '';
  try {
    out = (
      await run(toolPath('kyverno'), ['apply', pf, '--resource', rf, '-p', '--output-format', 'json', '--remove-color'], {
        env: kyvernoEnv,
        timeout: 60_000,
      })
    ).stdout;
  } catch (e) {
    const err = e as { code?: number; stdout?: string; stderr?: string };
    code = typeof err.code === 'number' ? err.code : -1;
    out = `${err.stdout ?? ''}${err.stderr ?? ''}`;
  }
  const at = out.indexOf('{"kind"');
  if (at < 0) throw new Error(`kyverno printed no policy report (exit ${code}):\n${out.slice(0, 2000)}`);
  const report = JSON.parse(out.slice(at).trim().split('\n')[0]!) as { results?: RuleResult[] };
  const results = (report.results ?? []).map((r) => ({ policy: r.policy, rule: r.rule, result: r.result, message: r.message ?? '' }));
  return {
    code,
    results,
    out,
    rule(name) {
      const mine = results.filter((r) => r.rule === name);
      if (mine.length === 0) return 'absent';
      return mine.every((r) => r.result === 'pass') ? 'pass' : 'fail';
    },
    messages(name) {
      return results
        .filter((r) => r.rule === name)
        .map((r) => r.message)
        .join('\n');
    },
  };
}

beforeAll(async () => {
  lab = await startKyvernoLab('hallmark-policy-kyverno-');
  ({ dir, registry, repo, env: kyvernoEnv } = lab);
  d.signed = buildAndPush(`${repo}:v1`, 'signed'); // cosign 3, key A
  d.unsigned = buildAndPush(`${repo}:unsigned`, 'unsigned');
  d.otherKey = buildAndPush(`${repo}:other-key`, 'other-key'); // cosign 3, key B
  d.legacy = buildAndPush(`${repo}:legacy`, 'legacy'); // cosign 2.6.4, key A
  d.worker = buildAndPush(`${registry.host}/shop-worker:v1`, 'worker'); // sibling repository, unsigned
  d.front = buildAndPush(`${registry.host}/shopfront:v1`, 'front'); // sibling by prefix, unsigned
  const a = keyPair('a');
  const b = keyPair('b');
  pub.a = a.pub;
  pub.b = b.pub;
  sign('cosign', a.key, `${repo}@${d.signed}`);
  sign('cosign', b.key, `${repo}@${d.otherKey}`);
  sign('cosign2', a.key, `${repo}@${d.legacy}`);
}, 300_000);

afterAll(async () => {
  await lab?.stop();
});

const opts = (over: Partial<PolicyOptions> = {}): PolicyOptions => ({
  image: { registry: registry.host, repository: 'shop' },
  attestor: { publicKey: pub.a },
  tlog: false,
  ...over,
});

describe('the signatures under test are where each cosign puts them (real registry)', () => {
  it('cosign 3 stored a referrers-tag index (sha256-<hex>), cosign 2.6.4 the legacy sha256-<hex>.sig tag', async () => {
    const tags = ((await (await fetch(`${registry.url}/v2/shop/tags/list`)).json()) as { tags: string[] }).tags;
    const tagOf = (dg: string) => dg.replace(':', '-');
    expect(tags).toContain(tagOf(d.signed));
    expect(tags).not.toContain(`${tagOf(d.signed)}.sig`);
    expect(tags).toContain(`${tagOf(d.legacy)}.sig`);
    expect(tags).not.toContain(tagOf(d.unsigned));
    expect(tags).not.toContain(`${tagOf(d.unsigned)}.sig`);
  });
});

describe('ClusterPolicy (kyverno.io/v1), type SigstoreBundle, judged by kyverno apply 1.19.0', () => {
  let policy: string;
  beforeAll(() => {
    policy = renderPolicy(opts());
  });

  it('the rendered policy uses the current fields (type, per-rule failureAction, webhookConfiguration)', () => {
    const p = parseYaml(policy);
    expect(p.spec.validationFailureAction).toBeUndefined();
    expect(p.spec.webhookTimeoutSeconds).toBeUndefined();
    expect(p.spec.webhookConfiguration).toEqual({ timeoutSeconds: 30 });
    expect(p.spec.rules[0].verifyImages[0].type).toBe('SigstoreBundle');
    expect(p.spec.rules[0].verifyImages[0].failureAction).toBe('Enforce');
    expect(p.spec.rules[1].validate.failureAction).toBe('Enforce');
  });

  it('admits a Pod running the digest cosign 3 signed', async () => {
    const v = await kyverno(policy, [`${repo}@${d.signed}`]);
    expect(v.rule('verify-image-signature')).toBe('pass');
    expect(v.messages('verify-image-signature')).toContain(`verified image signatures for ${repo}@${d.signed}`);
    expect(v.rule('disallow-latest-tag')).toBe('pass');
    expect(v.code).toBe(0);
  });

  it('admits the signed image given by tag (mutateDigest resolves it to the signed digest)', async () => {
    const v = await kyverno(policy, [`${repo}:v1`]);
    expect(v.rule('verify-image-signature')).toBe('pass');
    expect(v.code).toBe(0);
  });

  it('denies an unsigned digest of the repository', async () => {
    const v = await kyverno(policy, [`${repo}@${d.unsigned}`]);
    expect(v.rule('verify-image-signature')).toBe('fail');
    expect(v.messages('verify-image-signature')).toMatch(/sigstore bundle verification failed: no matching signatures/);
    expect(v.code).not.toBe(0);
  });

  it('denies a digest signed by another key', async () => {
    const v = await kyverno(policy, [`${repo}@${d.otherKey}`]);
    expect(v.rule('verify-image-signature')).toBe('fail');
    expect(v.messages('verify-image-signature')).toMatch(/no matching signatures/);
    // …and the other key's policy admits it: the denial is about the key, not the image.
    const other = await kyverno(renderPolicy(opts({ attestor: { publicKey: pub.b } })), [`${repo}@${d.otherKey}`]);
    expect(other.rule('verify-image-signature')).toBe('pass');
  });

  it('does not touch the sibling repositories shop-worker and shopfront (unsigned, no verify result at all)', async () => {
    const v = await kyverno(policy, [`${registry.host}/shop-worker@${d.worker}`, `${registry.host}/shopfront:v1`]);
    expect(v.rule('verify-image-signature')).toBe('absent');
    expect(v.rule('disallow-latest-tag')).toBe('pass');
    expect(v.code).toBe(0);
  });

  it('control: the old `<repo>*` reference captured shop-worker and denied it', async () => {
    const old = policyObject(opts()) as { spec: { rules: { verifyImages?: { imageReferences: string[] }[] }[] } };
    old.spec.rules[0]!.verifyImages![0]!.imageReferences = [`${repo}*`];
    const v = await kyverno(old, [`${registry.host}/shop-worker@${d.worker}`]);
    expect(v.rule('verify-image-signature')).toBe('fail');
  });

  for (const [what, image] of [
    [':latest', () => `${registry.host}/elsewhere:latest`],
    [':LATEST', () => `${registry.host}/elsewhere:LATEST`],
    ['an untagged image (registry with a port)', () => `${registry.host}/elsewhere`],
    ['an untagged Docker Hub short name', () => 'busybox'],
    ['x:latest@sha256 (even the signed digest)', () => `${repo}:latest@${d.signed}`],
  ] as const) {
    it(`the latest rule refuses ${what}, with its message`, async () => {
      const v = await kyverno(policy, [image()]);
      expect(v.rule('disallow-latest-tag')).toBe('fail');
      expect(v.messages('disallow-latest-tag')).toContain("must not use the 'latest' tag");
      expect(v.code).not.toBe(0);
    });
  }

  it('the latest rule also looks at initContainers, and lets a real tag or a bare digest through', async () => {
    const v = await kyverno(policy, [`${registry.host}/elsewhere:v2`], [`${registry.host}/elsewhere:latest`]);
    expect(v.rule('disallow-latest-tag')).toBe('fail');
    const ok = await kyverno(policy, [
      `${registry.host}/elsewhere:v2`,
      `${registry.host}/elsewhere@${d.worker}`,
      `${registry.host}/elsewhere:latest-but-not`,
    ]);
    expect(ok.rule('disallow-latest-tag')).toBe('pass');
  });

  it('control: the old `!*:latest` pattern let untagged and latest@sha256 through', async () => {
    const old = policyObject(opts()) as { spec: { rules: { name: string; validate?: unknown }[] } };
    old.spec.rules[1]!.validate = {
      failureAction: 'Enforce',
      message: 'old',
      foreach: [{ list: 'request.object.spec.containers', pattern: { image: '!*:latest' } }],
    };
    for (const image of [`${registry.host}/elsewhere`, `${repo}:latest@${d.signed}`]) {
      expect((await kyverno(old, [image])).rule('disallow-latest-tag')).toBe('pass');
    }
  });

  it('the bug being fixed: type Cosign (what the old policy defaulted to) denies the cosign 3 signature', async () => {
    const v = await kyverno(renderPolicy(opts({ signatureFormat: 'legacy' })), [`${repo}@${d.signed}`]);
    expect(parseYaml(renderPolicy(opts({ signatureFormat: 'legacy' }))).spec.rules[0].verifyImages[0].type).toBe('Cosign');
    expect(v.rule('verify-image-signature')).toBe('fail');
    expect(v.messages('verify-image-signature')).toMatch(/no signatures found/);
    // and with no type at all (Kyverno's default), the same denial
    const untyped = policyObject(opts()) as { spec: { rules: { verifyImages?: Record<string, unknown>[] }[] } };
    delete untyped.spec.rules[0]!.verifyImages![0]!.type;
    expect((await kyverno(untyped, [`${repo}@${d.signed}`])).rule('verify-image-signature')).toBe('fail');
  });

  it('signatureFormat legacy (type Cosign) admits what cosign 2.6.4 signed; SigstoreBundle does not', async () => {
    const v = await kyverno(renderPolicy(opts({ signatureFormat: 'legacy' })), [`${repo}@${d.legacy}`]);
    expect(v.rule('verify-image-signature')).toBe('pass');
    expect(v.code).toBe(0);
    const bundle = await kyverno(policy, [`${repo}@${d.legacy}`]);
    expect(bundle.rule('verify-image-signature')).toBe('fail');
  });

  it('tlog matters: with tlog true (no ignoreTlog/ignoreSCT) the signature made without Rekor is denied', async () => {
    // sigstore.go getTrustedMaterial: a static key with both ignores needs no TUF root; without them
    // Kyverno wants the public trusted root and a log entry (offline it fails fetching the root first).
    const v = await kyverno(renderPolicy(opts({ tlog: true })), [`${repo}@${d.signed}`]);
    expect(v.rule('verify-image-signature')).toBe('fail');
    const ivp = await kyverno(renderPolicy(opts({ tlog: true, kind: 'image-validating-policy' })), [`${repo}@${d.signed}`]);
    expect(ivp.rule('hallmark-verify-shop')).toBe('fail');
  });

  it('covers Deployments through autogen rules: signed admitted, unsigned and :latest denied', async () => {
    const ok = await kyverno(policy, { yaml: deploymentYaml(`${repo}@${d.signed}`) });
    expect(ok.rule('autogen-verify-image-signature')).toBe('pass');
    expect(ok.rule('autogen-disallow-latest-tag')).toBe('pass');
    expect((await kyverno(policy, { yaml: deploymentYaml(`${repo}@${d.unsigned}`) })).rule('autogen-verify-image-signature')).toBe('fail');
    expect((await kyverno(policy, { yaml: deploymentYaml(`${registry.host}/elsewhere:latest`) })).rule('autogen-disallow-latest-tag')).toBe(
      'fail',
    );
  });

  it('legacy type still denies an unsigned digest and another key', async () => {
    const legacy = renderPolicy(opts({ signatureFormat: 'legacy' }));
    expect((await kyverno(legacy, [`${repo}@${d.unsigned}`])).rule('verify-image-signature')).toBe('fail');
    const other = await kyverno(renderPolicy(opts({ signatureFormat: 'legacy', attestor: { publicKey: pub.b } })), [`${repo}@${d.legacy}`]);
    expect(other.rule('verify-image-signature')).toBe('fail');
  });
});

describe('every variant is schema-valid for Kyverno 1.19.0 (kyverno skips a file with an unknown field and prints no report)', () => {
  const keyless = {
    keyless: {
      subject: 'https://github.com/o/p/.github/workflows/s.yml@refs/tags/v1',
      issuer: 'https://token.actions.githubusercontent.com',
    },
  };
  for (const kind of ['cluster-policy', 'image-validating-policy'] as const) {
    for (const [what, over] of [
      ['keyless', { attestor: keyless, tlog: true, rekorUrl: 'https://rekor.example.test' }],
      ['key with the log', { tlog: true }],
      ['key, legacy format', { signatureFormat: 'legacy' }],
    ] as const) {
      it(`${kind}, ${what}: loads and judges a Pod of another repository (latest rule only)`, async () => {
        const v = await kyverno(renderPolicy(opts({ kind, ...over } as Partial<PolicyOptions>)), [`${registry.host}/elsewhere:latest`]);
        expect(v.results.length).toBeGreaterThan(0);
        expect(v.results.every((r) => r.policy === 'hallmark-verify-shop')).toBe(true);
        expect(v.results.some((r) => r.result === 'fail' && r.message.includes("must not use the 'latest' tag"))).toBe(true);
      });
    }
  }
  it('control: a policy with an unknown field is skipped by kyverno (so the checks above have teeth)', async () => {
    const bad = policyObject(opts()) as { spec: Record<string, unknown> };
    bad.spec.validationFailureActionX = 'Enforce';
    await expect(kyverno(bad, [`${registry.host}/elsewhere:latest`])).rejects.toThrow(/no policy report/);
  });
});

describe('ImageValidatingPolicy (policies.kyverno.io/v1), judged by kyverno apply 1.19.0', () => {
  let policy: string;
  const NAME = 'hallmark-verify-shop';
  beforeAll(() => {
    policy = renderPolicy(opts({ kind: 'image-validating-policy' }));
  });
  const verdict = (v: Verdict) => v.rule(NAME);

  it('admits a Pod running the digest cosign 3 signed', async () => {
    const v = await kyverno(policy, [`${repo}@${d.signed}`]);
    expect(v.results.map((r) => r.policy)).toEqual([NAME]);
    expect(verdict(v)).toBe('pass');
    expect(v.code).toBe(0);
  });

  it('denies an unsigned digest, and one signed by another key, with the signer message', async () => {
    for (const dg of [d.unsigned, d.otherKey]) {
      const v = await kyverno(policy, [`${repo}@${dg}`]);
      expect(verdict(v)).toBe('fail');
      expect(v.messages(NAME)).toBe(`${repo} must be signed by the embedded cosign public key`);
    }
  });

  it('admits what cosign 2.6.4 signed (the IVP cosign verifier detects the legacy format itself)', async () => {
    const v = await kyverno(policy, [`${repo}@${d.legacy}`]);
    expect(verdict(v)).toBe('pass');
  });

  it('does not touch shop-worker / shopfront; the old `<repo>*` glob would have denied them', async () => {
    const v = await kyverno(policy, [`${registry.host}/shop-worker@${d.worker}`, `${registry.host}/shopfront@${d.front}`]);
    expect(verdict(v)).toBe('pass');
    const old = policyObject(opts({ kind: 'image-validating-policy' })) as { spec: { matchImageReferences: { glob: string }[] } };
    old.spec.matchImageReferences = [{ glob: `${repo}*` }];
    expect(verdict(await kyverno(old, [`${registry.host}/shop-worker@${d.worker}`]))).toBe('fail');
  });

  for (const [what, image] of [
    [':latest', () => `${registry.host}/elsewhere:latest`],
    ['an untagged image', () => `${registry.host}/elsewhere`],
    ['x:latest@sha256 (even the signed digest)', () => `${repo}:latest@${d.signed}`],
  ] as const) {
    it(`refuses ${what} with the latest message`, async () => {
      const v = await kyverno(policy, [image()]);
      expect(verdict(v)).toBe('fail');
      expect(v.messages(NAME)).toContain("must not use the 'latest' tag");
    });
  }

  it('covers Deployments (pod-controller autogen): signed admitted, unsigned and :latest denied', async () => {
    expect(verdict(await kyverno(policy, { yaml: deploymentYaml(`${repo}@${d.signed}`) }))).toBe('pass');
    const unsigned = await kyverno(policy, { yaml: deploymentYaml(`${repo}@${d.unsigned}`) });
    expect(verdict(unsigned)).toBe('fail');
    expect(unsigned.messages(NAME)).toContain('must be signed');
    const latest = await kyverno(policy, { yaml: deploymentYaml(`${registry.host}/elsewhere:latest`) });
    expect(verdict(latest)).toBe('fail');
    expect(latest.messages(NAME)).toContain("must not use the 'latest' tag");
  });

  it('kyverno apply does not pin tags for an IVP (no mutating pass): a matched tag is refused for want of a digest', async () => {
    const v = await kyverno(policy, [`${repo}:v1`]);
    expect(verdict(v)).toBe('fail');
    expect(v.messages(NAME)).toBe(`image ${repo}:v1 does not have a digest`);
  });
});
