/**
 * sbom-attach test lab: a small but real image built with buildah FROM scratch (busybox-static, an
 * Alpine-style apk database and a node_modules tree) and pushed by buildah into the loopback
 * docker-registry, so real syft has packages to find and the digest is the registry's own; helpers
 * to read the registry back. What syft must find is computed here from what we wrote (one package
 * per apk record, one per package.json, and the busybox binary, whose version the binary itself
 * prints), never from our own SBOM reader. Reading the registry back: test/harness/registry.ts.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inflateRawSync } from 'node:zlib';
import { BUSYBOX } from '../harness/build-lab.js';
import { MANIFEST_ACCEPT } from '../harness/registry.js';

export const hasBuildah = existsSync('/usr/bin/buildah') && BUSYBOX !== undefined;

const sha = (b: Buffer | string) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

/**
 * The apk records the image's /lib/apk/db/installed declares (name, version, licence). None owns
 * /bin/busybox, so syft's binary classifier reports busybox itself (syft drops a binary package
 * only when an OS package owns its file: exclude-binary-overlap-by-ownership).
 */
export const APK_PACKAGES = [
  { name: 'musl', version: '1.2.4-r2', license: 'MIT' },
  { name: 'zlib', version: '1.3.1-r0', license: 'Zlib' },
  { name: 'ca-certificates-bundle', version: '20240226-r0', license: 'MPL-2.0' },
];
/** package.json files under /app (the app itself and two dependencies). */
export const NPM_PACKAGES = [
  { dir: 'app', name: 'shop', version: '1.0.0', license: 'Apache-2.0' },
  { dir: 'app/node_modules/left-pad', name: 'left-pad', version: '1.3.0', license: 'WTFPL' },
  { dir: 'app/node_modules/ms', name: 'ms', version: '2.1.3', license: 'MIT' },
];
/** busybox's own version, as the binary prints it (`BusyBox v1.35.0 (…)`). */
export const BUSYBOX_VERSION = BUSYBOX
  ? /BusyBox v(\d+\.\d+\.\d+)/.exec(execFileSync(BUSYBOX, [], { encoding: 'utf8' }).split('\n')[0] ?? '')?.[1]
  : undefined;
/** Every package syft must report for the image: apk records, package.json files, the busybox binary. */
export const EXPECTED_PACKAGES = [
  ...APK_PACKAGES.map((p) => ({ name: p.name, version: p.version })),
  ...NPM_PACKAGES.map((p) => ({ name: p.name, version: p.version })),
  { name: 'busybox', version: BUSYBOX_VERSION ?? '?' },
];

function apkDb(): string {
  return APK_PACKAGES.map(
    (p, i) =>
      `C:Q1${Buffer.from(p.name).toString('base64').padEnd(27, 'A').slice(0, 27)}=\nP:${p.name}\nV:${p.version}\nA:x86_64\nS:${1000 + i}\nI:${4096 + i}\nT:${p.name} test package\nU:https://example.org/${p.name}\nL:${p.license}\no:${p.name}\nm:Test <test@example.org>\nt:1700000000\n\n`,
  ).join('');
}

export interface PushedImage {
  repo: string;
  digest: string;
  ref: string;
  size: number;
  mediaType: string;
}

let lab: { dir: string; ctx: string; env: Record<string, string> } | undefined;
process.once('exit', () => {
  if (!lab) return;
  try {
    execFileSync('chmod', ['-R', 'u+w', lab.dir]);
  } catch {
    /* best effort */
  }
  rmSync(lab.dir, { recursive: true, force: true });
});

/** buildah storage (vfs, chroot isolation) and the build context, made once per test process. */
function buildLab(): { dir: string; ctx: string; env: Record<string, string> } {
  if (lab) return lab;
  if (!BUSYBOX) throw new Error('busybox-static is not installed');
  const dir = mkdtempSync(join(tmpdir(), 'hallmark-sbom-img-'));
  const storageConf = join(dir, 'storage.conf');
  writeFileSync(
    storageConf,
    `[storage]\ndriver = "vfs"\ngraphroot = "${join(dir, 'storage', 'root')}"\nrunroot = "${join(dir, 'storage', 'run')}"\n`,
  );
  const ctx = join(dir, 'ctx');
  mkdirSync(join(ctx, 'lib', 'apk', 'db'), { recursive: true });
  mkdirSync(join(ctx, 'etc'), { recursive: true });
  copyFileSync(BUSYBOX, join(ctx, 'busybox'));
  writeFileSync(join(ctx, 'etc', 'os-release'), 'NAME="Alpine Linux"\nID=alpine\nVERSION_ID=3.19.1\nPRETTY_NAME="Alpine Linux v3.19"\n');
  writeFileSync(join(ctx, 'lib', 'apk', 'db', 'installed'), apkDb());
  for (const p of NPM_PACKAGES) {
    mkdirSync(join(ctx, p.dir), { recursive: true });
    writeFileSync(join(ctx, p.dir, 'package.json'), JSON.stringify({ name: p.name, version: p.version, license: p.license }));
  }
  writeFileSync(
    join(ctx, 'Containerfile'),
    'FROM scratch\nCOPY busybox /bin/busybox\nCOPY etc /etc\nCOPY lib /lib\nCOPY app /app\nARG NONCE=none\nLABEL dev.hallmark.test.nonce=$NONCE\nENTRYPOINT ["/bin/busybox"]\n',
  );
  lab = {
    dir,
    ctx,
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: dir, CONTAINERS_STORAGE_CONF: storageConf, BUILDAH_ISOLATION: 'chroot' },
  };
  return lab;
}

