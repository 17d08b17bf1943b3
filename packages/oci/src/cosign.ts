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
 * - Sigstore knobs (`SigstoreOptions`: transparency log on/off, a private signing config and
 *   trusted root) are applied alike to sign, attest and verify. Where cosign 2.x and 3.x differ the
 *   argument builders take the detected version (`version: { major }`, default 3).
 *
 * Flags checked against the real binaries' `--help` and upstream sigstore/cosign
 * cmd/cosign/cli/options/{sign,attest,verify}.go and cmd/cosign/cli/signcommon/common.go at v3.1.2
 * and v2.6.4:
 * - v3: `--tlog-upload` is deprecated (hidden) and REFUSED together with `--use-signing-config`
 *   (which defaults to true) or `--signing-config`; so tlog off is `--use-signing-config=false
 *   --tlog-upload=false`, or a `--signing-config` file with no `rekorTlogUrls`.
 * - v2.6.4: `--use-signing-config` defaults to false, `--tlog-upload=false` alone is enough;
 *   `--signing-config`/`--trusted-root` need `--new-bundle-format` there, so we refuse them for v2.
 * - Both: verify/verify-attestation take `--insecure-ignore-tlog=true`; `--trusted-root` (v3).
 */
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { isDigest, parseImageRef, type ImageRef } from './ref.js';

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

/** The cosign major version the argument builders target; unknown means the current (3). */
export interface CosignTarget {
  version?: { major: number };
}

/** cosign 3's private-Sigstore / air-gapped knobs, applied alike to sign, attest and verify. */
export interface SigstoreOptions {
  /** false: key mode only; no Rekor upload on sign/attest, `--insecure-ignore-tlog=true` on verify. */
  tlog: boolean;
  /** Absolute path of a Sigstore SigningConfig JSON (cosign 3 `--signing-config`, sign and attest). */
  signingConfig?: string;
  /** Absolute path of a Sigstore TrustedRoot JSON (`--trusted-root`: verify, verify-attestation, sign, attest). */
  trustedRoot?: string;
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
  let parsed: ImageRef;
  try {
    parsed = parseImageRef(ref);
  } catch (e) {
    throw new CosignArgError(`not an image reference: ${(e as Error).message}`);
  }
  if (!parsed.digest || !isDigest(parsed.digest))
    throw new CosignArgError('cosign is only ever given an image by digest (repo@sha256:…), never by tag');
  if (parsed.tag) throw new CosignArgError('an image reference for cosign must not carry a tag next to its digest');
  return ref;
}

/** The one rule: keyless requires the transparency log. Throws CosignArgError naming the problem. */
export function checkSigstoreOptions(mode: SignMode, o: SigstoreOptions): SigstoreOptions {
  if (typeof o.tlog !== 'boolean') throw new CosignArgError('tlog must be true or false');
  if (mode === 'keyless' && !o.tlog)
    throw new CosignArgError(
      'tlog: false is only possible in key mode: keyless signing needs the transparency log (the short-lived certificate is only trustworthy with its log entry)',
    );
  for (const [name, p] of [
    ['signing-config', o.signingConfig],
    ['trusted-root', o.trustedRoot],
  ] as const) {
    if (p === undefined) continue;
    if (!p?.startsWith('/')) throw new CosignArgError(`${name} must be an absolute path (got ${JSON.stringify(p)})`);
    if (/[\r\n\0]/.test(p)) throw new CosignArgError(`${name} must be one line`);
  }
  return o;
}

/**
 * The transparency-log URLs a Sigstore SigningConfig (JSON text: v0.2 `rekorTlogUrls`, v0.1
 * `tlogUrls`) names. With `tlog: false` and a signing config, the file itself must name none:
 * cosign 3 refuses `--tlog-upload=false` next to `--signing-config` (signcommon/common.go, v3.1.2).
 * Throws CosignArgError when the text is not a signing config.
 */
