/**
 * The step over injected Deps: get the report (the one given, or one Trivy run with the DB and
 * checks bundle from the cache or the mirrors), gate it, write the JSON and SARIF reports whatever
 * the verdict, and hand main.ts the summary, the outputs and the verdict. No runner I/O here:
 * tools run through `deps.exec`, the Actions cache is `deps.cache.store`, the clock is `deps.now`.
 */
import { copyFileSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, isAbsolute, join, relative, sep } from 'node:path';
import { oneLine, UserError } from '@hallmark/kit';
import { parseImageRef, writeScopedDockerConfig } from '@hallmark/oci';
import { restore, save, type CacheStore } from './cache.js';
import { evaluate, type Evaluation } from './gate.js';
import { entryLabel } from './ignore.js';
import type { Config } from './inputs.js';
import { toSarif } from './sarif.js';
import { needsChecks, needsDb, runScan, ScanError, type ExecLike, type ScanOutcome } from './scan.js';
import { annotationText, MAX_ANNOTATIONS, summary } from './summary.js';
import { parseReport, ReportError, type TrivyReport } from './trivy-report.js';

const ACTION = 'trivy-gate';

/** Credentials Trivy offers to every registry it contacts (DB and checks mirrors included): never passed on. */
export const BROAD_CREDENTIALS = ['TRIVY_USERNAME', 'TRIVY_PASSWORD', 'TRIVY_REGISTRY_TOKEN'] as const;

export interface FlowLog {
  info(message: string): void;
  warning(message: string): void;
  /** An `::error` annotation for one failing finding. */
  errorAnnotation(message: string, props: { title: string }): void;
  /** Prints text we did not write (inert). */
  untrusted(text: string): void;
}

export interface FlowDeps {
  exec: ExecLike;
  log: FlowLog;
  now(): Date;
  sleep(ms: number): Promise<void>;
  /** Registers a secret found elsewhere (the environment) with the masker. */
  maskSecret(value: string): void;
  /** The environment the step sees (read only: which broad Trivy credentials are set). */
  env: Readonly<Record<string, string | undefined>>;
  /** RUNNER_TEMP and the workspace. */
  temp: string;
  workspace: string;
  readFile(path: string): Buffer;
  /** undefined when absent or unreadable. */
  readText(path: string): string | undefined;
  stat(path: string): 'file' | 'dir' | 'other' | undefined;
  /** The Actions cache (undefined: not available here) and the runner OS, part of its key. */
  cache: { store: CacheStore | undefined; os: string };
  /** DB download tries per repository and the first backoff. */
  attempts: number;
  backoffMs: number;
}

export interface FlowResult {
  report: TrivyReport;
  ev: Evaluation;
  /** Set when Trivy ran (not with `report`). */
  outcome?: ScanOutcome;
  subject: string;
  /** The step summary (markdown). */
  summary: string;
  /** The action's outputs (failure-reason is main's). */
  outputs: Record<string, string | number | boolean>;
  /** The gate-failed message, when the gate failed. */
  failure?: string;
}

