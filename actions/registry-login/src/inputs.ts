/**
 * registry-login's inputs, checked into a Config (pure: no process.env, no @actions/core). Which
 * credentials a job uses is decided here: explicit username + password, else the job token for
 * GitHub's container registry only, else none (anonymous).
 */
import { InputError } from '@hallmark/kit';
import { isLoopbackRegistry, parseImageRef, RefError } from '@hallmark/oci';

export interface RawInputs {
  registry: string;
  image: string;
  username: string;
  /** Whether a password was given (the value stays with the caller, masked). */
  passwordGiven: boolean;
  githubTokenGiven: boolean;
  githubRegistry: string;
  insecure: boolean;
  verify: boolean;
  /** github.actor, the user name GHCR expects next to the job token. */
  actor: string;
}

export type Credentials = 'explicit' | 'github-token' | 'none';

export interface Config {
  /** host[:port], lower-cased. */
  registry: string;
  credentials: Credentials;
  username: string;
  insecure: boolean;
  verify: boolean;
}

const HOST_RE = /^(?:localhost|[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)*|\[[0-9a-f:]+\])(?::\d{1,5})?$/;

function checkHost(input: string, host: string): string {
  const h = host
    .trim()
    .toLowerCase()
    .replace(/^https?:\/\//, '')
    .replace(/\/+$/, '');
  if (!HOST_RE.test(h)) throw new InputError(input, 'must be a registry host[:port] such as ghcr.io or registry.example.com:5000');
  const port = /:(\d+)$/.exec(h)?.[1];
  if (port && (Number(port) < 1 || Number(port) > 65535)) throw new InputError(input, 'must have a port between 1 and 65535');
  return h;
}

export function checkInputs(raw: RawInputs): Config {
  let registry: string;
  if (raw.registry.trim()) registry = checkHost('registry', raw.registry);
  else if (raw.image.trim()) {
    try {
      registry = parseImageRef(raw.image).registry.toLowerCase();
    } catch (e) {
      throw new InputError(
        'image',
        `must be an image reference such as ghcr.io/acme/api (${e instanceof RefError ? e.message : 'unreadable'})`,
      );
    }
  } else throw new InputError('registry', 'or input `image` is required (the registry to log in to)');
  const githubRegistry = checkHost('github-registry', raw.githubRegistry || 'ghcr.io');
  if (raw.insecure && !isLoopbackRegistry(registry))
    throw new InputError('insecure', `may be true only for a loopback registry (127.0.0.1, localhost, ::1), not ${registry}`);
  const username = raw.username.trim();
  if (/[\s:]/.test(username)) throw new InputError('username', 'must not contain whitespace or a colon');
  if (username && !raw.passwordGiven) throw new InputError('password', 'is required with username');
  if (!username && raw.passwordGiven) throw new InputError('username', 'is required with password');
  let credentials: Credentials = 'none';
  let user = '';
  if (username) {
    credentials = 'explicit';
    user = username;
  } else if (registry === githubRegistry && raw.githubTokenGiven) {
    credentials = 'github-token';
    // GHCR takes any user name with a job token; github.actor is what GitHub documents.
    user = raw.actor.trim() || 'github-actions';
    if (/[\s:]/.test(user)) user = 'github-actions';
  }
  return { registry, credentials, username: user, insecure: raw.insecure, verify: raw.verify };
}
