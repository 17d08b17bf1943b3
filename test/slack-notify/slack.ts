/**
 * A loopback Slack for slack-notify's tests: an incoming webhook (`POST /services/T…/B…/<secret>`)
 * and the Web API (`POST /api/chat.postMessage`, `/api/chat.update`) that check what real Slack
 * checks before accepting a message:
 *  - the webhook answers `200 ok`, or a documented status + plain-string body (`webhookErrors()`
 *    below; `400 invalid_payload` for a body that is not a valid Block Kit message);
 *  - the Web API answers JSON `{"ok":true,"channel","ts"}` or `{"ok":false,"error":…}` (the
 *    documented shape: not_authed, invalid_auth, channel_not_found, invalid_blocks with
 *    response_metadata.messages, message_not_found);
 *  - scripted faults (429 + Retry-After, 5xx streaks, a never-answering request) come first, in order.
 * Block Kit shape checks follow Slack's Block Kit reference: block types, plain_text headers of at
 * most 150 characters, section text ≤ 3000, ≤ 10 fields of ≤ 2000, context ≤ 10 elements, `emoji`
 * only on plain_text, ≤ 50 blocks, attachments with a hex colour.
 */
import { randomBytes } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import { startServer, type RecordedRequest, type TestServer } from '../harness/server.js';

export interface WebhookErrorFixture {
  status: number;
  body: string | null;
  headers?: Record<string, string>;
  source: string;
  note?: string;
}

const WEBHOOK_ERRORS_DOC = 'https://api.slack.com/changelog/2016-05-17-changes-to-errors-for-incoming-webhooks';

/**
 * The incoming-webhook error responses Slack documents (written here from its changelog of
 * 2016-05-17 and its rate-limit page, so the tests need no recorded files): a status and a plain
 * text body; 429 carries Retry-After in seconds and a body whose shape is not documented.
 */
export function webhookErrors(): WebhookErrorFixture[] {
  return [
    { status: 400, body: 'invalid_payload', source: WEBHOOK_ERRORS_DOC },
    { status: 400, body: 'user_not_found', source: WEBHOOK_ERRORS_DOC },
    { status: 403, body: 'action_prohibited', source: WEBHOOK_ERRORS_DOC },
    { status: 404, body: 'channel_not_found', source: WEBHOOK_ERRORS_DOC },
    { status: 410, body: 'channel_is_archived', source: WEBHOOK_ERRORS_DOC },
    { status: 500, body: 'rollup_error', source: WEBHOOK_ERRORS_DOC },
    {
      status: 429,
      headers: { 'Retry-After': '<integer seconds>' },
      body: null,
      note: 'the body is not documented',
      source: 'https://api.slack.com/docs/rate-limits',
    },
  ];
}

export function webhookError(body: string): WebhookErrorFixture {
  const f = webhookErrors().find((e) => e.body === body);
  if (!f) throw new Error(`no documented webhook error ${body} among Slack's documented errors`);
  return f;
}

export type Fault = { status: number; body?: string; retryAfter?: string; json?: unknown } | { hang: true };

export interface StoredMessage {
  channel: string;
  ts: string;
  body: Record<string, unknown>;
  edits: number;
}

export interface LoopbackSlack {
  server: TestServer;
  /** The canary webhook URL (its last path segment is a random secret). */
  webhookUrl: string;
  webhookPath: string;
  /** A canary bot token. */
  token: string;
  apiUrl: string;
  /** Channel names/IDs the workspace knows → channel ID. */
  channels: Record<string, string>;
  /** Messages accepted through the webhook, in order. */
  webhookMessages: Record<string, unknown>[];
  /** Messages accepted through the Web API, by `${channel}/${ts}`. */
  apiMessages: Map<string, StoredMessage>;
  /** Faults answered (in order) before normal handling, per route: 'webhook' | 'api'. */
  faults: { webhook: Fault[]; api: Fault[] };
  requests(route?: 'webhook' | 'api'): RecordedRequest[];
  close(): Promise<void>;
}

const TEXT_TYPES = ['plain_text', 'mrkdwn'];

