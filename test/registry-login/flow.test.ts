/** registry-login's flow (actions/registry-login/src/flow.ts): how the login is checked, and what logout may remove. */
import { mkdirSync, mkdtempSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkLogin, logout, type Deps } from '../../actions/registry-login/src/flow.js';

describe('logout removes only its own directory under RUNNER_TEMP', () => {
  it('refuses a forged state', () => {
    const temp = mkdtempSync(join(tmpdir(), 'rl-'));
    const other = join(temp, 'other');
    mkdirSync(other);
    expect(logout(other, temp)).toBe(false);
    expect(logout('/etc', temp)).toBe(false);
    expect(logout(join(temp, '..', 'hallmark-registry-login'), temp)).toBe(false);
    expect(existsSync(other)).toBe(true);
    mkdirSync(join(temp, 'hallmark-registry-login'));
    expect(logout(join(temp, 'hallmark-registry-login'), temp)).toBe(true);
    expect(existsSync(join(temp, 'hallmark-registry-login'))).toBe(false);
  });
});

describe('checkLogin', () => {
  const cfg = { registry: 'ghcr.io', credentials: 'github-token' as const, username: 'octocat', insecure: false, verify: true };
  const deps = (
    answers: Record<string, { status: number; headers?: Record<string, string> }>,
    seen: { url: string; auth?: string }[],
  ): Deps => ({
    temp: '',
    home: '',
    dockerConfig: '',
    mask: () => {},
    info: () => {},
    async get(url, headers) {
      seen.push({ url, auth: headers.authorization });
      const k = Object.keys(answers).find((p) => url.startsWith(p));
      const a = k ? answers[k]! : { status: 404 };
      return { status: a.status, headers: a.headers ?? {} };
    },
  });
  it('follows the Bearer challenge to the token service with Basic credentials (as docker login does)', async () => {
    const seen: { url: string; auth?: string }[] = [];
    const how = await checkLogin(
      cfg,
      'tok',
      deps(
        {
          'https://ghcr.io/v2/': {
            status: 401,
            headers: { 'www-authenticate': 'Bearer realm="https://ghcr.io/token",service="ghcr.io",scope="repository:user/image:pull"' },
          },
          'https://ghcr.io/token': { status: 200 },
        },
        seen,
      ),
    );
    expect(how).toBe('token');
    expect(seen[0]).toEqual({ url: 'https://ghcr.io/v2/', auth: undefined });
    expect(seen[1]!.url).toBe('https://ghcr.io/token?service=ghcr.io&account=octocat');
    expect(seen[1]!.auth).toBe(`Basic ${Buffer.from('octocat:tok').toString('base64')}`);
  });
  it('never sends the password to a plain-HTTP token realm', async () => {
    const seen: { url: string; auth?: string }[] = [];
    await expect(
      checkLogin(
        cfg,
        'tok',
        deps({ 'https://ghcr.io/v2/': { status: 401, headers: { 'www-authenticate': 'Bearer realm="http://evil.example/token"' } } }, seen),
      ),
    ).rejects.toThrow(/not https/);
    expect(seen).toHaveLength(1);
  });
  it('a refused token request is login-failed', async () => {
    await expect(
      checkLogin(
        cfg,
        'tok',
        deps(
          {
            'https://ghcr.io/v2/': { status: 401, headers: { 'www-authenticate': 'Bearer realm="https://ghcr.io/token"' } },
            'https://ghcr.io/token': { status: 403 },
          },
          [],
        ),
      ),
    ).rejects.toMatchObject({ reason: 'login-failed' });
  });
});
