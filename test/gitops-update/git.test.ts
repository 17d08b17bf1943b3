/** gitops-update's git: the token only in the extraheader, argument lists, git's words for a moved branch. */
import { describe, expect, it } from 'vitest';
import { cloneArgs, gitEnv, isMissing, isNonFastForward, pushArgs } from '../../actions/gitops-update/src/git.js';

describe('git', () => {
  it('the token is only in the extraheader value, base64 inside basic auth, never in argv', () => {
    const env = gitEnv('https://github.com', 'ghs_secret');
    const all = [...cloneArgs('https://github.com/o/r.git', 'main', '/tmp/x'), ...pushArgs('main', false)].join(' ');
    expect(all).not.toContain('ghs_secret');
    expect(Object.entries(env).filter(([, v]) => v?.includes('ghs_secret'))).toEqual([]);
    expect(env.GIT_CONFIG_KEY_0).toBe('http.https://github.com/.extraheader');
    expect(env.GIT_CONFIG_VALUE_0).toBe(`AUTHORIZATION: basic ${Buffer.from('x-access-token:ghs_secret').toString('base64')}`);
    expect(cloneArgs('u', 'b', 'd').slice(-3)).toEqual(['--', 'u', 'd']);
  });

  it("reads git's words for a moved branch, and only those", () => {
    expect(isNonFastForward('!\tHEAD:refs/heads/main\t[rejected] (fetch first)\nDone')).toBe(true);
    expect(isNonFastForward('!\tHEAD:refs/heads/main\t[rejected] (non-fast-forward)')).toBe(true);
    expect(isNonFastForward("remote: error: cannot lock ref 'refs/heads/main': is at 1a2b but expected 3c4d")).toBe(true);
    expect(isNonFastForward('!\tHEAD:refs/heads/main\t[remote rejected] (pre-receive hook declined)')).toBe(false);
    expect(isNonFastForward('!\tHEAD:refs/heads/main\t[remote rejected] (protected branch hook declined)')).toBe(false);
    expect(
      isMissing('warning: Could not find remote branch release to clone.\nfatal: Remote branch release not found in upstream origin'),
    ).toBe(true);
    expect(isMissing('fatal: Authentication failed for')).toBe(false);
  });
});
