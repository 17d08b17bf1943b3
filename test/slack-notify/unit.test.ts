/**
 * slack-notify's domain without a runner: message building and escaping, mentions, input rules,
 * and delivery (retries, Retry-After, refusals, client-error scrubbing) over an injected `send`.
 */
import { describe, expect, it } from 'vitest';
import { HttpError, InputError, safeUrl, type http } from '@hallmark/kit';
import { checkInputs, parseStartedAt, type RawInputs } from '../../actions/slack-notify/src/config.js';
import { apiBody, clientDetail, deliver, slackError } from '../../actions/slack-notify/src/deliver.js';
import { buildMessage, escapeAndFit, escapeSlack, link, parseMentions, payloadProblem, type RunFacts } from '../../actions/slack-notify/src/message.js';
import { parseFlatFields } from '../../actions/slack-notify/src/fields.js';
import { messageProblems, unescapeSlack } from './slack.js';

const facts: RunFacts = {
  serverUrl: 'https://github.com',
  repository: 'octo-org/shop',
  workflow: 'ci',
  runUrl: 'https://github.com/octo-org/shop/actions/runs/1',
  runNumber: '7',
  sha: '4f1c6b9e0a2d3c5b7e8f9a0b1c2d3e4f5a6b7c8d',
  actor: 'octocat',
  ref: 'main',
  environment: '',
};

describe('escaping', () => {
  it('escapes exactly &, < and > (in that order, so nothing is double-escaped)', () => {
    expect(escapeSlack('a & b <!channel> >x &amp;')).toBe('a &amp; b &lt;!channel&gt; &gt;x &amp;amp;');
    expect(unescapeSlack(escapeSlack('"q" \n 🚀 <@U1> & &lt;'))).toBe('"q" \n 🚀 <@U1> & &lt;');
  });
  it('fits to a limit without cutting an entity or a surrogate pair', () => {
    for (let n = 5; n < 40; n++) {
      const s = escapeAndFit('a&<>🚀'.repeat(20), n);
      expect(s.length).toBeLessThanOrEqual(n);
      expect(s.endsWith('…')).toBe(true);
      expect(s.slice(0, -1)).not.toMatch(/&[a-z]{0,3}$/);
      expect(s).not.toMatch(/[\ud800-\udbff]…$/);
    }
  });
  it('links keep their URL intact and escape the label', () => {
    expect(link('https://x.test/a|b<c>', 'o|k <b>')).toBe('<https://x.test/a%7Cb%3Cc%3E|o¦k &lt;b&gt;>');
    expect(link('javascript:alert(1)', '<x>')).toBe('&lt;x&gt;');
  });
});

describe('mentions', () => {
  it('accepts IDs and here/channel/everyone in their usual spellings', () => {
    expect(parseMentions(['here', '@channel', '<!everyone>', 'U024BE7LH', '@W123ABC', '<@U99>', 'S0614TZR7', '<!subteam^S0614TZR7|@oncall>', 'here'])).toEqual({
      mentions: ['<!here>', '<!channel>', '<!everyone>', '<@U024BE7LH>', '<@W123ABC>', '<@U99>', '<!subteam^S0614TZR7>'],
    });
  });
  it('refuses names and half-written syntax', () => {
    for (const bad of ['alice', '@alice', '<!here', 'here>', '<@u024>', 'U1', '<!subteam^X1>', '<https://x|y>']) expect(parseMentions([bad])).toEqual({ bad });
  });
});

describe('buildMessage', () => {
  const base = { title: 'deploy', text: '', fields: {}, mentions: [] as string[] };
  it('every status gives its own emoji and colour, and a message Slack accepts', () => {
    const seen = new Set<string>();
    for (const status of ['success', 'failure', 'cancelled', 'skipped'] as const) {
      const m = buildMessage({ ...base, status }, facts);
      expect(messageProblems(m)).toEqual([]);
      const color = (m.attachments![0] as { color: string }).color;
      const header = ((m.blocks![0] as { text: { text: string } }).text.text);
      expect(header.endsWith(`deploy: ${status}`)).toBe(true);
      seen.add(`${color}|${header.split(' ')[0]}`);
    }
    expect(seen.size).toBe(4);
  });
  it('mentions only on failure', () => {
    const m = { ...base, mentions: ['<!here>'] };
    expect(JSON.stringify(buildMessage({ ...m, status: 'failure' }, facts))).toContain('<!here>');
    for (const s of ['success', 'cancelled', 'skipped'] as const) expect(JSON.stringify(buildMessage({ ...m, status: s }, facts))).not.toContain('<!here>');
  });
  it('20 fields become two sections of ten; Slack accepts it', () => {
    const fields = Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`k${i}`, `v${i}`]));
    const m = buildMessage({ ...base, status: 'success', fields }, facts);
    const sections = (m.attachments![0] as { blocks: { fields?: unknown[] }[] }).blocks.filter((b) => b.fields);
    expect(sections.map((s) => s.fields!.length)).toEqual([10, 10]);
    expect(messageProblems(m)).toEqual([]);
  });
  it('default title from the workflow and repository; context omits what is unknown', () => {
    const m = buildMessage({ ...base, title: '', status: 'success' }, { ...facts, actor: '', ref: '', runUrl: '', sha: 'not-a-sha', durationMs: 125_000, environment: 'prod' });
    expect((m.blocks![0] as { text: { text: string } }).text.text).toBe('✅ ci (octo-org/shop): success');
    const ctx = (m.attachments![0] as { blocks: { type: string; elements?: { text: string }[] }[] }).blocks.find((b) => b.type === 'context')!.elements!.map((e) => e.text);
    expect(ctx).toEqual(['<https://github.com/octo-org/shop|octo-org/shop>', 'ci #7', 'env prod', 'took 2m 5s']);
  });
});

