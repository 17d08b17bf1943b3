/**
 * verify-image's signer identity policy (actions/verify-image/src/identity.ts): the allowed-refs
 * syntax and the anchored regexp built from checked parts. The same policy against the real cosign:
 * verify.bundle.test.ts.
 */
import { describe, expect, it } from 'vitest';
import {
  escapeRegexp,
  identityAllowed,
  parseAllowedRefs,
  parseRepository,
  parseWorkflow,
  PolicyInputError,
} from '../../actions/verify-image/src/identity.js';
import { GH, policy, SHA } from './lab.js';

describe('identity policy', () => {
  it('builds exactly the anchored pattern of the design for the defaults', () => {
    expect(policy().identityRegexp).toBe(
      '^https://github\\.com/hallmark-dev/hallmark/\\.github/workflows/build-sign-scan\\.yml@(refs/tags/v\\d+(\\.\\d+){0,2}|[0-9a-f]{40}|refs/heads/main)$',
    );
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
    [
      'a dot that a loose pattern would let through',
      'https://githubXcom/hallmark-dev/hallmark/.github/workflows/build-sign-scan.yml@refs/tags/v1',
    ],
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
    expect(p.identityRegexp).toContain(
      'refs/tags/v1(\\.\\d+){0,2}|0123456789abcdef0123456789abcdef01234567|refs/heads/release/2026|refs/heads/main',
    );
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

  it.each([
    'hallmark-dev/hallmark/.github/workflows/build-sign-scan.yml@refs/tags/v1',
    'hallmark-dev/hallmark/.github/workflows/.*',
    'hallmark-dev/hall(mark|evil)/.github/workflows/b.yml',
    'hallmark-dev/hallmark/workflows/b.yml',
    'hallmark-dev/hallmark/.github/workflows/sub/b.yml',
    'https://github.com/hallmark-dev/hallmark/.github/workflows/b.yml',
    '../x/.github/workflows/b.yml',
  ])('workflow %j is refused', (w) => expect(() => parseWorkflow(w)).toThrow(PolicyInputError));

  it.each(['octo-org', 'octo-org/shop/x', 'octo org/shop', 'octo-org/sh(op|.*)', 'octo-org/..', '-x/y'])(
    'source-repository %j is refused',
    (r) => expect(() => parseRepository('source-repository', r)).toThrow(PolicyInputError),
  );
});
