/** gitops-update's inputs: defaults, each kind's path options, branch names, refusals naming the input. */
import { describe, expect, it } from 'vitest';
import { InputError } from '@hallmark/kit';
import { checkInputs, isBranch, type RawInputs } from '../../actions/gitops-update/src/inputs.js';

const D = `sha256:${'d'.repeat(64)}`;
const SHA = 'f'.repeat(40);

const RAW: RawInputs = {
  repository: 'octo-org/deploy-config',
  file: 'envs/prod/kustomization.yaml',
  kind: 'kustomize',
  imageRef: `ghcr.io/octo-org/api@${D}`,
  valuePath: '',
  repositoryPath: '',
  valueFormat: '',
  mode: 'pull-request',
  branch: '',
  environment: 'prod',
  token: 'ghs_x',
  sourceCommit: '',
  scanVerdict: '',
  pushAttempts: '',
};

describe('inputs', () => {
  it('defaults: branch main, PR branch per environment, source commit from the run, 3 push attempts', () => {
    const c = checkInputs(RAW, { sha: SHA });
    expect(c).toMatchObject({
      branch: 'main',
      prBranch: 'hallmark/gitops/prod',
      sourceCommit: SHA,
      pushAttempts: 3,
      mode: 'pull-request',
      file: 'envs/prod/kustomization.yaml',
    });
    expect(c.target).toEqual({ repository: 'ghcr.io/octo-org/api', key: 'ghcr.io/octo-org/api', name: 'api', digest: D });
  });

  it('helm-values needs value-path and reads repository-path and value-format', () => {
    expect(() => checkInputs({ ...RAW, kind: 'helm-values' }, { sha: SHA })).toThrow(/input 'value-path' is required/);
    const c = checkInputs(
      { ...RAW, kind: 'helm-values', valuePath: 'api.image.tag', repositoryPath: 'api.image.repository', valueFormat: 'reference' },
      { sha: SHA },
    );
    expect(c.path).toEqual({ valuePath: ['api', 'image', 'tag'], repositoryPath: ['api', 'image', 'repository'], format: 'reference' });
  });

  it.each([
    ['image-ref', { imageRef: 'ghcr.io/octo-org/api:v1' }],
    ['image-ref', { imageRef: `ghcr.io/octo-org/api:v1@${D}` }],
    ['file', { file: 'a/../../b' }],
    ['file', { file: '.git/hooks/pre-commit' }],
    ['branch', { branch: '-f' }],
    ['branch', { mode: 'pull-request', branch: 'hallmark/gitops/prod' }],
    ['token', { token: '' }],
    ['push-attempts', { pushAttempts: '11' }],
    ['value-path', { valuePath: 'image.digest' }],
  ] as const)('refuses a bad %s', (name, patch) => {
    let e: unknown;
    try {
      checkInputs({ ...RAW, ...patch }, { sha: SHA });
    } catch (x) {
      e = x;
    }
    expect(e).toBeInstanceOf(InputError);
    expect((e as InputError).input).toBe(name);
  });

  it('branch names', () => {
    for (const b of ['main', 'release/v1', 'env.prod', 'hallmark/gitops/prod']) expect(isBranch(b), b).toBe(true);
    for (const b of ['', '-x', 'a..b', 'a/', '/a', 'a.lock', 'a//b', 'a b', 'a:b', 'a~1', 'a^', '.hidden', 'x/.y', 'a@{1}'])
      expect(isBranch(b), b).toBe(false);
  });
});

describe('rollback inputs', () => {
  const R = { ...RAW, imageRef: '', rollbackOf: 'a'.repeat(40) };
  it('rollback-of: no image, its own pull request branch, the reason kept', () => {
    const c = checkInputs({ ...R, reason: '  smoke test failed (checks-failed)  ' }, { sha: SHA });
    expect(c).toMatchObject({
      rollbackOf: 'a'.repeat(40),
      reason: 'smoke test failed (checks-failed)',
      imageRef: '',
      prBranch: 'hallmark/gitops-revert/prod',
    });
    expect(c.target).toBeUndefined();
  });
  it('helm-values needs no value-path for a rollback (the revert is the bump undone, whatever path it edited)', () => {
    expect(checkInputs({ ...R, kind: 'helm-values' }, { sha: SHA }).rollbackOf).toBe('a'.repeat(40));
  });
  it.each([
    ['rollback-of', { rollbackOf: 'a'.repeat(39) }],
    ['rollback-of', { rollbackOf: `${'a'.repeat(40)}\n` }],
    ['image-ref', { imageRef: `ghcr.io/octo-org/api@${D}` }],
    ['reason', { reason: 'a\u2028b' }],
    ['reason', { reason: 'see `rm -rf`' }],
    ['reason', { reason: 'x'.repeat(201) }],
  ])('%s refused: %o', (name, o) => {
    expect(() => checkInputs({ ...R, ...o }, { sha: SHA })).toThrow(new RegExp(`input '${name}'`));
  });
  it('a reason without rollback-of is refused', () => {
    expect(() => checkInputs({ ...RAW, reason: 'why' }, { sha: SHA })).toThrow(/input 'reason' applies only with 'rollback-of'/);
  });
});
