/**
 * Running Trivy once: check the installed Trivy is current enough, get the vulnerability DB and
 * the misconfiguration checks bundle (from the cache, or downloaded with retries and a fall back
 * through the configured mirrors), then one scan that writes JSON. No severity, ignore or
 * exit-code flags reach Trivy: the gate is ours.
 *
 * Every Trivy run gets `--disable-telemetry` and `--skip-version-check` (trivy v0.74.0
 * pkg/flag/scan_flags.go; both appeared in v0.63.0), so nothing is sent to Aqua and no
 * announcement is fetched. Older Trivy is refused with a clear message rather than run with
 * other flags.
 *
 * The fall backs are ours, one repository per Trivy run, because Trivy itself does not retry a
 * 429 with backoff and takes a single checks-bundle repository:
 * - DB: `trivy image --download-db-only --db-repository <one>`, then the scan with `--skip-db-update`;
 * - checks: `trivy config --checks-bundle-repository <one>` of an empty directory (trivy v0.74.0
 *   pkg/commands/artifact/run.go initMisconfScannerOption: a failed download only logs "Falling
 *   back to embedded checks" and exits 0, so success is read from <cache>/policy/metadata.json),
 *   then the scan with `--skip-check-update`. When every mirror fails, the checks built into
 *   Trivy are used, with a warning.
 */
import { isLoopbackRegistry } from '@hallmark/oci';
import type { Config } from './inputs.js';

export type ExecLike = (
  tool: string,
  args: string[],
  opts?: { timeoutMs?: number; env?: Record<string, string | undefined>; cwd?: string },
) => Promise<{ exitCode: number; stdout: string; stderr: string; timedOut: boolean }>;

