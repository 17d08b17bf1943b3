/** smoke-test's check file: parsing, the line and key of every mistake, `${NAME}` expansion, and the `checks` input (inline or a path). */
import { describe, expect, it } from 'vitest';
import { CheckFileError, DEFAULTS, parseChecks } from '../../actions/smoke-test/src/checks-file.js';
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
    expect(h.expect).toEqual({
      status: [{ code: 200 }, { code: 204 }],
      bodyContains: ['ok'],
      json: { path: 'status', equals: 'up' },
      maxLatencyMs: 800,
    });
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
    const p = parseChecks('checks:\n  - http: { url: "https://${HOST}/h?key=${API_KEY}" }\n', D, {
      HOST: 'api.example.com',
      API_KEY: 'k-abcdef',
    });
    expect(p.checks[0]!.http!.url).toBe('https://api.example.com/h?key=k-abcdef');
    expect(p.secrets).toEqual(['k-abcdef']);
  });

  it('expands only from the environment it is given; $${X} is a literal', () => {
    const p = parseChecks('checks:\n  - exec: [ "echo", "$${HOME}", "${WHO}" ]\n', D, { WHO: 'me' });
    expect(p.checks[0]!.exec).toEqual(['echo', '${HOME}', 'me']);
  });

  it('status classes, lists and single codes', () => {
    const p = parseChecks(
      'checks:\n  - http: { url: "http://x", expect: { status: 3xx } }\n  - http: { url: "http://y", expect: { status: [2xx, 404] } }\n',
      D,
      {},
    );
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
    [
      'bad duration in defaults',
      'defaults:\n  interval: 5 parsecs\nchecks:\n  - url: x\n',
      /^line 2: defaults\.interval must be a duration such as 500ms, 5s or 2m \(got 5 parsecs\)/,
    ],
    [
      'bad duration in a check',
      'checks:\n  - http: { url: "http://x" }\n    timeout: soon\n',
      /^line 3: checks\[0\]\.timeout must be a duration/,
    ],
    ['YAML syntax error', 'checks:\n  - http: { url: "http://x"\n  - tcp: { host: a, port: 1 }\n', /^line \d+: YAML syntax error: /],
    [
      'two types',
      'checks:\n  - http: { url: "http://x" }\n    tcp: { host: a, port: 1 }\n',
      /^line 2: checks\[0\] has http and tcp; a check has exactly one type/,
    ],
    [
      'exec as a shell string',
      'checks:\n  - exec: "./check.sh --env prod"\n',
      /^line 2: checks\[0\]\.exec must be an argument list .*no shell strings/,
    ],
    [
      'status out of range',
      'checks:\n  - http: { url: "http://x", expect: { status: 700 } }\n',
      /checks\[0\]\.http\.expect\.status must be a status code/,
    ],
    [
      'typo in expect',
      'checks:\n  - http:\n      url: "http://x"\n      expect: { stauts: 200 }\n',
      /^line 4: checks\[0\]\.http\.expect: unknown key 'stauts'/,
    ],
    ['port out of range', 'checks:\n  - tcp: { host: a, port: 70000 }\n', /checks\[0\]\.tcp\.port must be a whole number from 1 to 65535/],
    ['ftp url', 'checks:\n  - http: { url: "ftp://x/y" }\n', /checks\[0\]\.http\.url must be an http:\/\/ or https:\/\/ URL/],
    [
      'unset variable',
      'checks:\n  - http: { url: "http://x", headers: { Authorization: "Bearer ${NOPE}" } }\n',
      /\$\{NOPE\} is not set in the step's environment/,
    ],
    [
      'rollout of a pod',
      'checks:\n  - k8s: { rollout: pod/api }\n',
      /rollout must be kind\/name with kind deployment, statefulset or daemonset/,
    ],
    [
      'two k8s kinds',
      'checks:\n  - k8s: { rollout: deployment/a, denied: { image: x } }\n',
      /must have exactly one of rollout, pods-ready, denied/,
    ],
    ['pods-ready without selector', 'checks:\n  - k8s: { pods-ready: { namespace: prod } }\n', /pods-ready\.selector is required/],
    [
      'duplicate name',
      'checks:\n  - { name: a, tcp: { host: a, port: 1 } }\n  - { name: a, tcp: { host: b, port: 1 } }\n',
      /^line 3: checks\[1\]: another check is already named 'a'/,
    ],
    [
      'duplicate key',
      'checks:\n  - name: a\n    name: b\n    tcp: { host: a, port: 1 }\n',
      /^line 3: YAML syntax error: Map keys must be unique/,
    ],
    ['empty list', 'checks: []\n', /checks must list at least one check/],
    ['not a mapping', '"just a string"\n', /the check file must be a mapping with a 'checks' list/],
    ['insecure on http', 'checks:\n  - http: { url: "http://x", insecure: true }\n', /insecure only applies to https/],
    [
      'retries negative',
      'checks:\n  - http: { url: "http://x" }\n    retries: -1\n',
      /checks\[0\]\.retries must be a whole number from 0 to 100/,
    ],
    [
      'critical not boolean',
      'checks:\n  - http: { url: "http://x" }\n    critical: maybe\n',
      /checks\[0\]\.critical must be true or false/,
    ],
    [
      'json path malformed',
      'checks:\n  - http: { url: "http://x", expect: { json: { path: "a..b", equals: 1 } } }\n',
      /json\.path must be a dotted path/,
    ],
  ];
  it.each(bad)('%s → names the line and key', (_n, text, re) => {
    expect(parseError(text).message).toMatch(re);
  });
});

describe('the checks input', () => {
  it('inline YAML versus a path', () => {
    expect(isInline('smoke.yml')).toBe(false);
    expect(isInline('checks:\n  - url: x')).toBe(true);
    expect(isInline('{ checks: [] }')).toBe(true);
  });
});
