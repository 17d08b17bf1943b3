/**
 * Plan and apply, with every side effect passed in (tools, artifact service, PR comment), so the
 * whole flow runs in unit tests without a runner. main.ts wires the real kit and toolkit in.
 */
import { createHash, randomBytes } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { oneLine } from '@hallmark/kit';
import { goDuration, type Config } from './inputs.js';
import { applyMarkdown, commentMarker, planFailedMarkdown, planMarkdown } from './summary.js';
import {
  BadPlanError,
  ErroredPlanError,
  maskable,
  parsePlanText,
  sensitiveStrings,
  splitOutputs,
  summarizePlan,
  type PlanSummary,
} from './plan.js';

export interface ToolResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

export interface Deps {
  exec(tool: string, args: string[], opts: { cwd: string }): Promise<ToolResult>;
  /** Tool output and other text we did not write. */
  printUntrusted(text: string): void;
  info(message: string): void;
  warn(message: string): void;
  mask(value: string): void;
  upload(name: string, files: string[], root: string): Promise<{ id?: number; size?: number; replaced?: boolean }>;
  /** Downloads the named artifact of this run into `dir`; false when there is no such artifact. */
  download(name: string, dir: string): Promise<boolean>;
  tempDir: string;
}

export interface Failure {
  reason: string;
  message: string;
}

export interface PlanConfig {
  workingDir: string;
  varFiles: string[];
  backendConfig: string[];
  environment: string;
  planJson?: string;
  /** How to name the plan-json file to people (the input as given). */
  planJsonShown?: string;
  allowDestroy: boolean;
  artifactName: string;
  lockTimeoutMs: number;
  terraform: string;
}

export interface PlanResult {
  summary?: PlanSummary;
  planSha256: string;
  /** Set when the artifact was uploaded. */
  artifactName: string;
  source: string;
  failure?: Failure;
  /** Set when the failure is a gate over a readable plan (reports still describe the plan). */
  refused?: Failure;
}

export const sha256 = (b: Buffer | string): string => createHash('sha256').update(b).digest('hex');

// Terraform's and OpenTofu's own diagnostics (the same wording in both): the lock error is
// clistate/state.go ("Error acquiring the state lock"); the saved-plan checks are in
// backend/local/backend_local.go (hashicorp/terraform v1.11.4, opentofu/opentofu v1.12.6).
const LOCKED = /Error acquiring the state lock|Error locking state/;
const STALE = /Saved plan is stale|plan file can no longer be applied/;
const OTHER_LINEAGE = /Saved plan does not match the given state/;
const LOCKS_DIFFER = /Inconsistent dependency lock file/;
// internal/plans/planfile/tfplan.go and reader.go: a plan file is readable only by the version that wrote it.
const OTHER_VERSION = /plan files? (?:was created by .* but this is .*|cannot be (?:transferred|shared) between different)/;
/** The first line of `terraform version` / `tofu version` (also for an OpenTofu exposed as `terraform`). */
const VERSION_LINE = /^(Terraform|OpenTofu) v(\d+\.\d+\.\d+\S*)/m;

function stage(tempDir: string, prefix: string): string {
  const d = join(tempDir, `${prefix}-${randomBytes(6).toString('hex')}`);
  mkdirSync(d, { recursive: true });
  return d;
}

function toolFailure(what: string, r: ToolResult, fallback: string): Failure {
  const text = `${r.stderr}\n${r.stdout}`.replace(/\s+/g, ' ');
  if (LOCKED.test(text))
    return {
      reason: 'state-locked',
      message: `${what}: the state is locked by another operation (Error acquiring the state lock); see the log for the lock holder`,
    };
  if (r.exitCode === 127)
    return {
      reason: fallback,
      message: `${what}: terraform could not be started (is it on PATH? run setup-tools with \`tools: terraform\` first)`,
    };
  return { reason: fallback, message: `${what} failed with exit code ${r.exitCode} (see the log)` };
}

/** terraform's refusals of a saved plan, by its own diagnostics (a held lock is left to toolFailure). */
const REFUSALS: [RegExp, Failure][] = [
  [
    STALE,
    {
      reason: 'plan-stale',
      message:
        'terraform refused the plan: the state changed after it was made (Saved plan is stale); run the plan job again and approve the new plan',
    },
  ],
  [
    OTHER_LINEAGE,
    {
      reason: 'plan-stale',
      message:
        'terraform refused the plan: it was made against another state (Saved plan does not match the given state: a different lineage); run the plan job again and approve the new plan',
    },
  ],
  [
    OTHER_VERSION,
    {
      reason: 'apply-failed',
      message:
        'terraform refused the plan: it was made by another Terraform/OpenTofu version, and plan files cannot move between versions; install the same version in the plan and apply jobs (setup-tools with a pinned version) and plan again',
    },
  ],
  [
    LOCKS_DIFFER,
    {
      reason: 'apply-failed',
      message:
        'terraform refused the plan: the provider selections differ from the ones it was made with (Inconsistent dependency lock file); run the plan job again',
    },
  ],
];

