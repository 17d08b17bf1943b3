/**
 * The login and the logout, over injected Deps (no process.env, no @actions/core):
 * 1. check the credentials the way `docker login` does — `GET /v2/`, then the registry's Bearer
 *    token service (`WWW-Authenticate: Bearer realm=…,service=…`) or Basic auth on `/v2/` — so a
 *    wrong password fails here and not three jobs later inside cosign;
 * 2. write them into `<RUNNER_TEMP>/hallmark-registry-login/config.json` (0700/0600), the one file
 *    every tool of the job reads through DOCKER_CONFIG (docker, cosign, syft, trivy) and
 *    REGISTRY_AUTH_FILE (buildah, podman, skopeo);
 * 3. at the job's end (post step), remove that directory.
 */
import { existsSync, lstatSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync, chmodSync } from 'node:fs';
import { basename, dirname, join, resolve, sep } from 'node:path';
import { parseChallenge } from '@hallmark/oci';
import { isLoopbackRegistry } from '@hallmark/oci';
import type { Config } from './inputs.js';

export const DIR_NAME = 'hallmark-registry-login';

export interface HttpAnswer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
}

export interface Deps {
  /** RUNNER_TEMP. */
  temp: string;
  /** HOME, for ~/.docker/cli-plugins. */
  home: string;
  /** DOCKER_CONFIG before this step ('' when unset). */
  dockerConfig: string;
  /** One GET with a deadline and bounded retries (the kit's http); throws on network failure. */
  get(url: string, headers: Record<string, string>): Promise<HttpAnswer>;
  mask(secret: string): void;
  info(message: string): void;
}

export class LoginError extends Error {
  constructor(
    message: string,
    readonly reason: 'login-failed' | 'registry-unreachable',
  ) {
    super(message);
  }
}

export interface LoginResult {
  registry: string;
  loggedIn: boolean;
  dockerConfig?: string;
  authFile?: string;
  /** How the credentials were checked: 'token' (Bearer token service), 'basic', 'open' (no auth asked), 'unchecked'. */
  checked?: 'token' | 'basic' | 'open' | 'unchecked';
  pluginsLinked?: boolean;
}

/** The host the registry API answers on (Docker Hub's API is not served on docker.io itself). */
export function apiHost(registry: string): string {
  return registry === 'docker.io' || registry === 'index.docker.io' ? 'registry-1.docker.io' : registry;
}

/** Keys a docker config needs for this registry: Docker Hub is looked up as https://index.docker.io/v1/ by docker and ggcr, as docker.io by containers/image. */
export function authKeys(registry: string): string[] {
  return registry === 'docker.io' || registry === 'index.docker.io' ? ['https://index.docker.io/v1/', 'docker.io'] : [registry];
}

function header(h: HttpAnswer['headers'], name: string): string | undefined {
  const v = h[name] ?? h[name.toLowerCase()];
  return Array.isArray(v) ? v[0] : v;
}

/**
 * Checks the credentials against the registry; resolves with how, throws LoginError when refused.
 * A loopback registry that does not answer https is tried once more over plain HTTP, as docker
 * (127.0.0.0/8 is an insecure registry by default) and go-containerregistry (cosign, syft, trivy:
 * http for localhost) do; any other host only with `insecure`, which itself only a loopback host may set.
 */
export async function checkLogin(cfg: Config, password: string, deps: Deps): Promise<'token' | 'basic' | 'open'> {
  if (!cfg.insecure && isLoopbackRegistry(cfg.registry)) {
    try {
      return await checkLoginAt(cfg, password, deps, 'https');
    } catch (e) {
      if (!(e instanceof LoginError) || e.reason !== 'registry-unreachable') throw e;
      return checkLoginAt({ ...cfg, insecure: true }, password, deps, 'http');
    }
  }
  return checkLoginAt(cfg, password, deps, cfg.insecure ? 'http' : 'https');
}

