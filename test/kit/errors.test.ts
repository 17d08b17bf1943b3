import { describe, expect, it } from 'vitest';
import { _resetSecrets, isUserError, outputTail, requireFound, StepFailure, tail, UserError } from '@hallmark/kit';
import { maskSecret } from '@hallmark/kit/runner';

type Reason = 'sign-failed' | 'push-failed';

describe('StepFailure, requireFound, tail (the pure copies of build-sign / sbom-attach flow.ts)', () => {
  it('StepFailure is a UserError with the reason first, so run() reports it as one', () => {
    const e = new StepFailure<Reason>('push-failed', 'the registry refused the push');
    expect(e).toBeInstanceOf(UserError);
    expect(isUserError(e)).toBe(true);
    expect([e.reason, e.message]).toEqual(['push-failed', 'the registry refused the push']);
  });

  it('requireFound: a tool that could not be started fails with the hint; any other outcome passes', () => {
    const missing = { exitCode: 127, stdout: '', stderr: 'Unable to locate executable file: cosign.' };
    let caught: unknown;
    try {
      requireFound<Reason>('cosign', missing, 'sign-failed', 'add hallmark-dev/hallmark/actions/setup-tools with tools: cosign');
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(StepFailure);
    expect(caught).toMatchObject({
      reason: 'sign-failed',
      message: 'cosign was not found on PATH: add hallmark-dev/hallmark/actions/setup-tools with tools: cosign',
    });
    expect(() => requireFound('cosign', { exitCode: 127, stdout: '', stderr: 'ENOENT' }, 'sign-failed')).toThrow(
      'cosign was not found on PATH: install cosign',
    );
    // Exit 127 from the tool itself (not "not found"), or any other failure: not requireFound's business.
    expect(() => requireFound('cosign', { exitCode: 127, stdout: '', stderr: 'bad key' }, 'sign-failed')).not.toThrow();
    expect(() => requireFound('cosign', { exitCode: 1, stdout: '', stderr: 'not found' }, 'sign-failed')).not.toThrow();
  });

  it('tail: the last lines of a failed tool, stderr first, on one line, redacted and shortened', () => {
    maskSecret('tail-canary-9d1e');
    try {
      const r = { exitCode: 1, stdout: 'out-1\nout-2', stderr: 'e1\ne2\ne3\ne4\nerror: token tail-canary-9d1e rejected' };
      expect(outputTail(r)).toBe('e4\nerror: token tail-canary-9d1e rejected\nout-1\nout-2');
      expect(tail(r)).toBe('e4 ⏎ error: token *** rejected ⏎ out-1 ⏎ out-2');
      expect(tail({ exitCode: 124, stdout: 'x', stderr: '', timedOut: true })).toBe('timed out');
      expect(tail({ exitCode: 3, stdout: '', stderr: '' })).toBe('exit code 3');
      expect(tail({ exitCode: 1, stdout: 'x'.repeat(700), stderr: '' }, 600)).toBe(`${'x'.repeat(600)}…`);
    } finally {
      _resetSecrets();
    }
  });
});
