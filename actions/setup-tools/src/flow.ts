/**
 * Installs one tool version: tool cache hit → done; miss → checksum file, the vendor's signature
 * (on the checksum file, or on the asset once downloaded), asset (streamed and hashed), verify,
 * extract, cache (or stage under RUNNER_TEMP with `cache: false`).
 * Nothing reaches the tool cache or PATH unless its SHA-256 matched the vendor's checksum file
 * and, with `verify: signature`, the vendor's signature verified against the pinned signer,
 * before anything is unpacked.
 *
 * Every side effect goes through `Io`, and the trust anchors through `Trust`, so tests can drive
 * the flow without a runner and with their own Sigstore root and keys.
 */
import { oneLine, UserError } from '@hallmark/kit';
import type { Plan, Signature } from './catalog.js';
import type { Failed } from './summary.js';
import { expectedSha256 } from './checksum.js';
import type { Trust } from './trust/index.js';
import type { SignatureCheck } from './verify-x509.js';

export type VerifyMode = 'signature' | 'checksum';

export const REASONS = {
  invalidInput: 'invalid-input',
  unsupportedPlatform: 'unsupported-platform',
  downloadFailed: 'download-failed',
  checksumMismatch: 'checksum-mismatch',
  signatureInvalid: 'signature-invalid',
  installFailed: 'install-failed',
} as const;

export interface Io {
  /** tool-cache `find`: the cached directory or ''. */
  find(tool: string, version: string, arch: string): string;
  /** Whether `file` is a regular file (not a link, not a directory). */
  isFile(file: string): boolean;
  /** Fetches a small file (checksum file, signature); throws an Error with `status`/`kind` on failure. */
  fetchBytes(url: string, onRetry: (message: string) => void): Promise<Buffer>;
  /** Reads a downloaded file (an asset whose own signature is checked). */
  readFile(file: string): Promise<Buffer>;
  /** Streams the asset to `dest`, returning its size and SHA-256. */
  download(url: string, dest: string, onRetry: (message: string) => void): Promise<{ bytes: number; sha256: string; attempts: number }>;
  /** A fresh, empty working directory for this tool. */
  workDir(tool: string): Promise<string>;
  extractTar(file: string, dest: string): Promise<string>;
  extractZip(file: string, dest: string): Promise<string>;
  /** Makes a directory holding only the bare binary, named `binary`, executable. */
  stageBinary(file: string, dir: string, binary: string): Promise<string>;
  chmodExecutable(file: string): Promise<void>;
  /** tool-cache `cacheDir` → the cached path. */
  cacheDir(dir: string, tool: string, version: string, arch: string): Promise<string>;
  /** `cache: false`: moves the staged directory to its place under RUNNER_TEMP → that path. */
  placeUncached(dir: string, tool: string, version: string, arch: string): Promise<string>;
  remove(path: string): Promise<void>;
  log(message: string): void;
  warn(message: string): void;
}

export interface Installed {
  tool: string;
  version: string;
  /** The directory added to PATH (the binary is directly inside it). */
  path: string;
  binary: string;
  cached: boolean;
  /** Set when downloaded: the verified hash, the asset and checksum file names, the size. */
  sha256?: string;
  asset?: string;
  checksumName?: string;
  bytes?: number;
  source: string;
  /** Set when downloaded: what vouched for it. `signature` names the verified signer. */
  verified?: { by: 'signature'; scheme: Signature['scheme']; signer: string; file: string } | { by: 'checksum'; why: string };
}

const short = (h: string) => `${h.slice(0, 12)}…`;
const mb = (n: number) => (n >= 1024 * 1024 ? `${(n / 1024 / 1024).toFixed(1)} MB` : `${(n / 1024).toFixed(1)} kB`);

function host(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return '?';
  }
}

/** Who the catalog expects, for messages. */
export function expectedSigner(sig: Signature): string {
  return sig.signer.kind === 'pgp' ? sig.signer.description : `${sig.signer.san} (issuer ${sig.signer.issuer})`;
}

const lastSegment = (path: string) => path.split('/').pop() as string;

/** The file a signature scheme fetches first (the bundle, the signature), for messages. */
function signatureFile(sig: Signature): string {
  return lastSegment(sig.scheme === 'sigstore-bundle' ? sig.bundlePath : sig.sigPath);
}

/** A verifier that throws (a malformed signature the library did not expect) fails closed, as a bad signature. */
async function checked(verify: () => Promise<SignatureCheck> | SignatureCheck): Promise<SignatureCheck> {
  try {
    return await verify();
  } catch (e) {
    return { ok: false, problem: `could not be checked (${e instanceof Error ? e.message : String(e)})` };
  }
}

/**
 * Fetches the signature files and checks them over `data` (the checksum file's or the asset's
 * bytes). Any failure, a missing signature file included, is `signature-invalid`.
 */
