import { InputError, oneLine, runUrl } from '@hallmark/kit';
import {
  audit,
  fail,
  http,
  input,
  log,
  maskSecret,
  printUntrusted,
  run,
  runnerContext,
  setOutputs,
  writeSummary,
} from '@hallmark/kit/runner';
import { parseFlatFields } from './fields.js';
import { flow } from './flow.js';
import { checkInputs, DEFAULT_API_URL, ON_ERROR, ON_MISSING } from './inputs.js';
import { STATUSES } from './message.js';

/** `fields`: a flat `key: value` list read literally, else YAML/JSON through the kit. */
function readFields(): Record<string, string> {
  const flat = parseFlatFields(input.raw('fields'));
  if (flat && 'duplicate' in flat)
    throw new InputError('fields', `must not repeat a key (${oneLine(JSON.stringify(flat.duplicate.slice(0, 80)))} appears twice)`);
  return flat ? flat.fields : input.map('fields');
}

const ACTION = 'slack-notify';

/** The webhook URL as the HTTP client and URL parsers may re-spell it, and its path (the credential part). */
function maskWebhookForms(url: string): void {
  try {
    const u = new URL(url.trim());
    maskSecret(u.href);
    maskSecret(`${u.protocol}//${u.host}${u.pathname}`);
    // Slack's secret segment is 24 characters; shorter ones are likely ordinary words (masking them would garble the log).
    if (u.pathname.length >= 16) maskSecret(u.pathname);
    const last = u.pathname.split('/').filter(Boolean).at(-1);
    if (last && last.length >= 16) maskSecret(last);
  } catch {
    /* not a URL: checkInputs refuses it without showing it */
  }
}

await run(ACTION, async () => {
  // Secrets first: masked before anything else reads or prints them.
  const webhookUrl = input.secret('webhook-url');
  const botToken = input.secret('bot-token');
  if (webhookUrl) maskWebhookForms(webhookUrl);

  const ctx = runnerContext();
  const cfg = checkInputs({
    webhookUrl,
    botToken,
    channel: input.string('channel'),
    updateTs: input.string('update-ts'),
    status: input.oneOf('status', STATUSES, { caseInsensitive: true }),
    title: input.string('title'),
    text: input.raw('text'),
    fields: readFields(),
    mention: input.list('mention'),
    payload: input.structured('payload', { expected: 'a Block Kit message as YAML or JSON' }),
    apiUrl: input.string('api-url', { default: DEFAULT_API_URL }),
    environment: input.string('environment'),
    startedAt: input.string('started-at'),
    onMissing: input.oneOf('on-missing', ON_MISSING, { default: 'skip' }),
    onError: input.oneOf('on-error', ON_ERROR, { default: 'fail' }),
    retries: input.integer('retries', { default: 3, min: 0, max: 10 }),
    retryDelayMs: input.duration('retry-delay', { default: '1s', min: 0, max: 60_000 }),
    timeoutMs: input.duration('timeout', { default: '10s', min: 100, max: 120_000 }),
  });
  const r = await flow(
    cfg,
    {
      serverUrl: ctx.serverUrl,
      repository: ctx.repository,
      workflow: ctx.workflow,
      runUrl: runUrl(ctx),
      runNumber: process.env.GITHUB_RUN_NUMBER ?? '',
      sha: ctx.sha,
      actor: ctx.actor,
      ref: process.env.GITHUB_HEAD_REF || process.env.GITHUB_REF_NAME || ctx.ref.replace(/^refs\/(heads|tags)\//, ''),
      environment: cfg.environment,
    },
    {
      send: (req) => http.request(req),
      log: {
        info: log.info,
        warning: (m) => log.warning(m),
        notice: (m) => log.notice(m),
        debug: log.debug,
        untrusted: (t) => printUntrusted(t),
      },
      now: () => new Date(),
    },
  );
  // Never the webhook URL or the token: whether it was sent, how, and the channel ID Slack answered with.
  audit.facts({
    sent: r.outputs.sent === true,
    target: cfg.target.kind,
    status: cfg.status,
    channel: typeof r.outputs.channel === 'string' && /^[A-Z0-9]{1,32}$/.test(r.outputs.channel) ? r.outputs.channel : undefined,
  });
  setOutputs(r.outputs);
  writeSummary(r.summary);
  if (r.failure) fail(ACTION, r.failure.reason, r.failure.message);
});
