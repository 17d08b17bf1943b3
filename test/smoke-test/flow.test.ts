/** smoke-test's flow: retries, concurrency and order of results, a throwing probe. */
import { describe, expect, it } from 'vitest';
import type { Check } from '../../actions/smoke-test/src/checks-file.js';
import { runChecks, totals } from '../../actions/smoke-test/src/flow.js';

describe('engine', () => {
  const check = (name: string, o: Partial<Check> = {}): Check => ({
    name,
    line: 1,
    critical: true,
    retries: 3,
    intervalMs: 5,
    timeoutMs: 100,
    type: 'tcp',
    tcp: { host: 'h', port: 1 },
    ...o,
  });

  it('retries any failure until a pass, then stops; records every try', async () => {
    const calls: string[] = [];
    const slept: number[] = [];
    const script: Record<string, boolean[]> = { flaky: [false, false, true], dead: [false, false, false, false, false], ok: [true] };
    const r = await runChecks([check('flaky'), check('dead'), check('ok'), check('soft', { critical: false, retries: 0 })], 2, {
      probe: async (c) => {
        calls.push(c.name);
        const ok = (script[c.name] ?? [false]).shift() ?? false;
        return ok ? { ok, latencyMs: 3 } : { ok, latencyMs: 3, error: `${c.name} failed #${calls.filter((x) => x === c.name).length}` };
      },
      sleep: async (ms) => void slept.push(ms),
      now: () => 0,
    });
    expect(r.map((x) => [x.check.name, x.outcome, x.attempts.length, x.error])).toEqual([
      ['flaky', 'pass', 3, undefined],
      ['dead', 'fail', 4, 'dead failed #4'],
      ['ok', 'pass', 1, undefined],
      ['soft', 'warn', 1, 'soft failed #1'],
    ]);
    expect(r[1]!.attempts.map((a) => a.error)).toEqual(['dead failed #1', 'dead failed #2', 'dead failed #3', 'dead failed #4']);
    expect(slept).toEqual([5, 5, 5, 5, 5]); // 2 for flaky, 3 for dead: never after the last try
    expect(totals(r)).toEqual({ total: 4, passed: 2, failed: 1, warnings: 1 });
  });

  it('never runs more than `concurrency` checks at once, and keeps results in file order', async () => {
    let running = 0;
    let peak = 0;
    const checks = Array.from({ length: 20 }, (_, i) => check(`c${i}`, { retries: 0 }));
    const r = await runChecks(checks, 4, {
      probe: async (c) => {
        running++;
        peak = Math.max(peak, running);
        await new Promise((res) => setTimeout(res, 5 + (Number(c.name.slice(1)) % 3) * 5));
        running--;
        return { ok: true, latencyMs: 1 };
      },
      sleep: async () => undefined,
      now: () => 0,
    });
    expect(peak).toBe(4);
    expect(r.map((x) => x.check.name)).toEqual(checks.map((c) => c.name));
  });

  it('a probe that throws is a failed try, not a crash', async () => {
    const [r] = await runChecks([check('x', { retries: 1 })], 1, {
      probe: async () => {
        throw new Error('boom');
      },
      sleep: async () => undefined,
      now: () => 0,
    });
    expect(r).toMatchObject({ outcome: 'fail', error: 'boom' });
    expect(r!.attempts).toHaveLength(2);
  });
});
