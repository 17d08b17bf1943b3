import { http, input, InputError, log, maskSecret, oneLine, printUntrusted, run, runnerContext, runUrl, setOutputs, UserError, writeSummary, fail } from '@hallmark/kit';
import { checkInputs, DEFAULT_API_URL, ON_ERROR, ON_MISSING } from './config.js';
import { deliver, type Delivery } from './deliver.js';
import { buildMessage, defaultTitle, STATUSES, type RunFacts } from './message.js';
import { summary } from './summary.js';
import { parseFlatFields } from './fields.js';

/** `fields`: a flat `key: value` list read literally, else YAML/JSON through the kit. */
function readFields(): Record<string, string> {
  const flat = parseFlatFields(input.raw('fields'));
  if (flat && 'duplicate' in flat) throw new InputError('fields', `must not repeat a key (${oneLine(JSON.stringify(flat.duplicate.slice(0, 80)))} appears twice)`);
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
  for (const w of cfg.warnings) log.warning(`${ACTION}: ${w}`);

  const facts: RunFacts = {
    serverUrl: ctx.serverUrl,
    repository: ctx.repository,
    workflow: ctx.workflow,
    runUrl: runUrl(ctx),
    runNumber: process.env.GITHUB_RUN_NUMBER ?? '',
    sha: ctx.sha,
    actor: ctx.actor,
    ref: process.env.GITHUB_HEAD_REF || process.env.GITHUB_REF_NAME || ctx.ref.replace(/^refs\/(heads|tags)\//, ''),
    environment: cfg.environment,
    durationMs: cfg.startedAtMs !== undefined ? Date.now() - cfg.startedAtMs : undefined,
  };
  const headline = `${cfg.title.replace(/\s+/g, ' ').trim() || defaultTitle(facts)}: ${cfg.status}`;

  if (cfg.target.kind === 'none') {
    const why = 'neither webhook-url nor bot-token is set (secrets are not passed to workflows from forks)';
    if (cfg.onMissing === 'fail') {
      writeSummary(summary(cfg, { kind: 'skipped', why }, headline));
      throw new UserError(`${why}; on-missing is fail`, 'not-configured');
    }
    log.notice(`${ACTION}: nothing sent: ${why}`);
    setOutputs({ sent: false, ts: '', channel: '' });
    writeSummary(summary(cfg, { kind: 'skipped', why }, headline));
    return;
  }

  const message = cfg.payload ?? buildMessage({ status: cfg.status, title: cfg.title, text: cfg.text, fields: cfg.fields, mentions: cfg.mentions }, facts);
  log.debug(`${ACTION}: message ${JSON.stringify(message)}`);
  log.info(`${ACTION}: posting "${oneLine(headline, 200)}" to ${cfg.target.kind === 'webhook' ? 'the incoming webhook' : `${cfg.target.method} (${oneLine(cfg.target.channel)})`}`);

  let d: Delivery;
  try {
    d = await deliver(cfg.target, message, { attempts: cfg.attempts, retryDelayMs: cfg.retryDelayMs, timeoutMs: cfg.timeoutMs }, {
      send: (req) => http.request(req),
      info: (m) => log.info(oneLine(m, 1000)),
    });
  } catch (e) {
    writeSummary(`### ${ACTION}\n\n❌ failed with an unexpected error (see the log).\n`);
    throw e;
  }

  writeSummary(summary(cfg, { kind: 'delivered', delivery: d }, headline));
  if (d.ok) {
    for (const w of d.warnings) log.warning(`${ACTION}: Slack warns: ${oneLine(w, 200)}`);
    setOutputs({ sent: true, ts: d.ts, channel: d.channel });
    log.info(`${ACTION}: sent${d.ts ? ` (ts ${oneLine(d.ts)} in ${oneLine(d.channel)})` : ''}${d.attempts > 1 ? ` after ${d.attempts} tries` : ''}`);
    return;
  }
  if (d.details.length) printUntrusted(`Slack says:\n${d.details.join('\n')}\n`);
  setOutputs({ sent: false, ts: '', channel: '' });
  if (cfg.onError === 'warn') {
    setOutputs({ 'failure-reason': d.reason });
    log.warning(`${ACTION}: ${oneLine(d.message, 1000)} (on-error: warn)`);
    return;
  }
  fail(ACTION, d.reason, d.message);
});
