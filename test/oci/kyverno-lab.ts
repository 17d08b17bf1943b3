/**
 * What the two Kyverno test files (policy-kyverno, policy-provenance-kyverno) start before judging a
 * policy with the real `kyverno apply`: a temp dir holding buildah storage (vfs, chroot) and an
 * empty docker config, a real loopback registry, images built FROM scratch and pushed by buildah
 * (the registry's digest), and cosign key pairs made by the real cosign. `stop()` removes it all.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeContext } from '../harness/build-lab.js';
import { startRegistry, type Registry } from '../harness/registry.js';
import { toolPath } from '../harness/tools.js';

export interface KyvernoLab {
  dir: string;
  registry: Registry;
  /** `127.0.0.1:<port>/shop` */
  repo: string;
  /** What kyverno (and cosign) run with: the lab's empty docker keychain, HOME in the lab. */
  env: NodeJS.ProcessEnv;
  /** buildah bud FROM scratch (busybox, a NONCE label so each image has its own digest), push to `ref` → the registry's digest. */
  buildAndPush(ref: string, nonce: string): string;
  /** A cosign key pair (`cosign generate-key-pair`, password `password`): the private key's path and the public PEM. */
  keyPair(name: string, password: string): { key: string; pub: string };
  stop(): Promise<void>;
}

export async function startKyvernoLab(prefix: string): Promise<KyvernoLab> {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  mkdirSync(join(dir, 'docker'));
  writeFileSync(join(dir, 'docker', 'config.json'), '{}');
  writeFileSync(
    join(dir, 'storage.conf'),
    `[storage]\ndriver = "vfs"\ngraphroot = "${join(dir, 'storage', 'root')}"\nrunroot = "${join(dir, 'storage', 'run')}"\n`,
  );
  const registry = await startRegistry();
  const buildah = (args: string[]) =>
    execFileSync('buildah', args, {
      cwd: dir,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { PATH: process.env.PATH, HOME: dir, CONTAINERS_STORAGE_CONF: join(dir, 'storage.conf'), BUILDAH_ISOLATION: 'chroot' },
    });
  return {
    dir,
    registry,
    repo: `${registry.host}/shop`,
    // kyverno reads the docker keychain and may cache Sigstore material under HOME: keep both in the temp dir.
    env: { PATH: process.env.PATH, HOME: dir, DOCKER_CONFIG: join(dir, 'docker') },
    buildAndPush(ref, nonce) {
      const ctx = writeContext(dir, `ctx-${nonce}`);
      buildah(['bud', '--quiet', '--format', 'oci', '--build-arg', `NONCE=${nonce}`, '-f', join(ctx, 'Containerfile'), '-t', ref, ctx]);
      const file = join(dir, `digest-${nonce}`);
      buildah(['push', '--quiet', '--tls-verify=false', '--digestfile', file, ref]);
      return readFileSync(file, 'utf8').trim();
    },
    keyPair(name, password) {
      const k = join(dir, `keys-${name}`);
      mkdirSync(k);
      execFileSync(toolPath('cosign'), ['generate-key-pair'], {
        cwd: k,
        env: { PATH: process.env.PATH, HOME: dir, COSIGN_PASSWORD: password },
        stdio: 'pipe',
      });
      return { key: join(k, 'cosign.key'), pub: readFileSync(join(k, 'cosign.pub'), 'utf8') };
    },
    async stop() {
      await registry.stop();
      try {
        execFileSync('chmod', ['-R', 'u+w', dir]);
      } catch {
        /* best effort */
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