export function applyRefusal(raw: string): Failure | undefined {
  // Without a terminal terraform wraps diagnostics at 78 columns: match over one line.
  const text = raw.replace(/\s+/g, ' ');
  if (LOCKED.test(text)) return undefined;
  return REFUSALS.find(([re]) => re.test(text))?.[1];
}

/** Which CLI `terraform` is: Terraform or OpenTofu (whose plan JSON also says `terraform_version`). */
export function parseVersion(text: string): { tool: 'terraform' | 'opentofu'; version: string } | undefined {
  const m = VERSION_LINE.exec(text);
  return m ? { tool: m[1] === 'OpenTofu' ? 'opentofu' : 'terraform', version: m[2] as string } : undefined;
}

async function identify(
  cfg: { workingDir: string; terraform: string },
  deps: Deps,
): Promise<{ tool: 'terraform' | 'opentofu'; version: string } | undefined> {
  const r = await deps.exec(cfg.terraform, ['version'], { cwd: cfg.workingDir });
  const v = r.exitCode === 0 ? parseVersion(r.stdout) : undefined;
  if (v) deps.info(`terraform is ${v.tool === 'opentofu' ? 'OpenTofu' : 'Terraform'} ${v.version}`);
  return v;
}

async function init(
  cfg: { workingDir: string; backendConfig: string[]; lockTimeoutMs: number; terraform: string },
  deps: Deps,
): Promise<Failure | undefined> {
  const args = [
    'init',
    '-input=false',
    '-no-color',
    `-lock-timeout=${goDuration(cfg.lockTimeoutMs)}`,
    ...cfg.backendConfig.map((b) => `-backend-config=${b}`),
  ];
  // The backend-config values may carry credentials: the command line is shown without them.
  deps.info(
    `terraform init -input=false -no-color -lock-timeout=${goDuration(cfg.lockTimeoutMs)}${cfg.backendConfig.length ? ` (+${cfg.backendConfig.length} -backend-config, not shown)` : ''}`,
  );
  const r = await deps.exec(cfg.terraform, args, { cwd: cfg.workingDir });
  deps.printUntrusted(r.stdout + r.stderr);
  if (r.exitCode !== 0) return toolFailure('terraform init', r, 'init-failed');
  return undefined;
}

function readPlanFile(text: string, source: string): { summary?: PlanSummary; failure?: Failure; parsed?: unknown } {
  try {
    const parsed = parsePlanText(text, source);
    return { summary: summarizePlan(parsed, source), parsed };
  } catch (e) {
    if (e instanceof BadPlanError) return { failure: { reason: 'bad-plan', message: e.message } };
    if (e instanceof ErroredPlanError) return { failure: { reason: 'plan-failed', message: e.message } };
    throw e;
  }
}

