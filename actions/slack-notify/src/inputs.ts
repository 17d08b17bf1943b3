/**
 * slack-notify's inputs checked as plain data: every rule that can be decided before a request is
 * sent lives here, so a bad input fails before anything is posted. Secret values are never echoed
 * in a message (only what kind of value was expected).
 */
import { InputError, safeUrl } from '@hallmark/kit';
import { MENTION_EXPECTED, parseMentions, payloadProblem, type SlackMessage, type Status } from './message.js';

export const FAILURE_REASONS = ['invalid-input', 'not-configured', 'slack-rejected', 'slack-unavailable'] as const;
export type FailureReason = (typeof FAILURE_REASONS)[number];

export const ON_MISSING = ['skip', 'fail'] as const;
export const ON_ERROR = ['fail', 'warn'] as const;
export const DEFAULT_API_URL = 'https://slack.com/api';

export interface RawInputs {
  webhookUrl: string;
  botToken: string;
  channel: string;
  updateTs: string;
  status: Status;
  title: string;
  text: string;
  fields: Record<string, string>;
  mention: string[];
  /** Parsed `payload` (undefined when not given). */
  payload: unknown;
  apiUrl: string;
  environment: string;
  startedAt: string;
  onMissing: (typeof ON_MISSING)[number];
  onError: (typeof ON_ERROR)[number];
  retries: number;
  retryDelayMs: number;
  timeoutMs: number;
}

export type Target =
  | { kind: 'webhook'; url: string }
  | { kind: 'api'; method: 'chat.postMessage' | 'chat.update'; url: string; token: string; channel: string; ts?: string }
  | { kind: 'none' };

/** Where the message goes, in words that never include the webhook URL. */
export function describeTarget(t: Target): string {
  if (t.kind === 'webhook') return 'the incoming webhook';
  if (t.kind === 'api') return `${t.method}${t.ts ? ` of ${t.ts}` : ''} in ${t.channel} (${safeUrl(t.url).replace(/\/[^/]*$/, '')})`;
  return 'nowhere';
}

export interface Config {
  target: Target;
  status: Status;
  title: string;
  text: string;
  fields: Record<string, string>;
  mentions: string[];
  payload?: SlackMessage;
  apiUrl: string;
  environment: string;
  /** Epoch ms, when `started-at` was given. */
  startedAtMs?: number;
  onMissing: RawInputs['onMissing'];
  onError: RawInputs['onError'];
  attempts: number;
  retryDelayMs: number;
  timeoutMs: number;
  warnings: string[];
}

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]']);

/** https, or http to a loopback host (tests, local relays). No credentials in the URL. */
function urlProblem(value: string, what: string): string | undefined {
  let u: URL;
  try {
    u = new URL(value);
  } catch {
    return `must be an https:// URL (${what})`;
  }
  if (u.protocol !== 'https:' && !(u.protocol === 'http:' && LOOPBACK.has(u.hostname))) return `must be an https:// URL (${what})`;
  if (u.username || u.password) return `must not carry credentials in the URL (${what})`;
  return undefined;
}

const SECRET = 'the value is not shown: it is a secret';

/** Slack token kinds that can post: bot (xoxb), user (xoxp), and their rotating forms (xoxe.xoxb/xoxe.xoxp). */
const TOKEN = /^(?:xoxe\.)?xox[bp]-[A-Za-z0-9-]{6,}$/;
const CHANNEL_ID = /^[CGD][A-Z0-9]{6,}$/;
const CHANNEL = /^(?:[CGDUW][A-Z0-9]{6,}|#?[a-z0-9][a-z0-9._-]{0,79})$/;
const TS = /^\d{9,11}\.\d{6}$/;

/** `started-at`: epoch seconds (`date +%s`), epoch ms, or an ISO 8601 timestamp. */
export function parseStartedAt(v: string): number | undefined {
  if (/^\d{9,10}$/.test(v)) return Number(v) * 1000;
  if (/^\d{12,13}$/.test(v)) return Number(v);
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})$/.test(v)) return undefined;
  const t = Date.parse(v);
  return Number.isNaN(t) ? undefined : t;
}

