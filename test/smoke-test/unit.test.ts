/**
 * smoke-test's domain without a runner: the check file (with the line and key of every mistake),
 * `${NAME}` expansion, HTTP expectations, kubectl's answers, the engine's retries and concurrency,
 * and the reports' escaping.
 */
import { describe, expect, it } from 'vitest';
import { CheckFileError, DEFAULTS, parseChecks, parseJsonPath, type Check } from '../../actions/smoke-test/src/config.js';
import { runChecks, totals } from '../../actions/smoke-test/src/engine.js';
import { evaluate, lookup } from '../../actions/smoke-test/src/expect.js';
import { countReady, interpret, kubectlError, kubectlRun } from '../../actions/smoke-test/src/kube.js';
import { describeNetworkError } from '../../actions/smoke-test/src/probes.js';
import { consoleLines, junit, summaryMarkdown, xml } from '../../actions/smoke-test/src/report.js';
import { isInline } from '../../actions/smoke-test/src/inputs.js';

const D = { ...DEFAULTS };

function parseError(text: string, env: Record<string, string> = {}): CheckFileError {
  try {
    parseChecks(text, D, env);
  } catch (e) {
    if (e instanceof CheckFileError) return e;
    throw e;
  }
  throw new Error('expected a CheckFileError');
}

const ISSUE_EXAMPLE = `defaults: { retries: 2, interval: 1s, timeout: 10s }
checks:
  - name: api health
    http: { url: https://api.example.com/healthz, method: GET, headers: { Authorization: "Bearer \${API_TOKEN}" },
            expect: { status: [200, 204], body-contains: ok, json: { path: status, equals: up }, max-latency: 800ms } }
  - name: database port
    tcp: { host: db.internal, port: 5432 }
  - name: api rollout
    k8s: { rollout: deployment/api, namespace: prod }
  - name: api pods ready
    k8s: { pods-ready: { selector: app=api, namespace: prod, min: 2 } }
  - name: unsigned images are denied
    k8s: { denied: { image: docker.io/library/nginx:1.27, namespace: prod } }
  - name: migrations applied
    exec: [ "./scripts/check-migrations", "--env", "prod" ]
    critical: false
    retries: 0
`;

