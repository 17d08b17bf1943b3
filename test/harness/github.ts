/**
 * Loopback fakes of the GitHub services the real `@actions/*` clients talk to, in one server
 * (facts in ../shared/GITHUB-SERVICES.md):
 * - artifact v6 (Twirp `ArtifactService` + Azure-style blob PUT/GET),
 * - cache v6 / service v2 (Twirp `CacheService` + blob),
 * - OIDC (`core.getIDToken`): an unsigned JWT whose claims the test controls,
 * - REST: issue comments (PR comments) and run artifacts.
 * Pass `services.env` to `runAction({ env })`. State (artifacts, caches, comments) lives as long
 * as the server, so a second action run sees what the first uploaded.
 */
import { createHash } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { json, startServer, type RecordedRequest, type TestServer } from './server.js';

const b64url = (s: string) => Buffer.from(s).toString('base64url');

/** An unsigned JWT (`alg: none`) with the given claims. The clients never check signatures. */
export function fakeJwt(claims: Record<string, unknown>): string {
  return `${b64url(JSON.stringify({ alg: 'none', typ: 'JWT' }))}.${b64url(JSON.stringify(claims))}.sig`;
}

export function decodeJwt(token: string): Record<string, unknown> {
  const part = token.split('.')[1] ?? '';
  return JSON.parse(Buffer.from(part, 'base64url').toString('utf8')) as Record<string, unknown>;
}

export interface StoredArtifact {
  id: number;
  name: string;
  runBackendId: string;
  jobBackendId: string;
  contentType: string;
  blocks: Map<string, Buffer>;
  content?: Buffer;
  size: number;
  digest: string;
  expiresAt?: string;
  createdAt: string;
  finalized: boolean;
}

export interface StoredCache {
  id: number;
  key: string;
  version: string;
  blocks: Map<string, Buffer>;
  content?: Buffer;
  finalized: boolean;
  createdAt: number;
}

export interface StoredComment {
  id: number;
  issue: number;
  body: string;
  user: { login: string; type: string };
  created_at: string;
  updated_at: string;
}

/** Return true after answering `res` yourself to take over a request (fault injection). */
export type Interceptor = (req: RecordedRequest, res: ServerResponse) => boolean | Promise<boolean>;

export interface GitHubServices {
  url: string;
  server: TestServer;
  /** Environment for `runAction` so every `@actions/*` client talks to this server. */
  env: Record<string, string>;
  requests: RecordedRequest[];
  artifacts: Map<string, StoredArtifact>;
  caches: StoredCache[];
  comments: StoredComment[];
  /** Claims of the next OIDC token; `aud` is filled from the request. Mutable. */
  oidcClaims: Record<string, unknown>;
  /** The token the runner hands out for the OIDC request (ACTIONS_ID_TOKEN_REQUEST_TOKEN). */
  oidcRequestToken: string;
  /** The GitHub token REST calls must carry (`Authorization: token <t>`); any non-empty token when undefined. */
  restToken?: string;
  intercept?: Interceptor;
  /** Artifact bytes by name (the zip as uploaded, or the raw file with skipArchive). */
  artifactBytes(name: string): Buffer | undefined;
  addComment(issue: number, body: string, login?: string): StoredComment;
  close(): Promise<void>;
}

export interface GitHubServicesOptions {
  owner?: string;
  repo?: string;
  runBackendId?: string;
  jobBackendId?: string;
  oidcClaims?: Record<string, unknown>;
  restToken?: string;
  /**
   * Who the REST token belongs to. Unset: it is the job's GITHUB_TOKEN (comments are written by
   * `github-actions[bot]`, and `GET /user` answers 403 as it does for installation tokens). Set: a
   * personal access token of that user (comments are theirs, `GET /user` names them).
   */
  restUser?: string;
}

