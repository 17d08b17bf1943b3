/**
 * The step (`flow`: nothing configured → skip or fail; else build the message, deliver it, decide)
 * and the delivery to Slack under it: one POST per try, a deadline per try, bounded retries on network errors,
 * timeouts, 408/429/5xx (honouring `Retry-After` in seconds), and a clear verdict otherwise.
 *
 * Secrets: the webhook URL is itself the credential and the token rides in a header. No message
 * built here names the URL or quotes an HTTP client error whole: only the part after the client's
 * `<METHOD> <url>: ` prefix is kept, so "HTTP 500" or "ECONNREFUSED" survives and the URL does not.
 */
import { HttpError, oneLine, retry, safeUrl, type HttpRequest, type HttpResponse } from '@hallmark/kit';
import { describeTarget, type Config, type Target } from './inputs.js';
import { buildMessage, defaultTitle, type RunFacts, type SlackMessage } from './message.js';
import { summary } from './summary.js';

export interface DeliveryDeps {
  /** One try (kit http.request with attempts 1). */
  send(req: HttpRequest): Promise<HttpResponse>;
  sleep?: (ms: number) => Promise<void>;
  info(message: string): void;
}

export interface DeliveryOptions {
  attempts: number;
  retryDelayMs: number;
  timeoutMs: number;
  /** Longest Retry-After we wait for; a longer one ends the retries. */
  maxRetryAfterMs?: number;
}

export type Delivery =
  | { ok: true; attempts: number; ts: string; channel: string; warnings: string[] }
  | {
      ok: false;
      reason: 'slack-rejected' | 'slack-unavailable';
      attempts: number;
      error: string;
      status?: number;
      message: string;
      details: string[];
    };

/** The Web API body: the message plus channel (and ts for chat.update). Unfurls off: a pipeline message needs no previews. */
export function apiBody(t: Extract<Target, { kind: 'api' }>, msg: SlackMessage): Record<string, unknown> {
  const body: Record<string, unknown> = { ...msg, channel: t.channel };
  if (t.ts) body.ts = t.ts;
  else {
    if (!('unfurl_links' in body)) body.unfurl_links = false;
    if (!('unfurl_media' in body)) body.unfurl_media = false;
  }
  return body;
}

class Transient extends Error {
  constructor(
    message: string,
    readonly retryable: boolean,
    readonly retryAfterMs: number | undefined,
    readonly status: number | undefined,
    readonly body: string,
  ) {
    super(message);
  }
}

/** The HTTP client's message without its `<METHOD> <url>: ` prefix (the URL may be the secret). */
export function clientDetail(e: HttpError, method: string, url: string): string {
  const prefix = `${method} ${safeUrl(url)}: `;
  const m = e.message.startsWith(prefix) ? e.message.slice(prefix.length) : e.kind === 'status' && e.status ? `HTTP ${e.status}` : e.kind;
  // Belt and braces: a client that put the URL elsewhere in its message.
  return m.split(url).join('<url>').split(safeUrl(url)).join('<url>');
}

function shortBody(b: string, max = 200): string {
  const t = b.trim().replace(/\s+/g, ' ');
  return t.length > max ? `${t.slice(0, max)}…` : t;
}

/** Slack's error string from a webhook body (a bare word like `invalid_payload`) or a Web API JSON body. */
export function slackError(body: string): string {
  const t = body.trim();
  if (/^[a-z_]{2,64}$/.test(t)) return t;
  try {
    const j = JSON.parse(t) as { error?: unknown };
    if (typeof j?.error === 'string') return j.error;
  } catch {
    /* not JSON */
  }
  return shortBody(t, 120) || '(empty body)';
}

