// The human story of a trail: built → scanned → signed → approved → deployed → smoke. Pure.
// Every value printed comes from a record and is reduced to one line of plain characters.
import type { AuditFacts, AuditRecord } from './record.js';

export interface StoryStep {
  stage: 'built' | 'sbom' | 'scanned' | 'signed' | 'verified' | 'planned' | 'approved' | 'deployed' | 'synced' | 'smoke' | 'notified';
  seq: number;
  verdict: 'passed' | 'failed';
  text: string;
}

/** One line, printable ASCII-ish, bounded: record values are data, never markup or commands. */
export function plain(v: unknown, max = 160): string {
  const s = String(v ?? '')
    .replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g, ' ')
    .replace(/::/g, ': :')
    .trim();
  return s.length > max ? `${s.slice(0, max - 1)}…` : s;
}

function fact(f: AuditFacts, ...names: string[]): string | number | boolean | undefined {
  for (const n of names) if (f[n] !== undefined) return f[n];
  return undefined;
}

function counts(f: AuditFacts, names: string[]): string {
  return names
    .filter((n) => f[`${n}-count`] !== undefined)
    .map((n) => `${n} ${plain(f[`${n}-count`])}`)
    .join(', ');
}

function verdictText(r: AuditRecord): string {
  return r.verdict === 'passed' ? 'passed' : `FAILED${r.failureReason ? ` (${plain(r.failureReason, 64)})` : ''}`;
}

function subjectImage(r: AuditRecord): string {
  const { image, digest } = r.subject;
  if (image && digest && !image.includes('@')) return plain(`${image}@${digest}`, 200);
  return plain(image ?? digest ?? 'an image', 200);
}

function by(r: AuditRecord): string {
  return `[record ${r.seq}, ${plain(r.action, 64)} in job ${plain(r.run.job, 64)}]`;
}

