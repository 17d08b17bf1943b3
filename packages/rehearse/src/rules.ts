// GitHub's rules that the rehearsal checks before a single job starts (or applies while it runs):
// secret names, permissions of the job token, and a nested job's permissions against its caller's.
//
// Secret names, as GitHub documents them ("Naming your secrets", docs.github.com/en/actions/
// security-for-github-actions/security-guides/using-secrets-in-github-actions): only alphanumeric
// characters [a-z], [A-Z], [0-9] or underscores; no spaces; must not start with the GITHUB_
// prefix; must not start with a number; not case-sensitive (stored upper-case).
//
// Permissions, as GitHub documents them ("Permissions for the GITHUB_TOKEN", docs.github.com/en/
// actions/security-for-github-actions/security-guides/automatic-token-authentication, and
// "Controlling permissions for GITHUB_TOKEN" in the workflow syntax): a `permissions:` block sets
// every scope it does not name to none; `read-all` / `write-all`; without a block the repository
// default applies (the restricted default of new repositories and organisations: contents and
// packages read, and metadata). `id-token` has only write or none. In a reusable workflow the
// token can only be reduced: a called job asking for more than the calling job granted is an error.

import type { Level, PermissionSet, TokenBook } from './types.js';

export type { PermissionSet, TokenBook } from './types.js';

export interface SecretRef {
  name: string;
  where: string;
}
export interface BadSecretName extends SecretRef {
  problem: string;
}
export interface RestVerdict {
  status: number;
  body: unknown;
  missing: string;
  job: string;
}
export type RegistryVerdict = { ok: true; job: string } | { ok: false; status: number; message: string; job?: string };
export interface Denied {
  job: string;
  method: string;
  path: string;
  missing: string;
}
/** The request and response of a loopback service, as much of them as an interceptor uses. */
export interface InterceptedRequest {
  method?: string;
  path?: string;
  url?: string;
  headers?: Record<string, unknown>;
}
export interface InterceptedResponse {
  writeHead(status: number, headers: Record<string, string>): unknown;
  end(body: string): unknown;
}
/** Answers the request itself (true) or lets the service answer (false). */
export type Interceptor = (req: InterceptedRequest, res: InterceptedResponse) => boolean;
/** The `github` context facts the OIDC claims are made of. */
export interface GithubFacts {
  repository: string;
  repository_owner: string;
  ref: string;
  sha: string;
  workflow: unknown;
  workflow_ref: string;
  event_name: string;
  run_id: string;
  run_number: string;
  run_attempt: string;
  actor: string;
}

const field = (v: unknown, k: string): unknown =>
  v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>)[k] : undefined;
const jobsOf = (doc: unknown): Record<string, unknown> => {
  const j = field(doc, 'jobs');
  return j && typeof j === 'object' ? (j as Record<string, unknown>) : {};
};

export const SCOPES: string[] = [
  'actions',
  'attestations',
  'checks',
  'contents',
  'deployments',
  'discussions',
  'id-token',
  'issues',
  'models',
  'packages',
  'pages',
  'pull-requests',
  'repository-projects',
  'security-events',
  'statuses',
];
const LEVEL: Record<string, number> = { none: 0, read: 1, write: 2 };
const rank = (l: string | undefined): number => LEVEL[l ?? 'none'] ?? 0;

/** Why GitHub would refuse a secret name, or undefined when it can store it. */
export function secretNameProblem(name: unknown): string | undefined {
  if (typeof name !== 'string' || name === '') return 'is empty';
  if (!/^[A-Za-z0-9_]+$/.test(name)) return 'may hold only letters, digits and _';
  if (/^[0-9]/.test(name)) return 'must not start with a digit';
  if (/^GITHUB_/i.test(name)) return 'must not start with GITHUB_';
  return undefined;
}