async function checkSignature(
  p: Plan & { signature: NonNullable<Plan['signature']> },
  data: Buffer,
  covered: string,
  io: Io,
  trust: Trust,
): Promise<Installed['verified']> {
  const sig = p.signature;
  const who = `${p.tool} ${p.version}`;
  const fail = (problem: string) =>
    new UserError(
      `${who}: signature check failed: ${problem}; expected signer: ${expectedSigner(sig)}; nothing was installed`,
      REASONS.signatureInvalid,
    );
  const get = async (path: string): Promise<Buffer> => {
    const url = `${sig.base}/${path}`;
    try {
      return await io.fetchBytes(url, (m) => io.log(`${who}: signature: ${m}`));
    } catch (e) {
      const status = (e as { status?: number })?.status;
      if (status === 404)
        throw fail(
          `the vendor signs ${p.tool} ${p.version}, but ${lastSegment(path)} is missing (HTTP 404 at ${url}); a mirror must serve it at <mirror>/${p.tool}/${p.version}/${path}`,
        );
      throw new UserError(`${who}: could not download the signature ${lastSegment(path)}: ${(e as Error).message}`, REASONS.downloadFailed);
    }
  };
  const file = signatureFile(sig);
  let check: SignatureCheck;
  if (sig.scheme === 'sigstore-bundle') {
    const bundle = await get(sig.bundlePath);
    check = await checked(async () =>
      (await import('./verify-sigstore.js')).verifySigstoreBundle(
        bundle.toString('utf8'),
        data,
        sig.signer,
        await trust.sigstoreTrustedRoot(),
      ),
    );
  } else if (sig.scheme === 'keyless-pair') {
    const [s, c] = await Promise.all([get(sig.sigPath), get(sig.certPath)]);
    check = await checked(async () =>
      (await import('./verify-x509.js')).verifyKeylessPair(
        data,
        s.toString('utf8'),
        c.toString('utf8'),
        sig.signer,
        await trust.sigstoreTrustedRoot(),
      ),
    );
  } else {
    const s = await get(sig.sigPath);
    check = await checked(async () =>
      (await import('./verify-pgp.js')).verifyPgp(data, s, sig.armored, await trust.pgpKeys(sig.signer.keyring)),
    );
  }
  // The problem and signer quote the signature's contents (a certificate's SAN, a library's error): untrusted text.
  if (!check.ok) throw fail(`${file} over ${covered} ${oneLine(check.problem, 600)}`);
  io.log(`${who}: ${file} verified: ${covered} is signed by ${oneLine(check.signer, 300)}`);
  return { by: 'signature', scheme: sig.scheme, signer: oneLine(check.signer, 300), file };
}

