/**
 * packages/oci/src/hallmark.ts: hallmark's own owner/name, read from the root package.json
 * `repository` field (what provenance build types, signer identities and hints are built from).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { HALLMARK_REPOSITORY, ownerRepoOf, setupToolsHint } from '@hallmark/oci';
import { ROOT } from '../harness/runner.js';

describe('ownerRepoOf', () => {
  it('reads owner/name from the forms package.json allows for a GitHub repository', () => {
    expect(ownerRepoOf('hallmark-dev/hallmark')).toBe('hallmark-dev/hallmark');
    expect(ownerRepoOf('github:octo-org/shop')).toBe('octo-org/shop');
    expect(ownerRepoOf({ url: 'https://github.com/octo-org/shop.git' })).toBe('octo-org/shop');
    expect(ownerRepoOf({ url: 'git+https://github.com/octo-org/my.repo.git' })).toBe('octo-org/my.repo');
    expect(ownerRepoOf({ url: 'git@github.com:octo-org/shop.git' })).toBe('octo-org/shop');
  });
  it('refuses what does not name a GitHub repository', () => {
    for (const bad of [
      undefined,
      '',
      'shop',
      { url: 'https://gitlab.com/octo-org/shop.git' },
      'octo org/shop',
      { url: 'https://github.com/octo-org' },
    ]) {
      expect(() => ownerRepoOf(bad as never), JSON.stringify(bad)).toThrow(/does not name a GitHub repository/);
    }
  });
  it('HALLMARK_REPOSITORY is what the root package.json says, and the setup-tools hint names it', () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { repository: string | { url: string } };
    expect(HALLMARK_REPOSITORY).toBe(ownerRepoOf(pkg.repository));
    expect(setupToolsHint('cosign')).toBe(`add ${HALLMARK_REPOSITORY}/actions/setup-tools with \`tools: cosign\` before this step`);
  });
});