export function signingConfigTlogUrls(json: string): string[] {
  let v: unknown;
  try {
    v = JSON.parse(json);
  } catch (e) {
    throw new CosignArgError(`is not JSON: ${(e as Error).message}`);
  }
  if (!v || typeof v !== 'object' || Array.isArray(v)) throw new CosignArgError('is not a JSON object');
  const o = v as Record<string, unknown>;
  const mt = o.mediaType;
  if (typeof mt !== 'string' || !mt.startsWith('application/vnd.dev.sigstore.signingconfig'))
    throw new CosignArgError(`is not a Sigstore signing config (mediaType ${JSON.stringify(mt)})`);
  const out: string[] = [];
  for (const k of ['rekorTlogUrls', 'tlogUrls']) {
    const u = o[k];
    if (!Array.isArray(u)) continue;
    for (const e of u) {
      const url =
        e && typeof e === 'object' ? ((e as { url?: unknown; baseUrl?: unknown }).url ?? (e as { baseUrl?: unknown }).baseUrl) : undefined;
      out.push(typeof url === 'string' ? url : '');
    }
  }
  return out;
}

/** Whether a Sigstore SigningConfig (JSON text) names a transparency log. */
export function signingConfigHasTlog(json: string): boolean {
  return signingConfigTlogUrls(json).length > 0;
}

/** Whether a Sigstore TrustedRoot (JSON text) is one; throws CosignArgError saying why not. */
export function checkTrustedRoot(json: string): void {
  let v: unknown;
  try {
    v = JSON.parse(json);
  } catch (e) {
    throw new CosignArgError(`is not JSON: ${(e as Error).message}`);
  }
  const mt = v && typeof v === 'object' && !Array.isArray(v) ? (v as { mediaType?: unknown }).mediaType : undefined;
  if (typeof mt !== 'string' || !mt.startsWith('application/vnd.dev.sigstore.trustedroot'))
    throw new CosignArgError(`is not a Sigstore trusted root (mediaType ${JSON.stringify(mt)})`);
}

/** A problem with one of the Sigstore inputs (`tlog`, `signing-config`, `trusted-root`): which, and why. */
export class SigstoreInputError extends CosignArgError {
  constructor(
    readonly input: 'tlog' | 'signing-config' | 'trusted-root',
    message: string,
  ) {
    super(message);
    this.name = 'SigstoreInputError';
  }
}

/**
 * The rule every action that signs with cosign applies to its Sigstore inputs (build-sign,
 * sbom-attach): keyless needs the log; the files exist and are what they say (a SigningConfig, a
 * TrustedRoot, by mediaType); with `tlog: false` a signing config names no transparency log
 * (cosign 3 would upload to it: it refuses `--tlog-upload=false` next to `--signing-config`), and
 * keyless needs one. `read` returns a file's text, or undefined when there is no such file;
 * `shown` renders a path for a message. Returns the Rekor URL the signing config names, if any.
 * Throws SigstoreInputError naming the input.
 */
export function checkSigstoreInputs(
  mode: SignMode,
  o: SigstoreOptions,
  read: (path: string) => string | undefined,
  shown: (path: string) => string = (p) => p,
): { rekorUrl?: string } {
  if (mode === 'keyless' && !o.tlog) {
    throw new SigstoreInputError(
      'tlog',
      'may only be false with a signing key: keyless signing needs the transparency log (the short-lived certificate is only trustworthy with its log entry)',
    );
  }
  const out: { rekorUrl?: string } = {};
  if (o.signingConfig) {
    const text = read(o.signingConfig);
    if (text === undefined)
      throw new SigstoreInputError('signing-config', `must name an existing file (${shown(o.signingConfig)} does not exist)`);
    let urls: string[];
    try {
      urls = signingConfigTlogUrls(text);
    } catch (e) {
      throw new SigstoreInputError(
        'signing-config',
        `${e instanceof CosignArgError ? e.message : 'is not readable'} (${shown(o.signingConfig)})`,
      );
    }
    if (!o.tlog && urls.length) {
      throw new SigstoreInputError(
        'signing-config',
        `names a transparency log (${urls.join(', ')}) but tlog is false: remove rekorTlogUrls from the signing config, or set tlog: true`,
      );
    }
    if (mode === 'keyless' && urls.length === 0)
      throw new SigstoreInputError('signing-config', 'names no transparency log, which keyless signing needs');
    if (urls[0]) out.rekorUrl = urls[0];
  }
  if (o.trustedRoot) {
    const text = read(o.trustedRoot);
    if (text === undefined)
      throw new SigstoreInputError('trusted-root', `must name an existing file (${shown(o.trustedRoot)} does not exist)`);
    try {
      checkTrustedRoot(text);
    } catch (e) {
      throw new SigstoreInputError(
        'trusted-root',
        `${e instanceof CosignArgError ? e.message : 'is not readable'} (${shown(o.trustedRoot)})`,
      );
    }
  }
  return out;
}

function major(t: CosignTarget | undefined): number {
  return t?.version?.major ?? 3;
}