/** Plan mode: plan (or read plan-json), summarise, gate, upload. The PR comment is posted by the caller from the result. */
export async function planFlow(cfg: PlanConfig, deps: Deps): Promise<PlanResult> {
  if (cfg.planJson) {
    const source = `plan-json file ${cfg.planJsonShown ?? cfg.planJson}`;
    const { summary, failure, parsed } = readPlanFile(readFileSync(cfg.planJson, 'utf8'), source);
    for (const s of parsed ? sensitiveStrings(parsed) : []) deps.mask(s);
    if (failure) return { planSha256: '', artifactName: '', source, failure };
    const res: PlanResult = { summary, planSha256: '', artifactName: '', source };
    for (const w of summary?.warnings ?? []) deps.warn(w);
    gate(cfg, res);
    deps.info(
      'plan-json given: terraform was not run and no plan artifact was uploaded (there is no binary plan to approve from this job)',
    );
    return res;
  }

  const source = 'terraform plan';
  const cli = await identify(cfg, deps);
  const lockFile = join(cfg.workingDir, '.terraform.lock.hcl');
  const lockCommitted = existsSync(lockFile);
  const initFailure = await init(cfg, deps);
  if (initFailure) return { planSha256: '', artifactName: '', source, failure: initFailure };

  const dir = stage(deps.tempDir, 'tfplan');
  const planFile = join(dir, 'tfplan');
  const lock = `-lock-timeout=${goDuration(cfg.lockTimeoutMs)}`;
  const planArgs = [
    'plan',
    '-input=false',
    '-no-color',
    lock,
    `-out=${planFile}`,
    '-detailed-exitcode',
    ...cfg.varFiles.map((f) => `-var-file=${f}`),
  ];
  deps.info(`terraform ${planArgs.join(' ')}`);
  const plan = await deps.exec(cfg.terraform, planArgs, { cwd: cfg.workingDir });
  if ((plan.exitCode !== 0 && plan.exitCode !== 2) || !existsSync(planFile)) {
    deps.printUntrusted(plan.stdout + plan.stderr);
    return { planSha256: '', artifactName: '', source, failure: toolFailure('terraform plan', plan, 'plan-failed') };
  }
  const show = await deps.exec(cfg.terraform, ['show', '-json', '-no-color', planFile], { cwd: cfg.workingDir });
  if (show.exitCode !== 0) {
    deps.printUntrusted(plan.stdout + plan.stderr + show.stderr);
    return { planSha256: '', artifactName: '', source, failure: toolFailure('terraform show -json', show, 'plan-failed') };
  }
  const { summary, failure, parsed } = readPlanFile(show.stdout, '`terraform show -json` output');
  // Register sensitive values before any plan text reaches the log.
  for (const s of parsed ? sensitiveStrings(parsed) : []) deps.mask(s);
  deps.printUntrusted(plan.stdout + plan.stderr);
  if (failure) return { planSha256: '', artifactName: '', source, failure };
  if (summary && cli) {
    // The plan JSON of OpenTofu says `terraform_version` too: name the CLI that really ran.
    summary.tool = cli.tool;
    summary.terraformVersion = cli.version;
  }
  for (const w of summary?.warnings ?? []) deps.warn(w);
  if (summary && (plan.exitCode === 2) !== summary.hasChanges) {
    deps.warn(
      `terraform plan -detailed-exitcode said ${plan.exitCode === 2 ? 'changes' : 'no changes'}, the plan JSON says ${summary.hasChanges ? 'changes' : 'no changes'}; the JSON is what is reported`,
    );
  }
  const res: PlanResult = { summary, planSha256: '', artifactName: '', source };
  gate(cfg, res);
  if (res.refused) return res;

  const planBytes = readFileSync(planFile);
  writeFileSync(join(dir, 'tfplan.json'), show.stdout);
  const files = [planFile, join(dir, 'tfplan.json')];
  // init writes .terraform.lock.hcl whenever the configuration needs a provider from a registry;
  // the saved plan records the same selections and apply refuses a working directory whose lock
  // file differs ("Inconsistent dependency lock file"), so the file travels with the plan.
  if (existsSync(lockFile)) {
    copyFileSync(lockFile, join(dir, '.terraform.lock.hcl'));
    files.push(join(dir, '.terraform.lock.hcl'));
    if (!lockCommitted)
      deps.warn(
        '.terraform.lock.hcl is not in the checkout: terraform init selected provider versions just now (they travel with this plan to apply; commit the lock file to review them)',
      );
  } else deps.info('no .terraform.lock.hcl after terraform init: the configuration uses no providers that need one');
  try {
    const up = await deps.upload(cfg.artifactName, files, dir);
    deps.info(
      `uploaded artifact ${cfg.artifactName} (${files.length} files${up.size !== undefined ? `, ${up.size} bytes` : ''})${up.replaced ? '; it replaced an earlier artifact of that name (an approval of the earlier plan no longer matches)' : ''}`,
    );
  } catch (e) {
    return {
      ...res,
      failure: {
        reason: 'upload-failed',
        message: `could not upload the plan artifact ${cfg.artifactName}: ${e instanceof Error ? e.message : String(e)}`,
      },
    };
  }
  // The hash is of the bytes that were uploaded, read once.
  res.planSha256 = sha256(planBytes);
  res.artifactName = cfg.artifactName;
  return res;
}

function gate(cfg: PlanConfig, res: PlanResult): void {
  const c = res.summary?.counts;
  if (!c || cfg.allowDestroy || c.destroy === 0) return;
  const deletes = c.destroy - c.replace;
  const what = [
    deletes ? `${deletes} deletion${deletes === 1 ? '' : 's'}` : '',
    c.replace ? `${c.replace} replacement${c.replace === 1 ? '' : 's'}` : '',
  ]
    .filter(Boolean)
    .join(' and ');
  res.refused = {
    reason: 'destroy-not-allowed',
    message: `the plan destroys ${c.destroy} object${c.destroy === 1 ? '' : 's'} (${what}) and allow-destroy is false; no plan artifact was uploaded, so this plan cannot be approved or applied`,
  };
  res.failure = res.refused;
}