export async function deliver(
  target: Exclude<Target, { kind: 'none' }>,
  msg: SlackMessage,
  opts: DeliveryOptions,
  deps: DeliveryDeps,
): Promise<Delivery> {
  const maxRetryAfter = opts.maxRetryAfterMs ?? 60_000;
  const where = describeTarget(target);
  const req: HttpRequest =
    target.kind === 'webhook'
      ? {
          method: 'POST',
          url: target.url,
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(msg),
          timeoutMs: opts.timeoutMs,
          attempts: 1,
          followRedirects: false,
        }
      : {
          method: 'POST',
          url: target.url,
          headers: { 'content-type': 'application/json; charset=utf-8', authorization: `Bearer ${target.token}` },
          body: JSON.stringify(apiBody(target, msg)),
          timeoutMs: opts.timeoutMs,
          attempts: 1,
          followRedirects: false,
        };
  let tries = 0;
  let res: HttpResponse;
  try {
    res = await retry(
      async (attempt) => {
        tries = attempt;
        try {
          return await deps.send(req);
        } catch (e) {
          if (!(e instanceof HttpError)) throw e;
          const detail = clientDetail(e, 'POST', target.url);
          const body = e.response ? e.response.text() : '';
          const asked = e.retryAfterMs;
          if (asked !== undefined && asked > maxRetryAfter) {
            throw new Transient(
              `${detail}; Slack asked to wait ${Math.round(asked / 1000)}s (Retry-After), longer than the ${Math.round(maxRetryAfter / 1000)}s this step waits`,
              false,
              undefined,
              e.status,
              body,
            );
          }
          throw new Transient(detail, e.retryable, asked, e.status, body);
        }
      },
      {
        attempts: opts.attempts,
        baseMs: opts.retryDelayMs,
        maxMs: Math.max(maxRetryAfter, opts.retryDelayMs),
        sleep: deps.sleep,
        onRetry: (err, attempt, delay) => {
          const t = err as Transient;
          const why = t.body ? `${t.message} ${slackError(t.body)}` : t.message;
          const asked = t.retryAfterMs !== undefined ? ' as Slack asked (Retry-After)' : '';
          deps.info(`Slack: ${why}; retry ${attempt}/${opts.attempts - 1} in ${(delay / 1000).toFixed(1)}s${asked}`);
        },
      },
    );
  } catch (e) {
    if (!(e instanceof Transient)) throw e;
    const error = e.body ? slackError(e.body) : e.message;
    const after = `${tries} ${tries === 1 ? 'try' : 'tries'}`;
    return {
      ok: false,
      reason: 'slack-unavailable',
      attempts: tries,
      error,
      status: e.status,
      message: `Slack did not take the message (${where}) after ${after}: ${e.message}${e.body ? ` ${slackError(e.body)}` : ''}`,
      details: [],
    };
  }

  const text = res.text();
  if (target.kind === 'webhook') {
    if (res.status >= 200 && res.status < 300) return { ok: true, attempts: tries, ts: '', channel: '', warnings: [] };
    const error = slackError(text);
    return {
      ok: false,
      reason: 'slack-rejected',
      attempts: tries,
      error,
      status: res.status,
      message: `Slack refused the message (${where}): HTTP ${res.status} ${error}`,
      details: [],
    };
  }

  let j:
    | {
        ok?: unknown;
        error?: unknown;
        ts?: unknown;
        channel?: unknown;
        warning?: unknown;
        response_metadata?: { messages?: unknown; warnings?: unknown };
      }
    | undefined;
  try {
    j = JSON.parse(text) as typeof j;
  } catch {
    j = undefined;
  }
  if (res.status >= 200 && res.status < 300 && j && j.ok === true) {
    const warnings = [
      ...(typeof j.warning === 'string' ? [j.warning] : []),
      ...(Array.isArray(j.response_metadata?.warnings) ? (j.response_metadata.warnings as unknown[]).map(String) : []),
    ];
    return {
      ok: true,
      attempts: tries,
      ts: typeof j.ts === 'string' ? j.ts : '',
      channel: typeof j.channel === 'string' ? j.channel : target.channel,
      warnings: [...new Set(warnings)],
    };
  }
  const error = j && typeof j.error === 'string' ? j.error : slackError(text);
  const details = Array.isArray(j?.response_metadata?.messages) ? (j.response_metadata.messages as unknown[]).map(String).slice(0, 20) : [];
  const status = res.status >= 200 && res.status < 300 ? '' : `HTTP ${res.status} `;
  return {
    ok: false,
    reason: 'slack-rejected',
    attempts: tries,
    error,
    status: res.status,
    message: `Slack refused the message (${where}): ${status}${error}`,
    details,
  };
}