/** The `secrets.<name>` / `secrets['<name>']` references in every string of a YAML value, with where they are. */
export function secretReferences(value: unknown, where = ''): SecretRef[] {
  const out: SecretRef[] = [];
  const visit = (v: unknown, path: string): void => {
    if (typeof v === 'string') {
      for (const m of v.matchAll(/\$\{\{([\s\S]*?)\}\}/g)) collect(m[1] as string, path);
      return;
    }
    if (Array.isArray(v)) v.forEach((x, i) => visit(x, `${path}[${i}]`));
    else if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) visit(x, path ? `${path}.${k}` : k);
  };
  const collect = (expr: string, path: string) => {
    for (const m of expr.matchAll(/\bsecrets\s*\.\s*([A-Za-z0-9_-]+)/g)) out.push({ name: m[1] as string, where: path });
    for (const m of expr.matchAll(/\bsecrets\s*\[\s*'([^']*)'\s*\]/g)) out.push({ name: m[1] as string, where: path });
  };
  // `if:` values may omit ${{ }}.
  const visitIf = (v: unknown, path: string): void => {
    if (v && typeof v === 'object') {
      for (const [k, x] of Object.entries(v)) {
        const p = path ? `${path}.${k}` : k;
        if (k === 'if' && typeof x === 'string' && !x.includes('${{')) collect(x, p);
        else if (typeof x === 'object') visitIf(x, p);
      }
    }
  };
  visit(value, where);
  visitIf(value, where);
  return out;
}

/**
 * Every secret name in one workflow GitHub cannot store: `on.workflow_call.secrets` declarations,
 * `secrets:` a job passes to a called workflow, and `secrets.<name>` references. Returns
 * [{ name, where, problem }]. `secrets.GITHUB_TOKEN` is GitHub's own and allowed in references.
 */
export function badSecretNames(doc: unknown, on: unknown): BadSecretName[] {
  const bad: BadSecretName[] = [];
  const check = (name: string, where: string, { reference = false } = {}) => {
    if (reference && name.toUpperCase() === 'GITHUB_TOKEN') return;
    const problem = secretNameProblem(name);
    if (problem) bad.push({ name, where, problem });
  };
  const declared = field(field(on, 'workflow_call'), 'secrets');
  if (declared && typeof declared === 'object') for (const k of Object.keys(declared)) check(k, 'on.workflow_call.secrets');
  for (const [id, job] of Object.entries(jobsOf(doc))) {
    const s = field(job, 'secrets');
    if (s && typeof s === 'object') for (const k of Object.keys(s)) check(k, `jobs.${id}.secrets`);
  }
  for (const r of secretReferences(doc)) check(r.name, r.where, { reference: true });
  return bad;
}

/**
 * Contexts GitHub refuses in `if:` (docs "Contexts" > "Context availability"): `secrets` in any
 * `if:`; `env`, `matrix`, `steps`, `runner`, `job`, `strategy` in a job's `if:` (it has only github,
 * needs, vars, inputs). GitHub rejects such a workflow file ("Unrecognized named-value"). Returns
 * [{ where, context }].
 */
export function badIfContexts(doc: unknown): { where: string; context: string }[] {
  const bad: { where: string; context: string }[] = [];
  const look = (v: unknown, where: string, forbidden: string[]) => {
    if (typeof v !== 'string') return;
    const expr = v.replace(/'(?:[^']|'')*'/g, "''");
    for (const c of forbidden) if (new RegExp(`(^|[^\\w.-])${c}\\s*[.[]`).test(expr)) bad.push({ where, context: c });
  };
  for (const [id, job] of Object.entries(jobsOf(doc))) {
    if (!job || typeof job !== 'object') continue;
    look(field(job, 'if'), `jobs.${id}.if`, ['secrets', 'env', 'matrix', 'steps', 'runner', 'job', 'strategy']);
    const steps = field(job, 'steps');
    (Array.isArray(steps) ? steps : []).forEach((st, i) => look(field(st, 'if'), `jobs.${id}.steps[${i}].if`, ['secrets']));
  }
  return bad;
}

