/**
 * The cosign CLI invocation shared by build-sign and sbom-attach: argument arrays for `sign`,
 * `verify`, `attest`, `sign-blob` and `public-key`, how key material reaches cosign, and the
 * parsing and checking of `cosign verify` output.
 *
 * Rules this module enforces:
 * - Images are always addressed by digest (`repo@sha256:…`); a tag reference is refused.
 * - Key material never appears in an argument. Key mode passes `--key env://COSIGN_KEY` with the
 *   PEM in the COSIGN_KEY variable and the password in COSIGN_PASSWORD (cosign reads both); when a
 *   file is unavoidable it lives under RUNNER_TEMP with mode 0600 and is removed afterwards.
 * - Keyless verification names the exact identity and issuer: there is no regexp form here.
 * Only flags that cosign v2.x and v3.x both accept are used.
 */
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { isDigest, parseImageRef } from './ref.js';

/** The variable cosign reads the private key from (`--key env://COSIGN_KEY`). */
export const COSIGN_KEY_ENV = 'COSIGN_KEY';
/** The variable cosign reads the private key's password from. */
export const COSIGN_PASSWORD_ENV = 'COSIGN_PASSWORD';
/** Where a public key is handed to `cosign verify` (`--key env://COSIGN_PUBLIC_KEY`). */
export const COSIGN_PUBLIC_KEY_ENV = 'COSIGN_PUBLIC_KEY';
export const GITHUB_ISSUER = 'https://token.actions.githubusercontent.com';

export type SignMode = 'keyless' | 'key';

/** How cosign finds the signing key: a `--key` reference that is never the key itself. */
export interface KeyRef {
  /** `env://COSIGN_KEY`, `env://MY_VAR`, a file path under RUNNER_TEMP, or a KMS URI. */
  ref: string;
  /** Variables cosign needs for it (the key PEM and/or the password). */
  env: Record<string, string>;
}

export interface RegistryFlags {
  /** `--allow-http-registry`: plain-HTTP registry (loopback test registries only). */
  allowHttp?: boolean;
  /** `--allow-insecure-registry`: self-signed TLS. */
  allowInsecure?: boolean;
}

export class CosignArgError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CosignArgError';
  }
}

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** A `repo@sha256:<64 hex>` reference with no tag; anything else is refused. */
export function requireDigestRef(ref: string): string {
  let parsed;
  try {
    parsed = parseImageRef(ref);
  } catch (e) {
    throw new CosignArgError(`not an image reference: ${(e as Error).message}`);
  }
  if (!parsed.digest || !isDigest(parsed.digest)) throw new CosignArgError('cosign is only ever given an image by digest (repo@sha256:…), never by tag');
  if (parsed.tag) throw new CosignArgError('an image reference for cosign must not carry a tag next to its digest');
  return ref;
}

function registryFlags(f: RegistryFlags = {}): string[] {
  const out: string[] = [];
  if (f.allowHttp) out.push('--allow-http-registry');
  if (f.allowInsecure) out.push('--allow-insecure-registry');
  return out;
}

function annotationFlags(annotations: Record<string, string> = {}): string[] {
  const out: string[] = [];
  for (const [k, v] of Object.entries(annotations).sort(([a], [b]) => a.localeCompare(b))) {
    if (!/^[A-Za-z0-9._/-]+$/.test(k)) throw new CosignArgError(`annotation key ${JSON.stringify(k)} is not valid`);
    if (/[\r\n]/.test(v)) throw new CosignArgError(`annotation ${k} must be one line`);
    out.push('-a', `${k}=${v}`);
  }
  return out;
}

function keyFlag(key: KeyRef | undefined): string[] {
  if (!key) return [];
  if (!key.ref || key.ref.startsWith('-----')) throw new CosignArgError('the key reference must name where the key is (env://VAR, a file, a KMS URI), not hold the key');
  return ['--key', key.ref];
}

export interface SignOptions extends RegistryFlags {
  key?: KeyRef;
  annotations?: Record<string, string>;
  /** Sign each platform image of a multi-arch index as well (`--recursive`). */
  recursive?: boolean;
}

/** `cosign sign --yes [--key env://COSIGN_KEY] [-a k=v…] [--recursive] <repo@sha256:…>` */
export function signArgs(ref: string, opts: SignOptions = {}): string[] {
  requireDigestRef(ref);
  return ['sign', '--yes', ...keyFlag(opts.key), ...annotationFlags(opts.annotations), ...(opts.recursive ? ['--recursive'] : []), ...registryFlags(opts), ref];
}

export type VerifyIdentity = { key: KeyRef } | { identity: string; issuer: string };

function identityFlags(who: VerifyIdentity): string[] {
  if ('key' in who) return keyFlag(who.key);
  if (!who.identity) throw new CosignArgError('keyless verification needs the exact signer identity');
  if (!who.issuer) throw new CosignArgError('keyless verification needs the exact OIDC issuer');
  if (/[*^$]|\.\*/.test(who.identity)) throw new CosignArgError(`the signer identity must be exact, not a pattern (got ${JSON.stringify(who.identity)})`);
  return ['--certificate-identity', who.identity, '--certificate-oidc-issuer', who.issuer];
}