function textProblem(t: unknown, where: string, max: number, only?: 'plain_text'): string[] {
  if (t === null || typeof t !== 'object') return [`${where} must be a text object`];
  const o = t as Record<string, unknown>;
  const out: string[] = [];
  if (!TEXT_TYPES.includes(o.type as string)) out.push(`${where}.type must be plain_text or mrkdwn`);
  if (only && o.type !== only) out.push(`${where}.type must be ${only}`);
  if (typeof o.text !== 'string' || o.text.length === 0) out.push(`${where}.text must be a non-empty string`);
  else if (o.text.length > max) out.push(`${where}.text must be at most ${max} characters`);
  if ('emoji' in o && o.type !== 'plain_text') out.push(`${where}.emoji is only allowed on plain_text`);
  for (const k of Object.keys(o))
    if (!['type', 'text', 'emoji', 'verbatim'].includes(k)) out.push(`${where}.${k} is not a text object field`);
  return out;
}

function blockProblems(b: unknown, where: string): string[] {
  if (b === null || typeof b !== 'object' || Array.isArray(b)) return [`${where} must be an object`];
  const o = b as Record<string, unknown>;
  switch (o.type) {
    case 'header':
      return textProblem(o.text, `${where}.text`, 150, 'plain_text');
    case 'section': {
      const out: string[] = [];
      if (o.text === undefined && o.fields === undefined) out.push(`${where} needs text or fields`);
      if (o.text !== undefined) out.push(...textProblem(o.text, `${where}.text`, 3000));
      if (o.fields !== undefined) {
        if (!Array.isArray(o.fields) || o.fields.length === 0 || o.fields.length > 10)
          out.push(`${where}.fields must be 1 to 10 text objects`);
        else o.fields.forEach((f, i) => out.push(...textProblem(f, `${where}.fields[${i}]`, 2000)));
      }
      return out;
    }
    case 'context': {
      if (!Array.isArray(o.elements) || o.elements.length === 0 || o.elements.length > 10)
        return [`${where}.elements must be 1 to 10 elements`];
      return o.elements.flatMap((e, i) =>
        (e as { type?: string })?.type === 'image' ? [] : textProblem(e, `${where}.elements[${i}]`, 2000),
      );
    }
    case 'divider':
      return [];
    case 'image':
    case 'actions':
    case 'rich_text':
      return [];
    default:
      return [`${where}.type ${JSON.stringify(o.type)} is not a block type`];
  }
}

/** Problems Slack would report for this message body, or [] when it is acceptable. */
export function messageProblems(m: unknown): string[] {
  if (m === null || typeof m !== 'object' || Array.isArray(m)) return ['the body must be a JSON object'];
  const o = m as Record<string, unknown>;
  const out: string[] = [];
  if (o.text === undefined && o.blocks === undefined && o.attachments === undefined) out.push('no text, blocks or attachments');
  if (o.text !== undefined && typeof o.text !== 'string') out.push('text must be a string');
  if (o.blocks !== undefined) {
    if (!Array.isArray(o.blocks) || o.blocks.length > 50) out.push('blocks must be a list of at most 50 blocks');
    else o.blocks.forEach((b, i) => out.push(...blockProblems(b, `blocks[${i}]`)));
  }
  if (o.attachments !== undefined) {
    if (!Array.isArray(o.attachments)) out.push('attachments must be a list');
    else
      o.attachments.forEach((a, i) => {
        const at = a as Record<string, unknown>;
        if (at.color !== undefined && !/^#?[0-9a-fA-F]{6}$|^(good|warning|danger)$/.test(String(at.color)))
          out.push(`attachments[${i}].color must be a hex colour`);
        if (at.blocks !== undefined) {
          if (!Array.isArray(at.blocks)) out.push(`attachments[${i}].blocks must be a list`);
          else at.blocks.forEach((b, j) => out.push(...blockProblems(b, `attachments[${i}].blocks[${j}]`)));
        }
      });
  }
  return out;
}

function plain(res: ServerResponse, status: number, body: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', ...headers });
  res.end(body);
}

function apiJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', ...headers });
  res.end(JSON.stringify(body));
}