export interface ScanDeps {
  exec: ExecLike;
  sleep(ms: number): Promise<void>;
  info(msg: string): void;
  warn(msg: string): void;
  /** Prints tool output we did not write (inert). */
  untrusted(text: string): void;
  oneLine(text: string): string;
  /** Env overrides for every Trivy run (INPUT_* and TRIVY_USERNAME/PASSWORD removed, DOCKER_CONFIG scoped). */
  env: Record<string, string | undefined>;
  cacheDir: string;
  /** An empty file passed as --ignorefile so Trivy never picks up a .trivyignore on its own. */
  emptyIgnoreFile: string;
  /** An empty directory: what the checks-bundle download run scans. */
  emptyDir: string;
  /** Reads a file (undefined when absent): the checks bundle's metadata.json. */
  readText(path: string): string | undefined;
  now(): Date;
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

/** Flags every Trivy run gets. */
export const QUIET_FLAGS = ['--disable-telemetry', '--skip-version-check'] as const;

/** Trivy started at all? (exit 127 / ENOENT from the kit's exec when it is not on PATH). */
function notFound(r: { exitCode: number; stderr: string }): boolean {
  return r.exitCode === 127 || /ENOENT|Unable to locate executable/i.test(r.stderr);
}

const NOT_ON_PATH = 'trivy is not on PATH: install it first (hallmark setup-tools with tools: trivy)';
export const MIN_TRIVY = '0.63.0';

/**
 * Checks the installed Trivy takes `--disable-telemetry` and `--skip-version-check` (from its
 * `image --help`; builds from source report `Version: dev`, so the version string cannot decide).
 */
export async function checkTrivy(deps: ScanDeps): Promise<void> {
  const h = await deps.exec('trivy', ['image', '--help'], { timeoutMs: 120_000, env: deps.env });
  if (notFound(h)) throw new ScanError(NOT_ON_PATH, 'scan-failed');
  const help = `${h.stdout}\n${h.stderr}`;
  if (h.exitCode !== 0 || !help.includes('--scanners'))
    throw new ScanError(`trivy image --help failed (exit ${h.exitCode}): ${deps.oneLine(h.stderr.slice(-300))}`, 'scan-failed');
  if (!help.includes('--disable-telemetry') || !help.includes('--skip-version-check')) {
    const v = await deps.exec('trivy', ['--version'], { timeoutMs: 60_000, env: deps.env });
    const version = /Version:\s*(\S+)/.exec(v.stdout)?.[1] ?? 'unknown';
    throw new ScanError(
      `trivy ${deps.oneLine(version)} is too old: trivy-gate needs Trivy ${MIN_TRIVY} or later (--disable-telemetry, --skip-version-check); install a current one (hallmark setup-tools with tools: trivy)`,
      'scan-failed',
    );
  }
}

/**
 * Download errors that another try cannot fix: the repository or tag does not exist, or access is
 * denied. Everything else — 429 TOOMANYREQUESTS, 5xx, timeouts, resets, and failures Trivy does
 * not explain — is retried with backoff before moving on.
 */
export function isPermanent(output: string): boolean {
  if (/TOOMANYREQUESTS|\b429\b|too many requests|rate.?limit/i.test(output)) return false;
  return /MANIFEST_UNKNOWN|NAME_UNKNOWN|NAME_INVALID|UNAUTHORIZED|DENIED|\b(401|403|404)\b|not found|no such host|invalid reference|unsupported protocol/i.test(
    output,
  );
}

export function needsDb(cfg: Config): boolean {
  return cfg.scanType !== 'config' && cfg.scanners.includes('vuln');
}

export function needsChecks(cfg: Config): boolean {
  return cfg.scanners.includes('misconfig');
}

/** `--insecure` for one repository: only when asked for and the repository is on loopback. */
function insecureFor(cfg: Config, repo: string): string[] {
  return cfg.insecure && isLoopbackRegistry(repo.split('/')[0] as string) ? ['--insecure'] : [];
}

export interface Attempt {
  kind: 'db' | 'checks';
  repository: string;
  attempt: number;
  ok: boolean;
  detail: string;
}

function failureDetail(
  r: { stdout: string; stderr: string; exitCode: number; timedOut: boolean },
  deps: ScanDeps,
  pattern: RegExp,
): string {
  if (r.timedOut) return 'timed out';
  const lines = (r.stderr + r.stdout).split('\n').filter((l) => pattern.test(l));
  return lines.length ? deps.oneLine(lines.slice(-1).join(' ').slice(-300)) : `trivy exited ${r.exitCode} without saying why`;
}

/**
 * Tries `once(repo)` for each repository, up to `attempts` times with exponential backoff on
 * transient errors, then the next repository. Returns the repository that served, or undefined.
 */
async function withMirrors(
  kind: 'db' | 'checks',
  label: string,
  repos: string[],
  deps: ScanDeps,
  log: Attempt[],
  once: (repo: string) => Promise<{ ok: true } | { ok: false; detail: string; transient: boolean }>,
): Promise<string | undefined> {
  const attempts = deps.attempts ?? 3;
  const base = deps.backoffMs ?? 2000;
  for (const repo of repos) {
    for (let i = 1; i <= attempts; i++) {
      const r = await once(repo);
      if (r.ok) {
        log.push({ kind, repository: repo, attempt: i, ok: true, detail: 'downloaded' });
        deps.info(`trivy-gate: ${label} downloaded from ${repo}${i > 1 ? ` (attempt ${i})` : ''}`);
        return repo;
      }
      log.push({ kind, repository: repo, attempt: i, ok: false, detail: r.detail });
      deps.warn(
        `trivy-gate: ${label} download from ${repo} failed (attempt ${i}/${attempts}${r.transient ? '' : ', not retried'}): ${r.detail}`,
      );
      if (!r.transient) break;
      if (i < attempts) await deps.sleep(Math.min(base * 2 ** (i - 1), 30_000));
    }
  }
  return undefined;
}

/** Downloads the vulnerability DB into the cache dir, or throws db-unavailable listing the attempts. */
export async function downloadDb(cfg: Config, deps: ScanDeps, log: Attempt[]): Promise<string> {
  const from = await withMirrors('db', 'vulnerability DB', cfg.dbRepository, deps, log, async (repo) => {
    const args = [
      'image',
      '--download-db-only',
      '--db-repository',
      repo,
      '--cache-dir',
      deps.cacheDir,
      '--no-progress',
      ...QUIET_FLAGS,
      ...insecureFor(cfg, repo),
    ];
    const r = await deps.exec('trivy', args, { timeoutMs: Math.min(cfg.timeoutMs, 10 * 60_000), env: deps.env });
    if (notFound(r)) throw new ScanError(NOT_ON_PATH, 'scan-failed');
    if (r.exitCode === 0) return { ok: true };
    return {
      ok: false,
      detail: failureDetail(r, deps, /FATAL|ERROR|error|TOOMANYREQUESTS|\b\d{3}\b/),
      transient: r.timedOut || !isPermanent(r.stderr + r.stdout),
    };
  });
  if (from) return from;
  throw new ScanError(
    `the vulnerability DB could not be downloaded from ${cfg.dbRepository.join(', ')} (${log.filter((a) => a.kind === 'db' && !a.ok).length} failed attempts; see the warnings)`,
    'db-unavailable',
  );
}

/** When the checks bundle in `cacheDir` was downloaded (its metadata.json), or undefined. */
export function checksDownloadedAt(cacheDir: string, readText: (p: string) => string | undefined): Date | undefined {
  const text = readText(`${cacheDir}/policy/metadata.json`);
  if (!text) return undefined;
  try {
    const t = Date.parse((JSON.parse(text) as { DownloadedAt?: string }).DownloadedAt ?? '');
    return Number.isFinite(t) ? new Date(t) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Downloads the checks bundle into the cache dir through the mirrors. Returns the repository that
 * served it, or undefined (every mirror failed: the scan uses the checks built into Trivy).
 */
export async function downloadChecks(cfg: Config, deps: ScanDeps, log: Attempt[]): Promise<string | undefined> {
  return withMirrors('checks', 'checks bundle', cfg.checksBundleRepository, deps, log, async (repo) => {
    const started = deps.now();
    const args = [
      'config',
      '--checks-bundle-repository',
      repo,
      '--cache-dir',
      deps.cacheDir,
      ...QUIET_FLAGS,
      ...insecureFor(cfg, repo),
      '--format',
      'json',
      '--output',
      `${deps.emptyDir}.json`,
      '--',
      deps.emptyDir,
    ];
    const r = await deps.exec('trivy', args, { timeoutMs: Math.min(cfg.timeoutMs, 10 * 60_000), env: deps.env });
    if (notFound(r)) throw new ScanError(NOT_ON_PATH, 'scan-failed');
    const at = checksDownloadedAt(deps.cacheDir, deps.readText);
    // Trivy rewrites metadata.json after a download, or after finding the remote digest unchanged.
    if (r.exitCode === 0 && at && at.getTime() >= started.getTime() - 1000) return { ok: true };
    const out = r.stderr + r.stdout;
    return {
      ok: false,
      detail: failureDetail(r, deps, /Falling back|FATAL|ERROR|error|TOOMANYREQUESTS/),
      transient: r.timedOut || !isPermanent(out),
    };
  });
}

export function scanArgs(cfg: Config, deps: Pick<ScanDeps, 'cacheDir' | 'emptyIgnoreFile'>): string[] {
  const cmd = cfg.scanType;
  const args = [
    cmd,
    '--cache-dir',
    deps.cacheDir,
    '--format',
    'json',
    '--output',
    cfg.json,
    '--exit-code',
    '0',
    '--ignorefile',
    deps.emptyIgnoreFile,
    '--timeout',
    `${Math.max(1, Math.floor(cfg.timeoutMs / 1000))}s`,
    ...QUIET_FLAGS,
  ];
  if (cfg.scanType !== 'config') {
    args.push('--no-progress', '--scanners', cfg.scanners.join(','));
    if (needsDb(cfg)) args.push('--skip-db-update');
    // The Java DB is large and only needed when JAR files are found: Trivy fetches it itself then,
    // trying our repositories in order.
    if (needsDb(cfg) && cfg.scanType !== 'sbom') args.push('--java-db-repository', cfg.javaDbRepository.join(','));
  }
  // The checks bundle was fetched (or found fresh) before, through our mirrors; the scan never fetches it.
  if (needsChecks(cfg)) args.push('--skip-check-update');
  if (cfg.scanType === 'image' && cfg.insecure) args.push('--insecure', '--image-src', 'remote');
  // Positional target last, after `--` so a path can never be read as a flag.
  args.push('--', cfg.target);
  return args;
}

export interface ScanOutcome {
  dbFrom?: string;
  checksFrom?: string;
  /** The checks bundle could not be had: Trivy's embedded checks were used. */
  embeddedChecks: boolean;
  attempts: Attempt[];
}

/** Runs the whole scan; the JSON report is at cfg.json afterwards. */
export async function runScan(cfg: Config, deps: ScanDeps, opts: { dbFresh: boolean; checksFresh: boolean }): Promise<ScanOutcome> {
  await checkTrivy(deps);
  const outcome: ScanOutcome = { attempts: [], embeddedChecks: false };
  if (needsDb(cfg)) {
    if (opts.dbFresh) deps.info('trivy-gate: vulnerability DB from the cache is fresh; not downloading');
    else outcome.dbFrom = await downloadDb(cfg, deps, outcome.attempts);
  }
  if (needsChecks(cfg)) {
    if (opts.checksFresh) deps.info('trivy-gate: checks bundle from the cache is fresh; not downloading');
    else {
      outcome.checksFrom = await downloadChecks(cfg, deps, outcome.attempts);
      if (!outcome.checksFrom) {
        outcome.embeddedChecks = true;
        deps.warn(
          `trivy-gate: the checks bundle could not be downloaded from ${cfg.checksBundleRepository.join(', ')}: misconfigurations are checked with the checks built into this trivy`,
        );
      }
    }
  }
  const args = scanArgs(cfg, deps);
  const r = await deps.exec('trivy', args, { timeoutMs: cfg.timeoutMs + 30_000, env: deps.env });
  if (notFound(r)) throw new ScanError(NOT_ON_PATH, 'scan-failed');
  if (r.exitCode !== 0) {
    if (r.stderr) deps.untrusted(r.stderr.split('\n').slice(-30).join('\n'));
    if (r.timedOut) throw new ScanError(`trivy ${cfg.scanType} timed out`, 'scan-failed');
    const last =
      r.stderr
        .split('\n')
        .filter((l) => /FATAL|ERROR|[Ee]rror/.test(l))
        .slice(-1)[0] ?? r.stderr.slice(-300);
    throw new ScanError(`trivy ${cfg.scanType} failed (exit ${r.exitCode}): ${deps.oneLine(last)}`, 'scan-failed');
  }
  return outcome;
}