/** `cosign verify --certificate-identity <id> --certificate-oidc-issuer <iss> | --key … --output json <repo@sha256:…>` */
export function verifyArgs(ref: string, who: VerifyIdentity, flags: RegistryFlags = {}): string[] {
  requireDigestRef(ref);
  return ['verify', ...identityFlags(who), ...registryFlags(flags), '--output', 'json', ref];
}

export type PredicateType = 'spdxjson' | 'cyclonedx' | 'slsaprovenance' | 'slsaprovenance1' | 'vuln' | 'custom';

export interface AttestOptions extends RegistryFlags {
  predicate: string;
  type: PredicateType | string;
  key?: KeyRef;
}

/** `cosign attest --yes --predicate <file> --type <t> [--key …] <repo@sha256:…>` */
export function attestArgs(ref: string, opts: AttestOptions): string[] {
  requireDigestRef(ref);
  if (!opts.predicate) throw new CosignArgError('attest needs a predicate file');
  if (!/^[a-z0-9]+$|^https?:\/\/\S+$/.test(opts.type)) throw new CosignArgError(`predicate type ${JSON.stringify(opts.type)} is not valid`);
  return ['attest', '--yes', '--predicate', opts.predicate, '--type', opts.type, ...keyFlag(opts.key), ...registryFlags(opts), ref];
}

export interface SignBlobOptions {
  /** Where cosign writes the Sigstore bundle. */
  bundle: string;
  key?: KeyRef;
  /** cosign v2 needs `--new-bundle-format` to write a protobuf Sigstore bundle; v3 does it by default. */
  newBundleFormat?: boolean;
}

/** `cosign sign-blob --yes --bundle <out> [--new-bundle-format] [--key …] <file>` */
export function signBlobArgs(file: string, opts: SignBlobOptions): string[] {
  if (!file) throw new CosignArgError('sign-blob needs a file');
  if (!opts.bundle) throw new CosignArgError('sign-blob needs a bundle path');
  return ['sign-blob', '--yes', '--bundle', opts.bundle, ...(opts.newBundleFormat ? ['--new-bundle-format'] : []), ...keyFlag(opts.key), file];
}

/** `cosign public-key --key <ref>`: prints the public key PEM of a private key. */
export function publicKeyArgs(key: KeyRef): string[] {
  return ['public-key', ...keyFlag(key)];
}

/**
 * Key material as the user gave it: the PEM itself, or `env://VAR` naming a variable that holds it.
 * Returns the `--key` reference and the environment cosign needs; the PEM is only ever in `env`.
 */
export function keyFromInput(value: string, password: string, lookupEnv: (name: string) => string | undefined): KeyRef {
  const v = value.trim();
  const env: Record<string, string> = { [COSIGN_PASSWORD_ENV]: password };
  const m = /^env:\/\/(.*)$/.exec(v);
  if (m) {
    const name = m[1] ?? '';
    if (!ENV_NAME.test(name)) throw new CosignArgError(`env://${name} does not name an environment variable`);
    const held = lookupEnv(name);
    if (!held || !held.trim()) throw new CosignArgError(`environment variable ${name} (named by env://${name}) is not set or empty`);
    return { ref: `env://${name}`, env };
  }
  if (!/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(v) || !/-----END [A-Z ]*PRIVATE KEY-----/.test(v)) {
    throw new CosignArgError('must be a cosign private key (PEM, "-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----") or env://VAR');
  }
  return { ref: `env://${COSIGN_KEY_ENV}`, env: { ...env, [COSIGN_KEY_ENV]: v.endsWith('\n') ? v : `${v}\n` } };
}

/** A public key PEM for `cosign verify --key env://COSIGN_PUBLIC_KEY`. */
export function publicKeyRef(pem: string): KeyRef {
  if (!/-----BEGIN PUBLIC KEY-----[\s\S]+-----END PUBLIC KEY-----/.test(pem)) throw new CosignArgError('not a PEM public key');
  return { ref: `env://${COSIGN_PUBLIC_KEY_ENV}`, env: { [COSIGN_PUBLIC_KEY_ENV]: pem } };
}

