/**
 * What people read: the step summary (approvers read it on the run page before they approve) and
 * the PR comment. Both come from the same PlanSummary; every value goes through the kit's Markdown
 * escaping, and sensitive values were already replaced by `(sensitive)` in plan.ts.
 */
import { md } from '@hallmark/kit';
import type { Action, Counts, PlanSummary, ResourceChange } from './plan.js';

export const COMMENT_LIMIT = 60_000;

/** The hidden marker that identifies this action's comment for one environment. */
export function commentMarker(environment: string): string {
  return `<!-- hallmark:terraform-gated-apply environment=${environment.replace(/[^A-Za-z0-9._-]/g, '_')} -->`;
}

const LABEL: Record<Action, string> = {
  create: '➕ create',
  update: '🔄 update in place',
  delete: '🗑️ destroy',
  replace: '♻️ replace (destroy and re-create)',
  forget: '📤 forget (remove from state, keep the object)',
  import: '📥 import',
  'no-op': 'no change',
  read: 'read',
};

const REASONS: Record<string, string> = {
  replace_because_tainted: 'the object is tainted',
  replace_because_cannot_update: 'an attribute cannot be updated in place',
  replace_by_request: 'replacement requested (-replace)',
  replace_by_triggers: 'replace_triggered_by',
  delete_because_no_resource_config: 'no longer in the configuration',
  delete_because_no_module: 'its module is no longer in the configuration',
  delete_because_wrong_repetition: 'count/for_each changed',
  delete_because_count_index: 'count index out of range',
  delete_because_each_key: 'for_each key removed',
  delete_because_no_move_target: 'moved to an address that does not exist',
  read_because_config_unknown: 'configuration not known until apply',
  read_because_dependency_pending: 'depends on pending changes',
};

export function reasonText(reason: string | undefined): string {
  if (!reason) return '';
  return REASONS[reason] ?? reason.replace(/_/g, ' ');
}

export function countsLine(c: Counts): string {
  const extra = [
    c.replace ? `${c.replace} replacement${c.replace === 1 ? '' : 's'} (counted in add and destroy)` : '',
    c.imports ? `${c.imports} to import` : '',
    c.forgets ? `${c.forgets} to forget` : '',
  ]
    .filter(Boolean)
    .join(', ');
  return `**${c.add} to add, ${c.change} to change, ${c.destroy} to destroy**${extra ? ` · ${extra}` : ''}`;
}

export interface PlanReport {
  environment: string;
  summary: PlanSummary;
  /** Empty when the plan was refused (no hash to approve). */
  planSha256: string;
  artifactName: string;
  /** Where the plan came from: `terraform plan` or the `plan-json` file. */
  source: string;
  /** Why the plan failed its gate (or could not be published), if it did: nothing to approve then. */
  refused?: { reason: string; message: string };
  commit?: string;
  runUrl?: string;
}

function resourceTable(resources: ResourceChange[], limit: number): string {
  const shown = resources.slice(0, limit);
  const rows = shown.map((r) => [
    md.code(r.address),
    LABEL[r.action] + (r.importing && r.action !== 'import' ? ' + 📥 import' : ''),
    md.cell(reasonText(r.reason)),
  ]);
  let t = md.table(['Resource', 'Action', 'Why'], rows);
  if (resources.length > shown.length) t += `\n\n…and ${resources.length - shown.length} more (see the plan JSON in the artifact).`;
  return t;
}

function attributeDetails(resources: ResourceChange[], budget: number): string {
  const parts: string[] = [];
  let used = 0;
  let left = 0;
  for (const r of resources) {
    if (r.attributes.length === 0) continue;
    const rows = r.attributes.map((a) => [
      md.code(a.path),
      a.before ? md.code(a.before) : '',
      a.after ? md.code(a.after) : '',
      a.forcesReplacement ? '⚠️ forces replacement' : '',
    ]);
    let block = `**${md.code(r.address)}** — ${LABEL[r.action]}\n\n${md.table(['Attribute', 'Before', 'After', ''], rows)}`;
    if (r.moreAttributes) block += `\n\n…and ${r.moreAttributes} more attribute(s).`;
    if (used + block.length > budget) {
      left++;
      continue;
    }
    used += block.length;
    parts.push(block);
  }
  if (parts.length === 0 && left === 0) return '';
  if (left) parts.push(`…attribute changes of ${left} more resource(s) left out for length (see the plan JSON in the artifact).`);
  return md.details('Attribute changes', parts.join('\n\n'));
}

