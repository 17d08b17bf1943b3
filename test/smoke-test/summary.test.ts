/** smoke-test's reports: JUnit, the console line and the step summary, escaped whatever the outside text holds. */
import { describe, expect, it } from 'vitest';
import type { Check } from '../../actions/smoke-test/src/checks-file.js';
import { totals } from '../../actions/smoke-test/src/flow.js';
import { junit, xml } from '../../actions/smoke-test/src/junit.js';
import { consoleLines, summaryMarkdown } from '../../actions/smoke-test/src/summary.js';

describe('reports', () => {
  const c: Check = {
    name: 'a <b> & "c"',
    line: 2,
    critical: true,
    retries: 1,
    intervalMs: 0,
    timeoutMs: 1,
    type: 'http',
    http: {
      url: 'https://u:p@x/h?t=1',
      method: 'GET',
      headers: {},
      followRedirects: true,
      insecure: false,
      expect: { status: [{ klass: 2 }], bodyContains: [] },
    },
  };
  const res = [
    {
      check: c,
      outcome: 'fail' as const,
      attempts: [{ attempt: 1, ok: false, latencyMs: 5, error: 'HTTP 500 <html>\u0007' }],
      latencyMs: 5,
      error: 'HTTP 500 <html>\u0007',
      durationMs: 9,
    },
  ];
  const meta = {
    startedAt: '2026-11-30T00:00:00.000Z',
    finishedAt: '2026-11-30T00:00:01.000Z',
    durationMs: 1000,
    concurrency: 1,
    failOnWarning: false,
    ok: false,
  };
  it('JUnit is well-formed XML whatever the names and errors hold', () => {
    const x = junit(res, totals(res), meta);
    expect(x).toContain('<testcase name="a &lt;b&gt; &amp; &quot;c&quot;" classname="smoke-test.http"');
    expect(x).toContain('failure message="HTTP 500 &lt;html&gt;?"');
    expect(x).not.toContain('u:p@');
    expect(xml('\u0000]]>')).toBe('?]]&gt;');
  });
  it('the console line has the mark, tries and the last error; the target hides credentials and query', () => {
    expect(consoleLines(res[0]!, false)).toEqual([
      '✗ FAIL  a <b> & "c"  GET https://x/h · 1/2 tries · 5ms',
      '    last error: HTTP 500 <html>\u0007',
    ]);
  });
  it('the summary is a table with escaped cells', () => {
    const s = summaryMarkdown(res, totals(res), meta, (t) => t.replace(/[<>|]/g, '\\$&'));
    expect(s).toContain('### Smoke test: ❌ 1 of 1 checks failed');
    expect(s).toContain('| ❌ fail | a \\<b\\> & "c" | GET https://x/h | 1/2 | 5ms | HTTP 500 \\<html\\>\u0007 |');
  });
});
