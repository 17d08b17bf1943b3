/** gitops-update's rollback words: the revert commit message and pull request, from the bump's subject (which we do not trust). */
import { describe, expect, it } from 'vitest';
import { checkInputs } from '../../actions/gitops-update/src/inputs.js';
import { revertMessage, revertPrBody, revertPrTitle, revertSubject } from '../../actions/gitops-update/src/revert.js';

const OLD = `sha256:${'1'.repeat(64)}`;
const NEW = `sha256:${'2'.repeat(64)}`;
const BUMP = 'b'.repeat(40);
const cfg = checkInputs(
  {
    repository: 'o/r',
    file: 'envs/prod/k.yaml',
    kind: 'kustomize',
    imageRef: '',
    valuePath: '',
    repositoryPath: '',
    valueFormat: '',
    mode: 'commit',
    branch: '',
    environment: 'prod',
    token: 't',
    sourceCommit: '',
    scanVerdict: '',
    pushAttempts: '',
    rollbackOf: BUMP,
    reason: 'Degraded',
  },
  { sha: '' },
);

describe('revert words', () => {
  it("the bump's subject on one line, without what a log or Markdown would act on, at most 120 characters", () => {
    expect(revertSubject('gitops(prod): api@sha256:abcdef012345\n\nImage: …')).toBe('gitops(prod): api@sha256:abcdef012345');
    expect(revertSubject('x `y` <b>|[z](u)\u0007 *_~\\')).toBe('x y bz(u)');
    expect(revertSubject('a'.repeat(200))).toBe(`${'a'.repeat(120)}…`);
  });
  it("git's revert form: the subject quoted, the commit named, what comes back and goes, the reason", () => {
    const r = { commit: BUMP, subject: 'gitops(prod): api@sha256:222222222222', removedDigest: NEW, restoredDigest: OLD };
    expect(revertMessage(cfg, r, 'https://github.com/o/app/actions/runs/1')).toBe(
      [
        'Revert "gitops(prod): api@sha256:222222222222"',
        '',
        `This reverts commit ${BUMP}.`,
        '',
        'Environment: prod',
        'File: envs/prod/k.yaml',
        `Restores: ${OLD}`,
        `Removes: ${NEW}`,
        'Reason: Degraded',
        'Run: https://github.com/o/app/actions/runs/1',
        '',
      ].join('\n'),
    );
    expect(revertPrTitle(cfg, r)).toBe(`Revert prod to sha256:${'1'.repeat(12)} (reverts ${'b'.repeat(12)})`);
    expect(revertPrBody(cfg, r, '')).toContain(`| Restores | \`${OLD}\` |`);
  });
  it('a bump that had replaced a tag restores no digest, and says so', () => {
    const r = { commit: BUMP, subject: '', removedDigest: NEW, restoredDigest: '' };
    expect(revertMessage(cfg, r, '')).toContain('Revert "bbbbbbbbbbbb"\n');
    expect(revertMessage(cfg, r, '')).toContain('Restores: (no digest: the bump had replaced a tag or nothing)');
    expect(revertPrTitle(cfg, r)).toBe(`Revert prod to before (reverts ${'b'.repeat(12)})`);
  });
});