async function checkLoginAt(cfg: Config, password: string, deps: Deps, scheme: 'http' | 'https'): Promise<'token' | 'basic' | 'open'> {
  const base = `${scheme}://${apiHost(cfg.registry)}`;
  const basic = `Basic ${Buffer.from(`${cfg.username}:${password}`).toString('base64')}`;
  const get = async (url: string, headers: Record<string, string> = {}) => {
    try {
      return await deps.get(url, headers);
    } catch (e) {
      throw new LoginError(`${cfg.registry} did not answer: ${(e as Error).message}`, 'registry-unreachable');
    }
  };
  const ping = await get(`${base}/v2/`);
  if (ping.status === 200) return 'open';
  if (ping.status !== 401)
    throw new LoginError(`${cfg.registry} answered HTTP ${ping.status} on /v2/ (not an OCI registry API?)`, 'registry-unreachable');
  const ch = parseChallenge(header(ping.headers, 'www-authenticate'));
  if (ch?.scheme === 'bearer') {
    const realm = ch.params.realm ?? '';
    let u: URL;
    try {
      u = new URL(realm);
    } catch {
      throw new LoginError(`${cfg.registry} asked for a Bearer token without a usable realm`, 'login-failed');
    }
    // The token service gets the password: https only (plain HTTP only for the loopback registry itself).
    if (u.protocol !== 'https:' && !(cfg.insecure && u.protocol === 'http:' && u.host === apiHost(cfg.registry)))
      throw new LoginError(
        `${cfg.registry}'s token service is not https (${u.protocol}//${u.host}): the password is not sent there`,
        'login-failed',
      );
    if (ch.params.service) u.searchParams.set('service', ch.params.service);
    u.searchParams.set('account', cfg.username);
    const t = await get(u.toString(), { authorization: basic, accept: 'application/json' });
    if (t.status === 200) return 'token';
    throw new LoginError(`${cfg.registry} refused the credentials of '${cfg.username}' (token service HTTP ${t.status})`, 'login-failed');
  }
  if (ch?.scheme === 'basic') {
    const r = await get(`${base}/v2/`, { authorization: basic });
    if (r.status === 200) return 'basic';
    throw new LoginError(`${cfg.registry} refused the credentials of '${cfg.username}' (HTTP ${r.status})`, 'login-failed');
  }
  throw new LoginError(
    `${cfg.registry} asked for an authentication scheme this action does not speak (${ch?.scheme ?? 'none'})`,
    'login-failed',
  );
}

/** The job's config directory. */
export function configDir(temp: string): string {
  return join(temp, DIR_NAME);
}

function readAuths(file: string): Record<string, { auth: string }> {
  try {
    const j = JSON.parse(readFileSync(file, 'utf8')) as { auths?: Record<string, { auth: string }> };
    return j.auths && typeof j.auths === 'object' ? j.auths : {};
  } catch {
    return {};
  }
}

/** Writes the credentials (after checking them, unless cfg.verify is false). */
export async function login(cfg: Config, password: string, deps: Deps): Promise<LoginResult> {
  if (cfg.credentials === 'none') return { registry: cfg.registry, loggedIn: false };
  const auth = Buffer.from(`${cfg.username}:${password}`).toString('base64');
  deps.mask(auth);
  const checked = cfg.verify ? await checkLogin(cfg, password, deps) : 'unchecked';
  const dir = configDir(deps.temp);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  chmodSync(dir, 0o700);
  const file = join(dir, 'config.json');
  // Only what registry-login steps of this job wrote: another login of the same job is kept, the
  // runner's own ~/.docker/config.json (or an earlier DOCKER_CONFIG) is not carried over.
  const auths = readAuths(file);
  for (const k of authKeys(cfg.registry)) auths[k] = { auth };
  writeFileSync(file, `${JSON.stringify({ auths }, null, 2)}\n`, { mode: 0o600 });
  chmodSync(file, 0o600);
  // Docker CLI plugins (buildx) live in <DOCKER_CONFIG>/cli-plugins: keep the previous ones reachable.
  let pluginsLinked = false;
  const previous = deps.dockerConfig || (deps.home ? join(deps.home, '.docker') : '');
  if (previous && resolve(previous) !== resolve(dir)) {
    const plugins = join(previous, 'cli-plugins');
    const mine = join(dir, 'cli-plugins');
    if (existsSync(plugins) && !existsSync(mine)) {
      symlinkSync(resolve(plugins), mine);
      pluginsLinked = true;
    }
  }
  return { registry: cfg.registry, loggedIn: true, dockerConfig: dir, authFile: file, checked, pluginsLinked };
}

/**
 * The post step: removes the job's config directory. Only a directory named like ours directly
 * under RUNNER_TEMP is ever removed, whatever the saved state says. Returns whether one was removed.
 */
export function logout(savedDir: string, temp: string): boolean {
  if (!savedDir) return false;
  const dir = resolve(savedDir);
  if (basename(dir) !== DIR_NAME || dirname(dir) !== resolve(temp) || dir.split(sep).includes('..')) return false;
  if (!existsSync(dir) || !lstatSync(dir).isDirectory()) return false;
  rmSync(dir, { recursive: true, force: true });
  return true;
}
