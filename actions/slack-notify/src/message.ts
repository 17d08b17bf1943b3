/**
 * The Slack message, built from typed inputs as plain data (no process.env, no @actions/core).
 *
 * Shape (Block Kit, accepted by incoming webhooks and chat.postMessage/chat.update alike):
 *   text         plain fallback for notifications (mention first, on failure only)
 *   blocks       header "<emoji> <title>: <status>", then the mention on failure
 *   attachments  one attachment with the status colour bar: text, fields, run context
 * Every piece of text we did not write is escaped for Slack (`&`, `<`, `>`), so `<!channel>` or a
 * link in a title stays text; JSON.stringify does the rest (quotes, newlines, emoji).
 */

export const STATUSES = ['success', 'failure', 'cancelled', 'skipped'] as const;
export type Status = (typeof STATUSES)[number];

export interface StatusStyle {
  emoji: string;
  color: string;
}

export const STYLE: Record<Status, StatusStyle> = {
  success: { emoji: '✅', color: '#2eb886' },
  failure: { emoji: '❌', color: '#d40e0d' },
  cancelled: { emoji: '🚫', color: '#9e9e9e' },
  skipped: { emoji: '⏭️', color: '#dddddd' },
};

/** Slack's documented limits (Block Kit reference). */
export const LIMITS = {
  header: 150,
  sectionText: 3000,
  fieldText: 2000,
  fieldsPerSection: 10,
  contextElements: 10,
  blocks: 50,
  fallback: 3000,
  /** Our own cap on `fields` (two sections of ten). */
  fields: 20,
} as const;

