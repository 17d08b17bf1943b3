/**
 * slack-notify bundle tests: dist/slack-notify/index.js run exactly as the runner runs it, against
 * a loopback Slack (incoming webhook + Web API) that validates the Block Kit shape and answers with
 * the documented error bodies from ../shared/fixtures/slack. Every run is checked for the canary
 * webhook URL and bot token in every byte it wrote (log, stderr, outputs, summary, env/state files,
 * files under the runner home).
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { describeFixtures } from '../harness/fixtures.js';
import { runAction, runtimes, type ActionResult, type Runtime } from '../harness/runner.js';
import { startServer, type TestServer } from '../harness/server.js';
import { startSlack, unescapeSlack, webhookError, webhookErrors, type LoopbackSlack } from './slack.js';

let slack: LoopbackSlack;

beforeAll(async () => {
  slack = await startSlack();
});
afterAll(async () => {
  await slack?.close();
});
beforeEach(() => {
  slack.faults.webhook.length = 0;
  slack.faults.api.length = 0;
});

/** Every form of the canaries that must never leave the process (except inside `::add-mask::`, which the runner consumes). */
function canaries(): string[] {
  const u = new URL(slack.webhookUrl);
  const segment = slack.webhookPath.split('/').at(-1) as string;
  return [
    slack.webhookUrl,
    u.href,
    slack.webhookPath,
    segment,
    encodeURIComponent(slack.webhookUrl),
    slack.token,
    slack.token.slice('xoxb-'.length),
  ];
}

function filesUnder(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir)) {
    const p = join(dir, e);
    const st = statSync(p);
    if (st.isDirectory()) out.push(...filesUnder(p));
    else out.push(p);
  }
  return out;
}

function assertNoLeak(r: ActionResult, extra: string[] = []): void {
  const bytes = r.everything
    .split('\n')
    .filter((l) => !l.startsWith('::add-mask::'))
    .join('\n');
  for (const s of [...canaries(), ...extra]) {
    expect(bytes.includes(s), `secret ${s.slice(0, 12)}… leaked into the log/outputs/summary`).toBe(false);
    for (const f of filesUnder(r.home.root))
      expect(
        readFileSync(f, 'utf8')
          .replace(/^::add-mask::.*$/gm, '')
          .includes(s),
        `secret in ${f}`,
      ).toBe(false);
  }
}

interface Run {
  inputs?: Record<string, string | undefined>;
  runtime?: Runtime;
}

async function notify({ inputs = {}, runtime }: Run): Promise<ActionResult> {
  const r = await runAction('slack-notify', {
    runtime,
    inputs: { 'retry-delay': '10ms', timeout: '3s', ...inputs },
    env: { GITHUB_RUN_NUMBER: '42' },
    timeoutMs: 30_000,
  });
  assertNoLeak(r);
  return r;
}

const viaWebhook = (inputs: Record<string, string | undefined> = {}) => ({ 'webhook-url': slack.webhookUrl, status: 'success', ...inputs });
const viaApi = (inputs: Record<string, string | undefined> = {}) => ({
  'bot-token': slack.token,
  channel: '#deploys',
  'api-url': slack.apiUrl,
  status: 'success',
  ...inputs,
});

type Block = { type: string; text?: { type: string; text: string }; fields?: { text: string }[]; elements?: { text: string }[] };
type Msg = { text: string; blocks: Block[]; attachments: { color: string; blocks: Block[] }[] };
const allBlocks = (m: Msg): Block[] => [...m.blocks, ...m.attachments.flatMap((a) => a.blocks)];
const sectionTexts = (m: Msg) =>
  allBlocks(m)
    .filter((b) => b.type === 'section' && b.text)
    .map((b) => b.text!.text);

