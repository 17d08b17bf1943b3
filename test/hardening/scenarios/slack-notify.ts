/**
 * slack-notify under the hardening suites, against test/slack-notify/slack.ts (a loopback Slack
 * that checks what Slack checks). The webhook URL (its secret path) and the bot token are the
 * canaries: each may appear only where Slack needs it, the webhook path on the webhook request and
 * the token in the Authorization header of Web API calls.
 */
import { expect } from 'vitest';
import { runAction } from '../../harness/runner.js';
import { startServer } from '../../harness/server.js';
import { startSlack, type LoopbackSlack } from '../../slack-notify/slack.js';
import type { ActionHardening, Outcome, Watched } from './types.js';

let slack: LoopbackSlack;
const ENV_CANARIES = ['env:GITHUB_TOKEN', 'env:ACTIONS_RUNTIME_TOKEN'];
const envOf = (c: Record<string, string>) =>
  Object.fromEntries(
    Object.entries(c)
      .filter(([k]) => k.startsWith('env:'))
      .map(([k, v]) => [k.slice(4), v]),
  );
const secretSegment = () => slack.webhookPath.split('/').at(-1) as string;

function watched(mark: number): Watched {
  return {
    name: 'slack',
    requests: () => slack.server.requests.slice(mark),
    allow: [
      { label: 'webhook-secret', header: ':url', path: /^\/services\// },
      { label: 'input:webhook-url', header: ':url', path: /^\/services\// },
      { label: 'input:bot-token', header: 'authorization', path: /^\/api\/chat\.(postMessage|update)$/ },
    ],
  };
}

async function notify(inputs: Record<string, string>, env: Record<string, string> = {}): Promise<Outcome> {
  const mark = slack.server.requests.length;
  const r = await runAction('slack-notify', {
    inputs: { status: 'success', title: 'deploy shop', 'retry-delay': '10ms', timeout: '2s', retries: '1', ...inputs },
    env,
    timeoutMs: 30_000,
  });
  return {
    result: r,
    servers: [watched(mark)],
    blobs: slack.server.requests.slice(mark).map((q, i) => ({ name: `slack request ${i}`, data: q.body })),
  };
}
const webhook = () => ({ 'webhook-url': slack.webhookUrl });

/** A one-off Slack for one payload (so payloads run side by side): answers every request with `status` and `body`. */
async function oneOff(
  status: number,
  body: string,
  contentType: string,
  inputs: (url: string) => Record<string, string>,
): Promise<Outcome> {
  const srv = await startServer((_q, res) => {
    res.writeHead(status, { 'content-type': contentType });
    res.end(body);
  });
  try {
    const r = await runAction('slack-notify', {
      inputs: { status: 'success', title: 'deploy shop', 'retry-delay': '10ms', timeout: '2s', retries: '0', ...inputs(srv.url) },
      timeoutMs: 30_000,
    });
    return { result: r };
  } finally {
    await srv.close();
  }
}
const bot = () => ({ 'bot-token': slack.token, channel: '#deploys', 'api-url': slack.apiUrl });
const webhookValues = () => ({ 'input:webhook-url': slack.webhookUrl, 'webhook-secret': secretSegment() });

const hardening: ActionHardening = {
  action: 'slack-notify',
  async start() {
    slack = await startSlack();
  },
  async stop() {
    await slack?.close();
  },
  canary: [
    {
      name: 'webhook: message sent',
      labels: ['input:webhook-url', ...ENV_CANARIES],
      expect: { code: 0 },
      async run(c) {
        const o = await notify(webhook(), envOf(c));
        expect(o.result.outputs.sent).toBe('true');
        return { ...o, values: webhookValues() };
      },
    },
    {
      name: 'webhook: Slack refuses (400 invalid_payload)',
      labels: ['input:webhook-url', ...ENV_CANARIES],
      expect: { code: 1, reason: 'slack-rejected' },
      async run(c) {
        slack.faults.webhook.push({ status: 400, body: 'invalid_payload' });
        return { ...(await notify(webhook(), envOf(c))), values: webhookValues() };
      },
    },
    {
      name: 'webhook: Slack unreachable (5xx until the retries run out)',
      labels: ['input:webhook-url', ...ENV_CANARIES],
      expect: { code: 1, reason: 'slack-unavailable' },
      async run(c) {
        slack.faults.webhook.push({ status: 503, body: 'down' }, { status: 503, body: 'down' });
        return { ...(await notify(webhook(), envOf(c))), values: webhookValues() };
      },
    },
    {
      name: 'webhook revoked (404 no_service) with on-error warn',
      labels: ['input:webhook-url', ...ENV_CANARIES],
      expect: { code: 0 },
      async run(c) {
        const o = await notify({ 'webhook-url': `${slack.webhookUrl}x`, 'on-error': 'warn' }, envOf(c));
        expect(o.result.outputs['failure-reason']).toBe('slack-rejected');
        return { ...o, values: { 'input:webhook-url': `${slack.webhookUrl}x`, 'webhook-secret': `${secretSegment()}x` } };
      },
    },
    {
      name: 'bot token: chat.postMessage',
      labels: ['input:bot-token', ...ENV_CANARIES],
      expect: { code: 0 },
      async run(c) {
        const o = await notify(bot(), envOf(c));
        expect(o.result.outputs.ts).toMatch(/^\d+\.\d+$/);
        return { ...o, values: { 'input:bot-token': slack.token } };
      },
    },
    {
      name: 'bot token refused (invalid_auth)',
      labels: ['input:bot-token', ...ENV_CANARIES],
      expect: { code: 1, reason: 'slack-rejected' },
      async run(c) {
        const wrong = `xoxb-1234567890-${c['input:bot-token']}`;
        const o = await notify({ ...bot(), 'bot-token': wrong }, envOf(c));
        return { ...o, values: { 'input:bot-token': wrong } };
      },
    },
  ],
  injection: [
    {
      name: 'payload in title, text and fields (sent to Slack, printed nowhere raw)',
      kind: 'workflow',
      run: (p) =>
        notify({
          ...webhook(),
          title: p.payload.split(/\r?\n/)[0] as string,
          text: p.payload,
          fields: `note: ${JSON.stringify(p.payload)}`,
        }),
    },
    {
      name: 'payload as the webhook error body (Slack error string)',
      kind: 'workflow',
      run: (p) => oneOff(400, p.payload, 'text/plain', (url) => ({ 'webhook-url': `${url}/services/T0HARD/B0HARD/injectionsecret01` })),
      check: (o) => expect(o.result.outputs['failure-reason']).toBe('slack-rejected'),
    },
    {
      name: 'payload as the Web API error string and response metadata',
      kind: 'workflow',
      run: (p) =>
        oneOff(
          200,
          JSON.stringify({ ok: false, error: p.payload, response_metadata: { messages: [p.payload] } }),
          'application/json',
          (url) => ({ 'bot-token': 'xoxb-1234567890-injection-token', channel: '#deploys', 'api-url': `${url}/api` }),
        ),
      check: (o) => expect(o.result.outputs['failure-reason']).toBe('slack-rejected'),
    },
    {
      name: 'payload as the channel and ts Slack returns (outputs must not split)',
      kind: 'workflow',
      run: (p) =>
        oneOff(200, JSON.stringify({ ok: true, channel: p.payload, ts: p.payload }), 'application/json', (url) => ({
          'bot-token': 'xoxb-1234567890-injection-token',
          channel: '#deploys',
          'api-url': `${url}/api`,
        })),
      check: (o, p) => {
        // Either the odd answer is refused, or each output holds exactly what Slack said, unsplit.
        for (const k of ['ts', 'channel']) {
          const v = o.result.outputs[k];
          if (v !== undefined && v !== '') expect([p.payload, p.payload.replace(/\r\n?/g, '\n')]).toContain(v);
        }
      },
    },
  ],
  faults: [
    {
      name: 'webhook 5xx streak longer than the retries: retries+1 requests, slack-unavailable',
      async run() {
        slack.faults.webhook.push({ status: 500 }, { status: 502 }, { status: 503 });
        const mark = slack.server.requests.length;
        const r = await runAction('slack-notify', {
          inputs: { ...webhook(), status: 'failure', retries: '2', 'retry-delay': '10ms', timeout: '2s' },
          timeoutMs: 30_000,
        });
        expect(r.code).toBe(1);
        expect(r.outputs['failure-reason']).toBe('slack-unavailable');
        expect(slack.server.requests.length - mark).toBe(3);
      },
    },
    {
      name: 'Web API 429 with Retry-After: 1, then ok: sent once',
      async run() {
        slack.faults.api.push({ status: 429, retryAfter: '1' });
        const before = slack.apiMessages.size;
        const r = await runAction('slack-notify', {
          inputs: { ...bot(), status: 'success', retries: '2', 'retry-delay': '10ms', timeout: '3s' },
          timeoutMs: 30_000,
        });
        expect(r.code, r.stdout).toBe(0);
        expect(slack.apiMessages.size - before).toBe(1);
      },
    },
    {
      name: 'a webhook that never answers (slow-loris) is cut at the timeout: slack-unavailable, bounded',
      async run() {
        slack.faults.webhook.push({ hang: true }, { hang: true });
        const mark = slack.server.requests.length;
        const r = await runAction('slack-notify', {
          inputs: { ...webhook(), status: 'success', retries: '1', 'retry-delay': '10ms', timeout: '500ms' },
          timeoutMs: 30_000,
        });
        expect(r.timedOut).toBe(false);
        expect(r.code).toBe(1);
        expect(r.outputs['failure-reason']).toBe('slack-unavailable');
        expect(slack.server.requests.length - mark).toBe(2);
      },
    },
    {
      name: 'Slack down with on-error warn: the step passes, sent=false, the reason is set',
      async run() {
        slack.faults.webhook.push({ status: 503 }, { status: 503 });
        const r = await runAction('slack-notify', {
          inputs: { ...webhook(), status: 'success', retries: '1', 'retry-delay': '10ms', 'on-error': 'warn' },
          timeoutMs: 30_000,
        });
        expect(r.code).toBe(0);
        expect(r.outputs.sent).toBe('false');
        expect(r.outputs['failure-reason']).toBe('slack-unavailable');
      },
    },
  ],
};

export default hardening;