/** What `sign` and `attest` are given for the Sigstore options, per cosign major version. */
function sigstoreSignFlags(o: SigstoreOptions | undefined, t: CosignTarget | undefined): string[] {
  if (!o) return [];
  const out: string[] = [];
  if (major(t) >= 3) {
    if (o.signingConfig) out.push('--signing-config', o.signingConfig);
    // cosign 3 refuses --tlog-upload=false while a signing config is in use (the TUF one by default).
    else if (!o.tlog) out.push('--use-signing-config=false', '--tlog-upload=false');
    if (o.trustedRoot) out.push('--trusted-root', o.trustedRoot);
  } else {
    if (o.signingConfig || o.trustedRoot)
      throw new CosignArgError(
        'signing-config and trusted-root need cosign 3 or later (cosign 2 only reads them with its new bundle format)',
      );
    if (!o.tlog) out.push('--tlog-upload=false');
  }
  return out;
}

/** What `verify` and `verify-attestation` are given for the Sigstore options. */
function sigstoreVerifyFlags(o: SigstoreOptions | undefined, t: CosignTarget | undefined): string[] {
  if (!o) return [];
  const out: string[] = [];
  if (!o.tlog) out.push('--insecure-ignore-tlog=true');
  if (o.trustedRoot) {
    if (major(t) < 3) throw new CosignArgError('trusted-root needs cosign 3 or later (cosign 2 only reads it with its new bundle format)');
    out.push('--trusted-root', o.trustedRoot);
  }
  return out;
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
  if (!key.ref || key.ref.startsWith('-----'))
    throw new CosignArgError('the key reference must name where the key is (env://VAR, a file, a KMS URI), not hold the key');
  return ['--key', key.ref];
}

export interface SignOptions extends RegistryFlags, CosignTarget {
  key?: KeyRef;
  sigstore?: SigstoreOptions;
  annotations?: Record<string, string>;
  /** Sign each platform image of a multi-arch index as well (`--recursive`). */
  recursive?: boolean;
}

/** `cosign sign --yes [--key env://COSIGN_KEY] [-a k=v…] [--recursive] [sigstore flags] <repo@sha256:…>` */
export function signArgs(ref: string, opts: SignOptions = {}): string[] {
  requireDigestRef(ref);
  if (opts.sigstore) checkSigstoreOptions(opts.key ? 'key' : 'keyless', opts.sigstore);
  return [
    'sign',
    '--yes',
    ...keyFlag(opts.key),
    ...annotationFlags(opts.annotations),
    ...(opts.recursive ? ['--recursive'] : []),
    ...sigstoreSignFlags(opts.sigstore, opts),
    ...registryFlags(opts),
    ref,
  ];
}

export type VerifyIdentity = { key: KeyRef } | { identity: string; issuer: string };

function identityFlags(who: VerifyIdentity): string[] {
  if ('key' in who) return keyFlag(who.key);
  if (!who.identity) throw new CosignArgError('keyless verification needs the exact signer identity');
  if (!who.issuer) throw new CosignArgError('keyless verification needs the exact OIDC issuer');
  if (/[*^$]|\.\*/.test(who.identity))
    throw new CosignArgError(`the signer identity must be exact, not a pattern (got ${JSON.stringify(who.identity)})`);
  return ['--certificate-identity', who.identity, '--certificate-oidc-issuer', who.issuer];
}

export interface VerifyFlags extends RegistryFlags, CosignTarget {}

/** `cosign verify --certificate-identity <id> --certificate-oidc-issuer <iss> | --key … [sigstore flags] --output json <repo@sha256:…>` */
export function verifyArgs(ref: string, who: VerifyIdentity, flags: VerifyFlags = {}, sigstore?: SigstoreOptions): string[] {
  requireDigestRef(ref);
  if (sigstore) checkSigstoreOptions('key' in who ? 'key' : 'keyless', sigstore);
  return ['verify', ...identityFlags(who), ...sigstoreVerifyFlags(sigstore, flags), ...registryFlags(flags), '--output', 'json', ref];
}