describe.each(runtimes())('slack-notify core ($name)', (rt) => {
  it('webhook: posts one valid Block Kit message with header, colour, fields and run context', async () => {
    const before = slack.webhookMessages.length;
    const r = await notify({
      runtime: rt,
      inputs: viaWebhook({
        status: 'FAILURE',
        title: 'deploy to production',
        text: 'smoke failed',
        fields: 'environment: production\nimage: ghcr.io/octo-org/shop@sha256:abc',
        environment: 'production',
      }),
    });
    expect(r.errors, r.stdout).toEqual([]);
    expect(r.code).toBe(0);
    expect(r.outputs).toMatchObject({ sent: 'true', ts: '', channel: '' });
    expect(r.outputs['failure-reason']).toBeUndefined();
    expect(slack.webhookMessages.length - before).toBe(1);
    const m = slack.webhookMessages.at(-1) as unknown as Msg;
    expect(m.blocks[0]).toEqual({ type: 'header', text: { type: 'plain_text', text: '❌ deploy to production: failure', emoji: true } });
    expect(m.attachments[0]!.color).toBe('#d40e0d');
    expect(m.text).toContain('deploy to production: failure');
    const fields = allBlocks(m)
      .flatMap((b) => b.fields ?? [])
      .map((f) => f.text);
    expect(fields).toEqual(['*environment*\nproduction', '*image*\nghcr.io/octo-org/shop@sha256:abc']);
    const ctx = allBlocks(m)
      .find((b) => b.type === 'context')!
      .elements!.map((e) => e.text);
    expect(ctx).toEqual([
      '<https://github.com/octo-org/shop|octo-org/shop>',
      '<https://github.com/octo-org/shop/actions/runs/9100200300|ci #42>',
      '<https://github.com/octo-org/shop/commit/4f1c6b9e0a2d3c5b7e8f9a0b1c2d3e4f5a6b7c8d|4f1c6b9>',
      'by octocat',
      'on main',
      'env production',
    ]);
    expect(r.summary).toContain('✅ sent');
    expect(r.summary).toContain('the incoming webhook');
  });

  it('429 with Retry-After, then 200: waits as Slack asked and sends once', async () => {
    const rl = webhookErrors().find((e) => e.status === 429)!;
    expect(rl.headers?.['Retry-After']).toBeDefined(); // the documented rate-limit answer carries Retry-After
    slack.faults.webhook.push({ status: 429, retryAfter: '1', body: '' });
    const before = slack.requests('webhook').length;
    const r = await notify({ runtime: rt, inputs: viaWebhook() });
    expect(r.code, r.stdout).toBe(0);
    expect(slack.requests('webhook').length - before).toBe(2);
    // retry-delay is 10ms, so a 1.0s wait can only come from the header.
    expect(r.stdout).toMatch(/Slack: HTTP 429; retry 1\/3 in 1\.0s as Slack asked \(Retry-After\)/);
    expect(r.outputs.sent).toBe('true');
  });

  it('400 invalid_payload (documented body) fails the step with slack-rejected and Slack’s error string', async () => {
    const f = webhookError('invalid_payload');
    slack.faults.webhook.push({ status: f.status, body: f.body! });
    const before = slack.requests('webhook').length;
    const r = await notify({ runtime: rt, inputs: viaWebhook() });
    expect(r.code).toBe(1);
    expect(slack.requests('webhook').length - before).toBe(1); // a refusal is not retried
    expect(r.outputs['failure-reason']).toBe('slack-rejected');
    expect(r.outputs.sent).toBe('false');
    expect(r.errors).toEqual(['slack-notify: Slack refused the message (the incoming webhook): HTTP 400 invalid_payload']);
    expect(r.summary).toContain('Slack refused the message');
  });

  it('Web API: chat.postMessage returns ts and channel; update-ts edits that same message', async () => {
    const r1 = await notify({ runtime: rt, inputs: viaApi({ status: 'skipped', title: 'release 1.2.3', text: 'build running' }) });
    expect(r1.code, r1.stdout).toBe(0);
    expect(r1.outputs.channel).toBe('C0DEPLOYS1');
    expect(r1.outputs.ts).toMatch(/^\d{10}\.\d{6}$/);
    const key = `C0DEPLOYS1/${r1.outputs.ts}`;
    expect(slack.apiMessages.get(key)?.edits).toBe(0);
    const post = slack.requests('api').at(-1)!;
    expect(post.path).toBe('/api/chat.postMessage');
    expect(post.headers.authorization).toBe(`Bearer ${slack.token}`);

    const r2 = await notify({
      runtime: rt,
      inputs: viaApi({
        channel: r1.outputs.channel,
        'update-ts': r1.outputs.ts,
        status: 'success',
        title: 'release 1.2.3',
        text: 'deployed',
      }),
    });
    expect(r2.code, r2.stdout).toBe(0);
    expect(slack.requests('api').at(-1)!.path).toBe('/api/chat.update');
    expect(r2.outputs).toMatchObject({ sent: 'true', ts: r1.outputs.ts, channel: 'C0DEPLOYS1' });
    const stored = slack.apiMessages.get(key)!;
    expect(stored.edits).toBe(1);
    expect((stored.body as unknown as Msg).blocks[0]!.text!.text).toBe('✅ release 1.2.3: success');
    expect(sectionTexts(stored.body as unknown as Msg)).toEqual(['deployed']);
  });

  it('on-missing skip (a fork: no secrets): a notice, sent=false, no request, step passes', async () => {
    const before = slack.server.requests.length;
    const r = await notify({ runtime: rt, inputs: { status: 'success', channel: '#deploys' } });
    expect(r.code).toBe(0);
    expect(r.errors).toEqual([]);
    expect(r.commands.filter((c) => c.command === 'notice').map((c) => c.value)).toEqual([
      expect.stringContaining('nothing sent: neither webhook-url nor bot-token is set'),
    ]);
    expect(r.outputs.sent).toBe('false');
    expect(slack.server.requests.length).toBe(before);
    expect(r.summary).toContain('nothing sent');
  });
});

