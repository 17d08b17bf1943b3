/**
 * Unit tests of build-sign's SLSA v1 provenance (actions/build-sign/src/provenance.ts): the FROM
 * lines of a Containerfile as BuildKit reads them (directives, continuations, global ARGs and build
 * args, --platform, stage references, scratch), the statement's fields, the statement-file check
 * used when the sign job attests what the build job built, and the provenance inputs.
 */
import { describe, expect, it } from 'vitest';
import {
  basePurl,
  BUILD_TYPE,
  checkProvenanceInputs,
  checkStatementFile,
  externalBases,
  invocationId,
  parseFromLines,
  provenanceStatement,
  ProvenanceError,
  substitute,
  withBuilderId,
  workflowPath,
  type ProvenanceInput,
} from '../../actions/build-sign/src/provenance.js';

const D1 = `sha256:${'a'.repeat(64)}`;
const D2 = `sha256:${'b'.repeat(64)}`;
const SHA = '4f1c6b9a2d3e4f5061728394a5b6c7d8e9f00112';

describe('substitute (BuildKit shell lexer forms)', () => {
  const vars = new Map([
    ['A', 'x'],
    ['E', ''],
  ]);
  it.each([
    ['$A', 'x'],
    ['${A}', 'x'],
    ['pre-${A}-post', 'pre-x-post'],
    ['${A:-d}', 'x'],
    ['${E:-d}', 'd'],
    ['${E-d}', ''],
    ['${U-d}', 'd'],
    ['${A:+w}', 'w'],
    ['${E:+w}', ''],
    ['${E+w}', 'w'],
    ['${U+w}', ''],
    ['\\$A', '$A'],
    ['$U', '$U'],
    ['${U}', '${U}'],
    ['a$', 'a$'],
  ])('%s → %s', (input, want) => {
    expect(substitute(input, vars)).toBe(want);
  });
});

describe('parseFromLines', () => {
  it('resolves global ARG defaults, build args over them, --platform and stage references', () => {
    const text = [
      '# syntax=docker/dockerfile:1',
      '# escape=\\',
      'ARG REGISTRY=ghcr.io \\',
      '    BASE_TAG=3.20',
      'ARG GO_VERSION',
      '# a comment',
      'FROM --platform=$BUILDPLATFORM ${REGISTRY}/octo-org/golang:${GO_VERSION:-1.25} AS Build',
      'ARG BASE_TAG=ignored-after-from',
      'RUN echo hi',
      'from build as test',
      'FROM docker.io/library/alpine:${BASE_TAG} AS final',
      'COPY --from=build /out /out',
      'FROM scratch',
      'FROM alpine:3.20',
      'FROM FINAL',
    ].join('\n');
    const froms = parseFromLines(text, { buildArgs: [['GO_VERSION', '1.24']], buildPlatform: 'linux/amd64' });
    expect(froms.map((f) => [f.line, f.kind, f.image, f.platform ?? null, f.stage ?? null])).toEqual([
      [7, 'external', 'ghcr.io/octo-org/golang:1.24', 'linux/amd64', 'build'],
      [10, 'stage', 'build', null, 'test'],
      [11, 'external', 'docker.io/library/alpine:3.20', null, 'final'],
      [13, 'scratch', 'scratch', null, null],
      [14, 'external', 'alpine:3.20', null, null],
      [15, 'stage', 'FINAL', null, null],
    ]);
    // Two spellings of the same Docker Hub image are one base.
    const bases = externalBases(froms);
    expect(bases.map((b) => basePurl(b.ref))).toEqual([
      'pkg:docker/ghcr.io/octo-org/golang@1.24',
      'pkg:docker/docker.io/library/alpine@3.20',
    ]);
    expect(bases[0]!.platforms).toEqual(['linux/amd64']);
  });

  it('keeps an unknown $BUILDPLATFORM as written, and takes a digest-pinned base as given', () => {
    const froms = parseFromLines(`FROM --platform=$BUILDPLATFORM 127.0.0.1:5000/base@${D1}\n`);
    expect(froms[0]).toMatchObject({
      kind: 'external',
      platform: '$BUILDPLATFORM',
      ref: { registry: '127.0.0.1:5000', repository: 'base', digest: D1 },
    });
    expect(basePurl(froms[0]!.ref!)).toBe(`pkg:docker/127.0.0.1:5000/base@${D1}`);
  });

  it('an ARG without default and without build arg is empty (so ${X:-d} takes d)', () => {
    expect(parseFromLines('ARG X\nFROM busybox:${X:-1.36}')[0]!.image).toBe('busybox:1.36');
  });

  it('a backtick escape directive changes the continuation character', () => {
    const froms = parseFromLines('# escape=`\nARG T=1.0\nFROM `\n  example.com/app:$T `\n  AS base\n');
    expect(froms.map((f) => [f.image, f.stage])).toEqual([['example.com/app:1.0', 'base']]);
  });

  it('refuses a FROM with an unresolved variable, a malformed reference, or no FROM at all', () => {
    expect(() => parseFromLines('FROM $NOPE')).toThrow(ProvenanceError);
    expect(() => parseFromLines('FROM ${NOPE}:1')).toThrow(/uses a variable that no ARG/);
    expect(() => parseFromLines('FROM Not_A_Ref!')).toThrow(/is not an image reference/);
    expect(() => parseFromLines('RUN true')).toThrow(/no FROM/);
    expect(() => parseFromLines('FROM a b c d')).toThrow(/FROM must be/);
    // An ARG after the first FROM does not reach the next FROM (BuildKit scoping).
    expect(() => parseFromLines('FROM busybox:1\nARG B=x\nFROM $B')).toThrow(/no ARG before the first FROM/);
  });
});

