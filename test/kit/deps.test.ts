import { afterEach, describe, expect, it, vi } from 'vitest';
import type { StdDeps } from '@hallmark/kit';
import { standardDeps } from '@hallmark/kit/runner';
import { parseWorkflowCommands } from '../harness/runner.js';

const saved = { ...process.env };
afterEach(() => {
  vi.restoreAllMocks();
  for (const k of ['RUNNER_TEMP', 'GITHUB_WORKSPACE', 'RUNNER_TOOL_CACHE', 'GITHUB_REPOSITORY', 'HM_DEPS_VAR']) {
    if (saved[k] === undefined) delete process.env[k];
    else process.env[k] = saved[k];
  }
});

describe('standardDeps', () => {
  it('paths and context from the runner environment, read once; env() reads the step environment', () => {
    Object.assign(process.env, {
      RUNNER_TEMP: '/rt/temp',
      GITHUB_WORKSPACE: '/rt/ws',
      RUNNER_TOOL_CACHE: '/rt/tc',
      GITHUB_REPOSITORY: 'o/r',
      HM_DEPS_VAR: 'v',
    });
    const d: StdDeps = standardDeps('probe');
    expect(d.action).toBe('probe');
    expect(d.paths).toEqual({ temp: '/rt/temp', workspace: '/rt/ws', toolCache: '/rt/tc' });
    expect([d.context.owner, d.context.repo]).toEqual(['o', 'r']);
    expect(d.env('HM_DEPS_VAR')).toBe('v');
    expect(d.now()).toBeInstanceOf(Date);
  });

  it('exec runs a real tool; log.untrusted keeps workflow commands in tool output inert', async () => {
    const d = standardDeps('probe');
    const r = await d.exec(process.execPath, ['-e', 'process.stdout.write("::set-output name=x::pwned\\n")']);
    expect(r.exitCode).toBe(0);
    let out = '';
    vi.spyOn(process.stdout, 'write').mockImplementation(((s: string) => {
      out += s;
      return true;
    }) as typeof process.stdout.write);
    d.log.untrusted(r.stdout);
    d.log.info('::error::not a command either');
    vi.restoreAllMocks();
    expect(out).toContain('::set-output name=x::pwned');
    expect(parseWorkflowCommands(out)).toEqual([]);
  });
});

describe('pathKind', () => {
  it('file, dir, other, and undefined for nothing (also under a file)', async () => {
    const { mkdtempSync, writeFileSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const { pathKind } = await import('@hallmark/kit/runner');
    const d = mkdtempSync(join(tmpdir(), 'kit-kind-'));
    writeFileSync(join(d, 'f'), 'x');
    expect([
      pathKind(join(d, 'f')),
      pathKind(d),
      pathKind('/dev/null'),
      pathKind(join(d, 'nope')),
      pathKind(join(d, 'f', 'under')),
    ]).toEqual(['file', 'dir', 'other', undefined, undefined]);
  });
});