describe('slack-notify delivery (node24)', () => {
  it('500 ×N: retries bounded by `retries`, then slack-unavailable with the body Slack gave', async () => {
    const f = webhookError('rollup_error');
    for (let i = 0; i < 5; i++) slack.faults.webhook.push({ status: f.status, body: f.body! });
    const before = slack.requests('webhook').length;
    const r = await notify({ inputs: viaWebhook({ retries: '2' }) });
    expect(r.code).toBe(1);
    expect(slack.requests('webhook').length - before).toBe(3);
    expect(r.outputs['failure-reason']).toBe('slack-unavailable');
    expect(r.errors).toEqual(['slack-notify: Slack did not take the message (the incoming webhook) after 3 tries: HTTP 500 rollup_error']);
    expect(r.stdout.match(/Slack: HTTP 500 rollup_error; retry \d\/2/g)).toHaveLength(2);
  });

  it('a 5xx streak shorter than the retries ends in success', async () => {
    slack.faults.webhook.push({ status: 503, body: '' }, { status: 502, body: '' });
    const before = slack.webhookMessages.length;
    const r = await notify({ inputs: viaWebhook() });
    expect(r.code, r.stdout).toBe(0);
    expect(slack.webhookMessages.length - before).toBe(1);
    expect(r.stdout).toContain('after 3 tries');
  });

  it('retries: 0 sends exactly once', async () => {
    slack.faults.webhook.push({ status: 500, body: 'rollup_error' });
    const before = slack.requests('webhook').length;
    const r = await notify({ inputs: viaWebhook({ retries: '0' }) });
    expect(r.code).toBe(1);
    expect(slack.requests('webhook').length - before).toBe(1);
    expect(r.errors[0]).toContain('after 1 try');
  });

  it('a Retry-After longer than the step waits ends the retries instead of hammering Slack', async () => {
    slack.faults.webhook.push({ status: 429, retryAfter: '3600' });
    const before = slack.requests('webhook').length;
    const r = await notify({ inputs: viaWebhook() });
    expect(r.code).toBe(1);
    expect(slack.requests('webhook').length - before).toBe(1);
    expect(r.outputs['failure-reason']).toBe('slack-unavailable');
    expect(r.errors[0]).toContain('Slack asked to wait 3600s (Retry-After)');
  });

  it('a request that never answers is cut at `timeout` and retried', async () => {
    slack.faults.webhook.push({ hang: true });
    const before = slack.webhookMessages.length;
    const r = await notify({ inputs: viaWebhook({ timeout: '300ms' }) });
    expect(r.code, r.stdout).toBe(0);
    expect(r.stdout).toMatch(/Slack: no complete response within 0\.3s; retry 1\/3/);
    expect(slack.webhookMessages.length - before).toBe(1);
  });

  it('on-error warn: a refusal is a warning, sent=false, failure-reason set, step passes', async () => {
    const f = webhookError('channel_is_archived');
    slack.faults.webhook.push({ status: f.status, body: f.body! });
    const r = await notify({ inputs: viaWebhook({ 'on-error': 'warn' }) });
    expect(r.code).toBe(0);
    expect(r.errors).toEqual([]);
    expect(r.warnings).toEqual([
      'slack-notify: Slack refused the message (the incoming webhook): HTTP 410 channel_is_archived (on-error: warn)',
    ]);
    expect(r.outputs).toMatchObject({ sent: 'false', 'failure-reason': 'slack-rejected' });
  });

  it('on-missing fail: not-configured, nothing sent', async () => {
    const before = slack.server.requests.length;
    const r = await notify({ inputs: { status: 'failure', 'on-missing': 'fail' } });
    expect(r.code).toBe(1);
    expect(r.outputs['failure-reason']).toBe('not-configured');
    expect(r.errors).toHaveLength(1);
    expect(slack.server.requests.length).toBe(before);
  });

  it('an unknown or revoked webhook (404 no_service) is a refusal', async () => {
    const r = await notify({ inputs: viaWebhook({ 'webhook-url': `${slack.server.url}/services/T0CANARY1/B0CANARY2/revokedcanary0000` }) });
    expect(r.code).toBe(1);
    expect(r.outputs['failure-reason']).toBe('slack-rejected');
    expect(r.errors).toEqual(['slack-notify: Slack refused the message (the incoming webhook): HTTP 404 no_service']);
    assertNoLeak(r, ['revokedcanary0000', '/services/T0CANARY1/B0CANARY2/revokedcanary0000']);
  });
});

