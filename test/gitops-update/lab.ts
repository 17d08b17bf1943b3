/**
 * gitops-update's test lab. Real: git repositories made here and git's own `git http-backend`
 * (CGI) behind a loopback Node HTTP server, so the action really clones and pushes over HTTP with
 * its token in an `Authorization: basic` header (the server refuses anything else with 401).
 * SIMULATED: GitHub's pull request REST API (`/repos/{o}/{r}/pulls`, and comments through
 * `/repos/{o}/{r}/issues/{n}/comments`), added to the loopback
 * GitHub services of test/harness/github.ts through its interceptor.
 */
import { spawn, execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { startGitHubServices, type GitHubServices } from '../harness/github.js';
import { json, startServer, type RecordedRequest, type TestServer } from '../harness/server.js';

export const OWNER = 'octo-org';
export const REPO = 'deploy-config';
export const REPOSITORY = `${OWNER}/${REPO}`;
export const TOKEN = 'ghs_gitopsLabToken0123456789abcdefABCDEF';
export const HTTP_BACKEND = '/usr/lib/git-core/git-http-backend';

const GIT_ENV = {
  GIT_CONFIG_NOSYSTEM: '1',
  GIT_CONFIG_GLOBAL: '/dev/null',
  GIT_AUTHOR_NAME: 'lab',
  GIT_AUTHOR_EMAIL: 'lab@example.test',
  GIT_COMMITTER_NAME: 'lab',
  GIT_COMMITTER_EMAIL: 'lab@example.test',
};

export function git(cwd: string, args: string[], input?: string): string {
  return execFileSync('git', args, { cwd, env: { ...process.env, ...GIT_ENV }, input, encoding: 'utf8', stdio: ['pipe', 'pipe', 'pipe'] });
}

export interface StoredPull {
  number: number;
  head: string;
  base: string;
  title: string;
  body: string;
  state: 'open' | 'closed';
  html_url: string;
  /** Comments posted on it (issue comments). */
  comments: string[];
}

export interface GitopsLab {
  /** Base URL of the git server (GITHUB_SERVER_URL for the action). */
  gitUrl: string;
  git: TestServer;
  gh: GitHubServices;
  bare: string;
  pulls: StoredPull[];
  /** Env for runAction: git server, API, no proxy. */
  env: Record<string, string>;
  /** Each runs once, before the next push's ref advertisement is served: a push by someone else just before ours (git then says `fetch first`). */
  beforeAdvertise: (() => void)[];
  /** Each runs once, before the next push's pack is received: a push racing ours after the advertisement (`cannot lock ref … but expected …`). */
  beforePush: (() => void)[];
  /** Answer the next N pulls API calls with this status (a refusal). */
  refusePulls: { status: number; count: number } | undefined;
  /** Answer the next N git requests (any) with this status before git http-backend sees them. */
  failGit: { status: number; count: number; path?: RegExp } | undefined;
  /** Create the next N pull requests but answer 502 (a response lost after the work was done). */
  loseCreateResponses: number;
  /** Put files on a branch of the bare repository (a commit by someone else). */
  commit(branch: string, files: Record<string, string>, message?: string): string;
  /** A file's bytes on a branch, or undefined. */
  show(branch: string, path: string): string | undefined;
  /** `git rev-parse refs/heads/<branch>` in the bare repository, or ''. */
  head(branch: string): string;
  /** Installs a real pre-receive hook that prints `message` (sent to the pusher as `remote:` lines) and refuses every push. */
  refuseWithHook(message: string): void;
  /** Every commit object and every blob on every branch, as text (to look for secrets). */
  allObjects(): string;
  close(): Promise<void>;
}

export async function startGitopsLab(files: Record<string, string>, opts: { token?: string } = {}): Promise<GitopsLab> {
  const token = opts.token ?? TOKEN;
  const root = mkdtempSync(join(tmpdir(), 'hallmark-gitops-lab-'));
  const projects = join(root, 'git');
  const bare = join(projects, OWNER, `${REPO}.git`);
  mkdirSync(bare, { recursive: true });
  git(bare, ['init', '--quiet', '--bare', '--initial-branch=main']);
  git(bare, ['config', 'http.receivepack', 'true']);
  const expected = `basic ${Buffer.from(`x-access-token:${token}`).toString('base64')}`;
  const beforePush: (() => void)[] = [];
  const beforeAdvertise: (() => void)[] = [];

  const gitServer = await startServer(async (req, res) => {
    if (String(req.headers.authorization ?? '').toLowerCase() !== expected.toLowerCase()) {
      res.writeHead(401, { 'www-authenticate': 'Basic realm="lab"', 'content-type': 'text/plain' });
      res.end('bad credentials');
      return;
    }
    const u = new URL(req.url, 'http://x');
    const f = lab.failGit;
    if (f && f.count > 0 && (!f.path || f.path.test(req.url))) {
      f.count--;
      res.writeHead(f.status, { 'content-type': 'text/plain' });
      res.end('lab: failing on purpose');
      return;
    }
    if (u.pathname.endsWith('/info/refs') && u.searchParams.get('service') === 'git-receive-pack') beforeAdvertise.shift()?.();
    if (u.pathname.endsWith('/git-receive-pack') && req.method === 'POST') beforePush.shift()?.();
    await cgi(req, u, projects, res);
  });

  const pulls: StoredPull[] = [];
  const gh = await startGitHubServices({ owner: OWNER, repo: REPO, restToken: token });
  const lab: GitopsLab = {
    gitUrl: gitServer.url,
    git: gitServer,
    gh,
    bare,
    pulls,
    beforePush,
    beforeAdvertise,
    refusePulls: undefined,
    loseCreateResponses: 0,
    failGit: undefined,
    env: { ...gh.env, GITHUB_SERVER_URL: gitServer.url },
    commit(branch, fs, message = 'someone else') {
      const work = mkdtempSync(join(root, 'work-'));
      try {
        git(work, ['init', '--quiet', '--initial-branch', branch]);
        if (lab.head(branch)) {
          git(work, ['fetch', '--quiet', bare, `refs/heads/${branch}`]);
          git(work, ['reset', '--quiet', '--hard', 'FETCH_HEAD']);
        }
        for (const [p, t] of Object.entries(fs)) {
          mkdirSync(dirname(join(work, p)), { recursive: true });
          writeFileSync(join(work, p), t);
        }
        git(work, ['add', '-A']);
        git(work, ['commit', '--quiet', '--allow-empty', '-m', message]);
        git(work, ['push', '--quiet', bare, `HEAD:refs/heads/${branch}`]);
        return git(work, ['rev-parse', 'HEAD']).trim();
      } finally {
        rmSync(work, { recursive: true, force: true });
      }
    },
    show(branch, path) {
      try {
        return git(bare, ['show', `refs/heads/${branch}:${path}`]);
      } catch {
        return undefined;
      }
    },
    head(branch) {
      try {
        return git(bare, ['rev-parse', '--verify', '--quiet', `refs/heads/${branch}`]).trim();
      } catch {
        return '';
      }
    },
    refuseWithHook(message) {
      const msg = join(root, 'hook-message.txt');
      writeFileSync(msg, message);
      writeFileSync(join(bare, 'hooks', 'pre-receive'), `#!/bin/sh\ncat '${msg}' >&2\nexit 1\n`, { mode: 0o755 });
    },
    allObjects() {
      const ids = git(bare, ['cat-file', '--batch-all-objects', '--batch-check']).split('\n').filter(Boolean);
      return ids.map((l) => git(bare, ['cat-file', '-p', l.split(' ')[0] as string])).join('\n');
    },
    async close() {
      await gitServer.close();
      await gh.close();
      rmSync(root, { recursive: true, force: true });
    },
  };
  gh.intercept = (req, res) => pullsApi(lab, req, res);
  lab.commit('main', files, 'initial config');
  return lab;
}

/** SIMULATED: GitHub's pulls API, just the list/create/update/close and the comment the action uses. */
function pullsApi(lab: GitopsLab, req: RecordedRequest, res: import('node:http').ServerResponse): boolean {
  const u = new URL(req.url, 'http://x');
  const c = new RegExp(`^/repos/${OWNER}/${REPO}/issues/(\\d+)/comments$`).exec(u.pathname);
  const m = new RegExp(`^/repos/${OWNER}/${REPO}/pulls(?:/(\\d+))?$`).exec(u.pathname);
  if (!m && !c) return false;
  if (
    String(req.headers.authorization ?? '') !== `Bearer ${TOKEN}` &&
    !String(req.headers.authorization ?? '').endsWith(` ${lab.gh.restToken}`)
  ) {
    json(res, 401, { message: 'Bad credentials' });
    return true;
  }
  if (lab.refusePulls && lab.refusePulls.count > 0) {
    lab.refusePulls.count--;
    json(res, lab.refusePulls.status, { message: 'refused by the lab' });
    return true;
  }
  if (c) {
    const p = lab.pulls.find((x) => x.number === Number(c[1]));
    if (req.method !== 'POST') json(res, 405, { message: 'method not allowed in the lab' });
    else if (!p) json(res, 404, { message: 'Not Found' });
    else {
      const b = JSON.parse(req.text) as { body: string };
      p.comments.push(b.body);
      json(res, 201, { id: 1000 + p.comments.length, body: b.body, html_url: `${p.html_url}#issuecomment-${1000 + p.comments.length}` });
    }
    return true;
  }
  if (!m) return false;
  const view = (p: StoredPull) => ({
    number: p.number,
    html_url: p.html_url,
    state: p.state,
    title: p.title,
    body: p.body,
    head: { ref: p.head, label: `${OWNER}:${p.head}` },
    base: { ref: p.base },
  });
  if (!m[1] && req.method === 'GET') {
    const head = u.searchParams.get('head');
    const base = u.searchParams.get('base');
    const state = u.searchParams.get('state') ?? 'open';
    const list = lab.pulls.filter(
      (p) => (state === 'all' || p.state === state) && (!head || `${OWNER}:${p.head}` === head) && (!base || p.base === base),
    );
    json(res, 200, list.map(view));
    return true;
  }
  if (!m[1] && req.method === 'POST') {
    const b = JSON.parse(req.text) as { title: string; body: string; head: string; base: string };
    if (!lab.head(b.head)) {
      json(res, 422, { message: 'Validation Failed', errors: [{ field: 'head', code: 'invalid' }] });
      return true;
    }
    if (lab.pulls.some((p) => p.state === 'open' && p.head === b.head && p.base === b.base)) {
      json(res, 422, { message: `A pull request already exists for ${OWNER}:${b.head}.` });
      return true;
    }
    const n = lab.pulls.length + 1;
    const p: StoredPull = {
      number: n,
      head: b.head,
      base: b.base,
      title: b.title,
      body: b.body,
      state: 'open',
      html_url: `https://github.com/${OWNER}/${REPO}/pull/${n}`,
      comments: [],
    };
    lab.pulls.push(p);
    if (lab.loseCreateResponses > 0) {
      lab.loseCreateResponses--;
      json(res, 502, { message: 'Server Error' });
      return true;
    }
    json(res, 201, view(p));
    return true;
  }
  if (m[1] && req.method === 'PATCH') {
    const p = lab.pulls.find((x) => x.number === Number(m[1]));
    if (!p) {
      json(res, 404, { message: 'Not Found' });
      return true;
    }
    const b = JSON.parse(req.text) as { title?: string; body?: string; state?: 'open' | 'closed' };
    if (b.title !== undefined) p.title = b.title;
    if (b.body !== undefined) p.body = b.body;
    if (b.state !== undefined) p.state = b.state;
    json(res, 200, view(p));
    return true;
  }
  json(res, 405, { message: 'method not allowed in the lab' });
  return true;
}

/** Serves one request through `git http-backend` (CGI, RFC 3875; git-http-backend(1)). */
function cgi(req: RecordedRequest, u: URL, projects: string, res: import('node:http').ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const env: Record<string, string> = {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      GIT_PROJECT_ROOT: projects,
      GIT_HTTP_EXPORT_ALL: '1',
      GIT_CONFIG_NOSYSTEM: '1',
      GIT_CONFIG_GLOBAL: '/dev/null',
      REQUEST_METHOD: req.method,
      PATH_INFO: decodeURIComponent(u.pathname),
      QUERY_STRING: u.search.replace(/^\?/, ''),
      CONTENT_TYPE: String(req.headers['content-type'] ?? ''),
      CONTENT_LENGTH: String(req.body.length),
      REMOTE_USER: 'x-access-token',
      REMOTE_ADDR: '127.0.0.1',
      SERVER_PROTOCOL: 'HTTP/1.1',
      GATEWAY_INTERFACE: 'CGI/1.1',
    };
    if (req.headers['content-encoding']) env.HTTP_CONTENT_ENCODING = String(req.headers['content-encoding']);
    if (req.headers['git-protocol']) env.GIT_PROTOCOL = String(req.headers['git-protocol']);
    const child = spawn(HTTP_BACKEND, [], { env, stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    child.stdout.on('data', (c: Buffer) => out.push(c));
    child.stderr.on('data', () => undefined);
    child.stdin.on('error', () => undefined); // http-backend may exit before reading a body it does not need
    child.stdin.end(req.body);
    child.on('close', () => {
      const all = Buffer.concat(out);
      let sep = all.indexOf('\r\n\r\n');
      let skip = 4;
      if (sep < 0) {
        sep = all.indexOf('\n\n');
        skip = 2;
      }
      const head = all.subarray(0, Math.max(sep, 0)).toString('latin1');
      const headers: Record<string, string> = {};
      let status = 200;
      for (const line of head.split(/\r?\n/)) {
        const i = line.indexOf(':');
        if (i <= 0) continue;
        const k = line.slice(0, i).trim().toLowerCase();
        const v = line.slice(i + 1).trim();
        if (k === 'status') status = Number.parseInt(v, 10) || 200;
        else headers[k] = v;
      }
      res.writeHead(status, headers);
      res.end(sep < 0 ? all : all.subarray(sep + skip));
      resolve();
    });
  });
}