describe('payloadProblem', () => {
  it('accepts a mapping with text/blocks/attachments, refuses the rest', () => {
    expect(payloadProblem({ text: 'x' })).toBeUndefined();
    expect(payloadProblem({ blocks: [{ type: 'divider' }] })).toBeUndefined();
    expect(payloadProblem([1])).toMatch(/mapping/);
    expect(payloadProblem('x')).toMatch(/mapping/);
    expect(payloadProblem({ foo: 1 })).toMatch(/text, blocks or attachments/);
    expect(payloadProblem({ blocks: {} })).toMatch(/blocks as a list/);
    expect(payloadProblem({ blocks: [{}] })).toMatch(/type/);
    expect(payloadProblem({ blocks: Array.from({ length: 51 }, () => ({ type: 'divider' })) })).toMatch(/at most 50/);
  });
});

const raw = (over: Partial<RawInputs> = {}): RawInputs => ({
  webhookUrl: '',
  botToken: '',
  channel: '',
  updateTs: '',
  status: 'success',
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
  retries: 3,
  retryDelayMs: 1000,
  timeoutMs: 10_000,
  ...over,
});

function inputErr(over: Partial<RawInputs>): InputError {
  try {
    checkInputs(raw(over));
  } catch (e) {
    if (e instanceof InputError) return e;
    throw e;
  }
  throw new Error('no InputError');
}

describe('checkInputs', () => {
  const hook = 'https://hooks.slack.com/services/T0/B0/sekretsekret';
  it('targets: webhook, postMessage, update, none', () => {
    expect(checkInputs(raw({ webhookUrl: hook })).target).toEqual({ kind: 'webhook', url: hook });
    expect(checkInputs(raw({ botToken: 'xoxb-1-2-abcdef', channel: '#deploys' })).target).toMatchObject({ kind: 'api', method: 'chat.postMessage', url: 'https://slack.com/api/chat.postMessage' });
    expect(checkInputs(raw({ botToken: 'xoxb-1-2-abcdef', channel: 'C0DEPLOYS1', updateTs: '1503435956.000247', apiUrl: 'https://slack-gov.com/api/' })).target).toMatchObject({ method: 'chat.update', url: 'https://slack-gov.com/api/chat.update', ts: '1503435956.000247' });
    expect(checkInputs(raw({ channel: '#deploys', updateTs: '1503435956.000247' })).target).toEqual({ kind: 'none' });
    expect(checkInputs(raw({ retries: 0 })).attempts).toBe(1);
  });
  it('never echoes a secret in its messages', () => {
    for (const over of [{ webhookUrl: 'http://hooks.slack.com/services/sekretsekret' }, { webhookUrl: 'sekretsekret' }, { webhookUrl: 'https://u:sekretsekret@x.test/' }, { botToken: 'sekretsekret' }, { botToken: 'xapp-sekretsekret' }]) {
      const e = inputErr(over);
      expect(e.input).toBe('webhookUrl' in over ? 'webhook-url' : 'bot-token');
      expect(e.message).not.toContain('sekretsekret');
    }
  });
  it('names the input that is wrong', () => {
    expect(inputErr({ webhookUrl: hook, botToken: 'xoxb-1-2-abcdef' }).input).toBe('bot-token');
    expect(inputErr({ botToken: 'xoxb-1-2-abcdef' }).input).toBe('channel');
    expect(inputErr({ botToken: 'xoxb-1-2-abcdef', channel: '#deploys', updateTs: '1503435956.000247' }).input).toBe('channel');
    expect(inputErr({ webhookUrl: hook, updateTs: '1503435956.000247' }).input).toBe('update-ts');
    expect(inputErr({ updateTs: 'yesterday' }).input).toBe('update-ts');
    expect(inputErr({ channel: 'two words' }).input).toBe('channel');
    expect(inputErr({ mention: ['alice'] }).input).toBe('mention');
    expect(inputErr({ apiUrl: 'ftp://slack.com/api' }).input).toBe('api-url');
    expect(inputErr({ apiUrl: 'https://slack.com/api?x=1' }).input).toBe('api-url');
    expect(inputErr({ payload: [1] }).input).toBe('payload');
    expect(inputErr({ startedAt: 'monday' }).input).toBe('started-at');
    expect(inputErr({ fields: Object.fromEntries(Array.from({ length: 21 }, (_, i) => [`k${i}`, 'v'])) }).input).toBe('fields');
  });
  it('started-at: epoch seconds, epoch ms, ISO 8601', () => {
    expect(parseStartedAt('1764525600')).toBe(1764525600000);
    expect(parseStartedAt('1764525600123')).toBe(1764525600123);
    expect(parseStartedAt('2025-11-30T18:00:00Z')).toBe(Date.UTC(2025, 10, 30, 18));
    expect(parseStartedAt('2025-11-30')).toBeUndefined();
  });
});

