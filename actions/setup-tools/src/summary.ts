/** The step summary and the `tools` output, from what was installed. Pure. */
import { md } from '@hallmark/kit';
import type { Installed } from './flow.js';

/** Plain code-unit order: `localeCompare` would load ICU collation data (~8 ms) on the warm path. */
const byText = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

export interface Failed {
  tool: string;
  version: string;
  reason: string;
  message: string;
}

export function toolsOutput(installed: readonly Installed[]): Record<string, { version: string; path: string; cached: boolean }> {
  const out: Record<string, { version: string; path: string; cached: boolean }> = {};
  for (const i of [...installed].sort((a, b) => byText(a.tool, b.tool)))
    out[i.tool] = { version: i.version, path: i.path, cached: i.cached };
  return out;
}

function signatureCell(i: Installed): string {
  if (!i.verified) return i.cached ? 'checked when it was cached' : '';
  if (i.verified.by === 'signature') return `✅ ${md.code(i.verified.file)} by ${md.cell(i.verified.signer, 200)}`;
  return `⚠️ not checked: ${md.cell(i.verified.why, 200)}`;
}

export function summaryMarkdown(
  installed: readonly Installed[],
  failed: readonly Failed[],
  opts: { platform: string; mirror: string; useCache: boolean },
): string {
  const rows = [
    ...installed.map((i) => [
      md.code(i.tool),
      md.cell(i.version),
      i.cached ? 'tool cache' : md.cell(i.source),
      i.sha256 ? `✅ ${md.code(i.sha256.slice(0, 16))}… against ${md.code(i.checksumName)}` : 'verified when it was cached',
      signatureCell(i),
    ]),
    ...failed.map((f) => [md.code(f.tool), md.cell(f.version), `❌ ${md.code(f.reason)}`, md.cell(f.message, 300), '']),
  ].sort((a, b) => byText(String(a[0]), String(b[0])));
  const head = failed.length
    ? `### ❌ setup-tools: ${failed.length} of ${installed.length + failed.length} tools failed; none was added to PATH`
    : `### setup-tools: ${installed.length} tool${installed.length === 1 ? '' : 's'} on PATH`;
  const notes = [
    `Platform ${md.code(opts.platform)}`,
    opts.mirror ? `mirror ${md.code(opts.mirror)}` : 'vendor downloads',
    opts.useCache ? 'tool cache on' : 'tool cache off (installed under RUNNER_TEMP)',
  ].join(' · ');
  return `${head}\n\n${md.table(['Tool', 'Version', 'Source', 'SHA-256 verified', 'Vendor signature'], rows)}\n\n${notes}\n`;
}
