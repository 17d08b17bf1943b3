import { copyFileSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { exec, fail, input, log, oneLine, printUntrusted, run, runnerContext, setOutputs, UserError, writeSummary } from '@hallmark/kit';
import { checkInputs, SCAN_TYPES } from './config.js';
import { evaluate } from './gate.js';
import { entryLabel } from './ignore.js';
import { parseReport, ReportError, type TrivyReport } from './report.js';
import { toSarif } from './sarif.js';
import { runScan, ScanError, type ScanOutcome } from './scan.js';
import { THRESHOLDS } from './severity.js';
import { annotationText, MAX_ANNOTATIONS, summary } from './summary.js';

const ACTION = 'trivy-gate';

await run(ACTION, async () => {
  const ctx = runnerContext();
  const now = new Date();
  const scannersRaw = input.raw('scanners');
  const cfg = checkInputs(
    {
      scanType: input.oneOf('scan-type', SCAN_TYPES, { default: 'image' }),
      target: input.string('target'),
      report: input.string('report'),
      severity: input.oneOf('severity', THRESHOLDS, { default: 'HIGH', caseInsensitive: true }),
      ignoreUnfixed: input.boolean('ignore-unfixed', false),
      scanners: input.list('scanners'),
      scannersGiven: scannersRaw !== '',
      ignoreFile: input.string('ignore-file'),
      sarif: input.string('sarif', { default: 'trivy-results.sarif' }),
      json: input.string('json', { default: 'trivy-results.json' }),
      dbRepository: input.list('db-repository'),
      javaDbRepository: input.list('java-db-repository'),
      cache: input.boolean('cache', true),
      insecure: input.boolean('insecure', false),
      timeoutMs: input.duration('timeout', { default: '15m', min: 10_000, max: 6 * 3600_000 }),
    },
    {
      workspace: ctx.workspace,
      now,
      stat: (p) => {
        try {
          const s = statSync(p);
          return s.isFile() ? 'file' : s.isDirectory() ? 'dir' : 'other';
        } catch {
          return undefined;
        }
      },
      readText: (p) => readFileSync(p, 'utf8'),
    },
  );
  for (const w of cfg.warnings) log.warning(`${ACTION}: ${oneLine(w)}`);
  if (cfg.ignore) {
    log.info(`${ACTION}: ignore file ${oneLine(cfg.ignoreFileShown)}: ${cfg.ignore.active.length} active entr${cfg.ignore.active.length === 1 ? 'y' : 'ies'}, ${cfg.ignore.expired.length} expired`);
    for (const e of cfg.ignore.expired) log.warning(`${ACTION}: ignore entry ${oneLine(entryLabel(e))} in ${oneLine(cfg.ignoreFileShown)} expired on ${oneLine(e.expiredAt ?? '')} and is NOT honoured`);
  }

  // 1. The report: given, or from one Trivy run.
  let outcome: ScanOutcome | undefined;
  let reportPath = cfg.report;
  if (!cfg.report) {
    const work = join(ctx.temp, 'trivy-gate');
    const cacheDir = join(work, 'cache');
    mkdirSync(cacheDir, { recursive: true });
    const emptyIgnore = join(work, 'empty.trivyignore');
    writeFileSync(emptyIgnore, '');
    mkdirSync(dirname(cfg.json), { recursive: true });
    const scrub: Record<string, undefined> = {};
    for (const k of Object.keys(process.env)) if (k.startsWith('INPUT_')) scrub[k] = undefined;
    const { restoreDb, saveDb } = await import('./cache.js');
    const needsDb = cfg.scanType !== 'config' && cfg.scanners.includes('vuln');
    const restored = needsDb && cfg.cache ? await restoreDb(cacheDir, now) : { hit: false, fresh: false };
    try {
      outcome = await runScan(cfg, {
        exec: (tool, args, o) => exec(tool, args, { ...o, env: { ...scrub, ...o?.env } }),
        sleep: (ms) => new Promise((r) => setTimeout(r, ms)),
        info: log.info,
        warn: (m) => log.warning(m),
        untrusted: (t) => printUntrusted(t),
        oneLine: (t) => oneLine(t),
        env: scrub,
        cacheDir,
        emptyIgnoreFile: emptyIgnore,
        attempts: Number(process.env.HALLMARK_TRIVY_DB_ATTEMPTS) || 3,
        backoffMs: process.env.HALLMARK_TRIVY_DB_BACKOFF_MS !== undefined ? Number(process.env.HALLMARK_TRIVY_DB_BACKOFF_MS) : 2000,
      }, { dbFresh: restored.fresh });
    } catch (e) {
      if (e instanceof ScanError) throw new UserError(e.message, e.reason);
      throw e;
    }
    if (needsDb && cfg.cache && !restored.fresh && outcome.dbFrom) await saveDb(cacheDir, now);
    reportPath = cfg.json;
    if (!existsSync(reportPath)) throw new UserError(`trivy exited 0 but wrote no report at ${oneLine(reportPath)}`, 'scan-failed');
  }

  let report: TrivyReport;
  try {
    report = parseReport(readFileSync(reportPath));
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
  writeFileSync(cfg.sarif, toSarif(report, ev, report.trivyVersion || outcome?.flavour.version || ''));

  const subject = cfg.target || report.artifactName || cfg.reportShown;
  writeSummary(summary({ report, ev, subject, ignoreFile: cfg.ignore ? cfg.ignoreFileShown : undefined, ignoreUnfixed: cfg.ignoreUnfixed, jsonPath: cfg.json, sarifPath: cfg.sarif }));
  setOutputs({
    passed: ev.passed,
    critical: ev.counts.CRITICAL,
    high: ev.counts.HIGH,
    medium: ev.counts.MEDIUM,
    low: ev.counts.LOW,
    unknown: ev.counts.UNKNOWN,
    failing: ev.failing,
    json: cfg.json,
    sarif: cfg.sarif,
  });
  if (outcome && report.trivyVersion) log.info(`${ACTION}: scanned with trivy ${oneLine(report.trivyVersion, 40)}`);
  log.info(`${ACTION}: ${oneLine(subject, 200)}: CRITICAL ${ev.counts.CRITICAL}, HIGH ${ev.counts.HIGH}, MEDIUM ${ev.counts.MEDIUM}, LOW ${ev.counts.LOW}, UNKNOWN ${ev.counts.UNKNOWN}`);

  if (!ev.passed) {
    for (const f of ev.failingFindings.slice(0, MAX_ANNOTATIONS)) log.errorAnnotation(oneLine(annotationText(f), 400), { title: `trivy-gate ${f.severity}` });
    if (ev.failingFindings.length > MAX_ANNOTATIONS) log.info(`${ACTION}: ${ev.failingFindings.length - MAX_ANNOTATIONS} more failing finding(s) not annotated; see the step summary and ${oneLine(cfg.sarif, 200)}`);
    fail(ACTION, 'gate-failed', `${ev.failing} finding(s) at ${cfg.severity} or above in ${oneLine(subject, 200)} (CRITICAL ${ev.counts.CRITICAL}, HIGH ${ev.counts.HIGH}, MEDIUM ${ev.counts.MEDIUM}, LOW ${ev.counts.LOW}, UNKNOWN ${ev.counts.UNKNOWN})`);
  } else {
    setOutputs({ 'failure-reason': '' });
  }
});