/** The plan report, as the step summary (`forComment` false) or as the PR comment body. */
export function planMarkdown(r: PlanReport, opts: { forComment?: boolean } = {}): string {
  const s = r.summary;
  const lines: string[] = [];
  if (opts.forComment) lines.push(commentMarker(r.environment));
  lines.push(`### Terraform plan for ${md.code(r.environment)}`, '');
  if (r.refused)
    lines.push(
      `❌ **${r.refused.reason === 'destroy-not-allowed' ? 'Refused' : 'Failed'}: \`${r.refused.reason}\`** — ${md.text(r.refused.message)}`,
      '',
    );
  else if (!s.hasChanges) lines.push('✅ **No changes.** Infrastructure matches the configuration.', '');
  else if (r.planSha256)
    lines.push('🟡 **Changes to review.** Approve the deployment only if the apply job is given the SHA-256 below.', '');
  else lines.push('🟡 **Changes** (report only: this job published no plan to approve).', '');
  lines.push(countsLine(s.counts), '');
  const facts: string[][] = [];
  if (r.planSha256) facts.push(['Plan SHA-256', md.code(r.planSha256)]);
  else if (r.refused) facts.push(['Plan SHA-256', '— none: there is nothing to approve']);
  if (r.artifactName) facts.push(['Artifact', md.code(r.artifactName)]);
  else if (!r.refused && r.source !== 'terraform plan') facts.push(['Artifact', '— none: plan-json given, no binary plan from this job']);
  facts.push(['Plan from', md.text(r.source)]);
  facts.push(['Format', md.text(`${s.tool}${s.terraformVersion ? ` ${s.terraformVersion}` : ''}, plan format ${s.formatVersion}`)]);
  if (r.commit) facts.push(['Commit', md.code(r.commit.slice(0, 12))]);
  if (opts.forComment && r.runUrl) facts.push(['Run', md.link('workflow run', r.runUrl)]);
  lines.push(
    md.table(
      ['', ''],
      facts.map(([k, v]) => [`**${k}**`, v as string]),
    ),
    '',
  );
  if (s.resources.length) {
    lines.push(`#### Resources (${s.resources.length})`, '', resourceTable(s.resources, opts.forComment ? 150 : 300), '');
    const details = attributeDetails(s.resources, opts.forComment ? 30_000 : 200_000);
    if (details) lines.push(details, '');
  }
  if (s.outputs.length) {
    lines.push(
      `#### Outputs (${s.outputs.length})`,
      '',
      md.table(
        ['Output', 'Action', 'Value'],
        s.outputs.map((o) => [md.code(o.name), LABEL[o.action], o.after ? md.code(o.after) : '']),
      ),
      '',
    );
  }
  if (s.drift.length) {
    lines.push(
      `<details><summary>Changed outside Terraform since the last apply (${s.drift.length})</summary>\n\n${s.drift.map((a) => `- ${md.code(a)}`).join('\n')}\n\n</details>`,
      '',
    );
  }
  let out = lines.join('\n');
  if (opts.forComment && out.length > COMMENT_LIMIT)
    out = `${out.slice(0, COMMENT_LIMIT - 200)}\n\n…comment shortened; the full report is in the run's step summary.`;
  return out;
}

/** The summary of a plan step that produced no readable plan (init or plan failed, a bad plan-json). */
export function planFailedMarkdown(environment: string, failure: { reason: string; message: string } | undefined): string {
  return `### Terraform plan for ${md.code(environment)}\n\n❌ **\`${failure?.reason ?? 'internal-error'}\`** — ${md.text(failure?.message ?? '')}\n`;
}

export interface ApplyReport {
  environment: string;
  planSha256: string;
  artifactName: string;
  summary?: PlanSummary;
  applied: boolean;
  failure?: { reason: string; message: string };
  /** Names of outputs published (non-sensitive) and omitted (sensitive). */
  outputs: string[];
  omitted: string[];
  actualSha256?: string;
}

export function applyMarkdown(r: ApplyReport): string {
  const lines: string[] = [`### Terraform apply for ${md.code(r.environment)}`, ''];
  if (r.applied) lines.push('✅ **Applied** exactly the reviewed plan.', '');
  else if (r.failure) lines.push(`❌ **Not applied: \`${r.failure.reason}\`** — ${md.text(r.failure.message)}`, '');
  if (r.summary) lines.push(countsLine(r.summary.counts), '');
  const facts: string[][] = [
    ['Approved SHA-256', md.code(r.planSha256)],
    ['Artifact', md.code(r.artifactName)],
  ];
  if (r.actualSha256 && r.actualSha256 !== r.planSha256) facts.push(['Artifact plan SHA-256', `${md.code(r.actualSha256)} ❌ differs`]);
  else if (r.actualSha256) facts.push(['Artifact plan SHA-256', `${md.code(r.actualSha256)} ✅ matches`]);
  if (r.outputs.length) facts.push(['Outputs', r.outputs.map((o) => md.code(o)).join(', ')]);
  if (r.omitted.length) facts.push(['Sensitive outputs (omitted, masked)', r.omitted.map((o) => md.code(o)).join(', ')]);
  lines.push(
    md.table(
      ['', ''],
      facts.map(([k, v]) => [`**${k}**`, v as string]),
    ),
    '',
  );
  if (r.summary?.resources.length)
    lines.push(md.details(`Resources in the plan (${r.summary.resources.length})`, resourceTable(r.summary.resources, 300)), '');
  return lines.join('\n');
}
