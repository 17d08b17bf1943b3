import { copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, isAbsolute, join, relative, sep } from 'node:path';
import { exec, fail, input, log, maskSecret, oneLine, printUntrusted, run, runnerContext, setOutputs, UserError, writeSummary } from '@hallmark/kit';
import { writeScopedDockerConfig } from '@hallmark/oci';
import { checkInputs, SCAN_TYPES } from './config.js';
import { evaluate } from './gate.js';
import { entryLabel } from './ignore.js';
import { parseReport, ReportError, type TrivyReport } from './report.js';
import { toSarif } from './sarif.js';
import { needsChecks, needsDb, runScan, ScanError, type ScanOutcome } from './scan.js';
import { THRESHOLDS } from './severity.js';
import { annotationText, MAX_ANNOTATIONS, summary } from './summary.js';

const ACTION = 'trivy-gate';

function statSafe(p: string): 'file' | 'dir' | 'other' | undefined {
  try {
    const s = statSync(p);
    return s.isFile() ? 'file' : s.isDirectory() ? 'dir' : 'other';
  } catch {
    return undefined;
  }
}

await run(ACTION, async () => {
  const ctx = runnerContext();
  const now = new Date();
  const scannersRaw = input.raw('scanners');
  const registryPassword = input.secret('registry-password');
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
      checksBundleRepository: input.list('checks-bundle-repository'),
      cache: input.boolean('cache', true),
      insecure: input.boolean('insecure', false),
      timeoutMs: input.duration('timeout', { default: '15m', min: 10_000, max: 6 * 3600_000 }),
      registryUsername: input.string('registry-username'),
      registryPasswordGiven: registryPassword !== '',
    },
    {
      workspace: ctx.workspace,
      now,
      stat: statSafe,
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
    const emptyDir = join(work, 'empty');
    mkdirSync(emptyDir, { recursive: true });
    mkdirSync(dirname(cfg.json), { recursive: true });
    // Trivy's environment: no INPUT_* values, and no TRIVY_USERNAME/TRIVY_PASSWORD/TRIVY_REGISTRY_TOKEN,
    // which Trivy offers to every registry it contacts (DB and checks mirrors included).
    const trivyEnv: Record<string, string | undefined> = {};
    for (const k of Object.keys(process.env)) if (k.startsWith('INPUT_')) trivyEnv[k] = undefined;
    const broad = ['TRIVY_USERNAME', 'TRIVY_PASSWORD', 'TRIVY_REGISTRY_TOKEN'].filter((k) => process.env[k]);
    for (const k of broad) {
      maskSecret(process.env[k] as string);
      trivyEnv[k] = undefined;
    }
    if (broad.length) log.warning(`${ACTION}: ${broad.join(', ')} ${broad.length === 1 ? 'is' : 'are'} not passed to trivy: Trivy would send ${broad.length === 1 ? 'it' : 'them'} to every registry it contacts, DB mirrors included. Use the inputs registry-username and registry-password (scoped to the image's registry)`);
    // Registry login: a private docker config holding only the image's registry, removed at the end.
    const dockerDir = join(work, 'docker');
    if (cfg.login) {
      writeScopedDockerConfig(dockerDir, cfg.login.registry, cfg.login.username, registryPassword, maskSecret);
      trivyEnv.DOCKER_CONFIG = dockerDir;
    }
    const { restore, save } = await import('./cache.js');
    const wantDb = needsDb(cfg);
    const wantChecks = needsChecks(cfg);
    const dbCache = wantDb && cfg.cache ? await restore('db', cacheDir, now) : { hit: false, fresh: false };
    const checksCache = wantChecks && cfg.cache ? await restore('checks', cacheDir, now) : { hit: false, fresh: false };
    try {
      outcome = await runScan(
        cfg,
        {
          exec: (tool, args, o) => exec(tool, args, { ...o, env: { ...trivyEnv, ...o?.env } }),
          sleep: (ms) => new Promise((r) => setTimeout(r, ms)),
          info: log.info,
          warn: (m) => log.warning(m),
          untrusted: (t) => printUntrusted(t),
          oneLine: (t) => oneLine(t),
          env: trivyEnv,
          cacheDir,
          emptyIgnoreFile: emptyIgnore,
          emptyDir,
          readText: (p) => {
            try {
              return readFileSync(p, 'utf8');
            } catch {
              return undefined;
            }
          },
          now: () => new Date(),
          attempts: Number(process.env.HALLMARK_TRIVY_DB_ATTEMPTS) || 3,
          backoffMs: process.env.HALLMARK_TRIVY_DB_BACKOFF_MS !== undefined ? Number(process.env.HALLMARK_TRIVY_DB_BACKOFF_MS) : 2000,
        },
        { dbFresh: dbCache.fresh, checksFresh: checksCache.fresh },
      );
    } catch (e) {
      if (e instanceof ScanError) throw new UserError(e.message, e.reason);
      throw e;
    } finally {
      rmSync(dockerDir, { recursive: true, force: true });
    }
    if (wantDb && cfg.cache && !dbCache.fresh && outcome.dbFrom) await save('db', cacheDir, now);
    if (wantChecks && cfg.cache && !checksCache.fresh && outcome.checksFrom) await save('checks', cacheDir, now);
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
  // fs/config scans of a directory in the workspace: SARIF paths relative to the repository root.
  const rel = cfg.target && (cfg.scanType === 'fs' || cfg.scanType === 'config') && statSafe(cfg.target) === 'dir' ? relative(ctx.workspace, cfg.target) : '';
  const base = rel && !rel.startsWith('..') && !isAbsolute(rel) ? rel.split(sep).join('/') : '';
  writeFileSync(cfg.sarif, toSarif(report, ev, report.trivyVersion, { base }));

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
