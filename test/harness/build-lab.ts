/**
 * The build-and-sign lab the bundle tests of build-sign, verify-image and sbom-attach (and the
 * hardening scenarios) share: buildah storage in a
 * temp dir (vfs, chroot isolation, selected through buildah's own CONTAINERS_STORAGE_CONF and
 * BUILDAH_ISOLATION variables so the action passes no test-only flags), a FROM-scratch build
 * context with busybox-static, the loopback Sigstore, and the REAL cosign (3.1.2, or 2.6.4 as a
 * user may pin it) from `npm run tools`, reached through a recorder that notes each call's argv
 * (and the names of the COSIGN_ and SIGSTORE_ variables it got) and then runs the real binary.
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { filesUnder } from './files.js';
import { visibleLog, type ActionResult } from './runner.js';
import { startGitHubServices, type GitHubServices } from './github.js';
import { htpasswdFile, startRegistry, stopChild, type Registry } from './registry.js';
import { startSigstore, type LoopbackSigstore } from './sigstore.js';
import { toolPath } from './tools.js';

export { filesUnder };

export type CosignVersion = 'cosign' | 'cosign2';

/**
 * A directory holding `cosign`: a recorder that appends `{cmd, argv, env}` to `log` and then runs
 * the real cosign binary `real` with the same argv, stdio and exit status. It decides nothing.
 */
function cosignRecorder(dir: string, real: string, log: string): string {
  mkdirSync(dir, { recursive: true });
  const file = join(dir, 'cosign');
  writeFileSync(
    file,
    `#!${process.execPath}
// Records the call, then runs the real cosign (${real}); nothing here answers for cosign.
const fs = require('node:fs');
const { spawnSync } = require('node:child_process');
const argv = process.argv.slice(2);
const env = Object.keys(process.env).filter((k) => /^(COSIGN|SIGSTORE)_/.test(k)).sort();
fs.appendFileSync(${JSON.stringify(log)}, JSON.stringify({ cmd: argv[0], argv, env }) + '\\n');
const r = spawnSync(${JSON.stringify(real)}, argv, { stdio: 'inherit' });
if (r.error) { process.stderr.write(String(r.error) + '\\n'); process.exit(127); }
process.exit(r.status ?? 1);
`,
  );
  chmodSync(file, 0o755);
  return dir;
}
export const BUSYBOX = ['/bin/busybox', '/usr/bin/busybox'].find((p) => existsSync(p));
export const hasBuildah = existsSync('/usr/bin/buildah');
/** The docker CLI (the machine image has one at /usr/local/bin/docker; Debian only ships it with the daemon). */
export const dockerCli = (process.env.PATH ?? '')
  .split(':')
  .map((d) => join(d, 'docker'))
  .find((p) => existsSync(p));

export interface Lab {
  dir: string;
  storageConf: string;
  logFile: string;
  /** Environment every bundle test run gets (buildah storage, PATH with the real cosign 3 — or 2.6.4 — behind the recorder). */
  env(extra?: Record<string, string>, cosign?: CosignVersion): Record<string, string>;
  cleanup(): void;
}