/** A permissions block (or its absence) as { scope: 'none'|'read'|'write' } for every scope. */
export function normalizePermissions(
  p: unknown,
  { defaults = 'restricted' }: { defaults?: 'restricted' | 'permissive' } = {},
): PermissionSet {
  const all = (level: Level): PermissionSet =>
    Object.fromEntries(SCOPES.map((s) => [s, s === 'id-token' && level === 'read' ? 'none' : level]));
  if (p === undefined || p === null) {
    if (defaults === 'permissive') return { ...all('write'), 'id-token': 'none' };
    return { ...all('none'), contents: 'read', packages: 'read' };
  }
  if (p === 'read-all') return all('read');
  if (p === 'write-all') return all('write');
  if (typeof p !== 'object' || Array.isArray(p))
    throw new Error(`permissions must be read-all, write-all or a mapping, got ${JSON.stringify(p)}`);
  const out = all('none');
  for (const [k, v] of Object.entries(p)) {
    if (!SCOPES.includes(k)) throw new Error(`permissions: unknown scope '${k}' (GitHub knows ${SCOPES.join(', ')})`);
    if (typeof v !== 'string' || !(v in LEVEL)) throw new Error(`permissions: '${k}: ${v}' is not read, write or none`);
    if (k === 'id-token' && v === 'read') throw new Error("permissions: 'id-token' is write or none");
    out[k] = v as Level;
  }
  return out;
}

/** The scopes where `asked` exceeds `allowed`: [{ scope, asked, allowed }]. */
export function exceeding(asked: PermissionSet, allowed: PermissionSet): { scope: string; asked: Level; allowed: Level }[] {
  return SCOPES.filter((s) => rank(asked[s]) > rank(allowed[s])).map((s) => ({
    scope: s,
    asked: asked[s] ?? 'none',
    allowed: allowed[s] ?? 'none',
  }));
}

/** `min` of two normalized permission sets (a called workflow's token under its caller's). */
export function capPermissions(p: PermissionSet, cap?: PermissionSet): PermissionSet {
  if (!cap) return p;
  return Object.fromEntries(SCOPES.map((s) => [s, rank(p[s]) <= rank(cap[s]) ? (p[s] ?? 'none') : (cap[s] ?? 'none')]));
}

export const allows = (perms: PermissionSet | undefined, scope: string, level: 'read' | 'write'): boolean =>
  Boolean(perms) && rank(perms?.[scope]) >= rank(level);

/**
 * Which permission a REST call needs, for the endpoints our actions and workflows use (GitHub's
 * "Permissions required for GitHub Apps" tables): [{ scope, level }] of which any one suffices,
 * or undefined when the rehearsal does not know the endpoint (then it is not checked).
 */
export function restPermission(method: string, path: string): { scope: string; level: 'read' | 'write' }[] | undefined {
  const write = !['GET', 'HEAD'].includes(String(method).toUpperCase());
  const level: 'read' | 'write' = write ? 'write' : 'read';
  const p = String(path).split('?')[0] ?? '';
  const any = (...scopes: string[]) => scopes.map((scope) => ({ scope, level }));
  // A pull request's conversation is its issue: issues or pull-requests permission.
  if (/^\/repos\/[^/]+\/[^/]+\/issues(\/|$)/.test(p)) return any('issues', 'pull-requests');
  if (/^\/repos\/[^/]+\/[^/]+\/pulls(\/|$)/.test(p)) return any('pull-requests');
  if (/^\/repos\/[^/]+\/[^/]+\/code-scanning(\/|$)/.test(p)) return any('security-events');
  if (/^\/repos\/[^/]+\/[^/]+\/actions(\/|$)/.test(p)) return any('actions');
  if (/^\/repos\/[^/]+\/[^/]+\/(contents|git|releases|commits|branches|tags)(\/|$)/.test(p)) return any('contents');
  if (/^\/repos\/[^/]+\/[^/]+\/deployments(\/|$)/.test(p)) return any('deployments');
  if (/^\/repos\/[^/]+\/[^/]+\/(statuses|commits\/[^/]+\/statuses)(\/|$)/.test(p)) return any('statuses');
  if (/^\/repos\/[^/]+\/[^/]+\/(check-runs|check-suites)(\/|$)/.test(p)) return any('checks');
  if (/^\/repos\/[^/]+\/[^/]+\/attestations(\/|$)/.test(p)) return any('attestations');
  if (/^\/(user|orgs\/[^/]+|users\/[^/]+)\/packages(\/|$)/.test(p)) return any('packages');
  return undefined;
}

