/**
 * verify-image's bundle (dist/verify-image/index.js) run as the runner runs it, against the REAL
 * cosign 3.1.2 (behind build-sign's argv recorder, which decides nothing), a real docker-registry
 * and the loopback Sigstore (./lab.ts: the Fulcio certificates carry the claims of a token we make,
 * which is the one simulated part). Every verdict asserted here is cosign's, plus our provenance
 * checks over what cosign verified.
 */
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cosignCalls, makeLab, type Lab } from '../harness/build-lab.js';
import { runAction, runnerHome, runtimes, type ActionResult } from '../harness/runner.js';
import { toolPath } from '../harness/tools.js';
import { CALLER, hasRegistry, provenance, SHA, startVerifyLab, WORKFLOW, type Claims, type VerifyLab } from './lab.js';

const GH = `https://github.com/${WORKFLOW}`;
const at = (ref: string, repository = CALLER): Claims => ({ job_workflow_ref: `${WORKFLOW}@${ref}`, repository });

describe.skipIf(!hasRegistry)('verify-image against the real cosign', () => {
  let lab: VerifyLab;
  let rec: Lab;
  beforeAll(async () => {
    lab = await startVerifyLab();
    rec = makeLab();
  });
  afterAll(async () => {
    await lab?.close();
    rec?.cleanup();
  });

  /** Runs the bundle keyless against the loopback Sigstore (its trusted root checked into the workspace). */
  async function verify(
    imageRef: string,
    inputs: Record<string, string> = {},
    runtime = runtimes()[0],
    env: Record<string, string> = {},
  ): Promise<ActionResult> {
    const home = runnerHome('hallmark-verify-image-');
    mkdirSync(join(home.workspace, 'sigstore'), { recursive: true });
    copyFileSync(lab.sigstore.trustedRootPath, join(home.workspace, 'sigstore/trusted_root.json'));
    return runAction('verify-image', {
      home,
      runtime,
      inputs: { 'image-ref': imageRef, 'trusted-root': 'sigstore/trusted_root.json', ...inputs },
      env: { PATH: rec.env().PATH, ...env },
    });
  }
  /** A pushed image signed and attested keyless as `claims` (provenance builder = the same workflow ref unless given). */
  async function built(claims: Claims, pred: { builder?: string; repository?: string; ref?: string } | false = {}): Promise<string> {
    const ref = await lab.pushImage();
    await lab.signKeyless(ref, claims);
    if (pred !== false)
      await lab.attestKeyless(
        ref,
        claims,
        provenance({
          builder: pred.builder ?? `https://github.com/${claims.job_workflow_ref}`,
          repository: pred.repository ?? claims.repository,
          ref: pred.ref,
        }),
      );
    return ref;
  }

  describe.each(runtimes())('on $name', (rt) => {
    it.each([
      ['@v1', 'refs/tags/v1'],
      ['@v1.2.3', 'refs/tags/v1.2.3'],
      ['@<sha>', SHA],
    ])('admits a caller that pins build-sign-scan %s (signature and provenance)', async (_pin, ref) => {
      const img = await built(at(ref));
      const r = await verify(img, {}, rt);
      expect(r.errors, r.stdout).toEqual([]);
      expect(r.code).toBe(0);
      expect(r.outputs).toMatchObject({
        passed: 'true',
        mode: 'keyless',
        signer: `${GH}@${ref}`,
        'source-repository': CALLER,
        'source-ref': 'refs/heads/main',
      });
      expect(r.outputs['failure-reason']).toBeUndefined();
      expect(r.summary).toContain('✅ verified');
    });
  });

  it('gives cosign the anchored pattern, the issuer and the caller’s repository, and runs verify then verify-attestation', async () => {
    const img = await built(at('refs/tags/v1'));
    const before = cosignCalls(rec).length;
    const r = await verify(img);
    expect(r.code).toBe(0);
    const calls = cosignCalls(rec).slice(before);
    expect(calls.map((c) => c.cmd)).toEqual(['version', 'verify', 'verify-attestation']);
    for (const c of calls.slice(1)) {
      const re = c.argv[c.argv.indexOf('--certificate-identity-regexp') + 1];
      expect(re).toBe(
        '^https://github\\.com/hallmark-dev/hallmark/\\.github/workflows/build-sign-scan\\.yml@(refs/tags/v\\d+(\\.\\d+){0,2}|[0-9a-f]{40}|refs/heads/main)$',
      );
      expect(c.argv[c.argv.indexOf('--certificate-github-workflow-repository') + 1]).toBe(CALLER);
      expect(c.argv[c.argv.indexOf('--certificate-oidc-issuer') + 1]).toBe('https://token.actions.githubusercontent.com');
      expect(c.argv.at(-1)).toBe(img);
    }
  });

  it.each([
    [
      'a foreign workflow path in the same repository',
      { job_workflow_ref: 'hallmark-dev/hallmark/.github/workflows/other.yml@refs/tags/v1', repository: CALLER },
    ],
    [
      'the same workflow file in a fork',
      { job_workflow_ref: 'evil-org/hallmark/.github/workflows/build-sign-scan.yml@refs/tags/v1', repository: CALLER },
    ],
    ['our workflow run for a foreign repository', at('refs/tags/v1', 'evil-org/shop')],
    ['our workflow at a feature branch', at('refs/heads/feature')],
    ['our workflow at a pre-release tag', at('refs/tags/v1.2.3-rc1')],
  ])('refuses %s: identity-rejected, nothing else runs', async (_what, claims) => {
    const img = await built(claims, false);
    const before = cosignCalls(rec).length;
    const r = await verify(img);
    expect(r.code).toBe(1);
    expect(r.outputs['failure-reason']).toBe('identity-rejected');
    expect(r.outputs.passed).toBe('false');
    expect(r.errors.join('\n')).toMatch(
      /verify-image: the signature is not from the allowed signer: .*(CertificateIdentity|GithubWorkflowRepository)/,
    );
    expect(
      cosignCalls(rec)
        .slice(before)
        .map((c) => c.cmd),
    ).toEqual(['version', 'verify']);
  });

  it('a workflow named by the caller is honoured exactly: the other workflow is admitted, ours then is not', async () => {
    const other = { job_workflow_ref: 'octo-org/platform/.github/workflows/release.yml@refs/tags/v3', repository: CALLER };
    const img = await built(other, { builder: 'https://github.com/octo-org/platform/.github/workflows/release.yml@refs/tags/v3' });
    expect((await verify(img, { workflow: 'octo-org/platform/.github/workflows/release.yml' })).outputs.passed).toBe('true');
    const ours = await built(at('refs/tags/v1'));
    expect((await verify(ours, { workflow: 'octo-org/platform/.github/workflows/release.yml' })).outputs['failure-reason']).toBe(
      'identity-rejected',
    );
  });

  it('allowed-refs narrows the policy: tags: v2 refuses a v1 signature that the default admits', async () => {
    const img = await built(at('refs/tags/v1.4.0'));
    expect((await verify(img)).outputs.passed).toBe('true');
    const r = await verify(img, { 'allowed-refs': 'tags: v2' });
    expect(r.outputs['failure-reason']).toBe('identity-rejected');
  });

  it.each([
    ['allowed-refs', 'branches: main|.*'],
    ['allowed-refs', 'sha: .*'],
    ['allowed-refs', 'tags: v1|refs/heads/.*'],
    ['workflow', 'hallmark-dev/hallmark/.github/workflows/.*'],
    ['workflow', 'hallmark-dev/hallmark/.github/workflows/b.yml@.*'],
    ['source-repository', 'octo-org/.*'],
  ])('a regexp injection in %s is refused as invalid-input before cosign runs', async (name, value) => {
    const img = await built(at('refs/heads/evil'), false);
    const before = cosignCalls(rec).length;
    const r = await verify(img, { [name]: value });
    expect(r.code).toBe(1);
    expect(r.outputs['failure-reason']).toBe('invalid-input');
    expect(r.errors).toHaveLength(1);
    expect(r.errors[0]).toMatch(new RegExp(`^verify-image: input '${name}' `));
    expect(cosignCalls(rec).length).toBe(before);
  });

  it('an unsigned image: signature-invalid', async () => {
    const img = await lab.pushImage();
    const r = await verify(img);
    expect(r.outputs['failure-reason']).toBe('signature-invalid');
    expect(r.stdout).toMatch(/no signatures found|no matching attestations/);
  });

  describe('provenance', () => {
    it('signed but no provenance: provenance-rejected at the attestation', async () => {
      const img = await built(at('refs/tags/v1'), false);
      const r = await verify(img);
      expect(r.outputs['failure-reason']).toBe('provenance-rejected');
      expect(r.errors[0]).toMatch(/no SLSA provenance attestation verifies in the signer policy/);
      expect(r.outputs.passed).toBe('false');
      // …and require-provenance: false admits the same image on its signature alone.
      const ok = await verify(img, { 'require-provenance': 'false' });
      expect(ok.outputs).toMatchObject({ passed: 'true', 'source-repository': CALLER, 'source-ref': '' });
    });

    it('provenance signed by a foreign identity does not count', async () => {
      const img = await built(at('refs/tags/v1'), false);
      const foreign = { job_workflow_ref: 'evil-org/x/.github/workflows/x.yml@refs/heads/main', repository: CALLER };
      await lab.attestKeyless(img, foreign, provenance({ builder: `${GH}@refs/tags/v1` }));
      const r = await verify(img);
      expect(r.outputs['failure-reason']).toBe('provenance-rejected');
      expect(r.errors[0]).toContain('attestation');
    });

    it.each([
      ['buildDefinition.externalParameters.workflow.repository', { repository: 'evil-org/shop' }, {}],
      ['runDetails.builder.id', { builder: `${GH}@refs/heads/feature` }, {}],
      ['runDetails.builder.id', { builder: 'https://github.com/evil-org/hallmark/.github/workflows/build-sign-scan.yml@refs/tags/v1' }, {}],
      [
        'buildDefinition.externalParameters.workflow.ref',
        { ref: 'refs/heads/feature' },
        { 'require-default-branch': 'true', 'default-branch': 'main' },
      ],
    ])('a predicate whose %s does not match: provenance-rejected naming the field', async (field, pred, inputs) => {
      const img = await built(at('refs/tags/v1'), pred);
      const r = await verify(img, inputs);
      expect(r.code).toBe(1);
      expect(r.outputs['failure-reason']).toBe('provenance-rejected');
      expect(r.errors[0]).toContain(`provenance ${field} is `);
      expect(r.summary).toContain(field);
    });

    it('require-default-branch reads the default branch from the event payload: main is admitted, a payload saying trunk refuses', async () => {
      const img = await built(at(SHA));
      const event = (branch: string) => {
        const f = join(lab.dir, `event-${branch}.json`);
        writeFileSync(f, JSON.stringify({ repository: { full_name: CALLER, default_branch: branch } }));
        return { GITHUB_EVENT_PATH: f };
      };
      const r = await verify(img, { 'require-default-branch': 'true' }, undefined, event('main'));
      expect(r.outputs).toMatchObject({ passed: 'true', 'source-ref': 'refs/heads/main', signer: `${GH}@${SHA}` });
      const t = await verify(img, { 'require-default-branch': 'true' }, undefined, event('trunk'));
      expect(t.outputs['failure-reason']).toBe('provenance-rejected');
      expect(t.errors[0]).toContain('expected the default branch refs/heads/trunk');
    });
  });

  describe('key mode', () => {
    it('verifies signature and provenance with the public key (no transparency log), and never prints the key', async () => {
      const img = await lab.pushImage();
      await lab.signKey(img);
      await lab.attestKey(img, provenance({ builder: `${GH}@refs/tags/v1` }));
      const r = await verify(img, { 'public-key': lab.publicKey, tlog: 'false', 'trusted-root': '' });
      expect(r.errors, r.stdout).toEqual([]);
      expect(r.outputs).toMatchObject({ passed: 'true', mode: 'key', 'source-repository': CALLER });
      expect(r.outputs.signer).toMatch(/^key:sha256:[0-9a-f]{64}$/);
      const body = lab.publicKey.split('\n')[1]!;
      expect(r.stdout.replace(/::add-mask::.*/g, '')).not.toContain(body);
      expect(r.summary).not.toContain(body);
      // One audit record: the image and digest, the key's fingerprint (never the key), the verdict.
      const audit = readFileSync(join(r.home.temp, 'hallmark-audit.jsonl'), 'utf8');
      expect(audit).not.toContain(body);
      const records = audit
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l));
      expect(records).toHaveLength(1);
      expect(records[0]).toMatchObject({
        action: 'verify-image',
        verdict: 'passed',
        subject: { image: img.slice(0, img.lastIndexOf('@')), digest: img.slice(img.lastIndexOf('@') + 1) },
        facts: {
          mode: 'key',
          'key-sha256': r.outputs.signer!.replace('key:sha256:', ''),
          'require-provenance': true,
          tlog: false,
          passed: true,
          'cosign-version': 'v3.1.2',
        },
      });
    });
    it('a key-signed image with foreign provenance is refused', async () => {
      const img = await lab.pushImage();
      await lab.signKey(img);
      await lab.attestKey(img, provenance({ builder: `${GH}@refs/tags/v1`, repository: 'evil-org/shop' }));
      const r = await verify(img, { 'public-key': lab.publicKey, tlog: 'false', 'trusted-root': '' });
      expect(r.outputs['failure-reason']).toBe('provenance-rejected');
    });
    it('another key: signature-invalid', async () => {
      const img = await lab.pushImage();
      await lab.signKeyless(img, at('refs/tags/v1'));
      const r = await verify(img, { 'public-key': lab.publicKey, tlog: 'false', 'trusted-root': '' });
      expect(r.outputs['failure-reason']).toBe('signature-invalid');
      const [record] = readFileSync(join(r.home.temp, 'hallmark-audit.jsonl'), 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l));
      expect(record).toMatchObject({ verdict: 'failed', failureReason: 'signature-invalid', facts: { mode: 'key', passed: false } });
    });
  });

  it('cosign 2.6.4 (a user may pin it): key mode, legacy .sig signature and provenance verified the same way', async () => {
    const img = await lab.pushImage();
    const cosign2 = toolPath('cosign2');
    const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: lab.dir, LAB_KEY: lab.privateKey, COSIGN_PASSWORD: lab.password };
    execFileSync(cosign2, ['sign', '--yes', '--key', 'env://LAB_KEY', '--tlog-upload=false', img], { env, stdio: 'pipe' });
    const pred = join(lab.dir, 'pred-cosign2.json');
    writeFileSync(pred, JSON.stringify(provenance({ builder: `${GH}@refs/tags/v2.0.0` })));
    execFileSync(
      cosign2,
      ['attest', '--yes', '--key', 'env://LAB_KEY', '--tlog-upload=false', '--type', 'slsaprovenance1', '--predicate', pred, img],
      { env, stdio: 'pipe' },
    );
    const home = runnerHome('hallmark-verify-image-');
    const r = await runAction('verify-image', {
      home,
      inputs: { 'image-ref': img, 'public-key': lab.publicKey, tlog: 'false' },
      env: { PATH: rec.env({}, 'cosign2').PATH },
    });
    expect(r.errors, r.stdout).toEqual([]);
    expect(r.outputs).toMatchObject({ passed: 'true', mode: 'key', 'source-ref': 'refs/heads/main' });
    expect(r.summary).toMatch(/cosign \| `v2\.6\.4`|`v2\.6\.4`/);
    // …and cosign 2 refuses a trusted-root (it reads one only with its new bundle format): tool-failed, said so.
    mkdirSync(join(home.workspace, 'sigstore'), { recursive: true });
    copyFileSync(lab.sigstore.trustedRootPath, join(home.workspace, 'sigstore/trusted_root.json'));
    const t = await runAction('verify-image', {
      home,
      inputs: { 'image-ref': img, 'public-key': lab.publicKey, tlog: 'false', 'trusted-root': 'sigstore/trusted_root.json' },
      env: { PATH: rec.env({}, 'cosign2').PATH },
    });
    expect(t.outputs['failure-reason']).toBe('tool-failed');
    expect(t.errors[0]).toContain('trusted-root needs cosign 3');
  });

  it('no cosign on PATH: tool-failed, naming setup-tools', async () => {
    const img = await lab.pushImage();
    const r = await runAction('verify-image', { inputs: { 'image-ref': img }, env: { PATH: '/nonexistent' } });
    expect(r.outputs['failure-reason']).toBe('tool-failed');
    expect(r.errors[0]).toContain('setup-tools');
  });
});