/** The story's steps: in trail order, with the seal's approval and deploy placed before the later stages. */
export function storySteps(records: AuditRecord[]): StoryStep[] {
  const steps: StoryStep[] = [];
  const add = (stage: StoryStep['stage'], r: AuditRecord, text: string) => steps.push({ stage, seq: r.seq, verdict: r.verdict, text });
  for (const r of records) {
    const f = r.facts;
    switch (r.action) {
      case 'build-sign': {
        // build-sign builds (builder, pushed) and/or signs (signing-mode keyless|key; none = build only).
        const mode = fact(f, 'signing-mode');
        const signs = mode !== undefined ? mode !== 'none' : fact(f, 'signed') !== undefined;
        const builds = fact(f, 'pushed') === true || fact(f, 'builder') !== undefined || !signs;
        if (builds) {
          const builder = fact(f, 'builder');
          add('built', r, `${subjectImage(r)}: ${verdictText(r)}${builder !== undefined ? ` (builder ${plain(builder)})` : ''} ${by(r)}`);
        }
        if (signs) {
          const who = fact(f, 'signer-identity');
          const issuer = fact(f, 'signer-issuer');
          const identity =
            who !== undefined
              ? `${mode === 'key' ? 'key ' : 'identity '}${plain(who, 240)}${issuer !== undefined ? `, issuer ${plain(issuer)}` : ''}`
              : 'signer not recorded';
          const ok = r.verdict === 'passed' && fact(f, 'signed') !== false;
          steps.push({
            stage: 'signed',
            seq: r.seq,
            verdict: ok ? 'passed' : 'failed',
            text: `${subjectImage(r)}: ${ok ? 'passed' : verdictText(r) === 'passed' ? 'NOT SIGNED' : verdictText(r)} (${mode !== undefined ? `${plain(mode)}, ` : ''}${identity}) ${by(r)}`,
          });
        }
        break;
      }
      case 'trivy-gate': {
        const threshold = fact(f, 'severity', 'severity-threshold');
        const c = counts(f, ['critical', 'high', 'medium', 'low', 'unknown', 'failing']);
        const ignore = fact(f, 'ignore-file-sha256');
        const parts = [
          threshold !== undefined ? `threshold ${plain(threshold)}` : '',
          c,
          ignore !== undefined ? `ignore file sha256 ${plain(ignore, 80)}` : '',
        ].filter(Boolean);
        add('scanned', r, `${subjectImage(r)}: ${verdictText(r)}${parts.length ? ` (${parts.join('; ')})` : ''} ${by(r)}`);
        break;
      }
      case 'sbom-attach': {
        const n = fact(f, 'package-count');
        add(
          'sbom',
          r,
          `${subjectImage(r)}: ${verdictText(r)}${n !== undefined ? ` (${plain(n)} packages${fact(f, 'attested') === true ? ', attested' : ''})` : ''} ${by(r)}`,
        );
        break;
      }
      case 'verify-image': {
        const who = fact(f, 'identity', 'identity-regexp', 'certificate-identity');
        add(
          'verified',
          r,
          `${subjectImage(r)}: signature ${verdictText(r)}${who !== undefined ? ` (signer ${plain(who, 240)})` : fact(f, 'key-sha256') !== undefined ? ' (signing key)' : ''} ${by(r)}`,
        );
        break;
      }
      case 'terraform-gated-apply': {
        const mode = fact(f, 'mode');
        const env = r.subject.environment ? `environment ${plain(r.subject.environment, 64)}` : 'no environment';
        const plan = r.subject.planSha256 ? `plan sha256 ${plain(r.subject.planSha256, 80)}` : 'plan';
        const c = counts(f, ['add', 'change', 'destroy', 'replace']);
        if (mode === 'apply') add('approved', r, `${env}: ${plan} applied after approval: ${verdictText(r)} ${by(r)}`);
        else add('planned', r, `${env}: ${plan}${c ? ` (${c})` : ''}: ${verdictText(r)} ${by(r)}`);
        break;
      }
      case 'gitops-update': {
        const where = `${plain(r.subject.configRepository ?? 'config repository', 120)}${r.subject.configCommit ? ` at ${plain(r.subject.configCommit, 64)}` : ''}`;
        const env = r.subject.environment ? `environment ${plain(r.subject.environment, 64)}, ` : '';
        add(
          'deployed',
          r,
          `${env}mode gitops (${plain(fact(f, 'mode') ?? 'commit')}): ${subjectImage(r)} in ${where}: ${verdictText(r)} ${by(r)}`,
        );
        break;
      }
      case 'smoke-test': {
        const c = [
          fact(f, 'passed-count') !== undefined && fact(f, 'check-count') !== undefined
            ? `${plain(f['passed-count'])}/${plain(f['check-count'])} checks passed`
            : '',
          fact(f, 'failed-count') !== undefined ? `${plain(f['failed-count'])} failed` : '',
          fact(f, 'warning-count') !== undefined ? `${plain(f['warning-count'])} warnings` : '',
        ].filter(Boolean);
        const env = r.subject.environment ? `environment ${plain(r.subject.environment, 64)}: ` : '';
        if (fact(f, 'check-kinds') === 'argocd-app') {
          // deploy-prod's GitOps wait: the Argo CD Application synced and healthy at the bump commit
          const rev = fact(f, 'argocd-revision');
          add(
            'synced',
            r,
            `${env}Argo CD Application at ${rev !== undefined ? plain(rev, 64) : 'the revision'}: ${verdictText(r)} ${by(r)}`,
          );
          break;
        }
        add('smoke', r, `${env}${verdictText(r)}${c.length ? ` (${c.join(', ')})` : ''} ${by(r)}`);
        break;
      }
      case 'slack-notify':
        add('notified', r, `${verdictText(r)} ${by(r)}`);
        break;
      case 'audit-trail': {
        // The seal: what the workflow told the join (job results, environment, deploy method).
        const env = fact(f, 'environment');
        const envText = env !== undefined ? `environment ${plain(env, 64)}` : 'environment not recorded';
        const approver = fact(f, 'approved-by');
        const apply = fact(f, 'job.apply');
        if (approver !== undefined) add('approved', r, `${envText}: approved by ${plain(approver, 200)} [seal]`);
        else if (apply !== undefined && apply !== 'skipped') {
          steps.push({
            stage: 'approved',
            seq: r.seq,
            verdict: apply === 'success' ? 'passed' : 'failed',
            text: `${envText}: the environment-gated job apply ${plain(apply, 32)} (approver not recorded in the trail) [seal]`,
          });
        }
        const method = fact(f, 'deploy-method');
        const mode = fact(f, 'deploy-mode');
        const deployJob = fact(f, 'job.deploy');
        if (deployJob !== undefined && deployJob !== 'skipped') {
          const where = [envText, fact(f, 'namespace') !== undefined ? `namespace ${plain(f.namespace, 64)}` : '']
            .filter(Boolean)
            .join(', ');
          const how = method !== undefined && method !== '' ? method : mode;
          steps.push({
            stage: 'deployed',
            seq: r.seq,
            verdict: deployJob === 'success' ? 'passed' : 'failed',
            text: `${where}${how !== undefined ? `, mode ${plain(how, 64)}` : ''}: job deploy ${plain(deployJob, 32)} [seal]`,
          });
        }
        break;
      }
      default:
        break;
    }
  }
  return placeSealSteps(steps, records.at(-1)?.seal ? records.at(-1)!.seq : undefined);
}

