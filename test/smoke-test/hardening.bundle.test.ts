/**
 * Runs smoke-test's hardening corpus (test/hardening/cases/smoke-test.ts) through the bundle:
 * exactly one error naming the input, exit 1, invalid-input, no stack trace, no request on the
 * loopback server, nothing written in the workspace beyond what setup made, nothing in the
 * runner's temp but the audit record.
 */
import { readdirSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import corpus from '../hardening/cases/smoke-test.js';
import { runAction, runnerHome } from '../harness/runner.js';
import { startServer, type TestServer } from '../harness/server.js';

let server: TestServer;
beforeAll(async () => {
  server = await startServer((_req, res) => {
    res.end('ok');
  });
});
afterAll(async () => {
  await server?.close();
});

describe.concurrent('smoke-test hardening corpus', () => {
  it('has at least 25 distinct cases', () => {
    expect(corpus.bad.length).toBeGreaterThanOrEqual(25);
    expect(new Set(corpus.bad.map((c) => c.name)).size).toBe(corpus.bad.length);
  });
  it.for(corpus.bad)('$name → one error naming $input', async (c, { expect }) => {
    const home = runnerHome('hallmark-smoke-hard-');
    corpus.setup?.(home.workspace);
    const before = readdirSync(home.workspace).sort();
    const inputs: Record<string, string | undefined> = { ...corpus.base.inputs, ...c.inputs };
    for (const [k, v] of Object.entries(inputs)) if (typeof v === 'string') inputs[k] = v.replace(/\{url\}/g, server.url);
    const r = await runAction('smoke-test', { home, inputs, env: corpus.base.env, timeoutMs: 40_000 });
    expect(r.code).toBe(1);
    expect(r.errors, r.stdout).toHaveLength(1);
    expect(r.errors[0]).toMatch(/^smoke-test: /);
    expect(r.errors[0]).toContain(`input '${c.input}'`);
    if (c.expect) expect(r.errors[0]).toMatch(c.expect);
    expect(r.outputs['failure-reason']).toBe('invalid-input');
    expect(r.stdout).not.toMatch(/\n\s+at .+:\d+:\d+\)/);
    expect(server.requests).toHaveLength(0);
    expect(readdirSync(home.workspace).sort()).toEqual(before);
    // Only the run's audit record (the kit's run() appends one per run, failed runs included).
    expect(readdirSync(home.temp).filter((f) => f !== 'hallmark-audit.jsonl')).toEqual([]);
  });
});
