/**
 * flow.ts: delivery over an injected `send` (retries, Retry-After, refusals, client errors scrubbed
 * of the URL) and the whole step (skip, fail, warn) over injected Deps.
 */
import { describe, expect, it } from 'vitest';
import { HttpError, safeUrl, type HttpRequest, type HttpResponse } from '@hallmark/kit';
import { apiBody, clientDetail, deliver, flow, slackError } from '../../actions/slack-notify/src/flow.js';
import { checkInputs, type RawInputs } from '../../actions/slack-notify/src/inputs.js';
import type { RunFacts } from '../../actions/slack-notify/src/message.js';

// ---------------------------------------------------------------- delivery over a fake send

function response(status: number, body: string, headers: Record<string, string> = {}, attempt = 1): HttpResponse {
  const b = Buffer.from(body);
  return { status, headers, body: b, text: () => body, json: <T>() => JSON.parse(body) as T, attempts: attempt, elapsedMs: 1 };
}

/** What kit http.request({attempts: 1}) does with a retryable status: throws HttpError carrying the response. */
function retryable(url: string, status: number, body = '', retryAfter?: string): HttpError {
  const res = response(status, body, retryAfter ? { 'retry-after': retryAfter } : {});
  return new HttpError(`POST ${safeUrl(url)}: HTTP ${status}`, 'status', {
    status,
    retryable: true,
    retryAfterMs: retryAfter ? Number(retryAfter) * 1000 : undefined,
    response: res,
  });
}

function script(steps: (HttpResponse | Error)[]) {
  const sent: HttpRequest[] = [];
  const slept: number[] = [];
  const logs: string[] = [];
  return {
    sent,
    slept,
    logs,
    deps: {
      send: async (req: HttpRequest) => {
        sent.push(req);
        const s = steps.shift();
        if (!s) throw new Error('no more scripted responses');
        if (s instanceof Error) throw s;
        return s;
      },
      sleep: async (ms: number) => void slept.push(ms),
      info: (m: string) => void logs.push(m),
    },
  };
}

describe('deliver', () => {
  const url = 'https://hooks.slack.com/services/T0/B0/sekretsekret';
  const hook = { kind: 'webhook' as const, url };
  const api = {
    kind: 'api' as const,
    method: 'chat.postMessage' as const,
    url: 'https://slack.com/api/chat.postMessage',
    token: 'xoxb-1-2-abcdef',
    channel: '#deploys',
  };
  const opts = { attempts: 4, retryDelayMs: 100, timeoutMs: 5000 };
  const msg = { text: 'hi' };

  it('honours Retry-After (seconds) exactly, and backs off otherwise', async () => {
    const s = script([retryable(url, 429, '', '7'), retryable(url, 503), response(200, 'ok')]);
    const d = await deliver(hook, msg, opts, s.deps);
    expect(d).toMatchObject({ ok: true, attempts: 3 });
    expect(s.slept[0]).toBe(7000);
    expect(s.slept[1]).toBeGreaterThanOrEqual(100); // second backoff: ceiling 200ms, at least half of it
    expect(s.slept[1]).toBeLessThanOrEqual(200);
    expect(s.sent.every((r) => r.attempts === 1 && r.timeoutMs === 5000 && r.followRedirects === false)).toBe(true);
  });

  it('gives up after `attempts` tries with slack-unavailable', async () => {
    const s = script([0, 1, 2, 3].map(() => retryable(url, 500, 'rollup_error')));
    const d = await deliver(hook, msg, opts, s.deps);
    expect(d).toMatchObject({ ok: false, reason: 'slack-unavailable', attempts: 4, error: 'rollup_error', status: 500 });
    expect(s.sent).toHaveLength(4);
    expect(s.logs).toHaveLength(3);
  });

  it('a Retry-After beyond the cap is not waited for', async () => {
    const s = script([retryable(url, 429, '', '120')]);
    const d = await deliver(hook, msg, opts, s.deps);
    expect(d).toMatchObject({ ok: false, reason: 'slack-unavailable', attempts: 1 });
    expect(s.slept).toEqual([]);
  });

  it('Web API: ok → ts/channel; ok:false → slack-rejected, no retry; body carries channel, no unfurls', async () => {
    const s = script([
      response(
        200,
        JSON.stringify({
          ok: true,
          channel: 'C1',
          ts: '1.000001',
          warning: 'missing_charset',
          response_metadata: { warnings: ['missing_charset'] },
        }),
      ),
    ]);
    expect(await deliver(api, msg, opts, s.deps)).toEqual({
      ok: true,
      attempts: 1,
      ts: '1.000001',
      channel: 'C1',
      warnings: ['missing_charset'],
    });
    expect(JSON.parse(String(s.sent[0]!.body))).toEqual({ text: 'hi', channel: '#deploys', unfurl_links: false, unfurl_media: false });
    expect(s.sent[0]!.headers!.authorization).toBe('Bearer xoxb-1-2-abcdef');
    const r = script([
      response(200, JSON.stringify({ ok: false, error: 'invalid_blocks', response_metadata: { messages: ['[ERROR] bad'] } })),
    ]);
    expect(await deliver(api, msg, opts, r.deps)).toMatchObject({
      ok: false,
      reason: 'slack-rejected',
      error: 'invalid_blocks',
      details: ['[ERROR] bad'],
      attempts: 1,
    });
  });

  it('chat.update sends channel and ts', () => {
    expect(apiBody({ ...api, method: 'chat.update', ts: '2.000002', channel: 'C1' }, { text: 't' })).toEqual({
      text: 't',
      channel: 'C1',
      ts: '2.000002',
    });
  });

  it('client errors lose the URL (the webhook URL is the credential)', async () => {
    const e = new HttpError(`POST ${safeUrl(url)}: ECONNRESET`, 'network', { retryable: true });
    expect(clientDetail(e, 'POST', url)).toBe('ECONNRESET');
    const odd = new HttpError(`connect to ${url} failed`, 'network', { retryable: true });
    expect(clientDetail(odd, 'POST', url)).toBe('network');
    const s = script([e, e]);
    const d = await deliver(hook, msg, { ...opts, attempts: 2 }, s.deps);
    expect(d.ok).toBe(false);
    expect(JSON.stringify(d) + s.logs.join('\n')).not.toContain('sekretsekret');
  });

  it('slackError reads bare strings and Web API JSON, and shortens anything else', () => {
    expect(slackError('invalid_payload\n')).toBe('invalid_payload');
    expect(slackError('{"ok":false,"error":"ratelimited"}')).toBe('ratelimited');
    expect(slackError(`<html>${'x'.repeat(500)}`)).toHaveLength(121);
    expect(slackError('')).toBe('(empty body)');
  });
});

