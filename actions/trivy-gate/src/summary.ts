/**
 * The step summary and the annotation lines. Every piece of report text (IDs, package names,
 * titles, targets, statements) goes through the kit's escaping helpers.
 */
import { md } from '@hallmark/kit';
import type { Evaluation } from './gate.js';
import { entryLabel } from './ignore.js';
import type { Finding, TrivyReport } from './trivy-report.js';
import { SEVERITIES } from './severity.js';

export const TOP_FINDINGS = 20;
export const MAX_ANNOTATIONS = 10;

export interface SummaryInput {
  report: TrivyReport;
  ev: Evaluation;
  subject: string;
  ignoreFile?: string;
  ignoreUnfixed: boolean;
  jsonPath: string;
  sarifPath: string;
}

function idCell(f: Finding): string {
  return f.url && /^https?:\/\//.test(f.url) ? md.link(f.id || '(no id)', f.url) : md.cell(f.id || '(no id)');
}

function packageCell(f: Finding): string {
  if (f.kind === 'vulnerability') return md.cell(f.pkgName ?? '');
  if (f.kind === 'secret') return md.cell(`secret${f.title ? `: ${f.title}` : ''}`);
  return md.cell(`misconfig${f.title ? `: ${f.title}` : ''}`);
}

function versionsCell(f: Finding): string {
  if (f.kind !== 'vulnerability')
    return f.startLine ? md.cell(`line ${f.startLine}${f.endLine && f.endLine !== f.startLine ? `–${f.endLine}` : ''}`) : '';
  return `${md.cell(f.installed ?? '?', 60)} → ${f.fixed ? md.cell(f.fixed, 60) : '_no fix_'}`;
}

export function summary(s: SummaryInput): string {
  const { ev } = s;
  const out: string[] = [];
  const verdict =
    ev.threshold === 'none'
      ? 'ℹ️ report only (severity: none)'
      : ev.passed
        ? `✅ passed (no findings at ${ev.threshold} or above)`
        : `❌ failed: ${ev.failing} finding${ev.failing === 1 ? '' : 's'} at ${ev.threshold} or above`;
  out.push(`### trivy-gate: ${md.text(s.subject)}`, '', verdict, '');
  out.push(
    md.table(
      ['Severity', 'Count', 'Fails the gate'],
      SEVERITIES.map((sev) => [
        sev,
        String(ev.counts[sev]),
        ev.threshold !== 'none' && SEVERITIES.indexOf(sev) <= SEVERITIES.indexOf(ev.threshold as (typeof SEVERITIES)[number])
          ? 'yes'
          : 'no',
      ]),
    ),
  );
  out.push('');
  const notes: string[] = [];
  if (s.report.results === 0) notes.push('the report has no Results (nothing was scanned or everything was skipped)');
  if (ev.unfixedSkipped)
    notes.push(`${ev.unfixedSkipped} unfixed vulnerabilit${ev.unfixedSkipped === 1 ? 'y' : 'ies'} not counted (ignore-unfixed)`);
  if (ev.ignoredFindings)
    notes.push(`${ev.ignoredFindings} finding${ev.ignoredFindings === 1 ? '' : 's'} ignored by ${md.code(s.ignoreFile ?? '')}`);
  if (ev.nonFailures)
    notes.push(`${ev.nonFailures} misconfiguration check${ev.nonFailures === 1 ? '' : 's'} without Status FAIL not counted`);
  if (ev.modifiedByTrivy)
    notes.push(
      `${ev.modifiedByTrivy} finding${ev.modifiedByTrivy === 1 ? '' : 's'} already suppressed by Trivy (ExperimentalModifiedFindings) not counted`,
    );
  if (notes.length) out.push(notes.map((n) => `- ${n}`).join('\n'), '');

  if (ev.failingFindings.length) {
    const top = ev.failingFindings.slice(0, TOP_FINDINGS);
    out.push(
      `#### Failing findings${ev.failingFindings.length > TOP_FINDINGS ? ` (top ${TOP_FINDINGS} of ${ev.failingFindings.length})` : ''}`,
      '',
    );
    out.push(
      md.table(
        ['Severity', 'ID', 'Package', 'Installed → fixed', 'Target'],
        top.map((f) => [f.severity, idCell(f), packageCell(f), versionsCell(f), md.cell(f.target, 120)]),
      ),
    );
    out.push('');
  }

  if (s.ignoreFile) {
    const honoured = ev.honoured;
    out.push(`#### Ignores from ${md.code(s.ignoreFile)}`, '');
    if (honoured.length) {
      out.push(
        md.table(
          ['Honoured entry', 'Reason', 'Expires', 'Findings ignored'],
          honoured.map((h) => [
            md.cell(entryLabel(h.entry), 160),
            md.cell(h.entry.statement ?? '—'),
            md.cell(h.entry.expiredAt ?? 'never'),
            String(h.matched),
          ]),
        ),
      );
      out.push('');
    } else out.push('No active entries.', '');
    if (ev.expired.length) {
      out.push(
        `⚠️ Expired, **not** honoured: ${ev.expired.map((e) => `${md.code(entryLabel(e))} (expired ${md.text(e.expiredAt ?? '')})`).join(', ')}`,
        '',
      );
    }
  }
  out.push(`Reports: JSON ${md.code(s.jsonPath)}, SARIF ${md.code(s.sarifPath)}${s.ignoreUnfixed ? ' · ignore-unfixed: on' : ''}`);
  return `${out.join('\n')}\n`;
}

/** The message of one `::error` annotation for a failing finding. */
export function annotationText(f: Finding): string {
  if (f.kind === 'vulnerability')
    return `${f.severity} ${f.id} in ${f.pkgName ?? '?'} ${f.installed ?? ''} (fixed: ${f.fixed || 'none'}) — ${f.target}`;
  if (f.kind === 'secret')
    return `${f.severity} secret ${f.id}${f.title ? ` (${f.title})` : ''} in ${f.target}${f.startLine ? ` line ${f.startLine}` : ''}`;
  return `${f.severity} misconfiguration ${f.id}${f.title ? ` (${f.title})` : ''} in ${f.target}${f.startLine ? ` line ${f.startLine}` : ''}`;
}