/** `cosign verify-attestation --type <t> <identity> [sigstore flags] --output json <repo@sha256:…>` */
export function verifyAttestationArgs(
  ref: string,
  who: VerifyIdentity,
  type: PredicateType | string,
  flags: VerifyFlags = {},
  sigstore?: SigstoreOptions,
): string[] {
  requireDigestRef(ref);
  checkPredicateType(type);
  if (sigstore) checkSigstoreOptions('key' in who ? 'key' : 'keyless', sigstore);
  return [
    'verify-attestation',
    '--type',
    type,
    ...identityFlags(who),
    ...sigstoreVerifyFlags(sigstore, flags),
    ...registryFlags(flags),
    '--output',
    'json',
    ref,
  ];
}

function checkPredicateType(type: string): void {
  if (!/^[a-z0-9]+$|^https?:\/\/\S+$/.test(type)) throw new CosignArgError(`predicate type ${JSON.stringify(type)} is not valid`);
}

export type PredicateType = 'spdxjson' | 'cyclonedx' | 'slsaprovenance' | 'slsaprovenance1' | 'vuln' | 'custom';

export interface AttestOptions extends RegistryFlags, CosignTarget {
  predicate: string;
  type: PredicateType | string;
  key?: KeyRef;
  sigstore?: SigstoreOptions;
}

/** `cosign attest --yes --predicate <file> --type <t> [--key …] <repo@sha256:…>` */
export function attestArgs(ref: string, opts: AttestOptions): string[] {
  requireDigestRef(ref);
  if (!opts.predicate) throw new CosignArgError('attest needs a predicate file');
  checkPredicateType(opts.type);
  if (opts.sigstore) checkSigstoreOptions(opts.key ? 'key' : 'keyless', opts.sigstore);
  return [
    'attest',
    '--yes',
    '--predicate',
    opts.predicate,
    '--type',
    opts.type,
    ...keyFlag(opts.key),
    ...sigstoreSignFlags(opts.sigstore, opts),
    ...registryFlags(opts),
    ref,
  ];
}

export interface SignBlobOptions extends CosignTarget {
  /** Where cosign writes the Sigstore bundle. */
  bundle: string;
  key?: KeyRef;
  sigstore?: SigstoreOptions;
}

/**
 * `cosign sign-blob --yes --bundle <out> [--new-bundle-format] [--key …] [sigstore flags] <file>`.
 * cosign 2 needs `--new-bundle-format` to write a protobuf Sigstore bundle; cosign 3 writes one by
 * default and deprecates the flag (cmd/cosign/cli/options/signblob.go at v3.1.2).
 */
export function signBlobArgs(file: string, opts: SignBlobOptions): string[] {
  if (!file) throw new CosignArgError('sign-blob needs a file');
  if (!opts.bundle) throw new CosignArgError('sign-blob needs a bundle path');
  if (opts.sigstore) checkSigstoreOptions(opts.key ? 'key' : 'keyless', opts.sigstore);
  const newBundle = major(opts) < 3 ? ['--new-bundle-format'] : [];
  return [
    'sign-blob',
    '--yes',
    '--bundle',
    opts.bundle,
    ...newBundle,
    ...keyFlag(opts.key),
    ...sigstoreSignFlags(opts.sigstore, opts),
    file,
  ];
}

/** `cosign public-key --key <ref>`: prints the public key PEM of a private key. */
export function publicKeyArgs(key: KeyRef): string[] {
  return ['public-key', ...keyFlag(key)];
}

/**
 * Key material as the user gave it: the PEM itself, or `env://VAR` naming a variable that holds it.
 * Returns the `--key` reference and the environment cosign needs (the password, and the PEM in
 * COSIGN_KEY or in VAR itself): the PEM is only ever in `env`, never in an argument.
 */
