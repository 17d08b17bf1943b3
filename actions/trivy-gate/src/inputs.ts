/**
 * trivy-gate's inputs, checked as plain data before anything runs: a bad input fails with one
 * `input '<name>' …` error before Trivy starts, a cache is restored or a file is written. The
 * paths arrive resolved and checked by the kit's `input.path` in main.ts (absolute, existing, of
 * the right kind); the rules here are trivy-gate's own.
 */
import { createHash } from 'node:crypto';
import { resolve } from 'node:path';
import { InputError, shown } from '@hallmark/kit';
import { isLoopbackRegistry, parseImageRef, RefError } from '@hallmark/oci';
import { IgnoreFileError, parseIgnoreFile, type IgnoreConfig } from './ignore.js';
import type { Threshold } from './severity.js';

export const SCAN_TYPES = ['image', 'fs', 'config', 'sbom'] as const;
export type ScanType = (typeof SCAN_TYPES)[number];
export const SCANNERS = ['vuln', 'secret', 'misconfig', 'license'] as const;
export type Scanner = (typeof SCANNERS)[number];

export const FAILURE_REASONS = ['invalid-input', 'gate-failed', 'scan-failed', 'db-unavailable', 'bad-report'] as const;

export const DEFAULT_DB_REPOSITORIES = [
  'mirror.gcr.io/aquasec/trivy-db',
  'ghcr.io/aquasecurity/trivy-db',
  'public.ecr.aws/aquasecurity/trivy-db',
];
export const DEFAULT_JAVA_DB_REPOSITORIES = [
  'mirror.gcr.io/aquasec/trivy-java-db',
  'ghcr.io/aquasecurity/trivy-java-db',
  'public.ecr.aws/aquasecurity/trivy-java-db',
];
/** Trivy's default (trivy v0.74.0 pkg/policy/policy.go: BundleRepository, BundleVersion 2) and the GHCR original. */
export const DEFAULT_CHECKS_REPOSITORIES = ['mirror.gcr.io/aquasec/trivy-checks:2', 'ghcr.io/aquasecurity/trivy-checks:2'];
/** The checks bundle's major version: the tag when a repository is given without one. */
export const CHECKS_BUNDLE_TAG = '2';

export interface RawInputs {
  scanType: ScanType;
  /** An image reference as given (scan-type image), or the absolute path main.ts resolved; '' when unset. */
  target: string;
  /** Absolute path of an existing file (input.path), or ''. */
  report: string;
  /** `report` as given (for messages). */
  reportShown: string;
  severity: Threshold;
  ignoreUnfixed: boolean;
  scanners: string[];
  /** True when `scanners` was given (not the default). */
  scannersGiven: boolean;
  /** Absolute path of an existing file (input.path), or '' (then a .trivyignore(.yaml) at the workspace root is used when present). */
  ignoreFile: string;
  ignoreFileShown: string;
  /** Absolute paths (input.path: not a directory). */
  sarif: string;
  json: string;
  dbRepository: string[];
  javaDbRepository: string[];
  checksBundleRepository: string[];
  cache: boolean;
  insecure: boolean;
  timeoutMs: number;
  registryUsername: string;
  /** True when `registry-password` was given (the value itself never enters the config). */
  registryPasswordGiven: boolean;
}

/** The checked inputs. Paths, severity, cache, insecure and timeout as read; the rest decided here. */
export interface Config
  extends Pick<
    RawInputs,
    | 'scanType'
    | 'target'
    | 'report'
    | 'reportShown'
    | 'severity'
    | 'ignoreUnfixed'
    | 'ignoreFileShown'
    | 'sarif'
    | 'json'
    | 'dbRepository'
    | 'javaDbRepository'
    | 'cache'
    | 'insecure'
    | 'timeoutMs'
  > {
  scanners: Scanner[];
  ignore?: IgnoreConfig;
  /** SHA-256 (hex) of the ignore file honoured, for the audit record. */
  ignoreFileSha256?: string;
  /** With a tag (`:2` added when none was given). */
  checksBundleRepository: string[];
  /** Registry login for the image's registry only: the host key of the scoped docker config. */
  login?: { username: string; registry: string };
  warnings: string[];
}