describe('the whole step (flow)', () => {
  const facts: RunFacts = {
    serverUrl: 'https://github.com',
    repository: 'octo-org/shop',
    workflow: 'ci',
    runUrl: 'https://github.com/octo-org/shop/actions/runs/1',
    runNumber: '7',
    sha: 'a'.repeat(40),
    actor: 'octocat',
    ref: 'main',
    environment: '',
  };
  const raw = (over: Partial<RawInputs> = {}): RawInputs => ({
    webhookUrl: '',
    botToken: '',
    channel: '',
    updateTs: '',
    status: 'failure',
    title: '',
    text: '',
    fields: {},
    mention: [],
    payload: undefined,
    apiUrl: '',
    environment: '',
    startedAt: '',
    onMissing: 'skip',
    onError: 'fail',
    retries: 0,
    retryDelayMs: 0,
    timeoutMs: 10_000,
    ...over,
  });
  function deps(steps: (HttpResponse | Error)[]) {
    const s = script(steps);
    const lines: string[] = [];
    const log = {
      info: (m: string) => void lines.push(`info ${m}`),
      warning: (m: string) => void lines.push(`warning ${m}`),
      notice: (m: string) => void lines.push(`notice ${m}`),
      debug: () => undefined,
      untrusted: (t: string) => void lines.push(`untrusted ${t}`),
    };
    return { ...s, lines, deps: { ...s.deps, log, now: () => new Date('2026-12-01T12:05:00Z') } };
  }

  it('nothing configured: skipped with a notice (outputs sent=false), or not-configured with on-missing: fail; nothing is sent', async () => {
    const d = deps([]);
    const skip = await flow(checkInputs(raw()), facts, d.deps);
    expect([skip.outputs, skip.failure]).toEqual([{ sent: false, ts: '', channel: '' }, undefined]);
    expect(skip.summary).toContain('nothing sent');
    expect(d.lines.filter((l) => l.startsWith('notice'))).toHaveLength(1);
    const failed = await flow(checkInputs(raw({ onMissing: 'fail' })), facts, d.deps);
    expect(failed.failure?.reason).toBe('not-configured');
    expect(d.sent).toHaveLength(0);
  });

  it('Web API: ts and channel from Slack become outputs; the duration since started-at is from deps.now', async () => {
    const d = deps([response(200, '{"ok":true,"ts":"1733054700.000100","channel":"C0123"}')]);
    const cfg = checkInputs(raw({ botToken: 'xoxb-1-2-abcdef', channel: '#deploys', startedAt: '2026-12-01T12:00:00Z' }));
    const r = await flow(cfg, facts, d.deps);
    expect([r.outputs, r.failure]).toEqual([{ sent: true, ts: '1733054700.000100', channel: 'C0123' }, undefined]);
    expect(d.sent[0]?.body).toContain('took 5m');
  });

  it("a refusal fails the step, or with on-error: warn is a warning and failure-reason output; Slack's messages print inert", async () => {
    const body = '{"ok":false,"error":"invalid_blocks","response_metadata":{"messages":["::error::[ERROR] bad block"]}}';
    const cfg = (onError: 'fail' | 'warn') => checkInputs(raw({ botToken: 'xoxb-1-2-abcdef', channel: '#deploys', onError }));
    const a = deps([response(200, body)]);
    const failed = await flow(cfg('fail'), facts, a.deps);
    expect([failed.failure?.reason, failed.outputs.sent]).toEqual(['slack-rejected', false]);
    expect(a.lines.some((l) => l.startsWith('untrusted Slack says:') && l.includes('::error::[ERROR] bad block'))).toBe(true);
    const b = deps([response(200, body)]);
    const warned = await flow(cfg('warn'), facts, b.deps);
    expect([warned.failure, warned.outputs['failure-reason']]).toEqual([undefined, 'slack-rejected']);
    expect(b.lines.find((l) => l.startsWith('warning'))).toMatch(/invalid_blocks \(on-error: warn\)$/);
  });
});