const input = (over: Partial<ProvenanceInput> = {}): ProvenanceInput => ({
  image: { registry: 'ghcr.io', repository: 'octo-org/shop' },
  digest: D1,
  build: {
    context: 'app',
    file: 'app/Containerfile',
    platforms: ['linux/amd64'],
    buildArgNames: ['NONCE', 'API_TOKEN'],
    builder: 'buildah',
  },
  github: {
    serverUrl: 'https://github.com/',
    repository: 'octo-org/shop',
    ref: 'refs/heads/main',
    sha: SHA,
    workflowRef: 'octo-org/shop/.github/workflows/ci.yml@refs/heads/main',
    eventName: 'push',
    repositoryId: '101',
    repositoryOwnerId: '202',
    runnerEnvironment: 'github-hosted',
    runId: '9001',
    runAttempt: '2',
  },
  builderId: 'https://github.com/hallmark-dev/hallmark/.github/workflows/build-sign-scan.yml@refs/tags/v1.2.3',
  bases: [{ ref: { registry: 'docker.io', repository: 'library/alpine', tag: '3.20' }, digest: D2 }],
  startedOn: new Date('2026-12-01T10:00:00.000Z'),
  finishedOn: new Date('2026-12-01T10:03:30.500Z'),
  ...over,
});

describe('provenanceStatement', () => {
  it('writes the agreed predicate', () => {
    const s = provenanceStatement(input());
    expect(s).toEqual({
      _type: 'https://in-toto.io/Statement/v1',
      subject: [{ name: 'ghcr.io/octo-org/shop', digest: { sha256: 'a'.repeat(64) } }],
      predicateType: 'https://slsa.dev/provenance/v1',
      predicate: {
        buildDefinition: {
          buildType: 'https://github.com/hallmark-dev/hallmark/buildtypes/build-sign/v1',
          externalParameters: {
            workflow: { repository: 'octo-org/shop', ref: 'refs/heads/main', path: '.github/workflows/ci.yml' },
            build: {
              context: 'app',
              file: 'app/Containerfile',
              platforms: ['linux/amd64'],
              buildArgs: ['NONCE', 'API_TOKEN'],
              builder: 'buildah',
            },
          },
          internalParameters: {
            github: { event_name: 'push', repository_id: '101', repository_owner_id: '202', runner_environment: 'github-hosted' },
          },
          resolvedDependencies: [
            { uri: `git+https://github.com/octo-org/shop@refs/heads/main`, digest: { gitCommit: SHA } },
            { uri: 'pkg:docker/docker.io/library/alpine@3.20', digest: { sha256: 'b'.repeat(64) } },
          ],
        },
        runDetails: {
          builder: { id: 'https://github.com/hallmark-dev/hallmark/.github/workflows/build-sign-scan.yml@refs/tags/v1.2.3' },
          metadata: {
            invocationId: 'https://github.com/octo-org/shop/actions/runs/9001/attempts/2',
            startedOn: '2026-12-01T10:00:00.000Z',
            finishedOn: '2026-12-01T10:03:30.500Z',
          },
        },
      },
    });
    expect(BUILD_TYPE).toBe(s.predicate.buildDefinition.buildType);
  });

  it('records build-argument names, never their values', () => {
    const text = JSON.stringify(provenanceStatement(input({ build: { ...input().build, buildArgNames: ['API_TOKEN'] } })));
    expect(text).toContain('API_TOKEN');
    expect(text).not.toContain('='); // no KEY=VALUE anywhere
  });

  it('refuses what would make a wrong statement', () => {
    expect(() => provenanceStatement(input({ digest: 'sha256:abc' }))).toThrow(/not a sha256 digest/);
    expect(() => provenanceStatement(input({ builderId: 'octo-org/x/.github/workflows/a.yml@refs/heads/main' }))).toThrow(/builder id/);
    expect(() => provenanceStatement(input({ github: { ...input().github, sha: '' } }))).toThrow(/GITHUB_SHA/);
    expect(() => provenanceStatement(input({ build: { ...input().build, buildArgNames: ['A=1'] } }))).toThrow(/not a name/);
  });

  it('workflowPath and invocationId', () => {
    expect(workflowPath('o/r/.github/workflows/release.yml@refs/tags/v1')).toBe('.github/workflows/release.yml');
    expect(workflowPath('nonsense')).toBe('');
    expect(invocationId({ serverUrl: 'https://ghe.example.com', repository: 'o/r', runId: '5', runAttempt: '' })).toBe(
      'https://ghe.example.com/o/r/actions/runs/5/attempts/1',
    );
  });
});