export interface ApplyConfig {
  workingDir: string;
  backendConfig: string[];
  environment: string;
  planSha256: string;
  artifactName: string;
  lockTimeoutMs: number;
  terraform: string;
}

export interface ApplyResult {
  applied: boolean;
  summary?: PlanSummary;
  actualSha256?: string;
  outputs: Record<string, unknown>;
  outputNames: string[];
  omitted: string[];
  failure?: Failure;
}

/** Apply mode: download, verify the hash, init, apply exactly that plan file, read outputs. */
export async function applyFlow(cfg: ApplyConfig, deps: Deps): Promise<ApplyResult> {
  const res: ApplyResult = { applied: false, outputs: {}, outputNames: [], omitted: [] };
  const dir = stage(deps.tempDir, 'tfplan-download');
  let found: boolean;
  try {
    found = await deps.download(cfg.artifactName, dir);
  } catch (e) {
    res.failure = {
      reason: 'artifact-missing',
      message: `could not download the plan artifact ${cfg.artifactName}: ${e instanceof Error ? e.message : String(e)}`,
    };
    return res;
  }
  const planFile = join(dir, 'tfplan');
  if (!found || !existsSync(planFile)) {
    res.failure = {
      reason: 'artifact-missing',
      message: found
        ? `artifact ${cfg.artifactName} holds no tfplan file`
        : `this run has no artifact named ${cfg.artifactName} (the plan job uploads it; plan and apply must be jobs of the same run)`,
    };
    return res;
  }
  const actual = sha256(readFileSync(planFile));
  res.actualSha256 = actual;
  const jsonFile = join(dir, 'tfplan.json');
  if (existsSync(jsonFile)) {
    const { summary, parsed } = readPlanFile(readFileSync(jsonFile, 'utf8'), 'tfplan.json in the artifact');
    for (const s of parsed ? sensitiveStrings(parsed) : []) deps.mask(s);
    res.summary = summary;
  }
  if (actual !== cfg.planSha256) {
    res.failure = {
      reason: 'plan-changed',
      message: `the plan in artifact ${cfg.artifactName} has SHA-256 ${actual}, not the approved ${cfg.planSha256}; nothing was applied`,
    };
    return res;
  }
  deps.info(`plan SHA-256 ${actual} matches the approved hash`);
  const lockSrc = join(dir, '.terraform.lock.hcl');
  const lockDst = join(cfg.workingDir, '.terraform.lock.hcl');
  if (existsSync(lockSrc)) {
    const want = readFileSync(lockSrc);
    if (existsSync(lockDst) && !readFileSync(lockDst).equals(want))
      deps.warn(".terraform.lock.hcl in the working directory differs from the one the plan was made with; using the plan's");
    writeFileSync(lockDst, want);
  }
  const initFailure = await init(cfg, deps);
  if (initFailure) {
    res.failure = initFailure;
    return res;
  }
  const args = ['apply', '-input=false', '-no-color', `-lock-timeout=${goDuration(cfg.lockTimeoutMs)}`, planFile];
  deps.info(`terraform ${args.join(' ')}`);
  const apply = await deps.exec(cfg.terraform, args, { cwd: cfg.workingDir });
  deps.printUntrusted(apply.stdout + apply.stderr);
  if (apply.exitCode !== 0) {
    const text = `${apply.stderr}\n${apply.stdout}`;
    res.failure = applyRefusal(text) ?? toolFailure('terraform apply', apply, 'apply-failed');
    return res;
  }
  res.applied = true;
  const out = await deps.exec(cfg.terraform, ['output', '-json', '-no-color'], { cwd: cfg.workingDir });
  if (out.exitCode !== 0) {
    deps.warn(`terraform output -json failed with exit code ${out.exitCode}; the outputs output is empty`);
    return res;
  }
  try {
    const split = splitOutputs(JSON.parse(out.stdout || '{}'));
    for (const s of split.sensitive) if (maskable(s)) deps.mask(s);
    res.outputs = split.outputs;
    res.outputNames = Object.keys(split.outputs);
    res.omitted = split.omitted;
  } catch (e) {
    deps.warn(
      `terraform output -json printed something unreadable (${e instanceof Error ? e.message : String(e)}); the outputs output is empty`,
    );
  }
  return res;
}

