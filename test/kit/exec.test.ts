import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { exec, TIMEOUT_EXIT } from '@hallmark/kit';

describe('exec', () => {
  it('passes each argument as one argv entry; no shell ever runs', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'exec-'));
    const canary = join(dir, 'pwned');
    const hostile = [`$(touch ${canary})`, `\`touch ${canary}\``, `; touch ${canary}`, `| touch ${canary}`, `&& touch ${canary}`, `'"`, '--output=/etc/passwd'];
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
    const r = await exec(process.execPath, ['-e', 'process.stdin.on("data", d => process.stdout.write(d + process.env.HM_X))'], { input: 'in-', env: { HM_X: 'env' } });
    expect(r.stdout).toBe('in-env');
  });
});
