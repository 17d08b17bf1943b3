/**
 * The provenance predicate checks (actions/verify-image/src/provenance-check.ts), and the predicate
 * build-sign writes (actions/build-sign/src/provenance.ts) read by them.
 */
import { describe, expect, it } from 'vitest';
import { checkProvenance, checkStatement, parseAttestations, SLSA_PROVENANCE_V1 } from '../../actions/verify-image/src/provenance-check.js';
import { CALLER, DIGEST, GH, policy, provenance, SHA } from './lab.js';

const statement = (predicate: unknown, o: { digest?: string; type?: string } = {}) => ({
  _type: 'https://in-toto.io/Statement/v1',
  predicateType: o.type ?? SLSA_PROVENANCE_V1,
  subject: [{ name: '127.0.0.1:5000/shop/api', digest: { sha256: (o.digest ?? DIGEST).replace('sha256:', '') } }],
  predicate,
});

describe('provenance predicate', () => {
  const exp = { policy: policy(), digest: DIGEST };
  it('admits our builder at an allowed ref, for the caller, over this digest, and reports what it read', () => {
    const v = checkStatement(statement(provenance({ builder: `${GH}@refs/tags/v1.2.3` })), exp);
    expect(v).toEqual({
      ok: true,
      builderId: `${GH}@refs/tags/v1.2.3`,
      sourceRepository: CALLER,
      sourceRef: 'refs/heads/main',
      sourceCommit: SHA,
    });
  });
  it.each([
    [
      'runDetails.builder.id',
      statement(provenance({ builder: 'https://github.com/evil/hallmark/.github/workflows/build-sign-scan.yml@refs/tags/v1' })),
    ],
    ['runDetails.builder.id', statement(provenance({ builder: `${GH}@refs/heads/feature` }))],
    [
      'buildDefinition.externalParameters.workflow.repository',
      statement(provenance({ builder: `${GH}@refs/tags/v1`, repository: 'evil/shop' })),
    ],
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
    const env = JSON.stringify({
      payloadType: 'application/vnd.in-toto+json',
      payload: Buffer.from(JSON.stringify(st)).toString('base64'),
      signatures: [],
    });
    const other = JSON.stringify({ payloadType: 'text/plain', payload: Buffer.from('{}').toString('base64') });
    expect(parseAttestations(`progress\n${env}\n${other}\nnot json {\n${env}\n`)).toEqual([st, st]);
  });
});

describe('the predicate build-sign writes (actions/build-sign/src/provenance.ts) is the one verify-image reads', () => {
  it('a statement from build-sign’s provenanceStatement passes; the same with another caller or a branch build is judged on those fields', async () => {
    const bs = await import('../../actions/build-sign/src/provenance.js');
    const github = {
      serverUrl: 'https://github.com',
      repository: CALLER,
      ref: 'refs/heads/main',
      sha: SHA,
      workflowRef: `${CALLER}/.github/workflows/release.yml@refs/heads/main`,
      eventName: 'push',
      repositoryId: '1',
      repositoryOwnerId: '2',
      runnerEnvironment: 'github-hosted',
      runId: '7',
      runAttempt: '1',
    };
    const make = (g: typeof github) =>
      bs.provenanceStatement({
        image: { registry: '127.0.0.1:5000', repository: 'shop/api' },
        digest: DIGEST,
        build: { context: '.', file: 'Containerfile', platforms: ['linux/amd64'], buildArgNames: [], builder: 'buildah' },
        github: g,
        builderId: `${GH}@${SHA}`,
        bases: [],
        startedOn: new Date(0),
        finishedOn: new Date(1000),
      });
    expect(bs.BUILD_TYPE).toBe('https://github.com/hallmark-dev/hallmark/buildtypes/build-sign/v1');
    expect(checkStatement(make(github), { policy: policy(), digest: DIGEST, requireRef: 'refs/heads/main' })).toEqual({
      ok: true,
      builderId: `${GH}@${SHA}`,
      sourceRepository: CALLER,
      sourceRef: 'refs/heads/main',
      sourceCommit: SHA,
    });
    expect(checkStatement(make({ ...github, repository: 'evil-org/shop' }), { policy: policy(), digest: DIGEST })).toMatchObject({
      ok: false,
      field: 'buildDefinition.externalParameters.workflow.repository',
    });
    expect(
      checkStatement(make({ ...github, ref: 'refs/heads/feature' }), { policy: policy(), digest: DIGEST, requireRef: 'refs/heads/main' }),
    ).toMatchObject({ ok: false, field: 'buildDefinition.externalParameters.workflow.ref' });
  });
});
