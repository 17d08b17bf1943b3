// Per-job isolation: every job of a rehearsal starts like a fresh GitHub-hosted runner. It gets its
// own HOME (so ~/.docker/config.json, ~/.sigstore, ~/.cache are the job's), RUNNER_TEMP,
// RUNNER_TOOL_CACHE, container storage and container auth file, and no registry login of another
// job: DOCKER_CONFIG and REGISTRY_AUTH_FILE given to the rehearsal are not handed to jobs (a workflow
// that sets them in env: keeps them, as on GitHub). Only artifacts, caches and outputs cross jobs.
//
// Where the real tools look (checked on this machine with buildah 1.28, podman and skopeo as root):
// - containers/image keeps logins in $REGISTRY_AUTH_FILE, else $XDG_RUNTIME_DIR/containers/auth.json,
//   else /run/containers/<uid>/auth.json; it also reads ~/.docker/config.json. Without a job
//   XDG_RUNTIME_DIR, root's `buildah login` in one job would land in /run/containers/0/auth.json and
//   be seen by every later job, so each job gets XDG_RUNTIME_DIR=<job>/run (mode 0700).
// - containers/storage reads $CONTAINERS_STORAGE_CONF; as root its default graphroot is
//   /var/lib/containers/storage, shared by every job, so each job gets a storage.conf of its own
//   (the driver and options of the rehearsal's CONTAINERS_STORAGE_CONF when one is given, graphroot
//   and runroot under the job).
// - docker, cosign, syft, trivy (go-containerregistry / docker/cli config) read $DOCKER_CONFIG,
//   else ~/.docker/config.json: the job HOME.
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** Variables of the rehearsal's env that belong to one machine's user and are never passed to a job. */
export const PER_RUNNER_VARS = [
  'HOME',
  'DOCKER_CONFIG',
  'REGISTRY_AUTH_FILE',
  'XDG_RUNTIME_DIR',
  'XDG_CONFIG_HOME',
  'XDG_DATA_HOME',
  'XDG_CACHE_HOME',
  'XDG_STATE_HOME',
  'CONTAINERS_STORAGE_CONF',
  'RUNNER_TEMP',
  'RUNNER_TOOL_CACHE',
];

/**
 * A storage.conf for one job: the [storage] table of `base` (driver, options) with graphroot and
 * runroot moved under `dir`; vfs when there is no base (it needs no kernel support).
 */
export function jobStorageConf({ base, dir }: { base?: string; dir: string }): string {
  let text = '';
  if (base && existsSync(base)) text = readFileSync(base, 'utf8');
  const kept = text.split(/\r?\n/).filter((l) => !/^\s*(graphroot|runroot|rootless_storage_path)\s*=/.test(l));
  if (!kept.some((l) => /^\s*\[storage\]\s*$/.test(l))) kept.unshift('[storage]');
  if (!kept.some((l) => /^\s*driver\s*=/.test(l)))
    kept.splice(kept.findIndex((l) => /^\s*\[storage\]\s*$/.test(l)) + 1, 0, 'driver = "vfs"');
  const at = kept.findIndex((l) => /^\s*\[storage\]\s*$/.test(l));
  kept.splice(at + 1, 0, `graphroot = "${join(dir, 'root')}"`, `runroot = "${join(dir, 'run')}"`);
  return `${kept.join('\n').trimEnd()}\n`;
}

/**
 * Makes a fresh runner home for one job under `jobDir` and returns the variables that make it so:
 * { env, dirs }. `baseEnv` is the rehearsal's env (its CONTAINERS_STORAGE_CONF is the template);
 * `buildxPlugin`, when given, is a docker CLI plugin script installed in the job's ~/.docker.
 */
export interface JobDirs {
  home: string;
  temp: string;
  toolCache: string;
  run: string;
  storage: string;
  workspace: string;
}

export function prepareJobHome({
  jobDir,
  baseEnv = {},
  buildxPlugin,
}: {
  jobDir: string;
  baseEnv?: Record<string, string | undefined>;
  buildxPlugin?: string;
}): { env: Record<string, string>; dirs: JobDirs } {
  const dirs: JobDirs = {
    home: join(jobDir, 'home'),
    temp: join(jobDir, 'temp'),
    toolCache: join(jobDir, 'toolcache'),
    run: join(jobDir, 'run'),
    storage: join(jobDir, 'containers'),
    workspace: join(jobDir, 'workspace'),
  };
  for (const d of Object.values(dirs)) mkdirSync(d, { recursive: true });
  chmodSync(dirs.run, 0o700);
  const storageConf = join(dirs.storage, 'storage.conf');
  writeFileSync(storageConf, jobStorageConf({ base: baseEnv.CONTAINERS_STORAGE_CONF, dir: dirs.storage }));
  const env: Record<string, string> = {
    HOME: dirs.home,
    RUNNER_TEMP: dirs.temp,
    RUNNER_TOOL_CACHE: dirs.toolCache,
    XDG_RUNTIME_DIR: dirs.run,
    CONTAINERS_STORAGE_CONF: storageConf,
  };
  if (buildxPlugin) {
    const plugins = join(dirs.home, '.docker', 'cli-plugins');
    mkdirSync(plugins, { recursive: true });
    writeFileSync(join(plugins, 'docker-buildx'), buildxPlugin, { mode: 0o755 });
    // The docker CLI finds plugins in $DOCKER_CONFIG/cli-plugins; the job's own ~/.docker.
    env.DOCKER_CONFIG = join(dirs.home, '.docker');
  }
  return { env, dirs };
}
