import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { _resetSecrets, TIMEOUT_EXIT } from '@hallmark/kit';
import { childEnv, exec, maskSecret } from '@hallmark/kit/runner';

describe('exec', () => {
  it('passes each argument as one argv entry; no shell ever runs', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'exec-'));
    const canary = join(dir, 'pwned');
    const hostile = [
      `$(touch ${canary})`,
      `\`touch ${canary}\``,
      `; touch ${canary}`,
      `| touch ${canary}`,
      `&& touch ${canary}`,
      `'"`,
      '--output=/etc/passwd',
    ];
    const r = await exec(process.execPath, ['-e', 'console.log(JSON.stringify(process.argv.slice(1)))', ...hostile]);
    expect(r.exitCode).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual(hostile);
    expect(existsSync(canary)).toBe(false);
  });

  it('captures stdout, stderr and the exit code', async () => {
    const r = await exec(process.execPath, ['-e', 'process.stdout.write("out"); process.stderr.write("err"); process.exit(3)']);
    expect(r).toMatchObject({ exitCode: 3, stdout: 'out', stderr: 'err', timedOut: false });
  });

  it('kills a tool that outlives its timeout', async () => {
    const r = await exec(process.execPath, ['-e', 'setTimeout(() => console.log("late"), 20000)'], { timeoutMs: 300 });
    expect(r.exitCode).toBe(TIMEOUT_EXIT);
    expect(r.timedOut).toBe(true);
    expect(r.stdout).not.toContain('late');
  });

  it('under a timeout, arguments and exit codes still pass through unchanged', async () => {
    const r = await exec(process.execPath, ['-e', 'console.log(process.argv[1]); process.exit(5)', 'a b;c'], { timeoutMs: 10_000 });
    expect(r.stdout.trim()).toBe('a b;c');
    expect(r.exitCode).toBe(5);
  });

  it('a missing tool is exit 127, not a crash', async () => {
    const r = await exec('/nonexistent/tool', ['x']);
    expect(r.exitCode).toBe(127);
    const t = await exec('/nonexistent/tool', ['x'], { timeoutMs: 5000 });
    expect(t.exitCode).toBe(127);
  });

  it('passes stdin and env', async () => {
    const r = await exec(process.execPath, ['-e', 'process.stdin.on("data", d => process.stdout.write(d + process.env.HM_X))'], {
      input: 'in-',
      env: { HM_X: 'env' },
    });
    expect(r.stdout).toBe('in-env');
  });
});

describe('exec: the child environment', () => {
  const PRINT_ENV = 'process.stdout.write(JSON.stringify(process.env))';
  const saved = { ...process.env };
  const restore = () => {
    for (const k of Object.keys(process.env)) if (!(k in saved)) delete process.env[k];
    _resetSecrets();
  };

  it('a real child gets no INPUT_* and no variable holding a registered secret; everything else is inherited', async () => {
    try {
      process.env.INPUT_PASSWORD = 'kit-canary-input-3c9d';
      process.env.INPUT_SEVERITY = 'HIGH';
      process.env.HM_TOKEN_ENV = 'kit-canary-token-51ab';
      process.env.HM_AUTH_HEADER = 'Authorization: Bearer kit-canary-token-51ab';
      process.env.HM_PLAIN = 'plain-value';
      maskSecret('kit-canary-token-51ab');
      const r = await exec(process.execPath, ['-e', PRINT_ENV]);
      const env = JSON.parse(r.stdout) as Record<string, string>;
      expect(Object.keys(env).filter((k) => k.startsWith('INPUT_'))).toEqual([]);
      expect(env).not.toHaveProperty('HM_TOKEN_ENV');
      expect(env).not.toHaveProperty('HM_AUTH_HEADER');
      expect(env.HM_PLAIN).toBe('plain-value');
      expect(env.PATH).toBe(process.env.PATH);
      expect(r.stdout).not.toContain('kit-canary');
    } finally {
      restore();
    }
  });

  it('opt-in: a value given in env is passed (secret or not); allowEnv keeps a named inherited one; undefined removes', async () => {
    try {
      process.env.HM_TOKEN_ENV = 'kit-canary-token-51ab';
      process.env.HM_OTHER_SECRET = 'kit-canary-other-77e0';
      process.env.HM_DROP = 'x';
      maskSecret('kit-canary-token-51ab');
      maskSecret('kit-canary-other-77e0');
      const r = await exec(process.execPath, ['-e', PRINT_ENV], {
        env: { COSIGN_PASSWORD: 'kit-canary-token-51ab', HM_DROP: undefined },
        allowEnv: ['HM_OTHER_SECRET'],
      });
      const env = JSON.parse(r.stdout) as Record<string, string>;
      expect(env.COSIGN_PASSWORD).toBe('kit-canary-token-51ab');
      expect(env.HM_OTHER_SECRET).toBe('kit-canary-other-77e0');
      expect(env).not.toHaveProperty('HM_TOKEN_ENV');
      expect(env).not.toHaveProperty('HM_DROP');
    } finally {
      restore();
    }
  });

  it('cleanEnv: only what is given explicitly, plus allowEnv names', () => {
    const env = childEnv({ cleanEnv: true, allowEnv: ['HOME'], env: { A: '1' } }, { HOME: '/h', PATH: '/bin', INPUT_X: 'y' });
    expect(env).toEqual({ HOME: '/h', A: '1' });
  });
});