const STAGE_ORDER: StoryStep['stage'][] = [
  'built',
  'sbom',
  'scanned',
  'signed',
  'verified',
  'planned',
  'approved',
  'deployed',
  'smoke',
  'notified',
];

/**
 * The seal (the join's record) comes last in the trail, but what it tells — approval and the deploy
 * job's result — happened before the smoke test: each seal step goes before the first step of a later
 * stage, so the story reads built → scanned → signed → approved → deployed → smoke.
 */
function placeSealSteps(steps: StoryStep[], sealSeq: number | undefined): StoryStep[] {
  if (sealSeq === undefined) return steps;
  const out = steps.filter((s) => s.seq !== sealSeq);
  for (const s of steps.filter((x) => x.seq === sealSeq)) {
    const rank = STAGE_ORDER.indexOf(s.stage);
    const at = out.findIndex((x) => x.seq !== sealSeq && STAGE_ORDER.indexOf(x.stage) > rank);
    out.splice(at < 0 ? out.length : at, 0, s);
  }
  return out;
}

export interface StoryHeader {
  file?: string;
  sha256?: string;
  signature?: string;
}

/** The printed story: a header, the stages in trail order, then every record on one line. */
export function tellStory(records: AuditRecord[], header: StoryHeader = {}): string {
  const out: string[] = [];
  const first = records[0];
  const seal = records.at(-1)?.seal ? records.at(-1) : undefined;
  const data = seal ? records.slice(0, -1) : records;
  out.push(
    `Audit trail${header.file ? ` ${plain(header.file, 200)}` : ''}: ${data.length} records${seal?.seal ? ` from ${seal.seal.parts.length} parts, sealed` : ''}, chain intact`,
  );
  if (header.sha256) out.push(`  sha256 ${header.sha256}`);
  if (header.signature) out.push(`  signature: ${plain(header.signature, 400)}`);
  if (first) {
    const r = first.run;
    out.push(
      `  run ${plain(r.runId, 32)} attempt ${plain(r.runAttempt, 8)} of ${plain(r.repository, 120)} (${plain(r.event, 32)} by ${plain(r.actor, 64)}, commit ${plain(r.sha, 40).slice(0, 12)} on ${plain(r.ref, 120)})`,
    );
  }
  out.push('');
  const steps = storySteps(records);
  if (steps.length === 0) out.push('  (no build, scan, sign, deploy or smoke step in this trail)');
  for (const s of steps) out.push(`  ${s.verdict === 'passed' ? '✔' : '✘'} ${s.stage.padEnd(9)} ${s.text}`);
  out.push('', 'Records:');
  for (const r of records) {
    const subj = r.subject.digest ?? r.subject.planSha256 ?? r.subject.configCommit ?? '';
    out.push(
      `  ${String(r.seq).padStart(3)} ${plain(r.time, 40)} ${plain(r.run.job, 40)}/${plain(r.action, 40)} ${r.verdict}${r.failureReason ? ` (${plain(r.failureReason, 64)})` : ''}${subj ? ` ${plain(subj, 90)}` : ''}`,
    );
  }
  return `${out.join('\n')}\n`;
}