describe('check file', () => {
  it('parses the example from the issue, with defaults, overrides and the secret masked', () => {
    const p = parseChecks(ISSUE_EXAMPLE, D, { API_TOKEN: 'tok-123456' });
    expect(p.checks.map((c) => [c.name, c.type, c.line, c.retries, c.intervalMs, c.timeoutMs, c.critical])).toEqual([
      ['api health', 'http', 3, 2, 1000, 10_000, true],
      ['database port', 'tcp', 6, 2, 1000, 10_000, true],
      ['api rollout', 'k8s', 8, 2, 1000, 10_000, true],
      ['api pods ready', 'k8s', 10, 2, 1000, 10_000, true],
      ['unsigned images are denied', 'k8s', 12, 2, 1000, 10_000, true],
      ['migrations applied', 'exec', 14, 0, 1000, 10_000, false],
    ]);
    const h = p.checks[0]!.http!;
    expect(h.headers).toEqual({ Authorization: 'Bearer tok-123456' });
    expect(h.expect).toEqual({ status: [{ code: 200 }, { code: 204 }], bodyContains: ['ok'], json: { path: 'status', equals: 'up' }, maxLatencyMs: 800 });
    expect(p.checks[1]!.tcp).toEqual({ host: 'db.internal', port: 5432 });
    expect(p.checks[2]!.k8s).toEqual({ kind: 'rollout', resource: 'deployment/api', namespace: 'prod' });
    expect(p.checks[3]!.k8s).toEqual({ kind: 'pods-ready', selector: 'app=api', namespace: 'prod', min: 2 });
    expect(p.checks[4]!.k8s).toMatchObject({ kind: 'denied', image: 'docker.io/library/nginx:1.27', namespace: 'prod' });
    expect(p.checks[5]!.exec).toEqual(['./scripts/check-migrations', '--env', 'prod']);
    expect(p.secrets).toEqual(['tok-123456']);
  });

  it('takes the inputs as defaults when the file has none, and a bare list of checks', () => {
    const p = parseChecks('- http: { url: "http://x/health?token=1" }\n', { retries: 7, intervalMs: 10, timeoutMs: 99 }, {});
    expect(p.checks[0]).toMatchObject({ name: 'GET http://x/health', retries: 7, intervalMs: 10, timeoutMs: 99, critical: true });
    expect(p.checks[0]!.http!.expect.status).toEqual([{ klass: 2 }]);
  });

  it('masks secret-looking variables wherever they are used, and leaves others readable', () => {
    const p = parseChecks('checks:\n  - http: { url: "https://${HOST}/h?key=${API_KEY}" }\n', D, { HOST: 'api.example.com', API_KEY: 'k-abcdef' });
    expect(p.checks[0]!.http!.url).toBe('https://api.example.com/h?key=k-abcdef');
    expect(p.secrets).toEqual(['k-abcdef']);
  });

  it('expands only from the environment it is given; $${X} is a literal', () => {
    const p = parseChecks('checks:\n  - exec: [ "echo", "$${HOME}", "${WHO}" ]\n', D, { WHO: 'me' });
    expect(p.checks[0]!.exec).toEqual(['echo', '${HOME}', 'me']);
  });

  it('status classes, lists and single codes', () => {
    const p = parseChecks('checks:\n  - http: { url: "http://x", expect: { status: 3xx } }\n  - http: { url: "http://y", expect: { status: [2xx, 404] } }\n', D, {});
    expect(p.checks[0]!.http!.expect.status).toEqual([{ klass: 3 }]);
    expect(p.checks[1]!.http!.expect.status).toEqual([{ klass: 2 }, { code: 404 }]);
  });

  it('insecure: true is accepted for https and warned about', () => {
    const p = parseChecks('checks:\n  - http: { url: "https://self-signed.internal/h", insecure: true }\n', D, {});
    expect(p.checks[0]!.http!.insecure).toBe(true);
    expect(p.warnings).toEqual(['TLS verification is off for https://self-signed.internal (insecure: true)']);
  });

  const bad: [string, string, RegExp][] = [
    ['unknown check type', 'checks:\n  - name: a\n    smtp: { host: x }\n', /^line 3: checks\[0\]: unknown key 'smtp'/],
    ['no check type', 'checks:\n  - name: a\n', /^line 2: checks\[0\] needs a check type: one of http, tcp, k8s, exec/],
    ['missing url', 'checks:\n  - name: a\n    http:\n      method: GET\n', /^line 4: checks\[0\]\.http\.url is required/],
    ['bad duration in defaults', 'defaults:\n  interval: 5 parsecs\nchecks:\n  - url: x\n', /^line 2: defaults\.interval must be a duration such as 500ms, 5s or 2m \(got 5 parsecs\)/],
    ['bad duration in a check', 'checks:\n  - http: { url: "http://x" }\n    timeout: soon\n', /^line 3: checks\[0\]\.timeout must be a duration/],
    ['YAML syntax error', 'checks:\n  - http: { url: "http://x"\n  - tcp: { host: a, port: 1 }\n', /^line \d+: YAML syntax error: /],
    ['two types', 'checks:\n  - http: { url: "http://x" }\n    tcp: { host: a, port: 1 }\n', /^line 2: checks\[0\] has http and tcp; a check has exactly one type/],
    ['exec as a shell string', 'checks:\n  - exec: "./check.sh --env prod"\n', /^line 2: checks\[0\]\.exec must be an argument list .*no shell strings/],
    ['status out of range', 'checks:\n  - http: { url: "http://x", expect: { status: 700 } }\n', /checks\[0\]\.http\.expect\.status must be a status code/],
    ['typo in expect', 'checks:\n  - http:\n      url: "http://x"\n      expect: { stauts: 200 }\n', /^line 4: checks\[0\]\.http\.expect: unknown key 'stauts'/],
    ['port out of range', 'checks:\n  - tcp: { host: a, port: 70000 }\n', /checks\[0\]\.tcp\.port must be a whole number from 1 to 65535/],
    ['ftp url', 'checks:\n  - http: { url: "ftp://x/y" }\n', /checks\[0\]\.http\.url must be an http:\/\/ or https:\/\/ URL/],
    ['unset variable', 'checks:\n  - http: { url: "http://x", headers: { Authorization: "Bearer ${NOPE}" } }\n', /\$\{NOPE\} is not set in the step's environment/],
    ['rollout of a pod', 'checks:\n  - k8s: { rollout: pod/api }\n', /rollout must be kind\/name with kind deployment, statefulset or daemonset/],
    ['two k8s kinds', 'checks:\n  - k8s: { rollout: deployment/a, denied: { image: x } }\n', /must have exactly one of rollout, pods-ready, denied/],
    ['pods-ready without selector', 'checks:\n  - k8s: { pods-ready: { namespace: prod } }\n', /pods-ready\.selector is required/],
    ['duplicate name', 'checks:\n  - { name: a, tcp: { host: a, port: 1 } }\n  - { name: a, tcp: { host: b, port: 1 } }\n', /^line 3: checks\[1\]: another check is already named 'a'/],
    ['duplicate key', 'checks:\n  - name: a\n    name: b\n    tcp: { host: a, port: 1 }\n', /^line 3: YAML syntax error: Map keys must be unique/],
    ['empty list', 'checks: []\n', /checks must list at least one check/],
    ['not a mapping', '"just a string"\n', /the check file must be a mapping with a 'checks' list/],
    ['insecure on http', 'checks:\n  - http: { url: "http://x", insecure: true }\n', /insecure only applies to https/],
    ['retries negative', 'checks:\n  - http: { url: "http://x" }\n    retries: -1\n', /checks\[0\]\.retries must be a whole number from 0 to 100/],
    ['critical not boolean', 'checks:\n  - http: { url: "http://x" }\n    critical: maybe\n', /checks\[0\]\.critical must be true or false/],
    ['json path malformed', 'checks:\n  - http: { url: "http://x", expect: { json: { path: "a..b", equals: 1 } } }\n', /json\.path must be a dotted path/],
  ];
  it.each(bad)('%s → names the line and key', (_n, text, re) => {
    expect(parseError(text).message).toMatch(re);
  });
});

describe('HTTP expectations', () => {
  const exp = (o: object) => ({ status: [{ klass: 2 }], bodyContains: [], ...o });
  it('status, body, JSON and latency', () => {
    expect(evaluate(exp({}), { status: 204, body: '', latencyMs: 1 })).toBeUndefined();
    expect(evaluate(exp({}), { status: 503, body: 'down\n  for maintenance', latencyMs: 1 })).toBe('HTTP 503, expected 2xx (body: down for maintenance)');
    expect(evaluate(exp({ bodyContains: ['ok', 'ready'] }), { status: 200, body: 'ok', latencyMs: 1 })).toBe('body does not contain "ready" (body: ok)');
    expect(evaluate(exp({ json: { path: 'status', equals: 'up' } }), { status: 200, body: '{"status":"down"}', latencyMs: 1 })).toBe('JSON status is "down", expected "up"');
    expect(evaluate(exp({ json: { path: 'checks[1].ok', equals: true } }), { status: 200, body: '{"checks":[{"ok":true},{"ok":true}]}', latencyMs: 1 })).toBeUndefined();
    expect(evaluate(exp({ json: { path: 'db', exists: true } }), { status: 200, body: 'not json', latencyMs: 1 })).toMatch(/^body is not JSON/);
    expect(evaluate(exp({ json: { path: 'db', exists: true } }), { status: 200, body: '{}', latencyMs: 1 })).toBe('JSON db is missing');
    expect(evaluate(exp({ maxLatencyMs: 100 }), { status: 200, body: '', latencyMs: 250 })).toBe('took 250ms, more than max-latency 100ms');
  });
  it('JSON paths', () => {
    expect(parseJsonPath('a.b[2]["c.d"]')).toEqual(['a', 'b', 2, 'c.d']);
    expect(parseJsonPath('a..b')).toBeUndefined();
    expect(lookup({ a: [{ b: 0 }] }, 'a[0].b')).toEqual({ found: true, value: 0 });
    expect(lookup({ a: [] }, 'a[0]')).toEqual({ found: false });
  });
  it('network errors in words', () => {
    expect(describeNetworkError(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' }))).toBe('connection refused (ECONNREFUSED)');
    expect(describeNetworkError(Object.assign(new Error('self-signed certificate'), { code: 'DEPTH_ZERO_SELF_SIGNED_CERT' }))).toBe('TLS verification failed: self-signed certificate (DEPTH_ZERO_SELF_SIGNED_CERT)');
  });
});

describe('kubectl', () => {
  it('argument lists (no shell), with the deadline handed to kubectl', () => {
    expect(kubectlRun({ kind: 'rollout', resource: 'deployment/api', namespace: 'prod' }, 30_000, 'p').args).toEqual(['--namespace', 'prod', 'rollout', 'status', 'deployment/api', '--watch=true', '--timeout=30s']);
    expect(kubectlRun({ kind: 'pods-ready', selector: 'app=api', min: 2, context: 'c1' }, 1500, 'p').args).toEqual(['--context', 'c1', 'get', 'pods', '--selector', 'app=api', '--output', 'json', '--request-timeout=2s']);
    const d = kubectlRun({ kind: 'denied', image: 'nginx:1.27', namespace: 'prod' }, 10_000, 'hallmark-smoke-1');
    expect(d.args).toContain('--dry-run=server');
    expect(JSON.parse(d.input!)).toMatchObject({ kind: 'Pod', metadata: { name: 'hallmark-smoke-1', namespace: 'prod' }, spec: { containers: [{ image: 'nginx:1.27' }] } });
  });
  it('counts Ready pods (not Running ones, not terminating ones)', () => {
    const pod = (name: string, ready: boolean, extra: object = {}) => ({ metadata: { name, ...extra }, status: { phase: 'Running', conditions: [{ type: 'Ready', status: ready ? 'True' : 'False' }] } });
    expect(countReady(JSON.stringify({ items: [pod('a', true), pod('b', false), pod('c', true, { deletionTimestamp: '2026-01-01T00:00:00Z' })] }))).toEqual({ total: 3, ready: 1, notReady: ['b', 'c'] });
    expect(countReady('nope')).toBeUndefined();
  });
  const denied = { kind: 'denied' as const, image: 'nginx:1.27' };
  const out = (exitCode: number, stderr: string, stdout = '') => ({ exitCode, stderr, stdout, timedOut: false });
  it('denied passes only on an admission refusal', () => {
    expect(interpret(denied, out(0, '', 'pod/x created (server dry run)\n'), 1000)).toMatchObject({ ok: false, error: expect.stringMatching(/^admitted: /) });
    expect(interpret(denied, out(1, 'Error from server: error when creating "STDIN": admission webhook "mutate.kyverno.svc-fail" denied the request: \n\nblocked\n'), 1000)).toMatchObject({ ok: true });
    expect(interpret(denied, out(1, `Error from server (Forbidden): error when creating "STDIN": pods "x" is forbidden: ValidatingAdmissionPolicy 'p' with binding 'b' denied request: unsigned\n`), 1000).ok).toBe(true);
    // RBAC refusing the create is not admission: we learned nothing about the policy.
    expect(interpret(denied, out(1, 'Error from server (Forbidden): error when creating "STDIN": pods is forbidden: User "ci" cannot create resource "pods" in API group "" in the namespace "prod"\n'), 1000)).toMatchObject({ ok: false, error: expect.stringMatching(/^could not test admission: /) });
    expect(interpret(denied, out(1, 'E1130 18:22:49.242123 5056 memcache.go:265] noise\nThe connection to the server 127.0.0.1:1 was refused - did you specify the right host or port?\n'), 1000)).toMatchObject({ ok: false, error: 'could not test admission: The connection to the server 127.0.0.1:1 was refused - did you specify the right host or port?' });
    expect(interpret({ ...denied, messageContains: 'signature' }, out(1, 'Error from server: admission webhook "x" denied the request: latest tag\n'), 1000)).toMatchObject({ ok: false, error: expect.stringMatching(/not for the expected reason/) });
  });
  it('klog noise is not the error', () => {
    expect(kubectlError(out(1, 'E1130 18:22:49.242123    5056 memcache.go:265] "Unhandled Error"\nerror: timed out waiting for the condition\n'))).toBe('error: timed out waiting for the condition');
  });
});

describe('engine', () => {
  const check = (name: string, o: Partial<Check> = {}): Check => ({ name, line: 1, critical: true, retries: 3, intervalMs: 5, timeoutMs: 100, type: 'tcp', tcp: { host: 'h', port: 1 }, ...o });

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
    const [r] = await runChecks([check('x', { retries: 1 })], 1, { probe: async () => { throw new Error('boom'); }, sleep: async () => undefined, now: () => 0 });
    expect(r).toMatchObject({ outcome: 'fail', error: 'boom' });
    expect(r!.attempts).toHaveLength(2);
  });
});

describe('reports', () => {
  const c: Check = { name: 'a <b> & "c"', line: 2, critical: true, retries: 1, intervalMs: 0, timeoutMs: 1, type: 'http', http: { url: 'https://u:p@x/h?t=1', method: 'GET', headers: {}, followRedirects: true, insecure: false, expect: { status: [{ klass: 2 }], bodyContains: [] } } };
  const res = [{ check: c, outcome: 'fail' as const, attempts: [{ attempt: 1, ok: false, latencyMs: 5, error: 'HTTP 500 <html>\u0007' }], latencyMs: 5, error: 'HTTP 500 <html>\u0007', durationMs: 9 }];
  const meta = { startedAt: '2026-11-30T00:00:00.000Z', finishedAt: '2026-11-30T00:00:01.000Z', durationMs: 1000, concurrency: 1, failOnWarning: false, ok: false };
  it('JUnit is well-formed XML whatever the names and errors hold', () => {
    const x = junit(res, totals(res), meta);
    expect(x).toContain('<testcase name="a &lt;b&gt; &amp; &quot;c&quot;" classname="smoke-test.http"');
    expect(x).toContain('failure message="HTTP 500 &lt;html&gt;?"');
    expect(x).not.toContain('u:p@');
    expect(xml('\u0000]]>')).toBe('?]]&gt;');
  });
  it('the console line has the mark, tries and the last error; the target hides credentials and query', () => {
    expect(consoleLines(res[0]!, false)).toEqual(['✗ FAIL  a <b> & "c"  GET https://x/h · 1/2 tries · 5ms', '    last error: HTTP 500 <html>\u0007']);
  });
  it('the summary is a table with escaped cells', () => {
    const s = summaryMarkdown(res, totals(res), meta, (t) => t.replace(/[<>|]/g, '\\$&'));
    expect(s).toContain('### Smoke test: ❌ 1 of 1 checks failed');
    expect(s).toContain('| ❌ fail | a \\<b\\> & "c" | GET https://x/h | 1/2 | 5ms | HTTP 500 \\<html\\>\u0007 |');
  });
  it('inline YAML versus a path', () => {
    expect(isInline('smoke.yml')).toBe(false);
    expect(isInline('checks:\n  - url: x')).toBe(true);
    expect(isInline('{ checks: [] }')).toBe(true);
  });
});