/** Escapes the three characters Slack's mrkdwn gives meaning to. */
export function escapeSlack(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** Control characters other than newline and tab become nothing (they are never meaningful in a message). */
function clean(s: string): string {
  return s.replace(/\r\n?/g, '\n').replace(/[\u0000-\u0008\u000b-\u001f\u007f]/g, '');
}

/** Escapes, then shortens to `max` characters without cutting an entity (`&amp;`) in half. */
export function escapeAndFit(s: string, max: number): string {
  const e = escapeSlack(clean(s));
  if (e.length <= max) return e;
  let cut = e.slice(0, max - 1);
  cut = cut.replace(/&[a-z]{0,3}$/, '');
  // Don't leave half of a surrogate pair.
  if (/[\ud800-\udbff]$/.test(cut)) cut = cut.slice(0, -1);
  return `${cut}…`;
}

/** One line (header, fallback): line breaks become spaces. */
function oneLineText(s: string): string {
  return clean(s)
    .replace(/\s*\n\s*/g, ' ')
    .trim();
}

/** A URL safe inside `<url|label>`: the characters that would end or split the link are percent-encoded. */
export function linkUrl(url: string): string {
  return url.replace(/[|<>\s]/g, (c) => encodeURIComponent(c));
}

export function link(url: string, label: string): string {
  if (!/^https?:\/\//.test(url)) return escapeSlack(label);
  return `<${linkUrl(url)}|${escapeSlack(oneLineText(label)).replace(/\|/g, '¦')}>`;
}

// ---------------------------------------------------------------- mentions

const SPECIAL = ['here', 'channel', 'everyone'];

/**
 * `mention` items → Slack's mention syntax. Accepts user IDs (`U…`/`W…`, optionally `@U…` or
 * `<@U…>`), user-group IDs (`S…`, `<!subteam^S…>`) and `here`/`channel`/`everyone` (optionally
 * with `@` or as `<!here>`). Returns the error text for the first item that is none of those.
 */
export function parseMentions(items: string[]): { mentions: string[] } | { bad: string } {
  const out: string[] = [];
  for (const raw of items) {
    const it = raw.trim();
    let m: RegExpExecArray | null;
    if ((m = /^(?:@|<!)?(here|channel|everyone)>?$/i.exec(it)) && it.startsWith('<!') === it.endsWith('>')) {
      out.push(`<!${(m[1] as string).toLowerCase()}>`);
    } else if ((m = /^(?:<@([UW][A-Z0-9]{2,})>|@?([UW][A-Z0-9]{2,}))$/.exec(it))) {
      out.push(`<@${m[1] ?? m[2]}>`);
    } else if ((m = /^(?:<!subteam\^(S[A-Z0-9]{2,})(?:\|[^>]*)?>|@?(S[A-Z0-9]{2,}))$/.exec(it))) {
      out.push(`<!subteam^${m[1] ?? m[2]}>`);
    } else {
      return { bad: it };
    }
  }
  return { mentions: [...new Set(out)] };
}

export const MENTION_EXPECTED = `Slack user IDs (U…/W…), user-group IDs (S…) or ${SPECIAL.join('/')}, comma-separated`;

// ---------------------------------------------------------------- the message

export interface RunFacts {
  serverUrl: string;
  repository: string;
  workflow: string;
  runUrl: string;
  runNumber: string;
  sha: string;
  actor: string;
  /** Branch or tag name (GITHUB_HEAD_REF for pull requests). */
  ref: string;
  environment: string;
  /** Milliseconds since `started-at`, when known. */
  durationMs?: number;
}

export interface MessageInput {
  status: Status;
  title: string;
  text: string;
  fields: Record<string, string>;
  /** Already in Slack syntax (parseMentions). */
  mentions: string[];
}

export interface SlackMessage {
  text: string;
  blocks?: unknown[];
  attachments?: unknown[];
  [k: string]: unknown;
}

export function formatDurationShort(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = s % 60;
  if (h) return `${h}h ${m}m`;
  if (m) return `${m}m ${sec}s`;
  return `${sec}s`;
}

/** The run context line: repository, run, commit, actor, ref, environment, duration (what is known). */
export function contextElements(f: RunFacts): string[] {
  const els: string[] = [];
  const repoUrl = f.repository ? `${f.serverUrl}/${f.repository}` : '';
  if (f.repository) els.push(link(repoUrl, f.repository));
  if (f.workflow || f.runUrl) {
    const label = `${f.workflow || 'run'}${f.runNumber ? ` #${f.runNumber}` : ''}`;
    els.push(f.runUrl ? link(f.runUrl, label) : escapeSlack(oneLineText(label)));
  }
  if (/^[0-9a-f]{7,64}$/i.test(f.sha))
    els.push(repoUrl ? link(`${repoUrl}/commit/${f.sha}`, f.sha.slice(0, 7)) : `\`${f.sha.slice(0, 7)}\``);
  if (f.actor) els.push(`by ${escapeSlack(oneLineText(f.actor))}`);
  if (f.ref) els.push(`on ${escapeSlack(oneLineText(f.ref))}`);
  if (f.environment) els.push(`env ${escapeSlack(oneLineText(f.environment))}`);
  if (f.durationMs !== undefined && Number.isFinite(f.durationMs) && f.durationMs >= 0)
    els.push(`took ${formatDurationShort(f.durationMs)}`);
  return els.slice(0, LIMITS.contextElements).map((t) => (t.length > LIMITS.fieldText ? `${t.slice(0, LIMITS.fieldText - 1)}…` : t));
}

export function defaultTitle(f: RunFacts): string {
  return f.workflow ? `${f.workflow}${f.repository ? ` (${f.repository})` : ''}` : f.repository || 'pipeline';
}

export function buildMessage(m: MessageInput, f: RunFacts): SlackMessage {
  const style = STYLE[m.status];
  const title = oneLineText(m.title) || defaultTitle(f);
  const mention = m.status === 'failure' && m.mentions.length ? m.mentions.join(' ') : '';

  const headline = `${style.emoji} ${title}: ${m.status}`;
  const header = escapeAndFit(headline, LIMITS.header);
  const fallbackCore = `${headline}${f.repository && !title.includes(f.repository) ? ` — ${f.repository}` : ''}`;
  const fallback = `${mention ? `${mention} ` : ''}${escapeAndFit(oneLineText(fallbackCore), LIMITS.fallback)}`;

  const blocks: unknown[] = [{ type: 'header', text: { type: 'plain_text', text: header, emoji: true } }];
  if (mention) blocks.push({ type: 'section', text: { type: 'mrkdwn', text: mention } });

  const detail: unknown[] = [];
  if (m.text.trim()) detail.push({ type: 'section', text: { type: 'mrkdwn', text: escapeAndFit(m.text.trim(), LIMITS.sectionText) } });
  const fieldTexts = Object.entries(m.fields).map(([k, v]) => {
    const key = escapeAndFit(oneLineText(k), 200);
    const value = v.trim() ? escapeAndFit(v.trim(), LIMITS.fieldText - key.length - 4) : '—';
    return { type: 'mrkdwn', text: `*${key}*\n${value}` };
  });
  for (let i = 0; i < fieldTexts.length; i += LIMITS.fieldsPerSection) {
    detail.push({ type: 'section', fields: fieldTexts.slice(i, i + LIMITS.fieldsPerSection) });
  }
  const ctx = contextElements(f);
  if (ctx.length) detail.push({ type: 'context', elements: ctx.map((t) => ({ type: 'mrkdwn', text: t })) });

  const msg: SlackMessage = { text: fallback, blocks };
  if (detail.length) msg.attachments = [{ color: style.color, fallback, blocks: detail }];
  else
    msg.attachments = [
      { color: style.color, fallback, blocks: [{ type: 'context', elements: [{ type: 'mrkdwn', text: escapeSlack(m.status) }] }] },
    ];
  return msg;
}

// ---------------------------------------------------------------- a caller's own payload

/**
 * Checks a `payload` (already parsed from YAML/JSON): a mapping with `text`, `blocks` or
 * `attachments`, where `blocks`/`attachments` are lists of mappings. Returns the problem in words, or
 * undefined when it is usable. The payload is the caller's own Block Kit: sent as given.
 */
export function payloadProblem(p: unknown): string | undefined {
  if (p === null || typeof p !== 'object' || Array.isArray(p))
    return 'must be a Block Kit message: a YAML or JSON mapping with text, blocks or attachments';
  const o = p as Record<string, unknown>;
  if (!('text' in o) && !('blocks' in o) && !('attachments' in o)) return 'must have text, blocks or attachments';
  if ('text' in o && typeof o.text !== 'string') return 'must have text as a string';
  for (const k of ['blocks', 'attachments'] as const) {
    if (!(k in o)) continue;
    const v = o[k];
    if (!Array.isArray(v)) return `must have ${k} as a list`;
    if (v.some((b) => b === null || typeof b !== 'object' || Array.isArray(b))) return `must have ${k} as a list of mappings`;
    if (k === 'blocks' && v.length > LIMITS.blocks) return `has ${v.length} blocks; Slack takes at most ${LIMITS.blocks}`;
    if (k === 'blocks' && v.some((b) => typeof (b as Record<string, unknown>).type !== 'string')) return 'must give every block a type';
  }
  return undefined;
}
