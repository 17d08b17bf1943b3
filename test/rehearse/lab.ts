/**
 * Real parts for rehearsing the reusable pipelines end to end: a loopback docker-registry, the
 * loopback GitHub services (artifacts, cache, OIDC: simulated GitHub), a Slack sink (simulated
 * Slack), buildah storage in a temp dir, and a key pair made by the real cosign 3. The tools the
 * workflows run (cosign, syft, trivy, helm, kyverno, terraform) are the real ones `npm run tools`
 * built: the rehearsal hands them out at each setup-tools step, nothing here puts a tool on PATH.
 * Signatures are key-mode without a transparency log (`tlog: false`): no public Rekor is reachable.
 * Everything listens on 127.0.0.1 and is stopped by close().
 */
import { execFile, execFileSync } from 'node:child_process';
import { promisify } from 'node:util';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { startGitHubServices, type GitHubServices } from '../harness/github.js';
import { hasRegistry, startRegistry, type Registry } from '../harness/registry.js';
import { ROOT } from '../harness/runner.js';
import { startServer, type TestServer } from '../harness/server.js';
import { toolPath } from '../harness/tools.js';
import { buildDb, pushDb } from '../trivy-gate/lab.js';

const execFileAsync = promisify(execFile);

export const BUSYBOX = ['/bin/busybox', '/usr/bin/busybox'].find((p) => existsSync(p));
export const hasBuildah = existsSync('/usr/bin/buildah');
export const hasRealParts = hasRegistry && hasBuildah && BUSYBOX !== undefined;

/**
 * cosign 3 in key mode without a transparency log. cosign 3 refuses `--tlog-upload=false` while its
 * default TUF signing config is in use (cmd/cosign/cli/signcommon/common.go at v3.1.2), hence
 * `--use-signing-config=false`.
 */
export const COSIGN_NO_TLOG = ['--use-signing-config=false', '--tlog-upload=false'];

export const ACTIONS = ['build-sign', 'trivy-gate', 'sbom-attach', 'terraform-gated-apply', 'smoke-test', 'slack-notify'];
export const missingBundles = (names: string[]) =>
  names.filter((a) => !existsSync(join(ROOT, 'dist', a, 'index.js')) || !existsSync(join(ROOT, 'actions', a, 'action.yml')));

export interface SlackMessage {
  path: string;
  body: Record<string, unknown>;
  text: string;
}

export interface PipelineLab {
  dir: string;
  registry: Registry;
  services: GitHubServices;
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
  /** Sign an image by digest with the lab's key, or another one (real cosign 3, key mode, no transparency log). */
  sign(ref: string, other?: { key: string; password: string }): Promise<void>;
  /** Run the real cosign 3 with the lab's environment (its HOME); resolves with stdout, rejects on a non-zero exit. */
  cosign(args: string[], env?: Record<string, string>): Promise<string>;
  /**
   * A Trivy vulnerability DB (test/trivy-gate's builder; advisories `pkg:CVE:fixed:SEVERITY` for
   * Alpine 3.17) pushed to the lab registry as Trivy's OCI DB artifact; returns its repository
   * (`<host>/trivy-db`), for trivy-gate's `db-repository`.
   */
  trivyDb(advisories?: string[]): Promise<string>;
  /** A new cosign key pair (someone else's). */
  keyPair(): Promise<{ key: string; pub: string; password: string }>;
  close(): Promise<void>;
}