export interface StepDeps extends Deps {
  /** Creates or updates this environment's PR comment (main.ts: @actions/github). */
  comment(marker: string, body: string): Promise<{ action: 'created' | 'updated' | 'skipped'; id?: number; why?: string }>;
  /** The commit, run URL and event of this run (for the summary and the log). */
  commit: string;
  runUrl?: string;
  eventName: string;
}

export interface StepResult {
  outputs: Record<string, string | number | boolean | object>;
  /** The plan file's SHA-256 (plan mode, when uploaded) — the audit subject. */
  planSha256?: string;
  /** Non-secret values that shaped the verdict, for the audit record (issue 16 §2). */
  facts: Record<string, string | number | boolean>;
  /** The step summary (markdown). */
  summary: string;
  failure?: Failure;
}

/**
 * The whole step for either mode: the flow, then the outputs (counts named `-count`, issue 14 item 7),
 * the step summary, and in plan mode the PR comment (a failure to post it is only a warning).
 */
export async function runStep(cfg: Config, deps: StepDeps): Promise<StepResult> {
  const { environment, artifactName } = cfg;
  for (const w of cfg.warnings) deps.warn(`terraform-gated-apply: ${w}`);
  if (cfg.mode === 'apply') {
    const r = await applyFlow(
      {
        workingDir: cfg.workingDir,
        backendConfig: cfg.backendConfig,
        environment,
        planSha256: cfg.planSha256,
        artifactName,
        lockTimeoutMs: cfg.lockTimeoutMs,
        terraform: 'terraform',
      },
      deps,
    );
    const summary = applyMarkdown({
      environment,
      planSha256: cfg.planSha256,
      artifactName,
      summary: r.summary,
      applied: r.applied,
      failure: r.failure,
      outputs: r.outputNames,
      omitted: r.omitted,
      actualSha256: r.actualSha256,
    });
    const facts = {
      applied: r.applied,
      ...(r.summary ? countFacts(r.summary) : {}),
      ...(r.actualSha256 ? { 'artifact-plan-sha256': r.actualSha256 } : {}),
    };
    return { outputs: { applied: r.applied, outputs: r.outputs }, facts, summary, failure: r.failure };
  }
  const planCfg = {
    workingDir: cfg.workingDir,
    varFiles: cfg.varFiles,
    backendConfig: cfg.backendConfig,
    environment,
    planJson: cfg.planJson || undefined,
    planJsonShown: cfg.planJsonShown,
    allowDestroy: cfg.allowDestroy,
    artifactName,
    lockTimeoutMs: cfg.lockTimeoutMs,
    terraform: 'terraform',
  };
  const r = await planFlow(planCfg, deps);
  if (!r.summary)
    return {
      outputs: { 'plan-sha256': '', 'artifact-name': '' },
      facts: {},
      summary: planFailedMarkdown(environment, r.failure),
      failure: r.failure,
    };
  const c = r.summary.counts;
  const outputs = {
    'has-changes': r.summary.hasChanges,
    'add-count': c.add,
    'change-count': c.change,
    'destroy-count': c.destroy,
    'replace-count': c.replace,
    'plan-sha256': r.planSha256,
    'artifact-name': r.artifactName,
  };
  const report = {
    environment,
    summary: r.summary,
    planSha256: r.planSha256,
    artifactName: r.artifactName,
    source: r.source,
    refused: r.failure,
    commit: deps.commit,
    runUrl: deps.runUrl,
  };
  if (cfg.wantComment && !(r.failure && !r.refused)) {
    try {
      const posted = await deps.comment(commentMarker(environment), planMarkdown(report, { forComment: true }));
      if (posted.action === 'skipped') deps.warn(`terraform-gated-apply: PR comment skipped: ${posted.why}`);
      else deps.info(`PR comment ${posted.action} (id ${posted.id})`);
    } catch (e) {
      deps.warn(
        `terraform-gated-apply: could not post the PR comment (the plan itself is fine; check \`permissions: pull-requests: write\`): ${oneLine(e instanceof Error ? e.message : String(e), 300)}`,
      );
    }
  } else if (cfg.noCommentEvent) deps.info(`not a pull_request event (${deps.eventName || 'unknown'}): no PR comment`);
  return {
    outputs,
    planSha256: r.planSha256 || undefined,
    facts: { ...countFacts(r.summary), uploaded: Boolean(r.planSha256) },
    summary: planMarkdown(report),
    failure: r.failure,
  };
}

function countFacts(s: PlanSummary): Record<string, number | boolean> {
  return {
    'has-changes': s.hasChanges,
    'add-count': s.counts.add,
    'change-count': s.counts.change,
    'destroy-count': s.counts.destroy,
    'replace-count': s.counts.replace,
  };
}
