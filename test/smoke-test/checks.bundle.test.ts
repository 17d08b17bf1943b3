/**
 * smoke-test's bundle, run the way the runner runs it, against real loopback servers: a flaky
 * endpoint, a slow one, wrong bodies and JSON, a redirect chain with relative Locations, a refused
 * port, a self-signed TLS server, a TCP listener and a hostile body. Counts come from what the
 * servers saw, not from the action's own claims.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer as createNetServer } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runAction, runnerHome, runtimes, visibleLog, type ActionResult } from '../harness/runner.js';
import { startParts, TOKEN, type Parts } from './servers.js';

let parts: Parts;
beforeAll(async () => {
  parts = await startParts();
});
afterAll(async () => {
  await parts?.close();
});

interface Report {
  schema: number;
  passed: boolean;
  checkCount: number;
  passedCount: number;
  failedCount: number;
  warningCount: number;
  checks: {
    name: string;
    result: string;
    tries: number;
    error?: string;
    detail?: string;
    line?: number;
    attempts: { attempt: number; ok: boolean; error?: string; status?: number }[];
  }[];
}

async function smoke(
  inputs: Record<string, string>,
  opts: { env?: Record<string, string>; runtime?: ReturnType<typeof runtimes>[number]; files?: Record<string, string> } = {},
): Promise<ActionResult & { report?: Report }> {
  const home = runnerHome('hallmark-smoke-');
  for (const [name, text] of Object.entries(opts.files ?? {})) writeFileSync(join(home.workspace, name), text);
  const r = await runAction('smoke-test', { runtime: opts.runtime, home, inputs, env: { NO_COLOR: '1', ...opts.env }, timeoutMs: 50_000 });
  const file = r.outputs.report;
  const report = file && existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as Report) : undefined;
  return Object.assign(r, { report });
}

const byName = (rep: Report | undefined, name: string) => {
  const c = rep?.checks.find((x) => x.name === name);
  if (!c) throw new Error(`no check named ${name} in the report`);
  return c;
};

describe.each(runtimes())('smoke-test bundle ($name)', (rt) => {
  it('retries each failure, tells pass, fail and warn apart, and writes the report, JUnit and summary even though it fails', async () => {
    const id = `mixed-${rt.name}`;
    const file = `defaults: { retries: 2, interval: 20ms, timeout: 8s }
checks:
  - name: flaky
    http: { url: "${parts.app.url}/flaky/${id}", expect: { status: 200, json: { path: status, equals: up } } }
  - name: wrong body
    http: { url: "${parts.app.url}/wrong-body", expect: { body-contains: ok } }
  - name: wrong json
    http: { url: "${parts.app.url}/json-down", expect: { json: { path: status, equals: up } } }
  - name: slow
    http: { url: "${parts.app.url}/slow" }
    timeout: 300ms
    retries: 1
  - name: redirects
    http: { url: "${parts.app.url}/r/1", expect: { body-contains: arrived } }
  - name: refused
    http: { url: "http://127.0.0.1:${parts.refusedPort}/healthz" }
  - name: self-signed
    http: { url: "${parts.tls.url}/healthz" }
    retries: 0
  - name: database port
    tcp: { host: 127.0.0.1, port: ${parts.tcp.port} }
  - name: soft
    http: { url: "${parts.app.url}/wrong-body", expect: { body-contains: nope } }
    critical: false
    retries: 0
`;
    const wrongBefore = parts.hits('/wrong-body').length;
    const tcpBefore = parts.tcp.connections();
    const r = await smoke(
      { checks: 'smoke.yml', junit: 'reports/smoke.xml', concurrency: '4' },
      { runtime: rt, files: { 'smoke.yml': file } },
    );
    expect(r.code, r.stdout + r.stderr).toBe(1);
    expect(r.outputs['failure-reason']).toBe('checks-failed');
    expect(r.outputs).toMatchObject({
      'check-count': '9',
      'passed-count': '3',
      'failed-count': '5',
      'warning-count': '1',
      passed: 'false',
    });
    expect(r.errors).toEqual(["smoke-test: 5 of 9 checks failed: 'wrong body', 'wrong json', 'slow', 'refused', 'self-signed'"]);
    // One audit record for the run: the verdict and the counts, nothing else.
    const trail = readFileSync(join(r.home.temp, 'hallmark-audit.jsonl'), 'utf8').trim().split('\n');
    expect(trail).toHaveLength(1);
    const rec = JSON.parse(trail[0]!) as { action: string; verdict: string; failureReason?: string; facts: Record<string, unknown> };
    expect(rec).toMatchObject({ action: 'smoke-test', verdict: 'failed', failureReason: 'checks-failed' });
    expect(rec.facts).toEqual({
      'check-count': 9,
      'passed-count': 3,
      'failed-count': 5,
      'warning-count': 1,
      'fail-on-warning': false,
      'check-kinds': 'http,tcp',
    });
    expect(
      r.warnings.some((w) => w.startsWith('smoke-test: check \'soft\' failed but is not critical: body does not contain "nope"')),
    ).toBe(true);

    // What the servers saw.
    expect(parts.hits(`/flaky/${id}`)).toHaveLength(3);
    expect(parts.hits('/wrong-body').length - wrongBefore).toBe(3 + 1); // 3 tries + the soft check's one
    expect(parts.tcp.connections() - tcpBefore).toBe(1);

    const rep = r.report!;
    expect(rep).toMatchObject({ schema: 2, passed: false, checkCount: 9, passedCount: 3, failedCount: 5, warningCount: 1 });
    expect(byName(rep, 'flaky')).toMatchObject({ result: 'pass', tries: 3, line: 3 });
    expect(byName(rep, 'flaky').attempts.map((a) => a.status)).toEqual([503, 503, 200]);
    expect(byName(rep, 'wrong body')).toMatchObject({
      result: 'fail',
      tries: 3,
      error: 'body does not contain "ok" (body: service in maintenance)',
    });
    expect(byName(rep, 'wrong json')).toMatchObject({ result: 'fail', error: 'JSON status is "down", expected "up"' });
    expect(byName(rep, 'slow')).toMatchObject({ result: 'fail', tries: 2, error: 'no complete response within 300ms' });
    expect(byName(rep, 'redirects')).toMatchObject({ result: 'pass', tries: 1 });
    expect(byName(rep, 'redirects').detail).toBe(
      `redirects: 302 → ${parts.app.url}/r/2, 301 → ${parts.app.url}/r/3, 307 → ${parts.app.url}/r/final`,
    );
    expect(byName(rep, 'refused')).toMatchObject({ result: 'fail', tries: 3, error: 'connection refused (ECONNREFUSED)' });
    expect(byName(rep, 'refused').attempts.map((a) => a.error)).toEqual(Array(3).fill('connection refused (ECONNREFUSED)'));
    expect(byName(rep, 'self-signed').error).toMatch(/^TLS verification failed: self[- ]signed certificate/);
    expect(byName(rep, 'database port')).toMatchObject({ result: 'pass', tries: 1 });
    expect(byName(rep, 'soft')).toMatchObject({ result: 'warn', tries: 1 });

    // Console: one line per check with its mark, tries and the last error.
    const log = visibleLog(r);
    expect(log).toMatch(/✓ PASS {2}flaky {2}GET http:\/\/127\.0\.0\.1:\d+\/flaky\/\S+ · 3\/3 tries · \d+m?s/);
    expect(log).toMatch(/✗ FAIL {2}refused {2}.* · 3\/3 tries · .*\n {4}last error: connection refused \(ECONNREFUSED\)/);
    expect(log).toMatch(/! WARN {2}soft {2}/);
    // JUnit and summary.
    const xml = readFileSync(r.outputs.junit!, 'utf8');
    expect(xml.match(/<testcase /g)).toHaveLength(9);
    expect(xml.match(/<failure /g)).toHaveLength(5);
    expect(xml).toContain('<testsuites name="smoke-test" tests="9" failures="5"');
    expect(r.summary).toContain('### Smoke test: ❌ 5 of 9 checks failed');
    expect(r.summary.match(/^\| (✅ pass|❌ fail|⚠️ warn) \|/gm)).toHaveLength(9);
  });

  it('all green: exit 0, counts, `ok`, no error; the `url` shorthand', async () => {
    const r = await smoke({ url: `${parts.app.url}/healthz`, retries: '0' }, { runtime: rt });
    expect(r.code, r.stdout).toBe(0);
    expect(r.errors).toEqual([]);
    expect(r.outputs).toMatchObject({ 'check-count': '1', 'passed-count': '1', 'failed-count': '0', 'warning-count': '0', passed: 'true' });
    expect(r.outputs['failure-reason']).toBeUndefined();
    expect(r.report!.checks[0]).toMatchObject({ name: `${parts.app.url}/healthz`, result: 'pass' });
    expect(r.outputs.report).toBe(join(r.home.workspace, 'smoke-report.json'));
  });

  it('a response body cannot issue workflow commands', async () => {
    const r = await smoke({ url: `${parts.app.url}/evil`, retries: '0' }, { runtime: rt });
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('::set-output name=hacked::yes'); // shown, but inert
    expect(r.commands.filter((c) => c.command !== 'error' && c.command !== 'add-mask')).toEqual([]);
    expect(r.commands.filter((c) => c.command === 'add-mask')).toEqual([]);
    expect(r.errors).toEqual([`smoke-test: 1 of 1 checks failed: '${parts.app.url}/evil'`]);
    expect(r.outputs.hacked).toBeUndefined();
  });

  it('bad check files fail with bad-checks-file, naming the line and key, before any request', async () => {
    const cases: [string, RegExp][] = [
      [`checks:\n  - name: mail\n    smtp: { host: 127.0.0.1 }\n`, /line 3: checks\[0\]: unknown key 'smtp'/],
      [`checks:\n  - name: api\n    http:\n      method: GET\n`, /line 4: checks\[0\]\.http\.url is required/],
      [
        `defaults: { interval: 5 parsecs }\nchecks:\n  - http: { url: "${parts.app.url}/healthz" }\n`,
        /line 1: defaults\.interval must be a duration such as 500ms, 5s or 2m \(got 5 parsecs\)/,
      ],
      [`checks:\n  - http: { url: "${parts.app.url}/healthz"\n  - tcp: { host: a, port: 1 }\n`, /line \d: YAML syntax error: /],
    ];
    const before = parts.app.requests.length;
    for (const [text, re] of cases) {
      const r = await smoke({ checks: 'smoke.yml' }, { runtime: rt, files: { 'smoke.yml': text } });
      expect(r.code).toBe(1);
      expect(r.errors).toHaveLength(1);
      expect(r.errors[0]).toMatch(/^smoke-test: bad check file smoke\.yml: /);
      expect(r.errors[0]).toMatch(re);
      expect(r.outputs['failure-reason']).toBe('bad-checks-file');
      expect(existsSync(join(r.home.workspace, 'smoke-report.json'))).toBe(false);
      expect(r.stdout).not.toMatch(/\n\s+at .+:\d+:\d+\)/);
    }
    expect(parts.app.requests.length).toBe(before);
  });
});

describe('smoke-test bundle (host runtime)', () => {
  it('secrets come from env:, reach the server, are masked, and do not follow a redirect to another origin', async () => {
    const file = `checks:
  - name: auth
    http: { url: "${parts.app.url}/auth", headers: { Authorization: "Bearer \${API_TOKEN}" } }
  - name: cross-origin redirect
    http: { url: "${parts.app.url}/cross", headers: { Authorization: "Bearer \${API_TOKEN}" }, expect: { body-contains: landed } }
  - name: denied without the token
    http: { url: "${parts.app.url}/auth", expect: { status: 200 } }
    retries: 0
`;
    const r = await smoke({ checks: file, retries: '0' }, { env: { API_TOKEN: TOKEN } });
    expect(r.report!.checks.map((c) => c.result)).toEqual(['pass', 'pass', 'fail']);
    expect(parts.hits('/auth').some((h) => h.headers.authorization === `Bearer ${TOKEN}`)).toBe(true);
    const landing = parts.hits('/landing').at(-1)!;
    expect(landing.headers.host).toMatch(/^localhost:/);
    expect(landing.headers.authorization).toBeUndefined();
    expect(r.commands.filter((c) => c.command === 'add-mask').map((c) => c.value)).toContain(TOKEN);
    expect(r.everything.replace(/::add-mask::.*\n/g, '')).not.toContain(TOKEN);
    expect(readFileSync(r.outputs.report!, 'utf8')).not.toContain(TOKEN);
  });

  it("a program run by an exec check still gets the step's variables the file used (masked ones too), and never the action's INPUT_*", async () => {
    const file = `checks:
  - name: auth
    http: { url: "${parts.app.url}/auth", headers: { Authorization: "Bearer \${API_TOKEN}" } }
  - name: script sees the token
    exec: [ "sh", "-c", "test \\"$API_TOKEN\\" = '${TOKEN}' && test -z \\"$INPUT_CHECKS\\"" ]
    retries: 0
`;
    const r = await smoke({ checks: file, retries: '0' }, { env: { API_TOKEN: TOKEN } });
    expect(r.report!.checks.map((c) => [c.name, c.result, c.error])).toEqual([
      ['auth', 'pass', undefined],
      ['script sees the token', 'pass', undefined],
    ]);
  });

  it('a variable that is not in the step environment is a bad check file, not an empty header', async () => {
    const r = await smoke({
      checks: `checks:\n  - http: { url: "${parts.app.url}/auth", headers: { Authorization: "Bearer \${API_TOKEN}" } }\n`,
    });
    expect(r.outputs['failure-reason']).toBe('bad-checks-file');
    expect(r.errors[0]).toContain("line 2: checks[0].http.headers.Authorization: ${API_TOKEN} is not set in the step's environment");
  });

  it('insecure: true is an explicit, warned opt-in per check', async () => {
    const r = await smoke({
      checks: `checks:\n  - name: tls\n    http: { url: "${parts.tls.url}/healthz", insecure: true }\n`,
      retries: '0',
    });
    expect(r.code, r.stdout).toBe(0);
    expect(r.warnings).toEqual([`smoke-test: TLS verification is off for ${parts.tls.url.replace(/\/$/, '')} (insecure: true)`]);
  });

  it('follow-redirects: false sees the 302 itself; a redirect loop stops after 5', async () => {
    const r = await smoke({
      checks: `checks:\n  - name: no-follow\n    http: { url: "${parts.app.url}/r/1", follow-redirects: false, expect: { status: 302 } }\n  - name: loop\n    http: { url: "${parts.app.url}/loop" }\n    retries: 0\n`,
      retries: '0',
    });
    expect(byName(r.report, 'no-follow').result).toBe('pass');
    expect(byName(r.report, 'loop')).toMatchObject({ result: 'fail', error: `more than 5 redirects (last at ${parts.app.url}/loop)` });
  });

  it('fail-on-warning turns a non-critical failure into a failed step', async () => {
    const checks = `checks:\n  - name: soft\n    http: { url: "${parts.app.url}/wrong-body", expect: { body-contains: ok } }\n    critical: false\n    retries: 0\n`;
    const lenient = await smoke({ checks });
    expect(lenient.code).toBe(0);
    expect(lenient.outputs).toMatchObject({ 'warning-count': '1', 'failed-count': '0', passed: 'true' });
    const strict = await smoke({ checks, 'fail-on-warning': 'true' });
    expect(strict.code).toBe(1);
    expect(strict.outputs).toMatchObject({ 'warning-count': '1', passed: 'false', 'failure-reason': 'checks-failed' });
    expect(strict.errors).toEqual(["smoke-test: 1 of 1 checks failed (warnings, with fail-on-warning): 'soft'"]);
  });

  it('never more than `concurrency` requests in flight', async () => {
    const list = Array.from({ length: 12 }, (_, i) => `  - http: { url: "${parts.app.url}/hold/${i}" }`).join('\n');
    const r = await smoke({ checks: `checks:\n${list}\n`, concurrency: '4', retries: '0' });
    expect(r.code, r.stdout).toBe(0);
    expect(parts.hits('/hold/0')).toHaveLength(1);
    expect(parts.peakHold()).toBe(4);
  });

  it('exec takes an argument list: no shell reads it', async () => {
    const r = await smoke({
      checks: `checks:\n  - name: ok\n    exec: [ "node", "-e", "process.exit(0)", "a; touch pwned" ]\n  - name: migrations\n    exec: [ "node", "-e", "console.error('2 migrations pending'); process.exit(3)" ]\n    retries: 0\n  - name: missing\n    exec: [ "./no-such-program" ]\n    retries: 0\n`,
      retries: '0',
    });
    expect(r.report!.checks.map((c) => [c.name, c.result, c.error])).toEqual([
      ['ok', 'pass', undefined],
      ['migrations', 'fail', 'exit code 3: 2 migrations pending'],
      ['missing', 'fail', './no-such-program: program not found'],
    ]);
    expect(existsSync(join(r.home.workspace, 'pwned'))).toBe(false);
  });

  it('a kept-alive connection the server has dropped is not a failed try', async () => {
    // Answers the first request on each connection (keep-alive, no timeout hint), then resets
    // the connection when a second request arrives on it: what an idle timeout race looks like.
    let connections = 0;
    const srv = createNetServer((sock) => {
      connections++;
      let served = 0;
      sock.on('data', () => {
        if (served++ === 0)
          sock.write('HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: 2\r\nconnection: keep-alive\r\n\r\nok');
        else sock.resetAndDestroy();
      });
      sock.on('error', () => undefined);
    });
    await new Promise<void>((res) => srv.listen(0, '127.0.0.1', () => res()));
    const port = (srv.address() as { port: number }).port;
    try {
      const list = [1, 2, 3].map((i) => `  - http: { url: "http://127.0.0.1:${port}/k/${i}" }`).join('\n');
      const r = await smoke({ checks: `checks:\n${list}\n`, concurrency: '1', retries: '0' });
      expect(r.code, r.stdout).toBe(0);
      expect(r.report!.checks.map((c) => [c.result, c.tries])).toEqual([
        ['pass', 1],
        ['pass', 1],
        ['pass', 1],
      ]);
      expect(connections).toBeGreaterThanOrEqual(3);
    } finally {
      await new Promise<void>((res) => srv.close(() => res()));
    }
  });

  it('a password in the url input is masked, even when the url is rejected', async () => {
    const pw = 'url-pw-canary-93b1';
    const ok = await smoke({ url: `http://smoke:${pw}@127.0.0.1:${parts.app.port}/healthz`, retries: '0' });
    expect(ok.code, ok.stdout).toBe(0);
    expect(parts.app.requests.filter((q) => q.path === '/healthz').at(-1)!.headers.authorization).toBe(
      `Basic ${Buffer.from(`smoke:${pw}`).toString('base64')}`,
    );
    const bad = await smoke({ url: `http://smoke:${pw}@127.0.0.1:${parts.app.port}/health z` });
    expect(bad.outputs['failure-reason']).toBe('invalid-input');
    for (const r of [ok, bad]) expect(r.everything.replace(/::add-mask::.*\n/g, '')).not.toContain(pw);
  });
});