export interface FlowDeps extends Omit<DeliveryDeps, 'info'> {
  log: {
    info(message: string): void;
    warning(message: string): void;
    notice(message: string): void;
    debug(message: string): void;
    /** Text we did not write (Slack's messages), printed inert. */
    untrusted(text: string): void;
  };
  now(): Date;
}

export interface StepResult {
  /** sent/ts/channel (and failure-reason with on-error: warn). */
  outputs: Record<string, string | boolean>;
  /** The step summary (markdown). */
  summary: string;
  /** The step fails with this. */
  failure?: { reason: string; message: string };
}

/** The whole step over Deps: main.ts reads the inputs and the run's facts, then writes what this returns. */
export async function flow(cfg: Config, facts: RunFacts, deps: FlowDeps): Promise<StepResult> {
  const { log } = deps;
  for (const w of cfg.warnings) log.warning(`slack-notify: ${w}`);
  const withDuration: RunFacts = {
    ...facts,
    durationMs: cfg.startedAtMs !== undefined ? deps.now().getTime() - cfg.startedAtMs : undefined,
  };
  const headline = `${cfg.title.replace(/\s+/g, ' ').trim() || defaultTitle(withDuration)}: ${cfg.status}`;

  if (cfg.target.kind === 'none') {
    const why = 'neither webhook-url nor bot-token is set (secrets are not passed to workflows from forks)';
    const skipped = summary(cfg, { kind: 'skipped', why }, headline);
    if (cfg.onMissing === 'fail')
      return { outputs: {}, summary: skipped, failure: { reason: 'not-configured', message: `${why}; on-missing is fail` } };
    log.notice(`slack-notify: nothing sent: ${why}`);
    return { outputs: { sent: false, ts: '', channel: '' }, summary: skipped };
  }

  const message =
    cfg.payload ??
    buildMessage({ status: cfg.status, title: cfg.title, text: cfg.text, fields: cfg.fields, mentions: cfg.mentions }, withDuration);
  log.debug(`slack-notify: message ${JSON.stringify(message)}`);
  log.info(
    `slack-notify: posting "${oneLine(headline, 200)}" to ${cfg.target.kind === 'webhook' ? 'the incoming webhook' : `${cfg.target.method} (${oneLine(cfg.target.channel)})`}`,
  );
  const d = await deliver(
    cfg.target,
    message,
    { attempts: cfg.attempts, retryDelayMs: cfg.retryDelayMs, timeoutMs: cfg.timeoutMs },
    { send: deps.send, sleep: deps.sleep, info: (m) => log.info(oneLine(m, 1000)) },
  );
  const text = summary(cfg, { kind: 'delivered', delivery: d }, headline);
  if (d.ok) {
    for (const w of d.warnings) log.warning(`slack-notify: Slack warns: ${oneLine(w, 200)}`);
    log.info(
      `slack-notify: sent${d.ts ? ` (ts ${oneLine(d.ts)} in ${oneLine(d.channel)})` : ''}${d.attempts > 1 ? ` after ${d.attempts} tries` : ''}`,
    );
    return { outputs: { sent: true, ts: d.ts, channel: d.channel }, summary: text };
  }
  if (d.details.length) log.untrusted(`Slack says:\n${d.details.join('\n')}\n`);
  if (cfg.onError === 'warn') {
    log.warning(`slack-notify: ${oneLine(d.message, 1000)} (on-error: warn)`);
    return { outputs: { sent: false, ts: '', channel: '', 'failure-reason': d.reason }, summary: text };
  }
  return { outputs: { sent: false, ts: '', channel: '' }, summary: text, failure: { reason: d.reason, message: d.message } };
}
