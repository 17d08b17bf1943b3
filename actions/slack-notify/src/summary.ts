/** The step summary: what was sent where, or why not. Never the webhook URL or the token. */
import { md } from '@hallmark/kit';
import type { Delivery } from './flow.js';
import { describeTarget, type Config } from './inputs.js';
import { STYLE } from './message.js';

export type Outcome = { kind: 'skipped'; why: string } | { kind: 'delivered'; delivery: Delivery };

export function summary(cfg: Config, o: Outcome, preview: string): string {
  const head = `### slack-notify: ${STYLE[cfg.status].emoji} ${md.text(cfg.status)}`;
  if (o.kind === 'skipped') return `${head}\n\n⏭️ nothing sent: ${md.text(o.why)}\n`;
  const d = o.delivery;
  const verdict = d.ok
    ? '✅ sent'
    : d.reason === 'slack-rejected'
      ? `❌ Slack refused the message: ${md.code(d.error)}${d.status && d.status !== 200 ? ` (HTTP ${d.status})` : ''}${cfg.onError === 'warn' ? ' (on-error: warn, the step continues)' : ''}`
      : `❌ Slack could not be reached: ${md.text(d.error)}${cfg.onError === 'warn' ? ' (on-error: warn, the step continues)' : ''}`;
  const rows: string[][] = [
    ['Destination', md.text(describeTarget(cfg.target))],
    ['Message', cfg.payload ? 'caller’s payload' : md.cell(preview, 300)],
    ['Tries', String(d.attempts)],
  ];
  if (d.ok && d.ts) rows.push(['ts', md.code(d.ts)], ['channel', md.code(d.channel)]);
  if (!d.ok && d.details.length) rows.push(['Slack says', d.details.map((x) => md.cell(x, 300)).join('<br>')]);
  return `${head}\n\n${verdict}\n\n${md.table(
    ['', ''],
    rows.map(([k, v]) => [`**${k}**`, v as string]),
  )}\n`;
}