/** Runs Trivy once and returns the path of the JSON report it wrote. */
async function scan(cfg: Config, registryPassword: string, deps: FlowDeps): Promise<{ path: string; outcome: ScanOutcome }> {
  const now = deps.now();
  const work = join(deps.temp, 'trivy-gate');
  const cacheDir = join(work, 'cache');
  mkdirSync(cacheDir, { recursive: true });
  const emptyIgnore = join(work, 'empty.trivyignore');
  writeFileSync(emptyIgnore, '');
  const emptyDir = join(work, 'empty');
  mkdirSync(emptyDir, { recursive: true });
  mkdirSync(dirname(cfg.json), { recursive: true });
  // Trivy's environment: no TRIVY_USERNAME/TRIVY_PASSWORD/TRIVY_REGISTRY_TOKEN, which Trivy offers to
  // every registry it contacts (DB and checks mirrors included).
  const trivyEnv: Record<string, string | undefined> = {};
  const broad = BROAD_CREDENTIALS.filter((k) => deps.env[k]);
  for (const k of broad) {
    deps.maskSecret(deps.env[k] as string);
    trivyEnv[k] = undefined;
  }
  if (broad.length) {
    const one = broad.length === 1;
    deps.log.warning(
      `${ACTION}: ${broad.join(', ')} ${one ? 'is' : 'are'} not passed to trivy: Trivy would send ${one ? 'it' : 'them'} to every registry it contacts, DB mirrors included. Use the inputs registry-username and registry-password (scoped to the image's registry)`,
    );
  }
  // Registry login: a private docker config holding only the image's registry, removed at the end.
  const dockerDir = join(work, 'docker');
  if (cfg.login) {
    writeScopedDockerConfig(dockerDir, cfg.login.registry, cfg.login.username, registryPassword, deps.maskSecret);
    trivyEnv.DOCKER_CONFIG = dockerDir;
  }
  const cacheDeps = { ...deps.cache, info: deps.log.info, warn: deps.log.warning };
  const wantDb = needsDb(cfg) && cfg.cache;
  const wantChecks = needsChecks(cfg) && cfg.cache;
  const dbCache = wantDb ? await restore('db', cacheDir, now, cacheDeps) : { hit: false, fresh: false };
  const checksCache = wantChecks ? await restore('checks', cacheDir, now, cacheDeps) : { hit: false, fresh: false };
  let outcome: ScanOutcome;
  try {
    outcome = await runScan(
      cfg,
      {
        exec: (tool, args, o) => deps.exec(tool, args, { ...o, env: { ...trivyEnv, ...o?.env } }),
        sleep: deps.sleep,
        info: deps.log.info,
        warn: deps.log.warning,
        untrusted: deps.log.untrusted,
        oneLine: (t) => oneLine(t),
        env: trivyEnv,
        cacheDir,
        emptyIgnoreFile: emptyIgnore,
        emptyDir,
        readText: deps.readText,
        now: deps.now,
        attempts: deps.attempts,
        backoffMs: deps.backoffMs,
      },
      { dbFresh: dbCache.fresh, checksFresh: checksCache.fresh },
    );
  } catch (e) {
    if (e instanceof ScanError) throw new UserError(e.message, e.reason);
    throw e;
  } finally {
    rmSync(dockerDir, { recursive: true, force: true });
  }
  if (wantDb && !dbCache.fresh && outcome.dbFrom) await save('db', cacheDir, now, cacheDeps);
  if (wantChecks && !checksCache.fresh && outcome.checksFrom) await save('checks', cacheDir, now, cacheDeps);
  if (deps.stat(cfg.json) !== 'file') throw new UserError(`trivy exited 0 but wrote no report at ${oneLine(cfg.json)}`, 'scan-failed');
  return { path: cfg.json, outcome };
}

/** The whole step. `registryPassword` is the masked secret input ('' when not given). */
export async function flow(cfg: Config, registryPassword: string, deps: FlowDeps): Promise<FlowResult> {
  const { log } = deps;
  for (const w of cfg.warnings) log.warning(`${ACTION}: ${oneLine(w)}`);
  if (cfg.ignore) {
    const { active, expired } = cfg.ignore;
    log.info(
      `${ACTION}: ignore file ${oneLine(cfg.ignoreFileShown)}: ${active.length} active entr${active.length === 1 ? 'y' : 'ies'}, ${expired.length} expired`,
    );
    for (const e of expired)
      log.warning(
        `${ACTION}: ignore entry ${oneLine(entryLabel(e))} in ${oneLine(cfg.ignoreFileShown)} expired on ${oneLine(e.expiredAt ?? '')} and is NOT honoured`,
      );
  }

  // 1. The report: given, or from one Trivy run.
  let outcome: ScanOutcome | undefined;
  let reportPath = cfg.report;
  if (!cfg.report) ({ path: reportPath, outcome } = await scan(cfg, registryPassword, deps));

  let report: TrivyReport;
  try {
    report = parseReport(deps.readFile(reportPath));
  } catch (e) {
    if (e instanceof ReportError) {
      const what = cfg.report ? `input 'report' (${oneLine(cfg.reportShown, 200)})` : 'the report trivy wrote';
      throw new UserError(`${what} is not a usable Trivy JSON report: ${e.message}`, 'bad-report');
    }
    throw e;
  }

  // 2. The gate.
  const ev = evaluate(report, { threshold: cfg.severity, ignoreUnfixed: cfg.ignoreUnfixed, ignore: cfg.ignore });

  // 3. Reports first (written whatever the verdict).
  if (cfg.report && cfg.json !== cfg.report) {
    mkdirSync(dirname(cfg.json), { recursive: true });
    copyFileSync(cfg.report, cfg.json);
  }
  mkdirSync(dirname(cfg.sarif), { recursive: true });
  writeFileSync(cfg.sarif, toSarif(report, ev, report.trivyVersion, { base: sarifBase(cfg, deps) }));

  const subject = cfg.target || report.artifactName || cfg.reportShown;
  const counts = `CRITICAL ${ev.counts.CRITICAL}, HIGH ${ev.counts.HIGH}, MEDIUM ${ev.counts.MEDIUM}, LOW ${ev.counts.LOW}, UNKNOWN ${ev.counts.UNKNOWN}`;
  if (outcome && report.trivyVersion) log.info(`${ACTION}: scanned with trivy ${oneLine(report.trivyVersion, 40)}`);
  log.info(`${ACTION}: ${oneLine(subject, 200)}: ${counts}`);

  let failure: string | undefined;
  if (!ev.passed) {
    for (const f of ev.failingFindings.slice(0, MAX_ANNOTATIONS))
      log.errorAnnotation(oneLine(annotationText(f), 400), { title: `trivy-gate ${f.severity}` });
    if (ev.failingFindings.length > MAX_ANNOTATIONS)
      log.info(
        `${ACTION}: ${ev.failingFindings.length - MAX_ANNOTATIONS} more failing finding(s) not annotated; see the step summary and ${oneLine(cfg.sarif, 200)}`,
      );
    failure = `${ev.failing} finding(s) at ${cfg.severity} or above in ${oneLine(subject, 200)} (${counts})`;
  }
  return {
    report,
    ev,
    outcome,
    subject,
    summary: summary({
      report,
      ev,
      subject,
      ignoreFile: cfg.ignore ? cfg.ignoreFileShown : undefined,
      ignoreUnfixed: cfg.ignoreUnfixed,
      jsonPath: cfg.json,
      sarifPath: cfg.sarif,
    }),
    outputs: outputsOf(ev, cfg),
    failure,
  };
}