describe('checkStatementFile (the sign job attests what the build job wrote)', () => {
  const s = provenanceStatement(input());
  const text = JSON.stringify(s);
  const expectFor = {
    image: input().image,
    digest: D1,
    run: { serverUrl: 'https://github.com', repository: 'octo-org/shop', runId: '9001' },
  };
  it('accepts the statement for the same image, digest and run (any attempt: a re-run of the sign job alone)', () => {
    expect(checkStatementFile(text, expectFor)).toEqual(s);
    expect(s.predicate.runDetails.metadata.invocationId).toBe('https://github.com/octo-org/shop/actions/runs/9001/attempts/2');
  });
  it.each([
    [
      'another digest',
      { ...expectFor, digest: D2 },
      /describes ghcr\.io\/octo-org\/shop@sha256:a+, not ghcr\.io\/octo-org\/shop@sha256:b+/,
    ],
    ['another image', { ...expectFor, image: { registry: 'ghcr.io', repository: 'octo-org/other' } }, /not ghcr\.io\/octo-org\/other/],
    [
      'another run',
      { ...expectFor, run: { ...expectFor.run, runId: '900' } },
      /was written by another workflow run \("https:\/\/github\.com\/octo-org\/shop\/actions\/runs\/9001\/attempts\/2", this is https:\/\/github\.com\/octo-org\/shop\/actions\/runs\/900\)/,
    ],
    ["another repository's run", { ...expectFor, run: { ...expectFor.run, repository: 'octo-org/other' } }, /another workflow run/],
  ])('refuses %s', (_what, exp, re) => {
    expect(() => checkStatementFile(text, exp)).toThrow(re);
  });
  it('refuses what build-sign did not write', () => {
    expect(() => checkStatementFile('{', expectFor)).toThrow(/not JSON/);
    expect(() => checkStatementFile(JSON.stringify({ ...s, predicateType: 'https://spdx.dev/Document' }), expectFor)).toThrow(
      /predicate type/,
    );
    const other = JSON.parse(text);
    other.predicate.buildDefinition.buildType = 'https://example.com/other';
    expect(() => checkStatementFile(JSON.stringify(other), expectFor)).toThrow(/not written by build-sign/);
  });
  it('withBuilderId replaces only the builder id', () => {
    const w = withBuilderId(s, 'https://github.com/o/p/.github/workflows/x.yml@refs/heads/main');
    expect(w.predicate.runDetails.builder.id).toBe('https://github.com/o/p/.github/workflows/x.yml@refs/heads/main');
    expect({ ...w, predicate: { ...w.predicate, runDetails: s.predicate.runDetails } }).toEqual(s);
    expect(s.predicate.runDetails.builder.id).toBe(input().builderId);
  });
});

describe('checkProvenanceInputs', () => {
  const raw = { provenance: true, provenanceFile: '', requireProvenance: false, builderRefs: [] as string[] };
  const ctx = { digest: false, sign: 'keyless' as const, policyKind: 'cluster-policy', resolvePath: (p: string) => `/ws/${p}` };
  const bad = (input: string, expected: string) => new Error(`input '${input}' ${expected}`);
  it('takes the defaults and resolves the statement file against the workspace', () => {
    expect(checkProvenanceInputs(raw, ctx, bad)).toEqual({ config: { attest: true, require: false, builderRefs: [] }, warnings: [] });
    expect(checkProvenanceInputs({ ...raw, provenanceFile: 'attest/p.json' }, { ...ctx, digest: true }, bad).config.file).toBe(
      '/ws/attest/p.json',
    );
  });
  it.each([
    ['a statement file without digest', { provenanceFile: 'p.json' }, {}, /input 'provenance-file' only applies with 'digest'/],
    [
      'a statement file with provenance false',
      { provenanceFile: 'p.json', provenance: false },
      { digest: true },
      /input 'provenance-file' is set but 'provenance' is false/,
    ],
    ['a builder ref that is not refs/…', { requireProvenance: true, builderRefs: ['v1.*'] }, {}, /input 'builder-refs' must be refs\/tags/],
    ['a builder ref with a regexp', { requireProvenance: true, builderRefs: ['refs/tags/(v1|v2)'] }, {}, /input 'builder-refs'/],
  ])('refuses %s', (_what, over, ctxOver, re) => {
    expect(() => checkProvenanceInputs({ ...raw, ...over }, { ...ctx, ...ctxOver }, bad)).toThrow(re);
  });
  it('warns where an input has no effect', () => {
    expect(checkProvenanceInputs({ ...raw, builderRefs: ['refs/tags/v1'] }, ctx, bad).warnings).toEqual([
      "'builder-refs' is set but 'require-provenance' is false: it is not used",
    ]);
    expect(checkProvenanceInputs(raw, { ...ctx, digest: true }, bad).warnings[0]).toMatch(
      /no 'provenance-file' was given: no provenance is attested/,
    );
    expect(checkProvenanceInputs({ ...raw, requireProvenance: true }, { ...ctx, sign: 'none' as never }, bad).warnings).toEqual([
      "'require-provenance' is set but sign is 'none': no policy is written",
    ]);
  });
});