export async function startSlack(): Promise<LoopbackSlack> {
  const secret = `canary${randomBytes(12).toString('hex')}`;
  const webhookPath = `/services/T0CANARY1/B0CANARY2/${secret}`;
  const token = `xoxb-1234567890-canary-${randomBytes(12).toString('hex')}`;
  const channels: Record<string, string> = {
    '#deploys': 'C0DEPLOYS1',
    deploys: 'C0DEPLOYS1',
    C0DEPLOYS1: 'C0DEPLOYS1',
    '#private-ops': 'G0PRIVATE1',
    G0PRIVATE1: 'G0PRIVATE1',
  };
  const notMember = new Set(['G0PRIVATE1']);
  const webhookMessages: Record<string, unknown>[] = [];
  const apiMessages = new Map<string, StoredMessage>();
  const faults: LoopbackSlack['faults'] = { webhook: [], api: [] };
  let seq = 0;

  const answerFault = (f: Fault, res: ServerResponse, api: boolean): boolean => {
    if ('hang' in f) return true; // never answer: the client's deadline must end it
    const headers: Record<string, string> = f.retryAfter !== undefined ? { 'retry-after': f.retryAfter } : {};
    if (api)
      apiJson(
        res,
        f.status,
        f.json ?? (f.status === 429 ? { ok: false, error: 'ratelimited' } : { ok: false, error: 'internal_error' }),
        headers,
      );
    else plain(res, f.status, f.body ?? '', headers);
    return true;
  };

  const server = await startServer((req, res) => {
    if (req.method !== 'POST') return plain(res, 405, 'method_not_allowed');
    if (req.path.startsWith('/services/')) {
      const f = faults.webhook.shift();
      if (f) return void answerFault(f, res, false);
      // Slack answers an unknown or revoked webhook with 404 no_service (named in issue #7; not among the fixtures).
      if (req.path !== webhookPath) return plain(res, 404, 'no_service');
      if (!String(req.headers['content-type'] ?? '').startsWith('application/json'))
        return plain(res, 400, webhookError('invalid_payload').body ?? '');
      let body: unknown;
      try {
        body = JSON.parse(req.text);
      } catch {
        return plain(res, 400, webhookError('invalid_payload').body ?? '');
      }
      if (messageProblems(body).length) return plain(res, 400, webhookError('invalid_payload').body ?? '');
      webhookMessages.push(body as Record<string, unknown>);
      return plain(res, 200, 'ok');
    }
    if (req.path.startsWith('/api/')) {
      const f = faults.api.shift();
      if (f) return void answerFault(f, res, true);
      const method = req.path.slice('/api/'.length);
      if (method !== 'chat.postMessage' && method !== 'chat.update') return apiJson(res, 404, { ok: false, error: 'unknown_method' });
      const auth = String(req.headers.authorization ?? '');
      if (!auth) return apiJson(res, 200, { ok: false, error: 'not_authed' });
      if (auth !== `Bearer ${token}`) return apiJson(res, 200, { ok: false, error: 'invalid_auth' });
      let body: Record<string, unknown>;
      try {
        body = JSON.parse(req.text) as Record<string, unknown>;
      } catch {
        return apiJson(res, 200, { ok: false, error: 'invalid_json' });
      }
      if (!String(req.headers['content-type'] ?? '').includes('charset=utf-8'))
        return apiJson(res, 200, { ok: false, error: 'missing_charset' });
      const channel = channels[String(body.channel ?? '')];
      if (!channel) return apiJson(res, 200, { ok: false, error: 'channel_not_found' });
      if (notMember.has(channel)) return apiJson(res, 200, { ok: false, error: 'not_in_channel' });
      const { channel: _c, ts: _t, unfurl_links: _u, unfurl_media: _m, ...message } = body;
      const problems = messageProblems(message);
      if (problems.length)
        return apiJson(res, 200, {
          ok: false,
          error: 'invalid_blocks',
          response_metadata: { messages: problems.map((p) => `[ERROR] ${p}`) },
        });
      if (method === 'chat.postMessage') {
        const ts = `${1764500000 + seq}.${String(++seq).padStart(6, '0')}`;
        apiMessages.set(`${channel}/${ts}`, { channel, ts, body: message, edits: 0 });
        return apiJson(res, 200, { ok: true, channel, ts, message: { type: 'message', text: message.text, ts } });
      }
      const key = `${channel}/${String(body.ts ?? '')}`;
      const prev = apiMessages.get(key);
      if (!prev) return apiJson(res, 200, { ok: false, error: 'message_not_found' });
      apiMessages.set(key, { ...prev, body: message, edits: prev.edits + 1 });
      return apiJson(res, 200, { ok: true, channel, ts: prev.ts, text: message.text });
    }
    return plain(res, 404, 'not_found');
  });

  return {
    server,
    webhookUrl: `${server.url}${webhookPath}`,
    webhookPath,
    token,
    apiUrl: `${server.url}/api`,
    channels,
    webhookMessages,
    apiMessages,
    faults,
    requests: (route) =>
      server.requests.filter((r) => !route || (route === 'webhook' ? r.path.startsWith('/services/') : r.path.startsWith('/api/'))),
    close: () => server.close(),
  };
}

/** Undoes Slack's three escapes (what a person sees in Slack). */
export function unescapeSlack(s: string): string {
  return s.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
}