/**
 * The job tokens of one or more rehearsals: token → { job, permissions }. Pass one as
 * `rehearse({ tokenBook })` and the engine records each job's GITHUB_TOKEN in it; loopback services
 * then answer as GitHub would (restGate, registryGate).
 */
export function createTokenBook(): TokenBook {
  return new Map();
}

/**
 * A loopback REST service's check (test/harness/github.ts `intercept`): a call whose job token lacks
 * the permission gets GitHub's 403. Returns { status, body } to answer, or undefined to let it pass
 * (unknown endpoint, or a token that is not a job token, e.g. a personal access token).
 */
export function restGate(
  book: TokenBook,
  { method, path, authorization }: { method: string; path: string; authorization?: unknown },
): RestVerdict | undefined {
  const m = /^(?:token|bearer) (.+)$/i.exec(String(authorization ?? ''));
  const entry = m ? book.get(m[1] as string) : undefined;
  if (!entry) return undefined;
  const need = restPermission(method, path);
  if (!need || need.some((n) => allows(entry.permissions, n.scope, n.level))) return undefined;
  return {
    status: 403,
    body: { message: 'Resource not accessible by integration', documentation_url: 'https://docs.github.com/rest', status: '403' },
    missing: need.map((n) => `${n.scope}: ${n.level}`).join(' or '),
    job: entry.job,
  };
}

/**
 * The registry's check of a job token, as GHCR does it: pulls (GET, HEAD) need `packages: read`,
 * pushes and deletes `packages: write`. `authorization` is the request's header (Basic user:token
 * or Bearer token). Returns { ok: true, job } or { ok: false, status: 401|403, message, job? }.
 */
export function registryGate(book: TokenBook, { method, authorization }: { method?: string; authorization?: unknown }): RegistryVerdict {
  const h = String(authorization ?? '');
  let token: string | undefined;
  const basic = /^basic (.+)$/i.exec(h);
  if (basic)
    token = Buffer.from(basic[1] as string, 'base64')
      .toString('utf8')
      .split(':')
      .slice(1)
      .join(':');
  const bearer = /^bearer (.+)$/i.exec(h);
  if (bearer) token = bearer[1];
  const entry = token ? book.get(token) : undefined;
  if (!entry) return { ok: false, status: 401, message: 'unauthorized: not a job token of this rehearsal' };
  const level: 'read' | 'write' = ['GET', 'HEAD'].includes(String(method).toUpperCase()) ? 'read' : 'write';
  if (!allows(entry.permissions, 'packages', level))
    return {
      ok: false,
      status: 403,
      job: entry.job,
      message: `denied: job '${entry.job}' has packages: ${entry.permissions.packages}, this needs packages: ${level}`,
    };
  return { ok: true, job: entry.job };
}

/**
 * restGate as an interceptor for a loopback REST service (test/harness/github.ts `intercept`):
 * answers GitHub's 403 itself and returns true, or returns false to let the service answer.
 * `denied`, when given, collects what was refused ({ job, method, path, missing }).
 */
export function restInterceptor(book: TokenBook, denied?: Denied[]): Interceptor {
  return (req, res) => {
    const verdict = restGate(book, {
      method: req.method ?? 'GET',
      path: req.path ?? new URL(req.url ?? '/', 'http://x').pathname,
      authorization: req.headers?.authorization,
    });
    if (!verdict) return false;
    denied?.push({
      job: verdict.job,
      method: req.method ?? 'GET',
      path: req.path ?? new URL(req.url ?? '/', 'http://x').pathname,
      missing: verdict.missing,
    });
    res.writeHead(verdict.status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(verdict.body));
    return true;
  };
}