// ---------------------------------------------------------------- delivery over a fake send

function response(status: number, body: string, headers: Record<string, string> = {}, attempt = 1): http.HttpResponse {
  const b = Buffer.from(body);
  return { status, headers, body: b, text: () => body, json: <T>() => JSON.parse(body) as T, attempts: attempt, elapsedMs: 1 };
}

/** What kit http.request({attempts: 1}) does with a retryable status: throws HttpError carrying the response. */
function retryable(url: string, status: number, body = '', retryAfter?: string): HttpError {
  const res = response(status, body, retryAfter ? { 'retry-after': retryAfter } : {});
  return new HttpError(`POST ${safeUrl(url)}: HTTP ${status}`, 'status', { status, retryable: true, retryAfterMs: retryAfter ? Number(retryAfter) * 1000 : undefined, response: res });
}

function script(steps: (http.HttpResponse | Error)[]) {
  const sent: http.HttpRequest[] = [];
  const slept: number[] = [];
  const logs: string[] = [];
  return {
    sent,
    slept,
    logs,
    deps: {
      send: async (req: http.HttpRequest) => {
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
  const api = { kind: 'api' as const, method: 'chat.postMessage' as const, url: 'https://slack.com/api/chat.postMessage', token: 'xoxb-1-2-abcdef', channel: '#deploys' };
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
    const s = script([response(200, JSON.stringify({ ok: true, channel: 'C1', ts: '1.000001', warning: 'missing_charset', response_metadata: { warnings: ['missing_charset'] } }))]);
    expect(await deliver(api, msg, opts, s.deps)).toEqual({ ok: true, attempts: 1, ts: '1.000001', channel: 'C1', warnings: ['missing_charset'] });
    expect(JSON.parse(String(s.sent[0]!.body))).toEqual({ text: 'hi', channel: '#deploys', unfurl_links: false, unfurl_media: false });
    expect(s.sent[0]!.headers!.authorization).toBe('Bearer xoxb-1-2-abcdef');
    const r = script([response(200, JSON.stringify({ ok: false, error: 'invalid_blocks', response_metadata: { messages: ['[ERROR] bad'] } }))]);
    expect(await deliver(api, msg, opts, r.deps)).toMatchObject({ ok: false, reason: 'slack-rejected', error: 'invalid_blocks', details: ['[ERROR] bad'], attempts: 1 });
  });

  it('chat.update sends channel and ts', () => {
    expect(apiBody({ ...api, method: 'chat.update', ts: '2.000002', channel: 'C1' }, { text: 't' })).toEqual({ text: 't', channel: 'C1', ts: '2.000002' });
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
    expect(slackError('<html>' + 'x'.repeat(500))).toHaveLength(121);
    expect(slackError('')).toBe('(empty body)');
  });
});

describe('parseFlatFields', () => {
  it('reads key: value lines literally, where YAML would drop or refuse them', () => {
    expect(parseFlatFields('note: fix #123\nstate: *ok*\nwhy: a: b\n# a comment\n\nempty:\nquoted: "x\\ty"\nsingle: \'it\'\'s\'\nscan passed: true')).toEqual({
      fields: { note: 'fix #123', state: '*ok*', why: 'a: b', empty: '', quoted: 'x\ty', single: "it's", 'scan passed': 'true' },
    });
  });
  it('leaves JSON, lists, nesting and block scalars to YAML; reports duplicates', () => {
    for (const t of ['{"a": 1}', '- a', 'a:\n  b: c', 'a: |\n  text', '"a": 1', '']) expect(parseFlatFields(t)).toBeUndefined();
    expect(parseFlatFields('a: 1\nb: 2\na: 3')).toEqual({ duplicate: 'a' });
  });
});