/** For tools that can only read a file: writes it with mode 0600 in a fresh directory under `tempDir`; `remove()` deletes the directory. */
export function writeSecretFile(tempDir: string, name: string, contents: string): { path: string; remove: () => void } {
  const dir = mkdtempSync(join(tempDir, 'hallmark-secret-'));
  chmodSync(dir, 0o700);
  const path = join(dir, name);
  writeFileSync(path, contents, { mode: 0o600 });
  chmodSync(path, 0o600);
  return { path, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** The first PEM public key in `cosign public-key` output. */
export function parsePublicKey(stdout: string): string | undefined {
  const m = /-----BEGIN PUBLIC KEY-----[\s\S]+?-----END PUBLIC KEY-----/.exec(stdout);
  return m ? `${m[0]}\n` : undefined;
}

/** One verified signature from `cosign verify --output json`. */
export interface VerifiedSignature {
  dockerReference: string;
  digest: string;
  type: string;
  /** Keyless: the certificate's subject (SAN) and issuer, when cosign reports them. */
  subject?: string;
  issuer?: string;
  /** The 1.3.6.1.4.1.57264.1.x claims and other `optional` fields. */
  optional: Record<string, unknown>;
}

/**
 * Parses `cosign verify` stdout: a JSON array (cosign ≥ 1.x prints one array) or, from older or
 * wrapped output, one JSON value per line. Lines that are not JSON (progress text) are ignored.
 */
export function parseVerifyOutput(stdout: string): VerifiedSignature[] {
  const values: unknown[] = [];
  const whole = stdout.trim();
  const tryParse = (s: string): unknown => {
    try {
      return JSON.parse(s);
    } catch {
      return undefined;
    }
  };
  let all = whole ? tryParse(whole) : undefined;
  if (all === undefined) {
    // Text before the JSON (progress lines merged in): parse from the first line that opens an array.
    const start = whole.search(/^\[/m);
    if (start > 0) all = tryParse(whole.slice(start));
  }
  if (all !== undefined) values.push(all);
  else for (const line of whole.split(/\r?\n/)) {
    const t = line.trim();
    if (t.startsWith('[') || t.startsWith('{')) {
      const v = tryParse(t);
      if (v !== undefined) values.push(v);
    }
  }
  const out: VerifiedSignature[] = [];
  for (const v of values.flatMap((x) => (Array.isArray(x) ? x : [x]))) {
    if (!v || typeof v !== 'object') continue;
    const o = v as { critical?: { identity?: { 'docker-reference'?: unknown }; image?: { 'docker-manifest-digest'?: unknown }; type?: unknown }; optional?: unknown };
    const crit = o.critical;
    if (!crit || typeof crit !== 'object') continue;
    const optional = o.optional && typeof o.optional === 'object' ? (o.optional as Record<string, unknown>) : {};
    const str = (x: unknown) => (typeof x === 'string' ? x : undefined);
    out.push({
      dockerReference: str(crit.identity?.['docker-reference']) ?? '',
      digest: str(crit.image?.['docker-manifest-digest']) ?? '',
      type: str(crit.type) ?? '',
      subject: str(optional.Subject),
      issuer: str(optional.Issuer) ?? str(optional['1.3.6.1.4.1.57264.1.8']) ?? str(optional['1.3.6.1.4.1.57264.1.1']),
      optional,
    });
  }
  return out;
}

export type VerifyCheck = { ok: true; signatures: number } | { ok: false; problem: string };

/**
 * What a verify must show: at least one signature; every signature over exactly `digest`; and,
 * for keyless, every reported subject/issuer equal to the expected ones.
 */
export function checkVerified(sigs: VerifiedSignature[], expect: { digest: string; identity?: string; issuer?: string }): VerifyCheck {
  if (sigs.length === 0) return { ok: false, problem: 'cosign verify reported no verified signature' };
  for (const s of sigs) {
    if (s.type && s.type !== 'cosign container image signature') return { ok: false, problem: `unexpected signature type ${JSON.stringify(s.type)}` };
    if (s.digest !== expect.digest) return { ok: false, problem: `a verified signature covers ${s.digest || '(no digest)'}, not the built digest ${expect.digest}` };
    if (expect.identity && s.subject !== undefined && s.subject !== expect.identity) return { ok: false, problem: `a signature's subject is ${s.subject}, expected ${expect.identity}` };
    if (expect.issuer && s.issuer !== undefined && s.issuer !== expect.issuer) return { ok: false, problem: `a signature's issuer is ${s.issuer}, expected ${expect.issuer}` };
  }
  return { ok: true, signatures: sigs.length };
}

/** `https://github.com/<job_workflow_ref>`: the identity Fulcio puts in a GitHub Actions certificate. */
export function githubWorkflowIdentity(claims: Record<string, unknown>, serverUrl = 'https://github.com'): string | undefined {
  const jwr = claims.job_workflow_ref;
  if (typeof jwr !== 'string' || !/^[^/\s]+\/[^/\s]+\/\S+@\S+$/.test(jwr)) return undefined;
  return `${serverUrl.replace(/\/+$/, '')}/${jwr}`;
}

/** The claims of a JWT (no signature check: the token came from the runner and goes to Fulcio, which checks it). */
export function jwtClaims(token: string): Record<string, unknown> {
  const part = token.split('.')[1];
  if (!part) throw new Error('not a JWT');
  const v = JSON.parse(Buffer.from(part, 'base64url').toString('utf8')) as unknown;
  if (!v || typeof v !== 'object' || Array.isArray(v)) throw new Error('JWT claims are not an object');
  return v as Record<string, unknown>;
}