/**
 * The OIDC claims GitHub puts in a job's ID token ("OpenID Connect reference", docs.github.com/en/
 * actions/reference/security/oidc): sub (environment or ref), job_workflow_ref / job_workflow_sha
 * (the workflow file that defines the job, at the ref its caller pinned: a called workflow pinned
 * `@<sha>` gives `@<sha>`, `@v1` gives `@refs/tags/v1`, `@main` gives `@refs/heads/main`), the
 * caller's workflow_ref, and the run's facts.
 */
export function oidcClaims({
  github,
  environment,
  jobWorkflowRef,
  jobWorkflowSha,
}: {
  github: GithubFacts;
  environment?: string;
  jobWorkflowRef: string;
  jobWorkflowSha: string;
}): Record<string, string> {
  const repo = github.repository;
  const sub = environment
    ? `repo:${repo}:environment:${environment}`
    : github.event_name === 'pull_request'
      ? `repo:${repo}:pull_request`
      : `repo:${repo}:ref:${github.ref}`;
  return {
    iss: 'https://token.actions.githubusercontent.com',
    sub,
    repository: repo,
    repository_owner: github.repository_owner,
    ref: github.ref,
    ref_type: github.ref.startsWith('refs/tags/') ? 'tag' : 'branch',
    sha: github.sha,
    workflow: String(github.workflow),
    workflow_ref: github.workflow_ref,
    workflow_sha: github.sha,
    job_workflow_ref: jobWorkflowRef,
    job_workflow_sha: jobWorkflowSha,
    event_name: github.event_name,
    run_id: github.run_id,
    run_number: github.run_number,
    run_attempt: github.run_attempt,
    actor: github.actor,
    runner_environment: 'github-hosted',
    ...(environment ? { environment } : {}),
  };
}

/** A pinned ref as GitHub writes it in job_workflow_ref: a SHA as is, `v…` a tag, else a branch. */
export function qualifyRef(ref: string): string {
  if (/^[0-9a-f]{40}$/.test(ref) || ref.startsWith('refs/')) return ref;
  return /^v\d/.test(ref) ? `refs/tags/${ref}` : `refs/heads/${ref}`;
}

const b64url = (s: string) => Buffer.from(s).toString('base64url');

/**
 * For a loopback OIDC service (test/harness/github.ts `intercept`): answers a job's ID-token request
 * (`GET …/oidc/token`, Bearer = the job's ACTIONS_ID_TOKEN_REQUEST_TOKEN) with that job's own claims
 * (unsigned JWT, alg none, as the loopback service does); other requests pass.
 */
export function oidcInterceptor(book: TokenBook): Interceptor {
  return (req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    if (!url.pathname.endsWith('/oidc/token')) return false;
    const m = /^bearer (.+)$/i.exec(String(req.headers?.authorization ?? ''));
    const entry = m ? [...book.values()].find((e) => e.oidc?.requestToken === m[1]) : undefined;
    if (!entry?.oidc) return false;
    const t = Math.floor(Date.now() / 1000);
    const claims = {
      iat: t,
      nbf: t,
      exp: t + 300,
      ...entry.oidc.claims,
      aud: url.searchParams.get('audience') ?? `https://github.com/${entry.oidc.claims.repository_owner}`,
    };
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(
      JSON.stringify({ count: 1, value: `${b64url(JSON.stringify({ alg: 'none', typ: 'JWT' }))}.${b64url(JSON.stringify(claims))}.sig` }),
    );
    return true;
  };
}

/** restInterceptor and oidcInterceptor in one, for a loopback GitHub service. */
export function githubInterceptor(book: TokenBook, denied?: Denied[]): Interceptor {
  const oidc = oidcInterceptor(book);
  const rest = restInterceptor(book, denied);
  return (req, res) => oidc(req, res) || rest(req, res);
}