describeFixtures('slack-notify: every documented webhook error (../shared/fixtures/slack)', () => {
  const refusals = () => webhookErrors().filter((e) => e.status >= 400 && e.status < 500 && e.status !== 429 && e.body);
  it('each 4xx body fails with slack-rejected, HTTP status and body in the one error line, no retry', async () => {
    expect(refusals().map((e) => e.body)).toEqual([
      'invalid_payload',
      'user_not_found',
      'action_prohibited',
      'channel_not_found',
      'channel_is_archived',
    ]);
    for (const f of refusals()) {
      slack.faults.webhook.push({ status: f.status, body: f.body! });
      const before = slack.requests('webhook').length;
      const r = await notify({ inputs: viaWebhook() });
      expect(r.code).toBe(1);
      expect(slack.requests('webhook').length - before).toBe(1);
      expect(r.outputs['failure-reason']).toBe('slack-rejected');
      expect(r.errors).toEqual([`slack-notify: Slack refused the message (the incoming webhook): HTTP ${f.status} ${f.body}`]);
    }
  });
});

describe('slack-notify escaping (node24)', () => {
  const nasty = 'He said "ship it" & left\nline two: <!channel> <https://evil.example|click> :rocket: 🚀 \\ \t tab';
  it('quotes, newlines, <!channel>, links, emoji and & arrive escaped and JSON-safe; the text reads back unchanged', async () => {
    const before = slack.webhookMessages.length;
    const r = await notify({
      inputs: viaWebhook({
        status: 'failure',
        title: 'deploy "v2" <!here> & co',
        text: nasty,
        fields: JSON.stringify({ 'note <b>': nasty, empty: '' }),
      }),
    });
    expect(r.code, r.stdout).toBe(0);
    expect(slack.webhookMessages.length - before).toBe(1);
    const raw = slack.requests('webhook').at(-1)!.text;
    // Nothing the caller wrote can ping, link or break out: no raw `<!`, `<https:` from input anywhere.
    expect(raw).not.toContain('<!channel>');
    expect(raw).not.toContain('<!here>');
    expect(raw).not.toContain('<https://evil');
    const m = slack.webhookMessages.at(-1) as unknown as Msg;
    const body = sectionTexts(m).find((t) => t.includes('ship it'))!;
    expect(unescapeSlack(body)).toBe(nasty.replace(/\t/g, '\t'));
    expect(body).toContain('&lt;!channel&gt;');
    expect(body).toContain('&amp; left');
    expect(m.blocks[0]!.text!.text).toBe('❌ deploy "v2" &lt;!here&gt; &amp; co: failure');
    const fields = allBlocks(m)
      .flatMap((b) => b.fields ?? [])
      .map((f) => f.text);
    expect(fields[0]).toBe(`*note &lt;b&gt;*\n${body}`);
    expect(fields[1]).toBe('*empty*\n—');
  });

  it('fields written as key: value lines keep what YAML would eat (#, *, a second colon)', async () => {
    const r = await notify({ inputs: viaWebhook({ fields: 'note: fix #123 & more\nstate: *ok*\nwhy: exit: 1' }) });
    expect(r.code, r.stdout).toBe(0);
    const m = slack.webhookMessages.at(-1) as unknown as Msg;
    expect(
      allBlocks(m)
        .flatMap((b) => b.fields ?? [])
        .map((f) => f.text),
    ).toEqual(['*note*\nfix #123 &amp; more', '*state*\n*ok*', '*why*\nexit: 1']);
  });

  it('mention is added on failure only, in Slack syntax, and pings from the fallback text', async () => {
    const fail = await notify({ inputs: viaWebhook({ status: 'failure', mention: 'here, U024BE7LH, S0614TZR7' }) });
    expect(fail.code, fail.stdout).toBe(0);
    const m = slack.webhookMessages.at(-1) as unknown as Msg;
    expect(m.text.startsWith('<!here> <@U024BE7LH> <!subteam^S0614TZR7> ')).toBe(true);
    expect(m.blocks[1]).toEqual({ type: 'section', text: { type: 'mrkdwn', text: '<!here> <@U024BE7LH> <!subteam^S0614TZR7>' } });
    const ok = await notify({ inputs: viaWebhook({ status: 'success', mention: 'here, U024BE7LH' }) });
    expect(ok.code).toBe(0);
    const raw = slack.requests('webhook').at(-1)!.text;
    expect(raw).not.toContain('<!here>');
    expect(raw).not.toContain('U024BE7LH');
  });

  it('a long title and text are cut to Slack’s limits, never mid-entity, and Slack accepts them', async () => {
    const r = await notify({ inputs: viaWebhook({ title: '&'.repeat(400), text: '<'.repeat(5000) }) });
    expect(r.code, r.stdout).toBe(0);
    const m = slack.webhookMessages.at(-1) as unknown as Msg;
    const h = m.blocks[0]!.text!.text;
    expect(h.length).toBeLessThanOrEqual(150);
    expect(h).toMatch(/^✅ (&amp;)+…$/);
    const t = sectionTexts(m)[0]!;
    expect(t.length).toBeLessThanOrEqual(3000);
    expect(t).toMatch(/^(&lt;)+…$/);
  });

  it('payload replaces the built message and is sent as given (YAML)', async () => {
    const payload = 'text: custom <!here>\nblocks:\n  - type: section\n    text: { type: mrkdwn, text: "*custom* block" }\n';
    const r = await notify({ inputs: viaWebhook({ payload, title: 'ignored' }) });
    expect(r.code, r.stdout).toBe(0);
    expect(r.warnings).toEqual(['slack-notify: title ignored: payload replaces the built message']);
    expect(slack.webhookMessages.at(-1)).toEqual({
      text: 'custom <!here>',
      blocks: [{ type: 'section', text: { type: 'mrkdwn', text: '*custom* block' } }],
    });
  });
});