export async function startGitHubServices(opts: GitHubServicesOptions = {}): Promise<GitHubServices> {
  const owner = opts.owner ?? 'octo-org';
  const repo = opts.repo ?? 'shop';
  const runBackendId = opts.runBackendId ?? 'run-backend-1';
  const jobBackendId = opts.jobBackendId ?? 'job-backend-1';
  const artifacts = new Map<string, StoredArtifact>();
  const caches: StoredCache[] = [];
  const comments: StoredComment[] = [];
  let nextId = 1000;
  const now = () => new Date().toISOString();

  const svc = {} as GitHubServices;
  const server = await startServer(async (req, res, raw) => {
    if (svc.intercept && (await svc.intercept(req, res))) return;
    await route(req, res, raw);
  });
  const base = server.url;

  const twirpError = (res: ServerResponse, status: number, code: string, msg: string) => json(res, status, { code, msg });

  async function route(req: RecordedRequest, res: ServerResponse, raw: IncomingMessage): Promise<void> {
    const u = new URL(req.url, base);
    const p = u.pathname;
    // ---- Twirp ----
    const twirp = /^\/twirp\/github\.actions\.results\.api\.v1\.(ArtifactService|CacheService)\/(\w+)$/.exec(p);
    if (twirp && req.method === 'POST') {
      if (!/^Bearer .+/.test(String(req.headers.authorization ?? '')))
        return twirpError(res, 401, 'unauthenticated', 'missing runtime token');
      let body: Record<string, unknown>;
      try {
        body = JSON.parse(req.text || '{}') as Record<string, unknown>;
      } catch {
        return twirpError(res, 400, 'malformed', 'body is not JSON');
      }
      return twirp[1] === 'ArtifactService' ? artifactTwirp(twirp[2] as string, body, res) : cacheTwirp(twirp[2] as string, body, res);
    }
    // ---- blobs ----
    const blob = /^\/blob\/devacct\/(artifacts|cache)\/(\d+)$/.exec(p);
    if (blob) return blobRoute(blob[1] as string, Number(blob[2]), u, req, res, raw);
    // ---- OIDC ----
    if (p === '/oidc/token' && req.method === 'GET') {
      // The auth scheme is case-insensitive (RFC 9110 §11.1): @actions/core sends `Bearer`, cosign's
      // GitHub provider `bearer` (pkg/providers/github/github.go); the token must match exactly.
      const m = /^bearer (.+)$/i.exec(String(req.headers.authorization ?? ''));
      if (!m || m[1] !== svc.oidcRequestToken) return json(res, 401, { message: 'bad OIDC request token' });
      const aud = u.searchParams.get('audience') ?? `https://github.com/${owner}`;
      const t = Math.floor(Date.now() / 1000);
      return json(res, 200, { count: 1, value: fakeJwt({ iat: t, nbf: t, exp: t + 300, ...svc.oidcClaims, aud }) });
    }
    // ---- REST ----
    if (p.startsWith('/repos/') || p === '/user') return rest(req, res, u);
    json(res, 404, { message: `loopback GitHub: no route for ${req.method} ${p}` });
  }

  function artifactTwirp(method: string, body: Record<string, unknown>, res: ServerResponse): void {
    const name = String(body.name ?? '');
    switch (method) {
      case 'CreateArtifact': {
        const existing = artifacts.get(name);
        if (existing?.finalized) return twirpError(res, 409, 'already_exists', `an artifact named ${name} already exists`);
        const a: StoredArtifact = {
          id: ++nextId,
          name,
          runBackendId: String(body.workflow_run_backend_id ?? ''),
          jobBackendId: String(body.workflow_job_run_backend_id ?? ''),
          contentType: String(body.mime_type ?? 'application/zip'),
          blocks: new Map(),
          size: 0,
          digest: '',
          expiresAt: body.expires_at ? String(body.expires_at) : undefined,
          createdAt: now(),
          finalized: false,
        };
        artifacts.set(name, a);
        return json(res, 200, { ok: true, signed_upload_url: `${base}/blob/devacct/artifacts/${a.id}?sig=fakesig` });
      }
      case 'FinalizeArtifact': {
        const a = artifacts.get(name);
        if (!a?.content) return twirpError(res, 404, 'not_found', `no uploaded blob for ${name}`);
        const hash = `sha256:${createHash('sha256').update(a.content).digest('hex')}`;
        if (body.hash && body.hash !== hash) return twirpError(res, 400, 'invalid_argument', 'hash mismatch');
        a.size = a.content.length;
        a.digest = hash;
        a.finalized = true;
        return json(res, 200, { ok: true, artifact_id: String(a.id) });
      }
      case 'ListArtifacts': {
        let list = [...artifacts.values()].filter((a) => a.finalized);
        const nf = body.name_filter as string | undefined;
        const idf = body.id_filter as string | undefined;
        if (nf) list = list.filter((a) => a.name === nf);
        if (idf) list = list.filter((a) => String(a.id) === String(idf));
        return json(res, 200, {
          artifacts: list.map((a) => ({
            workflow_run_backend_id: a.runBackendId,
            workflow_job_run_backend_id: a.jobBackendId,
            database_id: String(a.id),
            name: a.name,
            size: String(a.size),
            created_at: a.createdAt,
            digest: a.digest,
          })),
        });
      }
      case 'GetSignedArtifactURL': {
        const a = artifacts.get(name);
        if (!a?.finalized) return twirpError(res, 404, 'not_found', `artifact ${name} not found`);
        return json(res, 200, { signed_url: `${base}/blob/devacct/artifacts/${a.id}?sig=fakesig` });
      }
      case 'DeleteArtifact': {
        const a = artifacts.get(name);
        if (!a) return twirpError(res, 404, 'not_found', `artifact ${name} not found`);
        artifacts.delete(name);
        return json(res, 200, { ok: true, artifact_id: String(a.id) });
      }
      default:
        return twirpError(res, 404, 'bad_route', `no ArtifactService method ${method}`);
    }
  }

  function cacheTwirp(method: string, body: Record<string, unknown>, res: ServerResponse): void {
    const key = String(body.key ?? '');
    const version = String(body.version ?? '');
    switch (method) {
      case 'CreateCacheEntry': {
        if (caches.some((c) => c.key === key && c.version === version && c.finalized))
          return json(res, 200, { ok: false, message: `cache entry ${key} already exists` });
        const c: StoredCache = { id: ++nextId, key, version, blocks: new Map(), finalized: false, createdAt: Date.now() };
        caches.push(c);
        return json(res, 200, { ok: true, signed_upload_url: `${base}/blob/devacct/cache/${c.id}?sig=fakesig` });
      }
      case 'FinalizeCacheEntryUpload': {
        const c = [...caches].reverse().find((x) => x.key === key && x.version === version && !x.finalized);
        if (!c?.content) return twirpError(res, 404, 'not_found', `no uploaded blob for cache ${key}`);
        c.finalized = true;
        c.createdAt = Date.now();
        return json(res, 200, { ok: true, entry_id: String(c.id) });
      }
      case 'GetCacheEntryDownloadURL': {
        const ready = caches.filter((c) => c.finalized && c.version === version).sort((a, b) => b.createdAt - a.createdAt);
        let hit = ready.find((c) => c.key === key);
        for (const rk of (body.restore_keys as string[] | undefined) ?? []) {
          if (hit) break;
          hit = ready.find((c) => c.key.startsWith(rk));
        }
        if (!hit) return json(res, 200, { ok: false });
        return json(res, 200, { ok: true, signed_download_url: `${base}/blob/devacct/cache/${hit.id}?sig=fakesig`, matched_key: hit.key });
      }
      default:
        return twirpError(res, 404, 'bad_route', `no CacheService method ${method}`);
    }
  }

  function blobRoute(kind: string, id: number, u: URL, req: RecordedRequest, res: ServerResponse, raw: IncomingMessage): void {
    const target = kind === 'artifacts' ? [...artifacts.values()].find((a) => a.id === id) : caches.find((c) => c.id === id);
    if (!target) {
      res.writeHead(404);
      res.end();
      return;
    }
    const comp = u.searchParams.get('comp');
    if (req.method === 'PUT' && comp === 'block') {
      target.blocks.set(u.searchParams.get('blockid') ?? '', req.body);
      res.writeHead(201);
      res.end();
      return;
    }
    if (req.method === 'PUT' && comp === 'blocklist') {
      const ids = [...req.text.matchAll(/<(?:Latest|Committed|Uncommitted)>([^<]*)<\//g)].map((m) => m[1] as string);
      const missing = ids.find((i) => !target.blocks.has(i));
      if (missing !== undefined) {
        res.writeHead(400);
        res.end('unknown block');
        return;
      }
      target.content = Buffer.concat(ids.map((i) => target.blocks.get(i) as Buffer));
      if ('contentType' in target) target.contentType = String(raw.headers['x-ms-blob-content-type'] ?? target.contentType);
      res.writeHead(201);
      res.end();
      return;
    }
    if (req.method === 'PUT') {
      target.content = req.body;
      if ('contentType' in target && raw.headers['x-ms-blob-content-type'])
        target.contentType = String(raw.headers['x-ms-blob-content-type']);
      res.writeHead(201);
      res.end();
      return;
    }
    if (req.method === 'GET' || req.method === 'HEAD') {
      const body = target.content ?? Buffer.alloc(0);
      const headers: Record<string, string> = { 'content-length': String(body.length) };
      if ('contentType' in target) {
        headers['content-type'] = target.contentType;
        if (!/zip/.test(target.contentType))
          headers['content-disposition'] = `attachment; filename*=UTF-8''${encodeURIComponent(target.name)}`;
      } else headers['content-type'] = 'application/octet-stream';
      res.writeHead(200, headers);
      res.end(req.method === 'HEAD' ? undefined : body);
      return;
    }
    res.writeHead(405);
    res.end();
  }

  function rest(req: RecordedRequest, res: ServerResponse, u: URL): void {
    const auth = String(req.headers.authorization ?? '');
    const m = /^(?:token|bearer) (.+)$/i.exec(auth);
    if (!m || (svc.restToken !== undefined && m[1] !== svc.restToken)) return json(res, 401, { message: 'Bad credentials' });
    if (u.pathname.endsWith('/user') && !u.pathname.includes('/repos/')) {
      return opts.restUser
        ? json(res, 200, { login: opts.restUser, type: 'User' })
        : json(res, 403, { message: 'Resource not accessible by integration' });
    }
    const prefix = `/repos/${owner}/${repo}`;
    if (!u.pathname.startsWith(`${prefix}/`)) return json(res, 404, { message: 'Not Found' });
    const p = u.pathname.slice(prefix.length);
    let mm: RegExpExecArray | null;
    if ((mm = /^\/issues\/(\d+)\/comments$/.exec(p))) {
      const issue = Number(mm[1]);
      if (req.method === 'GET') {
        const perPage = Math.min(100, Number(u.searchParams.get('per_page') ?? 30));
        const page = Number(u.searchParams.get('page') ?? 1);
        const all = comments.filter((c) => c.issue === issue);
        const slice = all.slice((page - 1) * perPage, page * perPage);
        const headers: Record<string, string> = {};
        if (page * perPage < all.length) {
          const next = new URL(u.toString());
          next.searchParams.set('page', String(page + 1));
          next.searchParams.set('per_page', String(perPage));
          headers.link = `<${next.toString()}>; rel="next"`;
        }
        return json(res, 200, slice.map(view), headers);
      }
      if (req.method === 'POST') {
        const body = JSON.parse(req.text || '{}') as { body?: string };
        if (typeof body.body !== 'string') return json(res, 422, { message: 'body is required' });
        return json(res, 201, view(svc.addComment(issue, body.body, opts.restUser)));
      }
    }
    if ((mm = /^\/issues\/comments\/(\d+)$/.exec(p))) {
      const c = comments.find((x) => x.id === Number(mm?.[1]));
      if (!c) return json(res, 404, { message: 'Not Found' });
      if (req.method === 'PATCH') {
        const body = JSON.parse(req.text || '{}') as { body?: string };
        if (typeof body.body !== 'string') return json(res, 422, { message: 'body is required' });
        c.body = body.body;
        c.updated_at = now();
        return json(res, 200, view(c));
      }
      if (req.method === 'DELETE') {
        comments.splice(comments.indexOf(c), 1);
        res.writeHead(204);
        res.end();
        return;
      }
    }
    if ((mm = /^\/actions\/runs\/(\d+)\/artifacts$/.exec(p)) && req.method === 'GET') {
      const nameFilter = u.searchParams.get('name');
      const list = [...artifacts.values()].filter((a) => a.finalized && (!nameFilter || a.name === nameFilter));
      return json(res, 200, {
        total_count: list.length,
        artifacts: list.map((a) => ({
          id: a.id,
          name: a.name,
          size_in_bytes: a.size,
          created_at: a.createdAt,
          digest: a.digest,
          expired: false,
        })),
      });
    }
    if ((mm = /^\/actions\/artifacts\/(\d+)\/zip$/.exec(p)) && req.method === 'GET') {
      const a = [...artifacts.values()].find((x) => x.id === Number(mm?.[1]));
      if (!a) return json(res, 404, { message: 'Not Found' });
      res.writeHead(302, { location: `${base}/blob/devacct/artifacts/${a.id}?sig=fakesig` });
      res.end();
      return;
    }
    json(res, 404, { message: `loopback GitHub: no REST route for ${req.method} ${u.pathname}` });
  }

  const view = (c: StoredComment) => ({
    id: c.id,
    node_id: `IC_${c.id}`,
    body: c.body,
    user: c.user,
    html_url: `https://github.com/${owner}/${repo}/pull/${c.issue}#issuecomment-${c.id}`,
    issue_url: `${base}/repos/${owner}/${repo}/issues/${c.issue}`,
    created_at: c.created_at,
    updated_at: c.updated_at,
  });

  const runtimeToken = fakeJwt({ scp: `Actions.GenericRead:0 Actions.Results:${runBackendId}:${jobBackendId}` });
  Object.assign(svc, {
    url: base,
    server,
    requests: server.requests,
    artifacts,
    caches,
    comments,
    oidcRequestToken: 'oidc-request-token-for-tests',
    restToken: opts.restToken,
    oidcClaims: {
      iss: 'https://token.actions.githubusercontent.com',
      sub: `repo:${owner}/${repo}:ref:refs/heads/main`,
      repository: `${owner}/${repo}`,
      repository_owner: owner,
      ref: 'refs/heads/main',
      sha: '4f1c6b9e0a2d3c5b7e8f9a0b1c2d3e4f5a6b7c8d',
      workflow_ref: `${owner}/${repo}/.github/workflows/ci.yml@refs/heads/main`,
      job_workflow_ref: `${owner}/${repo}/.github/workflows/ci.yml@refs/heads/main`,
      event_name: 'push',
      run_id: '9100200300',
      actor: 'octocat',
      ...opts.oidcClaims,
    },
    env: {
      ACTIONS_RUNTIME_TOKEN: runtimeToken,
      ACTIONS_RESULTS_URL: `${base}/`,
      ACTIONS_CACHE_SERVICE_V2: 'true',
      ACTIONS_ID_TOKEN_REQUEST_URL: `${base}/oidc/token?api-version=2.0`,
      ACTIONS_ID_TOKEN_REQUEST_TOKEN: 'oidc-request-token-for-tests',
      GITHUB_API_URL: base,
      // Any other host counts as GHES to @actions/artifact and @actions/cache.
      GITHUB_SERVER_URL: 'https://github.com',
      NO_PROXY: '127.0.0.1,localhost',
    },
    artifactBytes: (name: string) => artifacts.get(name)?.content,
    addComment: (issue: number, body: string, login = 'github-actions[bot]') => {
      const c: StoredComment = {
        id: ++nextId,
        issue,
        body,
        user: { login, type: login.endsWith('[bot]') ? 'Bot' : 'User' },
        created_at: now(),
        updated_at: now(),
      };
      comments.push(c);
      return c;
    },
    close: () => server.close(),
  } satisfies Partial<GitHubServices>);
  return svc;
}