/** `registry`: use this registry (e.g. one with htpasswd auth) instead of starting an open one; close() stops it. */
export async function startLab(opts: { registry?: Registry } = {}): Promise<PipelineLab> {
  const dir = mkdtempSync(join(tmpdir(), 'hallmark-rehearse-lab-'));
  const registry = opts.registry ?? (await startRegistry());
  const services = await startGitHubServices({ owner: 'hallmark-dev', repo: 'hallmark' });
  const slack = await startServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.end('ok');
  });
  const cosign = toolPath('cosign');
  const storageConf = join(dir, 'storage.conf');
  writeFileSync(
    storageConf,
    `[storage]\ndriver = "vfs"\ngraphroot = "${join(dir, 'storage/root')}"\nrunroot = "${join(dir, 'storage/run')}"\n`,
  );
  const env: Record<string, string> = {
    ...services.env,
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: join(dir, 'home'),
    CONTAINERS_STORAGE_CONF: storageConf,
    BUILDAH_ISOLATION: 'chroot',
    TRIVY_NO_PROGRESS: 'true',
  };
  mkdirSync(env.HOME as string);
  const cosignPassword = 'lab-password-7c1';
  const keys = join(dir, 'keys');
  mkdirSync(keys);
  execFileSync(cosign, ['generate-key-pair', '--output-key-prefix', join(keys, 'cosign')], {
    env: { ...process.env, HOME: env.HOME, COSIGN_PASSWORD: cosignPassword },
    stdio: 'pipe',
  });
  const cosignKey = readFileSync(join(keys, 'cosign.key'), 'utf8');
  const cosignPub = readFileSync(join(keys, 'cosign.pub'), 'utf8');

  const lab: PipelineLab = {
    dir,
    registry,
    services,
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
      execFileSync('buildah', ['push', '--tls-verify=false', '--digestfile', digestFile, tag, `docker://${tag}`], {
        env: benv,
        stdio: 'pipe',
      });
      return `${registry.host}/${repo}@${readFileSync(digestFile, 'utf8').trim()}`;
    },
    async cosign(args, extra) {
      const { stdout } = await execFileAsync(cosign, args, { env: { ...process.env, ...env, ...extra }, maxBuffer: 64 << 20 });
      return stdout;
    },
    async sign(ref, other) {
      await lab.cosign(['sign', '--yes', '--key', 'env://LAB_COSIGN_KEY', ...COSIGN_NO_TLOG, ref], {
        LAB_COSIGN_KEY: other?.key ?? cosignKey,
        COSIGN_PASSWORD: other?.password ?? cosignPassword,
      });
    },
    async trivyDb(advisories = []) {
      const work = mkdtempSync(join(dir, 'trivy-db-'));
      await pushDb(registry.url, 'trivy-db', buildDb(work, advisories));
      return `${registry.host}/trivy-db`;
    },
    async keyPair() {
      const d = mkdtempSync(join(dir, 'keys-'));
      const password = `other-${Date.now()}`;
      await execFileAsync(cosign, ['generate-key-pair', '--output-key-prefix', join(d, 'cosign')], {
        env: { ...process.env, HOME: env.HOME, COSIGN_PASSWORD: password },
      });
      return { key: readFileSync(join(d, 'cosign.key'), 'utf8'), pub: readFileSync(join(d, 'cosign.pub'), 'utf8'), password };
    },
    async close() {
      await Promise.allSettled([registry.stop(), services.close(), slack.close()]);
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return lab;
}

/**
 * The predicate types of the Sigstore bundles stored as OCI referrers of an image. docker-registry
 * has no referrers API, so cosign 3 keeps them in the referrers tag schema: an index tagged
 * `sha256-<hex>` (OCI distribution-spec 1.1, "Referrers Tag Schema") whose entries have
 * artifactType `application/vnd.dev.sigstore.bundle.v0.3+json`; each bundle manifest names its
 * predicate in the annotation `dev.sigstore.bundle.predicateType` (the signature itself is
 * `https://sigstore.dev/cosign/sign/v1`). Read from what the real cosign 3.1.2 pushed.
 */
export async function bundlePredicates(lab: PipelineLab, repo: string, digest: string): Promise<string[]> {
  const get = (ref: string, accept: string) => fetch(`${lab.registry.url}/v2/${repo}/manifests/${ref}`, { headers: { accept } });
  const r = await get(digest.replace(':', '-'), 'application/vnd.oci.image.index.v1+json');
  if (r.status !== 200) return [];
  const index = (await r.json()) as { manifests?: { digest: string; artifactType?: string }[] };
  const out: string[] = [];
  for (const m of index.manifests ?? []) {
    if (m.artifactType !== 'application/vnd.dev.sigstore.bundle.v0.3+json') continue;
    const mr = await get(m.digest, 'application/vnd.oci.image.manifest.v1+json');
    const man = (await mr.json()) as { subject?: { digest?: string }; annotations?: Record<string, string> };
    if (man.subject?.digest !== digest) continue;
    out.push(man.annotations?.['dev.sigstore.bundle.predicateType'] ?? '');
  }
  return out.sort();
}

/** Tags of a repository in the lab registry. */
export async function tags(lab: PipelineLab, repo: string): Promise<string[]> {
  const r = await fetch(`${lab.registry.url}/v2/${repo}/tags/list`);
  if (r.status !== 200) return [];
  return ((await r.json()) as { tags?: string[] }).tags ?? [];
}