export function keyFromInput(value: string, password: string, lookupEnv: (name: string) => string | undefined): KeyRef {
  const v = value.trim();
  const env: Record<string, string> = { [COSIGN_PASSWORD_ENV]: password };
  const m = /^env:\/\/(.*)$/.exec(v);
  if (m) {
    const name = m[1] ?? '';
    if (!ENV_NAME.test(name)) throw new CosignArgError(`env://${name} does not name an environment variable`);
    const held = lookupEnv(name);
    if (!held?.trim()) throw new CosignArgError(`environment variable ${name} (named by env://${name}) is not set or empty`);
    // Handed on explicitly: the actions mask the key, and the kit's exec passes no inherited variable holding a secret.
    return { ref: `env://${name}`, env: { ...env, [name]: held } };
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

/** `critical.type` of an image signature: cosign 2's legacy payload (simple signing). */
export const LEGACY_SIGNATURE_TYPE = 'cosign container image signature';
/**
 * `critical.type` of an image signature in cosign 3's bundle format: cosign 3 signs an in-toto
 * statement with this predicate type and `verify --output json` reports the predicate type as
 * `critical.type` (cmd/cosign/cli/verify/verify.go `transformOutput` at v3.1.2).
 */
export const BUNDLE_SIGNATURE_TYPE = 'https://sigstore.dev/cosign/sign/v1';

/** One verified entry from `cosign verify --output json`. */
export interface VerifiedSignature {
  dockerReference: string;
  digest: string;
  type: string;
  /**
   * `signature`: an image signature (cosign 2 legacy or cosign 3 bundle). `attestation`: anything
   * else cosign 3 also verified on the image (the SBOM/provenance bundles of the same identity).
   */
  kind: 'signature' | 'attestation';
  /** Keyless: the certificate's subject (SAN) and issuer, when cosign reports them (cosign 2 only). */
  subject?: string;
  issuer?: string;
  /** cosign 2: the 1.3.6.1.4.1.57264.1.x claims and other `optional` fields; cosign 3: only the annotations. */
  optional: Record<string, unknown>;
}

/**
 * Parses `cosign verify` stdout: a JSON array (cosign prints one array) or, from older or
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
  else
    for (const line of whole.split(/\r?\n/)) {
      const t = line.trim();
      if (t.startsWith('[') || t.startsWith('{')) {
        const v = tryParse(t);
        if (v !== undefined) values.push(v);
      }
    }
  const out: VerifiedSignature[] = [];
  for (const v of values.flatMap((x) => (Array.isArray(x) ? x : [x]))) {
    if (!v || typeof v !== 'object') continue;
    const o = v as {
      critical?: { identity?: { 'docker-reference'?: unknown }; image?: { 'docker-manifest-digest'?: unknown }; type?: unknown };
      optional?: unknown;
    };
    const crit = o.critical;
    if (!crit || typeof crit !== 'object') continue;
    const optional = o.optional && typeof o.optional === 'object' ? (o.optional as Record<string, unknown>) : {};
    const str = (x: unknown) => (typeof x === 'string' ? x : undefined);
    const type = str(crit.type) ?? '';
    out.push({
      dockerReference: str(crit.identity?.['docker-reference']) ?? '',
      digest: str(crit.image?.['docker-manifest-digest']) ?? '',
      type,
      kind: type === LEGACY_SIGNATURE_TYPE || type === BUNDLE_SIGNATURE_TYPE ? 'signature' : 'attestation',
      subject: str(optional.Subject),
      issuer: str(optional.Issuer) ?? str(optional['1.3.6.1.4.1.57264.1.8']) ?? str(optional['1.3.6.1.4.1.57264.1.1']),
      optional,
    });
  }
  return out;
}

export type VerifyCheck = { ok: true; signatures: number; attestations: number } | { ok: false; problem: string };

/**
 * What a verify must show: at least one image signature (cosign 3 also returns the attestation
 * bundles of the same identity on the image: they are counted, not judged); every signature over
 * exactly `digest`; and, for keyless, every reported subject/issuer equal to the expected ones
 * (cosign 3 reports none: it has already matched them to --certificate-identity/-oidc-issuer).
 */
export function checkVerified(sigs: VerifiedSignature[], expect: { digest: string; identity?: string; issuer?: string }): VerifyCheck {
  const signatures = sigs.filter((s) => s.kind === 'signature');
  const attestations = sigs.length - signatures.length;
  if (signatures.length === 0) {
    if (sigs.length === 0) return { ok: false, problem: 'cosign verify reported no verified signature' };
    const types = [...new Set(sigs.map((s) => s.type || '(none)'))].join(', ');
    return {
      ok: false,
      problem: `cosign verify reported no image signature, only ${sigs.length} other entr${sigs.length === 1 ? 'y' : 'ies'} (type ${types})`,
    };
  }
  for (const s of signatures) {
    if (s.digest !== expect.digest)
      return { ok: false, problem: `a verified signature covers ${s.digest || '(no digest)'}, not the built digest ${expect.digest}` };
    if (expect.identity && s.subject !== undefined && s.subject !== expect.identity)
      return { ok: false, problem: `a signature's subject is ${s.subject}, expected ${expect.identity}` };
    if (expect.issuer && s.issuer !== undefined && s.issuer !== expect.issuer)
      return { ok: false, problem: `a signature's issuer is ${s.issuer}, expected ${expect.issuer}` };
  }
  return { ok: true, signatures: signatures.length, attestations };
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