export async function install(p: Plan, opts: { useCache: boolean; verify: VerifyMode }, io: Io, trust: Trust): Promise<Installed> {
  const arch = p.platform.arch;
  const who = `${p.tool} ${p.version}`;
  if (opts.useCache) {
    const hit = io.find(p.tool, p.version, arch);
    if (hit && io.isFile(`${hit}/${p.binary}`)) {
      io.log(`${who}: found in the tool cache at ${hit}`);
      return { tool: p.tool, version: p.version, path: hit, binary: p.binary, cached: true, source: 'tool cache' };
    }
    if (hit) io.log(`${who}: the tool cache entry ${hit} has no ${p.binary}; installing it again`);
  }

  // 1. The vendor's checksum file first: a missing entry fails before a large download.
  let sums: Buffer;
  try {
    sums = await io.fetchBytes(p.checksumUrl, (m) => io.log(`${who}: checksum file: ${m}`));
  } catch (e) {
    throw new UserError(
      `${who}: could not download the checksum file ${p.checksumName} for ${p.name}: ${(e as Error).message}${notFoundHint(e, p)}`,
      REASONS.downloadFailed,
    );
  }
  const expected = expectedSha256(sums.toString('utf8'), p.checksumFormat, p.name);
  if (!expected.ok) {
    throw new UserError(
      `${who}: checksum file ${p.checksumName} ${expected.problem}; ${p.name} was not installed`,
      REASONS.checksumMismatch,
    );
  }

  // 1b. The vendor's signature. On the checksum file: checked now, before the asset is fetched.
  let verified: Installed['verified'];
  const signed = opts.verify === 'signature' && p.signature ? (p as Plan & { signature: NonNullable<Plan['signature']> }) : undefined;
  if (opts.verify === 'checksum') {
    verified = { by: 'checksum', why: 'verify: checksum' };
    io.log(`${who}: verify: checksum: the vendor's signature is not checked, only ${p.checksumName}`);
  } else if (!p.signature) {
    verified = { by: 'checksum', why: `${p.tool} publishes no signature for ${p.version}` };
    io.warn(
      `${who}: the vendor publishes no signature for this version; verified against the checksum file ${p.checksumName} only, which proves the download is intact, not who made it`,
    );
  } else if (signed && signed.signature.covers === 'checksum') {
    verified = await checkSignature(signed, sums, p.checksumName, io, trust);
  }

  // 2. The asset, streamed and hashed.
  const work = await io.workDir(p.tool);
  try {
    const file = `${work}/${p.name}`;
    let got: { bytes: number; sha256: string; attempts: number };
    try {
      got = await io.download(p.url, file, (m) => io.log(`${who}: ${m}`));
    } catch (e) {
      throw new UserError(`${who}: could not download ${p.name}: ${(e as Error).message}${notFoundHint(e, p)}`, REASONS.downloadFailed);
    }
    if (got.sha256 !== expected.sha256) {
      throw new UserError(
        `${who}: ${p.name} has SHA-256 ${got.sha256} but ${p.checksumName} lists ${expected.sha256}; it was not installed (a corrupted download, or a mirror or release that changed)`,
        REASONS.checksumMismatch,
      );
    }
    io.log(`${who}: downloaded ${p.name} (${mb(got.bytes)}) from ${host(p.url)}; SHA-256 ${short(got.sha256)} matches ${p.checksumName}`);

    // 2b. A signature over the asset itself: checked on the downloaded bytes, before unpacking.
    if (signed && signed.signature.covers === 'asset') verified = await checkSignature(signed, await io.readFile(file), p.name, io, trust);

    // 3. Unpack into a directory whose top level holds the binary.
    let dir: string;
    try {
      if (p.format === 'binary') dir = await io.stageBinary(file, `${work}/stage`, p.binary);
      else {
        const out = p.format === 'zip' ? await io.extractZip(file, `${work}/x`) : await io.extractTar(file, `${work}/x`);
        const inner = p.binaryInArchive.split('/');
        inner.pop();
        dir = inner.length ? `${out}/${inner.join('/')}` : out;
        if (!io.isFile(`${dir}/${p.binary}`)) {
          throw new UserError(
            `${who}: ${p.name} does not hold ${p.binaryInArchive} as a regular file (has the vendor changed its layout?)`,
            REASONS.installFailed,
          );
        }
        await io.chmodExecutable(`${dir}/${p.binary}`);
      }
    } catch (e) {
      if (e instanceof UserError) throw e;
      throw new UserError(`${who}: could not unpack ${p.name}: ${(e as Error).message}`, REASONS.installFailed);
    }
    await io.remove(file);

    // 4. Into the tool cache (or under RUNNER_TEMP).
    const path = opts.useCache ? await io.cacheDir(dir, p.tool, p.version, arch) : await io.placeUncached(dir, p.tool, p.version, arch);
    return {
      tool: p.tool,
      version: p.version,
      path,
      binary: p.binary,
      cached: false,
      sha256: got.sha256,
      asset: p.name,
      checksumName: p.checksumName,
      bytes: got.bytes,
      source: `download from ${host(p.url)}`,
      ...(verified ? { verified } : {}),
    };
  } finally {
    await io.remove(work).catch(() => undefined);
  }
}

function notFoundHint(e: unknown, p: Plan): string {
  const status = (e as { status?: number })?.status;
  if (status !== 404) return '';
  return ` (is ${p.version} a released version of ${p.tool}? a mirror must hold <mirror>/${p.tool}/${p.version}/${p.path})`;
}

export interface InstallAllResult {
  installed: Installed[];
  failed: Failed[];
  /** Set when any tool failed: then none is added to PATH (all or nothing). */
  failure?: UserError;
}

/**
 * Installs every wanted tool side by side and decides: one failure is that tool's error; several
 * are summed up, with a signature or checksum failure as the reason when there is one (each is
 * also reported to `annotate`). An unexpected error (a bug) is rethrown.
 */
export async function installAll(
  plans: readonly Plan[],
  opts: { useCache: boolean; verify: VerifyMode },
  io: Io,
  trust: Trust,
  annotate: (message: string) => void,
): Promise<InstallAllResult> {
  const results = await Promise.allSettled(plans.map((p) => install(p, opts, io, trust)));
  const installed: Installed[] = [];
  const failed: Failed[] = [];
  results.forEach((r, i) => {
    const p = plans[i] as Plan;
    if (r.status === 'fulfilled') installed.push(r.value);
    else if (r.reason instanceof UserError)
      failed.push({ tool: p.tool, version: p.version, reason: r.reason.reason, message: r.reason.message });
    else throw r.reason;
  });
  if (failed.length === 0) return { installed, failed };
  const first = failed[0] as Failed;
  if (failed.length === 1) return { installed, failed, failure: new UserError(first.message, first.reason) };
  for (const f of failed) annotate(`setup-tools: ${oneLine(f.message, 1000)}`);
  const reason = failed.find((f) => f.reason === REASONS.signatureInvalid || f.reason === REASONS.checksumMismatch)?.reason ?? first.reason;
  return {
    installed,
    failed,
    failure: new UserError(
      `${failed.length} of ${plans.length} tools failed (${failed.map((f) => `${f.tool}: ${f.reason}`).join(', ')}); none was added to PATH`,
      reason,
    ),
  };
}
