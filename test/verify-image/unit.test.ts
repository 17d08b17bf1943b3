/**
 * verify-image's domain, pure: the identity policy (allowed-refs syntax, the anchored regexp built
 * from checked parts), the provenance predicate checks, the cosign argument arrays and the
 * classification of cosign's refusals. The same policy is proven against the real cosign in
 * bundle.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { classify, cosignArgs, keyFingerprint } from '../../actions/verify-image/src/flow.js';
import { DEFAULT_ALLOWED_REFS, DEFAULT_WORKFLOW, escapeRegexp, identityAllowed, identityPolicy, parseAllowedRefs, parseRepository, parseWorkflow, PolicyInputError } from '../../actions/verify-image/src/identity.js';
import { checkInputs, type RawInputs, type Runner } from '../../actions/verify-image/src/inputs.js';
import { checkProvenance, checkStatement, parseAttestations, SLSA_PROVENANCE_V1 } from '../../actions/verify-image/src/provenance-check.js';
import { CALLER, provenance, SHA } from './lab.js';

const GH = 'https://github.com/hallmark-dev/hallmark/.github/workflows/build-sign-scan.yml';
const policy = (refs = DEFAULT_ALLOWED_REFS, repo = CALLER) => identityPolicy({ workflow: parseWorkflow(DEFAULT_WORKFLOW), rules: parseAllowedRefs(refs), sourceRepository: repo });

describe('identity policy', () => {
  it('builds exactly the anchored pattern of the design for the defaults', () => {
    expect(policy().identityRegexp).toBe('^https://github\\.com/hallmark-dev/hallmark/\\.github/workflows/build-sign-scan\\.yml@(refs/tags/v\\d+(\\.\\d+){0,2}|[0-9a-f]{40}|refs/heads/main)$');
  });

  it.each([
    ['@v1', `${GH}@refs/tags/v1`],
    ['@v1.2', `${GH}@refs/tags/v1.2`],
    ['@v1.2.3', `${GH}@refs/tags/v1.2.3`],
    ['@<sha>', `${GH}@${SHA}`],
    ['@main', `${GH}@refs/heads/main`],
  ])('admits a caller pinned %s', (_pin, id) => expect(identityAllowed(policy(), id)).toBe(true));

  it.each([
    ['another workflow file', 'https://github.com/hallmark-dev/hallmark/.github/workflows/evil.yml@refs/tags/v1'],
    ['the same path in a fork', 'https://github.com/hallmark-dev/hallmarkx/.github/workflows/build-sign-scan.yml@refs/tags/v1'],
    ['a dot that a loose pattern would let through', 'https://githubXcom/hallmark-dev/hallmark/.github/workflows/build-sign-scan.yml@refs/tags/v1'],
    ['a prefix', `https://evil.example/${GH}@refs/tags/v1`],
    ['a suffix', `${GH}@refs/tags/v1/evil`],
    ['a pre-release tag', `${GH}@refs/tags/v1.2.3-rc1`],
    ['a four-part tag', `${GH}@refs/tags/v1.2.3.4`],
    ['a short SHA', `${GH}@0123456`],
    ['an uppercase SHA', `${GH}@${SHA.toUpperCase()}`],
    ['another branch', `${GH}@refs/heads/feature`],
    ['a branch named like main', `${GH}@refs/heads/main-evil`],
    ['a pull request ref', `${GH}@refs/pull/1/merge`],
  ])('refuses %s', (_what, id) => expect(identityAllowed(policy(), id)).toBe(false));

  it('narrows with tags: v1, sha: <sha> and branches', () => {
    const p = policy(['tags: v1', `sha: ${SHA}`, 'branches: release/2026, main']);
    expect(p.identityRegexp).toContain('refs/tags/v1(\\.\\d+){0,2}|0123456789abcdef0123456789abcdef01234567|refs/heads/release/2026|refs/heads/main');
    expect(identityAllowed(p, `${GH}@refs/tags/v1.4.0`)).toBe(true);
    expect(identityAllowed(p, `${GH}@refs/tags/v2.0.0`)).toBe(false);
    expect(identityAllowed(p, `${GH}@refs/tags/v10`)).toBe(false);
    expect(identityAllowed(p, `${GH}@${SHA.replace(/^0/, '1')}`)).toBe(false);
    expect(identityAllowed(p, `${GH}@refs/heads/release/2026`)).toBe(true);
  });

  it('escapes a branch name so its dots are literal', () => {
    const p = policy(['branches: v1.x']);
    expect(p.identityRegexp).toContain('refs/heads/v1\\.x)$');
    expect(identityAllowed(p, `${GH}@refs/heads/v1.x`)).toBe(true);
    expect(identityAllowed(p, `${GH}@refs/heads/v1Xx`)).toBe(false);
  });

  it('escapes every regexp metacharacter', () => {
    const s = '.*+?^${}()|[]\\';
    expect(new RegExp(`^${escapeRegexp(s)}$`).test(s)).toBe(true);
    expect(new RegExp(`^${escapeRegexp(s)}$`).test('x'.repeat(s.length))).toBe(false);
  });

  it.each([
    ['allowed-refs', ['branches: main|.*'], /branch "main\|\.\*" is not a valid branch name/],
    ['allowed-refs', ['branches: .*'], /not a valid branch name/],
    ['allowed-refs', ['branches: (x)'], /not a valid branch name/],
    ['allowed-refs', ['tags: v1|.*'], /not a release major/],
    ['allowed-refs', ['tags: v1.*'], /not a release major/],
    ['allowed-refs', ['sha: [0-9a-f]{40}'], /not a full 40-hex/],
    ['allowed-refs', ['.*'], /is not one of: tags/],
    ['allowed-refs', ['refs/heads/main'], /is not one of/],
    ['allowed-refs', ['branches:'], /needs one or more branch names/],
    ['allowed-refs', ['# only a comment'], /at least one rule/],
  ])('%s %j is refused, not turned into a pattern', (inputName, lines, msg) => {
    let err: unknown;
    try {
      parseAllowedRefs(lines);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(PolicyInputError);
    expect((err as PolicyInputError).input).toBe(inputName);
    expect((err as Error).message).toMatch(msg);
  });

  it.each(['hallmark-dev/hallmark/.github/workflows/build-sign-scan.yml@refs/tags/v1', 'hallmark-dev/hallmark/.github/workflows/.*', 'hallmark-dev/hall(mark|evil)/.github/workflows/b.yml', 'hallmark-dev/hallmark/workflows/b.yml', 'hallmark-dev/hallmark/.github/workflows/sub/b.yml', 'https://github.com/hallmark-dev/hallmark/.github/workflows/b.yml', '../x/.github/workflows/b.yml'])(
    'workflow %j is refused',
    (w) => expect(() => parseWorkflow(w)).toThrow(PolicyInputError),
  );

  it.each(['octo-org', 'octo-org/shop/x', 'octo org/shop', 'octo-org/sh(op|.*)', 'octo-org/..', '-x/y'])('source-repository %j is refused', (r) => expect(() => parseRepository('source-repository', r)).toThrow(PolicyInputError));
});

const IMG = `127.0.0.1:5000/shop/api@sha256:${'a'.repeat(64)}`;
const DIGEST = `sha256:${'a'.repeat(64)}`;
const statement = (predicate: unknown, o: { digest?: string; type?: string } = {}) => ({ _type: 'https://in-toto.io/Statement/v1', predicateType: o.type ?? SLSA_PROVENANCE_V1, subject: [{ name: '127.0.0.1:5000/shop/api', digest: { sha256: (o.digest ?? DIGEST).replace('sha256:', '') } }], predicate });

describe('provenance predicate', () => {
  const exp = { policy: policy(), digest: DIGEST };
  it('admits our builder at an allowed ref, for the caller, over this digest, and reports what it read', () => {
    const v = checkStatement(statement(provenance({ builder: `${GH}@refs/tags/v1.2.3` })), exp);
    expect(v).toEqual({ ok: true, builderId: `${GH}@refs/tags/v1.2.3`, sourceRepository: CALLER, sourceRef: 'refs/heads/main', sourceCommit: SHA });
  });
  it.each([
    ['runDetails.builder.id', statement(provenance({ builder: 'https://github.com/evil/hallmark/.github/workflows/build-sign-scan.yml@refs/tags/v1' }))],
    ['runDetails.builder.id', statement(provenance({ builder: `${GH}@refs/heads/feature` }))],
    ['buildDefinition.externalParameters.workflow.repository', statement(provenance({ builder: `${GH}@refs/tags/v1`, repository: 'evil/shop' }))],
    ['subject.digest', statement(provenance({ builder: `${GH}@refs/tags/v1` }), { digest: `sha256:${'b'.repeat(64)}` })],
    ['predicateType', statement(provenance({ builder: `${GH}@refs/tags/v1` }), { type: 'https://slsa.dev/provenance/v0.2' })],
  ])('names %s when it does not match', (field, st) => {
    const v = checkStatement(st, exp);
    expect(v.ok).toBe(false);
    expect(!v.ok && v.field).toBe(field);
  });
  it('require-default-branch: the source ref must be refs/heads/<default>', () => {
    const st = statement(provenance({ builder: `${GH}@refs/tags/v1`, ref: 'refs/heads/feature' }));
    expect(checkStatement(st, exp).ok).toBe(true);
    const v = checkStatement(st, { ...exp, requireRef: 'refs/heads/main' });
    expect(v).toMatchObject({ ok: false, field: 'buildDefinition.externalParameters.workflow.ref' });
    expect(!v.ok && v.problem).toContain('expected the default branch refs/heads/main');
  });
  it('no statement at all is a rejection naming the attestation; one good statement among bad ones admits', () => {
    expect(checkProvenance([], exp)).toMatchObject({ ok: false, field: 'attestation' });
    const bad = statement(provenance({ builder: `${GH}@refs/heads/feature` }));
    const good = statement(provenance({ builder: `${GH}@${SHA}` }));
    expect(checkProvenance([bad, good], exp)).toMatchObject({ ok: true, builderId: `${GH}@${SHA}`, judged: 2 });
    expect(checkProvenance([bad], exp)).toMatchObject({ ok: false, field: 'runDetails.builder.id' });
  });
  it('reads DSSE envelopes one a line and skips everything else', () => {
    const st = statement({ x: 1 });
    const env = JSON.stringify({ payloadType: 'application/vnd.in-toto+json', payload: Buffer.from(JSON.stringify(st)).toString('base64'), signatures: [] });
    const other = JSON.stringify({ payloadType: 'text/plain', payload: Buffer.from('{}').toString('base64') });
    expect(parseAttestations(`progress\n${env}\n${other}\nnot json {\n${env}\n`)).toEqual([st, st]);
  });
});

const runner: Runner = { workspace: '/nonexistent-ws', repository: CALLER, serverUrl: 'https://github.com', readText: () => undefined };
const raw = (o: Partial<RawInputs> = {}): RawInputs => ({ imageRef: IMG, publicKey: '', workflow: '', allowedRefs: [], sourceRepository: '', requireProvenance: true, requireDefaultBranch: false, defaultBranch: '', tlog: true, trustedRoot: '', ...o });
const PEM = '-----BEGIN PUBLIC KEY-----\nMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE8Xr2nmVx4Qq3jU7vY0c1Xnq0N3x7VQqg1b0XwQh3o0bZ0Qm5W3xg2M8m2ys9yI5l3Q0z7k2m8o5rZx8Q9tK1aQ==\n-----END PUBLIC KEY-----\n';

describe('inputs and cosign arguments', () => {
  it('keyless: regexp, issuer and workflow repository in place of an exact identity; digest last; no key anywhere', () => {
    const cfg = checkInputs(raw(), runner);
    const args = cosignArgs(cfg, 'verify', 3);
    expect(args).toEqual(['verify', '--certificate-identity-regexp', cfg.policy.identityRegexp, '--certificate-github-workflow-repository', CALLER, '--certificate-oidc-issuer', 'https://token.actions.githubusercontent.com', '--output', 'json', IMG]);
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
    [{ requireDefaultBranch: true, requireProvenance: false, defaultBranch: 'main' }, "input 'require-default-branch' needs require-provenance"],
    [{ trustedRoot: '../x.json' }, "input 'trusted-root' must be a path inside the workspace"],
    [{ trustedRoot: 'sigstore/missing.json' }, "input 'trusted-root': no such file in the repository"],
  ])('refuses %j', (o, msg) => expect(() => checkInputs(raw(o as Partial<RawInputs>), runner)).toThrow(msg));
  it('the fingerprint is the SHA-256 of the key’s SubjectPublicKeyInfo', async () => {
    const { generateKeyPairSync, createHash } = await import('node:crypto');
    const { publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const pem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
    expect(keyFingerprint(pem)).toBe(`key:sha256:${createHash('sha256').update(publicKey.export({ type: 'spki', format: 'der' })).digest('hex')}`);
  });
});

describe('classify cosign refusals (wording of the real cosign 3.1.2, see bundle.test.ts)', () => {
  const r = (stderr: string, exitCode = 1) => ({ exitCode, stderr, stdout: '', timedOut: false });
  it.each([
    ['Error: no matching attestations: failed to verify certificate identity: no matching CertificateIdentity found, last error: expected GithubWorkflowRepository to be "evil/repo", got "octo-org/shop"', 'identity'],
    ['Error: no signatures found', 'signature'],
    ['Error: no matching attestations: failed to verify signature: could not verify envelope', 'signature'],
    ['Get "https://127.0.0.1:1/v2/": dial tcp 127.0.0.1:1: connect: connection refused', 'tool'],
    ['Error: GET http://127.0.0.1:34827/v2/: unexpected status code 503 Service Unavailable: busy', 'tool'],
  ])('%s → %s', (stderr, kind) => expect(classify(r(stderr))).toBe(kind));
  it('a timeout or a missing binary is the tool', () => {
    expect(classify({ ...r(''), timedOut: true })).toBe('tool');
    expect(classify(r('ENOENT', 127))).toBe('tool');
  });
});

describe('action.yml agrees with the code', () => {
  it('declares every input main.ts reads, and lists every failure reason the flow can give', async () => {
    const { readFileSync } = await import('node:fs');
    const { parse } = await import('yaml');
    const { ROOT } = await import('../harness/runner.js');
    const yml = parse(readFileSync(`${ROOT}/actions/verify-image/action.yml`, 'utf8')) as { inputs: Record<string, unknown>; outputs: Record<string, { description: string }> };
    const main = readFileSync(`${ROOT}/actions/verify-image/src/main.ts`, 'utf8');
    const read = [...main.matchAll(/input\.(?:string|secret|boolean|raw)\('([a-z-]+)'/g)].map((m) => m[1]);
    expect(new Set(read)).toEqual(new Set(Object.keys(yml.inputs)));
    const flow = readFileSync(`${ROOT}/actions/verify-image/src/flow.ts`, 'utf8');
    const reasons = /export type FailureReason = ([^;]+);/.exec(flow)![1]!.match(/'[a-z-]+'/g)!.map((s) => s.slice(1, -1));
    for (const r of ['invalid-input', ...reasons]) expect(yml.outputs['failure-reason']!.description).toContain(`\`${r}\``);
    expect(Object.keys(yml.outputs).sort()).toEqual(['failure-reason', 'mode', 'signer', 'source-ref', 'source-repository', 'verified']);
  });
});

describe('the predicate build-sign writes (actions/build-sign/src/provenance.ts) is the one verify-image reads', () => {
  it('a statement from build-sign’s provenanceStatement passes; the same with another caller or a branch build is judged on those fields', async () => {
    const bs = await import('../../actions/build-sign/src/provenance.js');
    const github = { serverUrl: 'https://github.com', repository: CALLER, ref: 'refs/heads/main', sha: SHA, workflowRef: `${CALLER}/.github/workflows/release.yml@refs/heads/main`, eventName: 'push', repositoryId: '1', repositoryOwnerId: '2', runnerEnvironment: 'github-hosted', runId: '7', runAttempt: '1' };
    const make = (g: typeof github) =>
      bs.provenanceStatement({ image: { registry: '127.0.0.1:5000', repository: 'shop/api' }, digest: DIGEST, build: { context: '.', file: 'Containerfile', platforms: ['linux/amd64'], buildArgNames: [], builder: 'buildah' }, github: g, builderId: `${GH}@${SHA}`, bases: [], startedOn: new Date(0), finishedOn: new Date(1000) });
    expect(bs.BUILD_TYPE).toBe('https://github.com/hallmark-dev/hallmark/buildtypes/build-sign/v1');
    expect(checkStatement(make(github), { policy: policy(), digest: DIGEST, requireRef: 'refs/heads/main' })).toEqual({ ok: true, builderId: `${GH}@${SHA}`, sourceRepository: CALLER, sourceRef: 'refs/heads/main', sourceCommit: SHA });
    expect(checkStatement(make({ ...github, repository: 'evil-org/shop' }), { policy: policy(), digest: DIGEST })).toMatchObject({ ok: false, field: 'buildDefinition.externalParameters.workflow.repository' });
    expect(checkStatement(make({ ...github, ref: 'refs/heads/feature' }), { policy: policy(), digest: DIGEST, requireRef: 'refs/heads/main' })).toMatchObject({ ok: false, field: 'buildDefinition.externalParameters.workflow.ref' });
  });
});