/** The outputs: the verdict `passed` and one `-count` per severity (issue 14 item 7). */
export function outputsOf(ev: Evaluation, cfg: Pick<Config, 'json' | 'sarif'>): Record<string, string | number | boolean> {
  return {
    passed: ev.passed,
    'critical-count': ev.counts.CRITICAL,
    'high-count': ev.counts.HIGH,
    'medium-count': ev.counts.MEDIUM,
    'low-count': ev.counts.LOW,
    'unknown-count': ev.counts.UNKNOWN,
    'failing-count': ev.failing,
    json: cfg.json,
    sarif: cfg.sarif,
  };
}

/** fs/config scans of a directory in the workspace: SARIF paths relative to the repository root. */
function sarifBase(cfg: Config, deps: Pick<FlowDeps, 'stat' | 'workspace'>): string {
  const rel =
    cfg.target && (cfg.scanType === 'fs' || cfg.scanType === 'config') && deps.stat(cfg.target) === 'dir'
      ? relative(deps.workspace, cfg.target)
      : '';
  return rel && !rel.startsWith('..') && !isAbsolute(rel) ? rel.split(sep).join('/') : '';
}

/** The audit record's subject: the image (and its digest when the target is a digest reference). */
export function auditSubject(cfg: Pick<Config, 'scanType' | 'target'>): { image?: string; digest?: string } {
  if (cfg.scanType !== 'image' || !cfg.target) return {};
  const ref = parseImageRef(cfg.target);
  return { image: `${ref.registry}/${ref.repository}`, digest: ref.digest };
}

/** The non-secret values that shaped the verdict, for the audit record (issue 16 §2; names from AUDIT-READY.md). */
export function auditFacts(cfg: Config, r?: Pick<FlowResult, 'ev' | 'report'>): Record<string, string | number | boolean | undefined> {
  const facts: Record<string, string | number | boolean | undefined> = {
    'scan-type': cfg.scanType,
    severity: cfg.severity,
    'ignore-unfixed': cfg.ignoreUnfixed,
    'ignore-file-sha256': cfg.ignoreFileSha256,
    'report-given': Boolean(cfg.report),
  };
  if (!r) return facts;
  return {
    ...facts,
    'critical-count': r.ev.counts.CRITICAL,
    'high-count': r.ev.counts.HIGH,
    'medium-count': r.ev.counts.MEDIUM,
    'low-count': r.ev.counts.LOW,
    'unknown-count': r.ev.counts.UNKNOWN,
    'failing-count': r.ev.failing,
    passed: r.ev.passed,
    'trivy-version': /^[\w.+-]{1,40}$/.test(r.report.trivyVersion) ? r.report.trivyVersion : undefined,
  };
}
