/**
 * Running Trivy once: detect what the installed Trivy understands, get the vulnerability DB
 * (from the cache, or downloaded with retries and a fall back through `db-repository`), then one
 * scan that writes JSON. No severity, ignore or exit-code flags reach Trivy: the gate is ours.
 *
 * Trivy flavours: current Trivy (≥ 0.5x) says `misconfig` and `--skip-check-update`; older ones
 * say `config` and `--skip-policy-update`, and take one `--db-repository`. We read the help text
 * rather than the version string (builds from source report `Version: dev`). The DB fall back is
 * ours — one `--download-db-only --db-repository <one>` attempt per repository, then the scan with
 * `--skip-db-update` — so it works with both.
 */
import type { Config, Scanner } from './config.js';

export interface ExecLike {
  (tool: string, args: string[], opts?: { timeoutMs?: number; env?: Record<string, string | undefined>; cwd?: string }): Promise<{ exitCode: number; stdout: string; stderr: string; timedOut: boolean }>;
}

export interface TrivyFlavour {
  version: string;
  /** `misconfig` (current) or `config` (old) in --scanners. */
  misconfigName: 'misconfig' | 'config';
  skipChecksFlag?: '--skip-check-update' | '--skip-policy-update';
  javaDb: boolean;
  /** `--java-db-repository` takes a list (current Trivy) rather than one repository. */
  javaDbList: boolean;
}

export interface ScanDeps {
  exec: ExecLike;
  sleep(ms: number): Promise<void>;
  info(msg: string): void;
  warn(msg: string): void;
  /** Prints tool output we did not write (inert). */
  untrusted(text: string): void;
  oneLine(text: string): string;
  /** Base env overrides for Trivy (e.g. INPUT_* removed). */
  env: Record<string, string | undefined>;
  cacheDir: string;
  /** An empty file passed as --ignorefile so Trivy never picks up a .trivyignore on its own. */
  emptyIgnoreFile: string;
  /** Retries per repository and the first backoff. */
  attempts?: number;
  backoffMs?: number;
}

export class ScanError extends Error {
  constructor(
    message: string,
    readonly reason: 'scan-failed' | 'db-unavailable',
  ) {
    super(message);
    this.name = 'ScanError';
  }
}

/** Trivy started at all? (exit 127 / ENOENT from the kit's exec when it is not on PATH). */
function notFound(r: { exitCode: number; stderr: string }): boolean {
  return r.exitCode === 127 || /ENOENT|Unable to locate executable/i.test(r.stderr);
}

const NOT_ON_PATH = 'trivy is not on PATH: install it first (hallmark setup-tools with tools: trivy)';

/**
 * Reads `trivy image --help` (each Trivy start costs seconds, so this runs only when the answer
 * matters: a misconfig scanner on image/fs, or a DB download). The version comes from the report.
 */
export async function detectTrivy(deps: ScanDeps): Promise<TrivyFlavour> {
  const h = await deps.exec('trivy', ['image', '--help'], { timeoutMs: 120_000, env: deps.env });
  if (notFound(h)) throw new ScanError(NOT_ON_PATH, 'scan-failed');
  const help = `${h.stdout}\n${h.stderr}`;
  if (h.exitCode !== 0 || !help.includes('--scanners')) throw new ScanError(`trivy image --help failed (exit ${h.exitCode}): ${deps.oneLine(h.stderr.slice(-300))}`, 'scan-failed');
  const scannersLine = /--scanners[^\n]*/.exec(help)?.[0] ?? '';
  return {
    version: '',
    misconfigName: /misconfig/.test(scannersLine) || !/\bconfig\b/.test(scannersLine) ? 'misconfig' : 'config',
    skipChecksFlag: help.includes('--skip-check-update') ? '--skip-check-update' : help.includes('--skip-policy-update') ? '--skip-policy-update' : undefined,
    javaDb: help.includes('--java-db-repository'),
    javaDbList: /--java-db-repository strings/.test(help),
  };
}

/** What a scan without a help call assumes: current Trivy; only flags common to all versions are used. */
export const ASSUMED: TrivyFlavour = { version: '', misconfigName: 'misconfig', javaDb: false, javaDbList: false };

/**
 * Download errors that another try cannot fix: the repository or tag does not exist, or access is
 * denied. Everything else — 429 TOOMANYREQUESTS, 5xx, timeouts, resets, and failures Trivy does
 * not explain (some builds exit 1 without a message) — is retried with backoff before moving on.
 */
export function isPermanent(output: string): boolean {
  if (/TOOMANYREQUESTS|\b429\b|too many requests|rate.?limit/i.test(output)) return false;
  return /MANIFEST_UNKNOWN|NAME_UNKNOWN|NAME_INVALID|UNAUTHORIZED|DENIED|\b(401|403|404)\b|not found|no such host|invalid reference|unsupported protocol/i.test(output);
}

function needsDb(cfg: Config): boolean {
  return cfg.scanType !== 'config' && cfg.scanners.includes('vuln');
}

export interface DbAttempt {
  repository: string;
  attempt: number;
  ok: boolean;
  detail: string;
}

/**
 * Downloads a DB (vulnerability or Java) into the cache dir: up to `attempts` tries per repository
 * with exponential backoff on transient errors, then the next repository. Returns the repository
 * that served it, or throws db-unavailable listing every attempt.
 */