export interface Env {
  workspace: string;
  now: Date;
  /** 'file' | 'dir' | undefined (absent). */
  stat(path: string): 'file' | 'dir' | 'other' | undefined;
  readText(path: string): string;
}

const REPO_RE =
  /^(?:localhost|[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*|\[[0-9a-fA-F:]+\])(?::\d{1,5})?(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)+(?::[\w][\w.-]{0,127})?$/;

function hostOf(repo: string): string {
  return repo.split('/')[0] as string;
}

export function checkInputs(raw: RawInputs, env: Env): Config {
  const warnings: string[] = [];
  const scanType = raw.scanType;

  // report mode: Trivy is not run
  const report = raw.report;

  // target
  let target = '';
  if (!raw.target && !report)
    throw new InputError(
      'target',
      scanType === 'image'
        ? 'is required: an image reference, preferably by digest (registry/repo@sha256:…)'
        : `is required: the path to scan with scan-type ${scanType}`,
    );
  if (raw.target) {
    if (scanType === 'image') {
      if (/[\s;&|`$<>(){}'"\\!*?]/.test(raw.target))
        throw new InputError(
          'target',
          `must be an image reference (registry/repository[:tag][@sha256:…]) without spaces or shell characters (got ${shown(raw.target)})`,
        );
      if (raw.target.startsWith('-'))
        throw new InputError('target', `must be an image reference, not an option (got ${shown(raw.target)})`);
      try {
        const ref = parseImageRef(raw.target);
        if (!ref.digest && !report)
          warnings.push(
            `target ${raw.target} is a mutable tag: the image scanned may not be the one you deploy; pass the digest reference (…@sha256:…) from build-sign's image-ref output`,
          );
        if (raw.insecure && !isLoopbackRegistry(ref.registry))
          throw new InputError(
            'insecure',
            `can only be true for a loopback registry (127.0.0.1, localhost); ${shown(ref.registry)} is not one`,
          );
      } catch (e) {
        if (e instanceof RefError) throw new InputError('target', `must be an image reference: ${e.message}`);
        throw e;
      }
      target = raw.target;
    } else {
      // Resolved by main.ts (input.resolvePath: must exist unless a report is given; a file for sbom).
      target = raw.target;
    }
  }

  // scanners
  const defaults: Record<ScanType, Scanner[]> = {
    image: ['vuln', 'secret', 'misconfig'],
    fs: ['vuln', 'secret', 'misconfig'],
    config: ['misconfig'],
    sbom: ['vuln'],
  };
  let scanners: Scanner[] = defaults[scanType];
  if (raw.scannersGiven) {
    const out: Scanner[] = [];
    for (const s0 of raw.scanners) {
      const s = s0.toLowerCase() === 'config' ? 'misconfig' : s0.toLowerCase();
      if (!(SCANNERS as readonly string[]).includes(s))
        throw new InputError('scanners', `must be a list of ${SCANNERS.join(', ')} (got ${shown(s0)})`);
      if (!out.includes(s as Scanner)) out.push(s as Scanner);
    }
    if (out.length === 0) throw new InputError('scanners', `must name at least one of ${SCANNERS.join(', ')}`);
    if (scanType === 'config' && out.some((s) => s !== 'misconfig'))
      throw new InputError('scanners', 'can only be misconfig with scan-type config');
    if (scanType === 'sbom' && out.some((s) => s !== 'vuln' && s !== 'license'))
      throw new InputError('scanners', 'can only be vuln (or license) with scan-type sbom');
    scanners = out;
  }

  // ignore file (read and checked now, so a broken file fails before the scan)
  let ignore: IgnoreConfig | undefined;
  let ignoreFileShown = raw.ignoreFileShown;
  let ignorePath = raw.ignoreFile;
  if (!ignorePath) {
    // Trivy's own default, made visible: a .trivyignore(.yaml) at the workspace root.
    for (const name of ['.trivyignore.yaml', '.trivyignore.yml', '.trivyignore']) {
      const p = resolve(env.workspace, name);
      if (env.stat(p) === 'file') {
        ignorePath = p;
        ignoreFileShown = name;
        break;
      }
    }
  }
  let ignoreFileSha256: string | undefined;
  if (ignorePath) {
    try {
      const text = env.readText(ignorePath);
      ignoreFileSha256 = createHash('sha256').update(text, 'utf8').digest('hex');
      ignore = parseIgnoreFile(text, ignoreFileShown, env.now);
    } catch (e) {
      if (e instanceof IgnoreFileError) throw new InputError('ignore-file', `${shown(ignoreFileShown)} cannot be used: ${e.message}`);
      throw e;
    }
  }

  // outputs (input.path in main.ts: required, absolute, not a directory)
  const { sarif, json } = raw;
  if (sarif === json) throw new InputError('sarif', `must differ from 'json' (both are ${shown(sarif)})`);
  if (report && sarif === report) throw new InputError('sarif', 'must not be the report being gated (it would be overwritten)');

  // database and checks bundle
  for (const [name, list] of [
    ['db-repository', raw.dbRepository],
    ['java-db-repository', raw.javaDbRepository],
    ['checks-bundle-repository', raw.checksBundleRepository],
  ] as const) {
    for (const r of list) {
      if (/^[a-z]+:\/\//i.test(r))
        throw new InputError(
          name,
          `must be a list of OCI repositories without a scheme, e.g. ghcr.io/aquasecurity/trivy-db (got ${shown(r)})`,
        );
      if (!REPO_RE.test(r))
        throw new InputError(name, `must be a list of OCI repositories such as mirror.gcr.io/aquasec/trivy-db (got ${shown(r)})`);
      if (raw.insecure && !isLoopbackRegistry(hostOf(r)))
        throw new InputError('insecure', `can only be true when every registry is on loopback; ${shown(r)} in '${name}' is not`);
    }
  }
  const dbRepository = raw.dbRepository.length ? raw.dbRepository : DEFAULT_DB_REPOSITORIES;
  const javaDbRepository = raw.javaDbRepository.length ? raw.javaDbRepository : DEFAULT_JAVA_DB_REPOSITORIES;
  if (raw.insecure && !raw.dbRepository.length && scanners.includes('vuln') && scanType !== 'config')
    throw new InputError('insecure', "needs 'db-repository' on loopback too (the default repositories are public registries)");
  // `--insecure` goes only to the runs that fetch from loopback, so the public default checks
  // repositories stay usable next to a loopback image.
  const checksBundleRepository = (raw.checksBundleRepository.length ? raw.checksBundleRepository : DEFAULT_CHECKS_REPOSITORIES).map((r) =>
    /:[\w][\w.-]{0,127}$/.test(r.slice(r.indexOf('/'))) ? r : `${r}:${CHECKS_BUNDLE_TAG}`,
  );

  // registry login: only for the image's registry, so only with an image scan
  let login: Config['login'];
  if (raw.registryUsername && !/^[^\s:]{1,256}$/.test(raw.registryUsername))
    throw new InputError('registry-username', `must be one word without spaces or colons (got ${shown(raw.registryUsername)})`);
  if (raw.registryUsername && !raw.registryPasswordGiven)
    throw new InputError('registry-password', "is required when 'registry-username' is set");
  if (raw.registryPasswordGiven && !raw.registryUsername)
    throw new InputError('registry-username', "is required when 'registry-password' is set");
  if (raw.registryUsername) {
    if (report) throw new InputError('registry-username', "is only used when Trivy scans an image; with 'report' Trivy is not run");
    if (scanType !== 'image')
      throw new InputError(
        'registry-username',
        `is only used with scan-type image (the login is scoped to the image's registry), not ${scanType}`,
      );
    const registry = parseImageRef(target).registry;
    // go-containerregistry's keychain looks Docker Hub up under its legacy key.
    login = {
      username: raw.registryUsername,
      registry: registry === 'docker.io' || registry === 'index.docker.io' ? 'https://index.docker.io/v1/' : registry,
    };
  }

  return {
    scanType,
    target,
    report,
    reportShown: raw.reportShown,
    severity: raw.severity,
    ignoreUnfixed: raw.ignoreUnfixed,
    scanners,
    ignore,
    ignoreFileShown,
    ignoreFileSha256,
    sarif,
    json,
    dbRepository,
    javaDbRepository,
    checksBundleRepository,
    cache: raw.cache,
    insecure: raw.insecure,
    timeoutMs: raw.timeoutMs,
    login,
    warnings,
  };
}
