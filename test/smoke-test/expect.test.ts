/** smoke-test's HTTP expectations (status, body, JSON, latency) and network errors in words. */
import { describe, expect, it } from 'vitest';
import { evaluate, lookup } from '../../actions/smoke-test/src/expect.js';
import { describeNetworkError } from '../../actions/smoke-test/src/probes.js';
import { parseJsonPath } from '../../actions/smoke-test/src/checks-file.js';

describe('HTTP expectations', () => {
  const exp = (o: object) => ({ status: [{ klass: 2 }], bodyContains: [], ...o });
  it('status, body, JSON and latency', () => {
    expect(evaluate(exp({}), { status: 204, body: '', latencyMs: 1 })).toBeUndefined();
    expect(evaluate(exp({}), { status: 503, body: 'down\n  for maintenance', latencyMs: 1 })).toBe(
      'HTTP 503, expected 2xx (body: down for maintenance)',
    );
    expect(evaluate(exp({ bodyContains: ['ok', 'ready'] }), { status: 200, body: 'ok', latencyMs: 1 })).toBe(
      'body does not contain "ready" (body: ok)',
    );
    expect(evaluate(exp({ json: { path: 'status', equals: 'up' } }), { status: 200, body: '{"status":"down"}', latencyMs: 1 })).toBe(
      'JSON status is "down", expected "up"',
    );
    expect(
      evaluate(exp({ json: { path: 'checks[1].ok', equals: true } }), {
        status: 200,
        body: '{"checks":[{"ok":true},{"ok":true}]}',
        latencyMs: 1,
      }),
    ).toBeUndefined();
    expect(evaluate(exp({ json: { path: 'db', exists: true } }), { status: 200, body: 'not json', latencyMs: 1 })).toMatch(
      /^body is not JSON/,
    );
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
    expect(describeNetworkError(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' }))).toBe(
      'connection refused (ECONNREFUSED)',
    );
    expect(describeNetworkError(Object.assign(new Error('self-signed certificate'), { code: 'DEPTH_ZERO_SELF_SIGNED_CERT' }))).toBe(
      'TLS verification failed: self-signed certificate (DEPTH_ZERO_SELF_SIGNED_CERT)',
    );
  });
});