export async function downloadDb(kind: 'db' | 'java-db', repos: string[], cfg: Config, flavour: TrivyFlavour, deps: ScanDeps, log: DbAttempt[]): Promise<string> {
  const attempts = deps.attempts ?? 3;
  const base = deps.backoffMs ?? 2000;
  const onlyFlag = kind === 'db' ? '--download-db-only' : '--download-java-db-only';
  const repoFlag = kind === 'db' ? '--db-repository' : '--java-db-repository';
  for (const repo of repos) {
    for (let i = 1; i <= attempts; i++) {
      const args = ['image', onlyFlag, repoFlag, repo, '--cache-dir', deps.cacheDir, '--no-progress', '--quiet'];
      if (cfg.insecure) args.push('--insecure');
      const r = await deps.exec('trivy', args, { timeoutMs: Math.min(cfg.timeoutMs, 10 * 60_000), env: deps.env });
      if (r.exitCode === 0) {
        log.push({ repository: repo, attempt: i, ok: true, detail: 'downloaded' });
        deps.info(`trivy-gate: ${kind === 'db' ? 'vulnerability DB' : 'Java DB'} downloaded from ${repo}${i > 1 ? ` (attempt ${i})` : ''}`);
        return repo;
      }
      const lines = (r.stderr + r.stdout).split('\n').filter((l) => /FATAL|ERROR|error|TOOMANYREQUESTS|\b\d{3}\b/.test(l));
      const detail = r.timedOut ? 'timed out' : lines.length ? deps.oneLine(lines.slice(-1).join(' ').slice(-300)) : `trivy exited ${r.exitCode} without saying why`;
      log.push({ repository: repo, attempt: i, ok: false, detail });
      const transient = r.timedOut || !isPermanent(r.stderr + r.stdout);
      deps.warn(`trivy-gate: ${kind} download from ${repo} failed (attempt ${i}/${attempts}${transient ? '' : ', not retried'}): ${detail}`);
      if (!transient) break;
      if (i < attempts) await deps.sleep(Math.min(base * 2 ** (i - 1), 30_000));
    }
  }
  throw new ScanError(`the ${kind === 'db' ? 'vulnerability' : 'Java'} DB could not be downloaded from ${repos.join(', ')} (${log.filter((a) => !a.ok).length} failed attempts; see the warnings)`, 'db-unavailable');
}

export function scanArgs(cfg: Config, flavour: TrivyFlavour, deps: Pick<ScanDeps, 'cacheDir' | 'emptyIgnoreFile'>): string[] {
  const cmd = cfg.scanType === 'fs' ? 'fs' : cfg.scanType;
  const args = [cmd, '--cache-dir', deps.cacheDir, '--format', 'json', '--output', cfg.json, '--exit-code', '0', '--ignorefile', deps.emptyIgnoreFile, '--timeout', `${Math.max(1, Math.floor(cfg.timeoutMs / 1000))}s`];
  if (cfg.scanType !== 'config') {
    args.push('--no-progress');
    const names = cfg.scanners.map((s: Scanner) => (s === 'misconfig' ? flavour.misconfigName : s));
    args.push('--scanners', names.join(','));
    if (needsDb(cfg)) args.push('--skip-db-update');
    // The Java DB is large and only needed when JAR files are found: Trivy fetches it itself then,
    // from our repositories (all of them where Trivy takes a list).
    if (flavour.javaDb && cfg.scanners.includes('vuln') && cfg.scanType !== 'sbom') args.push('--java-db-repository', flavour.javaDbList ? cfg.javaDbRepository.join(',') : (cfg.javaDbRepository[0] as string));
  }
  if (cfg.scanType === 'image' && cfg.insecure) args.push('--insecure', '--image-src', 'remote');
  // Positional target last, after `--` so a path can never be read as a flag.
  args.push('--', cfg.target);
  return args;
}

export interface ScanOutcome {
  flavour: TrivyFlavour;
  dbFrom?: string;
  dbAttempts: DbAttempt[];
}

/** Runs the whole scan; the JSON report is at cfg.json afterwards. */
export async function runScan(cfg: Config, deps: ScanDeps, opts: { dbFresh: boolean }): Promise<ScanOutcome> {
  const mustDetect = needsDb(cfg) || (cfg.scanType !== 'config' && cfg.scanners.includes('misconfig'));
  const flavour = mustDetect ? await detectTrivy(deps) : ASSUMED;
  if (mustDetect) deps.info(`trivy-gate: ${flavour.misconfigName === 'config' ? 'older Trivy CLI (--scanners config, one --db-repository)' : 'current Trivy CLI'}`);
  const dbAttempts: DbAttempt[] = [];
  const outcome: ScanOutcome = { flavour, dbAttempts };
  if (needsDb(cfg)) {
    if (opts.dbFresh) deps.info('trivy-gate: vulnerability DB from the cache is fresh; not downloading');
    else outcome.dbFrom = await downloadDb('db', cfg.dbRepository, cfg, flavour, deps, dbAttempts);
  }
  const args = scanArgs(cfg, flavour, deps);
  const r = await deps.exec('trivy', args, { timeoutMs: cfg.timeoutMs + 30_000, env: deps.env });
  if (notFound(r)) throw new ScanError(NOT_ON_PATH, 'scan-failed');
  if (r.exitCode !== 0) {
    if (r.stderr) deps.untrusted(r.stderr.split('\n').slice(-30).join('\n'));
    if (r.timedOut) throw new ScanError(`trivy ${cfg.scanType} timed out`, 'scan-failed');
    const db = /DB error|failed to download vulnerability DB|database|TOOMANYREQUESTS/i.test(r.stderr);
    const last = r.stderr.split('\n').filter((l) => /FATAL|ERROR|[Ee]rror/.test(l)).slice(-1)[0] ?? r.stderr.slice(-300);
    throw new ScanError(`trivy ${cfg.scanType} failed (exit ${r.exitCode}): ${deps.oneLine(last)}`, db && needsDb(cfg) ? 'db-unavailable' : 'scan-failed');
  }
  return outcome;
}