describe('slack-notify Web API refusals and leaks (node24)', () => {
  it('channel_not_found, not_in_channel, invalid_auth → slack-rejected with Slack’s error string', async () => {
    const cases: [Record<string, string>, string][] = [
      [{ channel: '#nope' }, 'channel_not_found'],
      [{ channel: '#private-ops' }, 'not_in_channel'],
      [{ 'bot-token': 'xoxb-0000000000-wrongcanary-token' }, 'invalid_auth'],
    ];
    for (const [inputs, error] of cases) {
      const r = await notify({ inputs: viaApi(inputs) });
      expect(r.code).toBe(1);
      expect(r.outputs['failure-reason']).toBe('slack-rejected');
      expect(r.errors).toHaveLength(1);
      expect(r.errors[0]).toMatch(
        new RegExp(
          `^slack-notify: Slack refused the message \\(chat\\.postMessage in \\S+ \\(http://127\\.0\\.0\\.1:\\d+/api\\)\\): ${error}$`,
        ),
      );
      if (inputs['bot-token']) assertNoLeak(r, [inputs['bot-token'], 'wrongcanary-token']);
    }
  });

  it('update-ts of a message that does not exist: message_not_found', async () => {
    const r = await notify({ inputs: viaApi({ channel: 'C0DEPLOYS1', 'update-ts': '1000000000.000001' }) });
    expect(r.code).toBe(1);
    expect(r.errors[0]).toMatch(/message_not_found$/);
  });

  it('a payload Slack finds invalid: invalid_blocks, with Slack’s messages printed inert', async () => {
    const payload = JSON.stringify({ text: 'x', blocks: [{ type: 'header', text: { type: 'mrkdwn', text: '::warning::injected' } }] });
    const r = await notify({ inputs: viaApi({ payload }) });
    expect(r.code).toBe(1);
    expect(r.errors[0]).toMatch(/: invalid_blocks$/);
    expect(r.stdout).toContain('[ERROR] blocks[0].text.type must be plain_text');
    expect(r.warnings).toEqual([]);
  });

  it('Web API 429 (ratelimited + Retry-After) then ok', async () => {
    slack.faults.api.push({ status: 429, retryAfter: '1' });
    const r = await notify({ inputs: viaApi() });
    expect(r.code, r.stdout).toBe(0);
    expect(r.stdout).toMatch(/Slack: HTTP 429 ratelimited; retry 1\/3 in 1\.0s as Slack asked \(Retry-After\)/);
  });

  it('HTTP client errors never name the webhook: refused connection, odd spellings, a query string', async () => {
    const dead: TestServer = await startServer((_q, res) => void res.end());
    const port = dead.port;
    await dead.close();
    const secret = 'deadcanary9f8e7d6c5b4a';
    for (const url of [
      `http://127.0.0.1:${port}/services/T0/B0/${secret}`,
      `http://LOCALHOST:${port}/services/T0/B0/${secret}?token=${secret}x`,
      `http://127.0.0.1:${port}/services/T0/B0/./${secret}`,
    ]) {
      const r = await notify({ inputs: viaWebhook({ 'webhook-url': url, retries: '1' }) });
      expect(r.code).toBe(1);
      expect(r.outputs['failure-reason']).toBe('slack-unavailable');
      expect(r.errors).toHaveLength(1);
      expect(r.errors[0]).toMatch(/^slack-notify: Slack did not take the message \(the incoming webhook\) after 2 tries: ECONNREFUSED$/);
      assertNoLeak(r, [url, secret, `/services/T0/B0/${secret}`, `${port}/services`]);
    }
  });
});