export function checkInputs(r: RawInputs): Config {
  const warnings: string[] = [];
  if (r.webhookUrl) {
    const p = urlProblem(r.webhookUrl, SECRET);
    if (p) throw new InputError('webhook-url', p);
  }
  if (r.botToken) {
    if (/^xapp-/.test(r.botToken))
      throw new InputError('bot-token', `must be a bot token (xoxb-…): an app-level token (xapp-…) cannot post messages (${SECRET})`);
    if (!TOKEN.test(r.botToken)) throw new InputError('bot-token', `must be a Slack bot token (xoxb-…) or user token (xoxp-…) (${SECRET})`);
  }
  if (r.webhookUrl && r.botToken)
    throw new InputError('bot-token', 'cannot be combined with webhook-url: set one of them (webhook, or bot-token with channel)');

  const apiUrl = (r.apiUrl || DEFAULT_API_URL).replace(/\/+$/, '');
  const apiProblem = urlProblem(apiUrl, 'e.g. https://slack.com/api or https://slack-gov.com/api');
  if (apiProblem) throw new InputError('api-url', apiProblem);
  if (/[?#]/.test(apiUrl)) throw new InputError('api-url', 'must be a base URL without a query or fragment, e.g. https://slack.com/api');

  if (r.channel && !CHANNEL.test(r.channel)) {
    throw new InputError(
      'channel',
      `must be a channel ID (C…/G…/D…), a user ID (U…) or a channel name such as #deploys (got ${JSON.stringify(r.channel.slice(0, 80))})`,
    );
  }
  if (r.updateTs && !TS.test(r.updateTs))
    throw new InputError(
      'update-ts',
      `must be a message ts as Slack returns it, e.g. 1503435956.000247 (got ${JSON.stringify(r.updateTs.slice(0, 80))})`,
    );
  if (r.updateTs && r.webhookUrl)
    throw new InputError('update-ts', 'needs bot-token and channel: an incoming webhook cannot edit a message');
  if (r.updateTs && r.botToken && r.channel && !CHANNEL_ID.test(r.channel)) {
    throw new InputError(
      'channel',
      `must be the channel ID (C…/G…/D…) with update-ts, as chat.postMessage returned it in the \`channel\` output (got ${JSON.stringify(r.channel.slice(0, 80))})`,
    );
  }
  if (r.botToken && !r.channel) throw new InputError('channel', 'is required with bot-token: a channel ID (C…) or name (#deploys)');

  const parsed = parseMentions(r.mention);
  if ('bad' in parsed) throw new InputError('mention', `must be ${MENTION_EXPECTED} (got ${JSON.stringify(parsed.bad.slice(0, 80))})`);
  if (Object.keys(r.fields).length > 20)
    throw new InputError('fields', `must have at most 20 entries (got ${Object.keys(r.fields).length})`);
  for (const k of Object.keys(r.fields)) if (!k.trim()) throw new InputError('fields', 'must not have an empty key');

  let payload: SlackMessage | undefined;
  if (r.payload !== undefined) {
    const problem = payloadProblem(r.payload);
    if (problem) throw new InputError('payload', problem);
    payload = r.payload as SlackMessage;
    const ignored = [r.title && 'title', r.text && 'text', Object.keys(r.fields).length && 'fields', r.mention.length && 'mention'].filter(
      Boolean,
    );
    if (ignored.length) warnings.push(`${ignored.join(', ')} ignored: payload replaces the built message`);
  }

  let startedAtMs: number | undefined;
  if (r.startedAt) {
    startedAtMs = parseStartedAt(r.startedAt);
    if (startedAtMs === undefined)
      throw new InputError(
        'started-at',
        `must be epoch seconds (date +%s) or an ISO 8601 time such as 2026-11-30T18:00:00Z (got ${JSON.stringify(r.startedAt.slice(0, 80))})`,
      );
  }

  let target: Target = { kind: 'none' };
  if (r.webhookUrl) {
    target = { kind: 'webhook', url: r.webhookUrl };
    if (r.channel) warnings.push('channel ignored: an incoming webhook posts to the channel it was created for');
  } else if (r.botToken) {
    target = r.updateTs
      ? { kind: 'api', method: 'chat.update', url: `${apiUrl}/chat.update`, token: r.botToken, channel: r.channel, ts: r.updateTs }
      : { kind: 'api', method: 'chat.postMessage', url: `${apiUrl}/chat.postMessage`, token: r.botToken, channel: r.channel };
  }

  return {
    target,
    status: r.status,
    title: r.title,
    text: r.text,
    fields: r.fields,
    mentions: parsed.mentions,
    payload,
    apiUrl,
    environment: r.environment,
    startedAtMs,
    onMissing: r.onMissing,
    onError: r.onError,
    attempts: r.retries + 1,
    retryDelayMs: r.retryDelayMs,
    timeoutMs: r.timeoutMs,
    warnings,
  };
}
