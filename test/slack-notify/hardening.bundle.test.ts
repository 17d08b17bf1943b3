/**
 * Runs slack-notify's hardening corpus (test/hardening/cases/slack-notify.ts) through the real
 * bundle: each bad input gives exactly one `::error::` naming its input, exit 1, failure-reason
 * invalid-input, no stack trace, no request to the loopback server, nothing in the workspace, and
 * no secret input value in the output.
 */
import { readdirSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import corpus from '../hardening/cases/slack-notify.js';
import { runAction, visibleLog } from '../harness/runner.js';
import { startServer, type TestServer } from '../harness/server.js';

let server: TestServer;
beforeAll(async () => {
  server = await startServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.end('ok');
  });
});
afterAll(async () => {
  await server?.close();
});

function inputsFor(c: (typeof corpus.bad)[number]): Record<string, string> {
  const merged: Record<string, string | undefined> = { ...corpus.base.inputs, ...c.inputs };
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(merged)) if (v !== undefined) out[k] = v.split('{url}').join(server.url);
  return out;
}

describe('slack-notify hardening corpus', () => {
  it('has at least 25 uniquely named cases and lists the secret inputs', () => {
    expect(corpus.bad.length).toBeGreaterThanOrEqual(25);
    expect(new Set(corpus.bad.map((c) => c.name)).size).toBe(corpus.bad.length);
    expect(corpus.secrets).toEqual(['webhook-url', 'bot-token']);
  });

  it('the base inputs are valid: it sends', async () => {
    const before = server.requests.length;
    const r = await runAction('slack-notify', { inputs: inputsFor({ name: 'base', inputs: {}, input: '' }) });
    expect(r.errors, r.stdout).toEqual([]);
    expect(r.code).toBe(0);
    expect(server.requests.length - before).toBe(1);
  });

  it('every bad case: one error naming its input, nothing sent, no secret shown', async () => {
    const failures: string[] = [];
    const queue = [...corpus.bad];
    const before = server.requests.length;
    await Promise.all(
      [0, 1, 2, 3].map(async () => {
        for (let c = queue.shift(); c; c = queue.shift()) {
          const inputs = inputsFor(c);
          const r = await runAction('slack-notify', { inputs });
          const problems: string[] = [];
          if (r.code !== 1) problems.push(`exit ${r.code}`);
          if (r.errors.length !== 1) problems.push(`${r.errors.length} errors: ${JSON.stringify(r.errors)}`);
          const e = r.errors[0] ?? '';
          if (!e.startsWith(`slack-notify: input '${c.input}'`)) problems.push(`error does not name input '${c.input}': ${e}`);
          if (c.expect && !(typeof c.expect === 'string' ? e.includes(c.expect) : c.expect.test(e)))
            problems.push(`error lacks ${String(c.expect)}: ${e}`);
          if (r.outputs['failure-reason'] !== 'invalid-input') problems.push(`failure-reason ${r.outputs['failure-reason']}`);
          if (/\n\s+at /.test(r.stdout + r.stderr)) problems.push('stack trace');
          if (readdirSync(r.home.workspace).length) problems.push('wrote into the workspace');
          for (const s of corpus.secrets ?? []) {
            const v = inputs[s];
            if (
              v &&
              v.length >= 8 &&
              (visibleLog(r).includes(v) || r.stderr.includes(v) || r.summary.includes(v) || JSON.stringify(r.outputs).includes(v))
            )
              problems.push(`secret ${s} shown`);
          }
          if (problems.length) failures.push(`${c.name}: ${problems.join('; ')}`);
        }
      }),
    );
    expect(failures).toEqual([]);
    expect(server.requests.length).toBe(before);
  });
});
