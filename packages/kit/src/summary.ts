import { redact } from './secrets.js';

/**
 * Markdown for the step summary (pure: `writeSummary` in `@hallmark/kit/runner` appends it).
 * Untrusted text goes through `cell`/`text`, which escape Markdown and HTML so a finding title or
 * a response body cannot add links, images or markup.
 */
export function text(s: unknown): string {
  return redact(String(s ?? ''))
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/([\\`*_{}[\]()#+!|~])/g, '\\$1')
    .replace(/\r?\n/g, ' ');
}

/** A table cell: escaped text, `|` escaped, line breaks flattened, shortened. */
export function cell(s: unknown, max = 200): string {
  const t = String(s ?? '');
  return text(t.length > max ? `${t.slice(0, max)}…` : t);
}

/** Inline code for untrusted text (backticks inside are replaced). */
export function code(s: unknown): string {
  const t = redact(String(s ?? ''))
    .replace(/`/g, "'")
    .replace(/\r?\n/g, ' ')
    .replace(/\|/g, '\\|');
  return `\`${t}\``;
}

/** A link whose target we built ourselves (http/https only); the label is escaped. */
export function link(label: unknown, url: string): string {
  if (!/^https?:\/\//.test(url)) return text(label);
  return `[${text(label)}](${url.replace(/[()\s]/g, encodeURIComponent)})`;
}

export function table(headers: string[], rows: string[][]): string {
  const head = `| ${headers.join(' | ')} |`;
  const sep = `| ${headers.map(() => '---').join(' | ')} |`;
  const body = rows.map((r) => `| ${r.join(' | ')} |`);
  return [head, sep, ...body].join('\n');
}

export function details(summaryLine: string, body: string): string {
  return `<details><summary>${summaryLine}</summary>\n\n${body}\n\n</details>`;
}