/**
 * Builds the image with buildah (a LABEL from `nonce` makes each digest its own) and pushes it by
 * buildah to `registry` (plain HTTP; `auth` a Basic header for an htpasswd registry). The digest
 * is the one buildah's --digestfile reports, checked against the registry's bytes.
 */
export async function pushTestImage(
  registry: { host: string; url: string },
  repo: string,
  nonce: string,
  auth?: string,
): Promise<PushedImage> {
  const l = buildLab();
  const local = `localhost/hallmark-sbom-${nonce}:latest`;
  const digestFile = join(l.dir, `digest-${nonce}`);
  const run = (args: string[]) => execFileSync('buildah', args, { env: l.env, stdio: 'pipe', timeout: 120_000 });
  run(['build', '--quiet', '--build-arg', `NONCE=${nonce}`, '--tag', local, l.ctx]);
  try {
    const creds = auth ? ['--creds', Buffer.from(auth.replace(/^Basic\s+/i, ''), 'base64').toString('utf8')] : [];
    run(['push', '--tls-verify=false', ...creds, '--digestfile', digestFile, local, `docker://${registry.host}/${repo}:${nonce}`]);
  } finally {
    run(['rmi', local]);
  }
  const digest = readFileSync(digestFile, 'utf8').trim();
  const m = await fetch(`${registry.url}/v2/${repo}/manifests/${digest}`, {
    headers: { accept: MANIFEST_ACCEPT, ...(auth ? { authorization: auth } : {}) },
  });
  const bytes = Buffer.from(await m.arrayBuffer());
  if (!m.ok || sha(bytes) !== digest) throw new Error(`the registry does not hold ${digest} (${m.status})`);
  const mediaType = (JSON.parse(bytes.toString('utf8')) as { mediaType: string }).mediaType;
  return { repo, digest, ref: `${registry.host}/${repo}@${digest}`, size: bytes.length, mediaType };
}

/**
 * A multi-platform index (what build-sign's buildah path pushes for several platforms): the image
 * built twice (two nonces) and listed as linux/amd64 and linux/arm64 by `buildah manifest`, pushed
 * with `manifest push --all`. Returns the index digest and each platform's manifest digest.
 */
export async function pushTestIndex(
  registry: { host: string; url: string },
  repo: string,
  nonce: string,
): Promise<{ ref: string; digest: string; platforms: Record<string, string> }> {
  const l = buildLab();
  const run = (args: string[]) => execFileSync('buildah', args, { env: l.env, stdio: 'pipe', timeout: 120_000 }).toString();
  const list = `localhost/hallmark-sbom-list-${nonce}`;
  const images = ['amd64', 'arm64'].map((arch) => ({ arch, local: `localhost/hallmark-sbom-${nonce}-${arch}:latest` }));
  const digestFile = join(l.dir, `digest-${nonce}-index`);
  try {
    run(['manifest', 'create', list]);
    for (const i of images) {
      run(['build', '--quiet', '--build-arg', `NONCE=${nonce}-${i.arch}`, '--tag', i.local, l.ctx]);
      run(['manifest', 'add', '--os', 'linux', '--arch', i.arch, list, i.local]);
    }
    run([
      'manifest',
      'push',
      '--all',
      '--tls-verify=false',
      '--digestfile',
      digestFile,
      list,
      `docker://${registry.host}/${repo}:${nonce}`,
    ]);
  } finally {
    for (const i of images) spawnQuiet(['rmi', i.local], l.env);
    spawnQuiet(['manifest', 'rm', list], l.env);
  }
  const digest = readFileSync(digestFile, 'utf8').trim();
  const m = await fetch(`${registry.url}/v2/${repo}/manifests/${digest}`, { headers: { accept: MANIFEST_ACCEPT } });
  const bytes = Buffer.from(await m.arrayBuffer());
  if (!m.ok || sha(bytes) !== digest) throw new Error(`the registry does not hold ${digest} (${m.status})`);
  const idx = JSON.parse(bytes.toString('utf8')) as { manifests: { digest: string; platform: { architecture: string } }[] };
  return {
    ref: `${registry.host}/${repo}@${digest}`,
    digest,
    platforms: Object.fromEntries(idx.manifests.map((x) => [x.platform.architecture, x.digest])),
  };
}

function spawnQuiet(args: string[], env: Record<string, string>): void {
  try {
    execFileSync('buildah', args, { env, stdio: 'pipe', timeout: 60_000 });
  } catch {
    /* best effort */
  }
}

/** The files inside a zip (what @actions/artifact uploaded), read from its central directory. */
export function unzipEntries(zip: Buffer): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  let eocd = zip.length - 22;
  while (eocd >= 0 && zip.readUInt32LE(eocd) !== 0x06054b50) eocd--;
  if (eocd < 0) throw new Error('not a zip');
  const count = zip.readUInt16LE(eocd + 10);
  let p = zip.readUInt32LE(eocd + 16);
  for (let i = 0; i < count; i++) {
    if (zip.readUInt32LE(p) !== 0x02014b50) throw new Error('bad central directory');
    const method = zip.readUInt16LE(p + 10);
    const csize = zip.readUInt32LE(p + 20);
    const nlen = zip.readUInt16LE(p + 28);
    const elen = zip.readUInt16LE(p + 30);
    const clen = zip.readUInt16LE(p + 32);
    const local = zip.readUInt32LE(p + 42);
    const name = zip.subarray(p + 46, p + 46 + nlen).toString('utf8');
    const lstart = local + 30 + zip.readUInt16LE(local + 26) + zip.readUInt16LE(local + 28);
    const data = zip.subarray(lstart, lstart + csize);
    if (!name.endsWith('/')) out.set(name, method === 0 ? Buffer.from(data) : inflateRawSync(data));
    p += 46 + nlen + elen + clen;
  }
  return out;
}
