import { appendFileSync } from 'node:fs';
import { redact } from '../secrets.js';

/** Appends Markdown to the step summary file, if the runner gave one. Redacted of registered secrets. */
export function writeSummary(markdown: string, file: string | undefined = process.env.GITHUB_STEP_SUMMARY): void {
  if (!file) return;
  appendFileSync(file, `${redact(markdown)}\n`, { encoding: 'utf8' });
}