export function makeLab(): Lab {
  const dir = mkdtempSync(join(tmpdir(), 'hallmark-build-sign-lab-'));
  const storageConf = join(dir, 'storage.conf');
  writeFileSync(
    storageConf,
    `[storage]\ndriver = "vfs"\ngraphroot = "${join(dir, 'storage', 'root')}"\nrunroot = "${join(dir, 'storage', 'run')}"\n`,
  );
  const logFile = join(dir, 'cosign-calls.jsonl');
  writeFileSync(logFile, '');
  const bins: Partial<Record<CosignVersion, string>> = {};
  const binOf = (v: CosignVersion) => (bins[v] ??= cosignRecorder(join(dir, `bin-${v}`), toolPath(v), logFile));
  return {
    dir,
    storageConf,
    logFile,
    env: (extra = {}, cosign: CosignVersion = 'cosign') => ({
      PATH: `${binOf(cosign)}:${process.env.PATH ?? '/usr/bin:/bin'}`,
      CONTAINERS_STORAGE_CONF: storageConf,
      BUILDAH_ISOLATION: 'chroot',
      ...extra,
    }),
    cleanup: () => {
      // vfs layers can be read-only copies: make them removable first.
      try {
        execFileSync('chmod', ['-R', 'u+w', dir]);
      } catch {
        /* best effort */
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A build context in `workspace/app`: busybox copied FROM scratch, a LABEL from a build arg so each test's digest is its own. */
export function writeContext(workspace: string, sub = 'app'): string {
  const ctx = join(workspace, sub);
  mkdirSync(ctx, { recursive: true });
  if (!BUSYBOX) throw new Error('busybox-static is not installed');
  copyFileSync(BUSYBOX, join(ctx, 'busybox'));
  writeFileSync(
    join(ctx, 'Containerfile'),
    'FROM scratch\nCOPY busybox /bin/busybox\nARG NONCE=none\nLABEL dev.hallmark.test.nonce=$NONCE\nENTRYPOINT ["/bin/busybox"]\nCMD ["echo", "hello from hallmark"]\n',
  );
  return ctx;
}

/** cosign calls the recorder saw (argv and the names of COSIGN_ and SIGSTORE_ variables). */
export function cosignCalls(lab: Lab): { cmd: string; argv: string[]; env: string[] }[] {
  return readFileSync(lab.logFile, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as { cmd: string; argv: string[]; env: string[] });
}

/** A canary cosign key pair made by the real `cosign generate-key-pair`. */
export function canaryKey(lab: Lab, password: string): { privateKey: string; publicKey: string } {
  const d = mkdtempSync(join(lab.dir, 'key-'));
  execFileSync(toolPath('cosign'), ['generate-key-pair'], {
    cwd: d,
    env: { PATH: process.env.PATH, HOME: d, COSIGN_PASSWORD: password },
    stdio: 'pipe',
  });
  return { privateKey: readFileSync(join(d, 'cosign.key'), 'utf8'), publicKey: readFileSync(join(d, 'cosign.pub'), 'utf8') };
}

/** Files under `dirs` whose bytes contain any of `needles`. */
export function leaks(dirs: string[], needles: string[]): string[] {
  const hits: string[] = [];
  for (const dir of dirs) {
    for (const f of filesUnder(dir)) {
      let b: Buffer;
      try {
        b = readFileSync(f);
      } catch {
        continue;
      }
      for (const n of needles) if (n && b.includes(n)) hits.push(`${f} contains ${JSON.stringify(n.slice(0, 12))}…`);
    }
  }
  return hits;
}

/**
 * The secrets (and each of their longer lines, for PEM keys) appear nowhere a run left anything:
 * its visible log, stderr, step summary, outputs, and the files under `dirs`. Returns what was
 * found, as `where: secret…` lines; a test asserts the list is empty.
 */
export function secretsFound(r: ActionResult, secrets: string[], dirs: string[]): string[] {
  const lines = secrets.flatMap((s) => [
    s,
    ...s
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l.length > 20),
  ]);
  const found: string[] = [];
  for (const s of lines) {
    const at = `${JSON.stringify(s.slice(0, 12))}…`;
    if (visibleLog(r).includes(s)) found.push(`visible log: ${at}`);
    if (r.stderr.includes(s)) found.push(`stderr: ${at}`);
    if (r.summary.includes(s)) found.push(`summary: ${at}`);
    if (JSON.stringify(r.outputs).includes(s)) found.push(`outputs: ${at}`);
  }
  return [...found, ...leaks(dirs, lines)];
}

/**
 * `podman system service` as the docker daemon (REAL-PARTS.md settings: vfs, runc, cgroupfs,
 * host netns, ulimits within the container's limits). Returns undefined when it does not start.
 */
export async function startPodman(
  lab: Lab,
  insecureRegistries: string[],
): Promise<{ dockerHost: string; env: Record<string, string>; stop: () => Promise<void> } | undefined> {
  if (!existsSync('/usr/bin/podman') || !dockerCli) return undefined;
  const { spawn } = await import('node:child_process');
  const dir = join(lab.dir, 'podman');
  mkdirSync(dir, { recursive: true });
  writeFileSync(
    join(dir, 'containers.conf'),
    '[containers]\nnetns = "host"\ndefault_ulimits = ["nofile=4096:4096", "nproc=4096:4096"]\n[engine]\nruntime = "runc"\ncgroup_manager = "cgroupfs"\nevents_logger = "file"\n',
  );
  writeFileSync(
    join(dir, 'storage.conf'),
    `[storage]\ndriver = "vfs"\ngraphroot = "${join(dir, 'root')}"\nrunroot = "${join(dir, 'run')}"\n`,
  );
  writeFileSync(join(dir, 'registries.conf'), insecureRegistries.map((r) => `[[registry]]\nlocation = "${r}"\ninsecure = true\n`).join(''));
  const env = {
    CONTAINERS_CONF: join(dir, 'containers.conf'),
    CONTAINERS_STORAGE_CONF: join(dir, 'storage.conf'),
    CONTAINERS_REGISTRIES_CONF: join(dir, 'registries.conf'),
  };
  const sock = join(dir, 'podman.sock');
  const child = spawn('podman', ['system', 'service', '--time=0', `unix://${sock}`], { env: { ...process.env, ...env }, stdio: 'ignore' });
  const deadline = Date.now() + 10_000;
  while (!existsSync(sock)) {
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill('SIGKILL');
      return undefined;
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  const dockerHost = `unix://${sock}`;
  try {
    execFileSync('docker', ['version'], { env: { ...process.env, DOCKER_HOST: dockerHost }, stdio: 'pipe', timeout: 10_000 });
  } catch {
    child.kill('SIGKILL');
    return undefined;
  }
  return {
    dockerHost,
    env: { ...env, DOCKER_HOST: dockerHost },
    stop: () => stopChild(child),
  };
}

/** An htpasswd file (bcrypt) in the lab for a registry with Basic auth. */
export function htpasswd(lab: Lab, user: string, password: string): Promise<string> {
  return htpasswdFile(lab.dir, user, password);
}

/**
 * Everything a signing bundle test starts (build-sign's sign and provenance tests): the lab, a
 * real loopback registry, the loopback Sigstore, the loopback GitHub services (OIDC tokens,
 * artifacts), and a canary cosign key pair (made by the real cosign, its public key also in
 * `pubFile`). `stop()` stops and removes all of it.
 */
export interface SigningLab {
  lab: Lab;
  registry: Registry;
  sigstore: LoopbackSigstore;
  gh: GitHubServices;
  key: { privateKey: string; publicKey: string };
  pubFile: string;
  stop(): Promise<void>;
}

export async function startSigningLab(password: string): Promise<SigningLab> {
  const lab = makeLab();
  const registry = await startRegistry();
  const sigstore = await startSigstore(lab.dir);
  const gh = await startGitHubServices();
  const key = canaryKey(lab, password);
  const pubFile = join(lab.dir, 'cosign.pub');
  writeFileSync(pubFile, key.publicKey);
  return {
    lab,
    registry,
    sigstore,
    gh,
    key,
    pubFile,
    stop: async () => {
      await gh.close();
      await sigstore.close();
      await registry.stop();
      lab.cleanup();
    },
  };
}
