/**
 * Rule: the job token carries the job's `permissions`. Each job gets its own GITHUB_TOKEN
 * (github.token, secrets.GITHUB_TOKEN), recorded with its permissions in a token book; the loopback
 * GitHub REST service (test/harness/github.ts, SIMULATED GitHub) answers 403 "Resource not
 * accessible by integration" to a call the job's permissions do not grant, as GitHub does; the
 * registry check grants pulls with packages: read and pushes with packages: write; the OIDC request
 * variables reach only jobs with id-token: write; a nested job asking for more than its caller
 * grants stops the run before it starts.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createTokenBook,
  githubInterceptor,
  normalizePermissions,
  registryGate,
  restInterceptor,
} from '../../packages/rehearse/src/rules.js';
import { startGitHubServices, type GitHubServices } from '../harness/github.js';
import { hasRegistry, startRegistry, type Registry } from '../harness/registry.js';
import { startRegistryGate } from '../../packages/rehearse/src/registry-gate.js';
import { cleanup, repo, run } from './rules-kit.js';

afterAll(cleanup);

describe('job token permissions against the loopback REST service', () => {
  let services: GitHubServices;
  beforeAll(async () => {
    services = await startGitHubServices({ owner: 'hallmark-dev', repo: 'hallmark' });
  });
  afterAll(() => services?.close());

  // POST a PR comment and a SARIF upload with the job token; report the HTTP statuses.
  const calls = `
      - id: c
        env:
          TOKEN: \${{ github.token }}
        run: |
          api="$GITHUB_API_URL/repos/$GITHUB_REPOSITORY"
          code() { curl -s -o /dev/null -w '%{http_code}' -X POST -H "Authorization: token $TOKEN" -H 'content-type: application/json' -d "$2" "$api/$1"; }
          echo "comment=$(code issues/7/comments '{"body":"hi"}')" >> "$GITHUB_OUTPUT"
          echo "sarif=$(code code-scanning/sarifs '{"commit_sha":"0","ref":"refs/heads/main","sarif":"x"}')" >> "$GITHUB_OUTPUT"
          echo "token=$TOKEN" >> "$GITHUB_OUTPUT"`;

  it('refuses with 403 what the job does not grant and lets through what it does; every job has its own masked token', async () => {
    const root = repo({
      '.github/workflows/p.yml': `on: push
permissions: {}
jobs:
  reader:
    runs-on: ubuntu-24.04
    permissions: { pull-requests: read }
    steps:${calls}
  writer:
    runs-on: ubuntu-24.04
    permissions: { pull-requests: write, security-events: write }
    steps:${calls}
  defaults:
    runs-on: ubuntu-24.04
    permissions: read-all
    steps:${calls}
`,
    });
    const book = createTokenBook();
    const denied: { job: string; method: string; path: string; missing: string }[] = [];
    services.intercept = restInterceptor(book, denied);
    const before = services.comments.length;
    const { record, log, job } = await run(root, '.github/workflows/p.yml', {
      env: { ...services.env, PATH: process.env.PATH ?? '/usr/bin:/bin' },
      tokenBook: book,
    });
    services.intercept = undefined;
    expect(record.status, log).toBe('success');
    const out = (j: string) => job(j)!.steps[0]!.outputs!;
    expect(out('reader')).toMatchObject({ comment: '403', sarif: '403' });
    expect(out('defaults')).toMatchObject({ comment: '403', sarif: '403' });
    expect(out('writer').comment).toBe('201');
    expect(out('writer').sarif).not.toBe('403');
    // Exactly one comment got through: the writer's.
    expect(services.comments.length - before).toBe(1);
    expect(denied.map((d) => `${d.job} ${d.path.split('/').slice(4).join('/')}`).sort()).toEqual([
      'defaults code-scanning/sarifs',
      'defaults issues/7/comments',
      'reader code-scanning/sarifs',
      'reader issues/7/comments',
    ]);
    // Three jobs, three tokens, none of them in the record or the log.
    const entries = [...book.entries()];
    expect(new Set(entries.map(([t]) => t)).size).toBe(3);
    expect(entries.find(([, v]) => v.job === 'writer')![1].permissions).toMatchObject({
      'pull-requests': 'write',
      'security-events': 'write',
      contents: 'none',
    });
    const written = readFileSync(record.recordFile, 'utf8');
    for (const [t] of entries) {
      expect(log).not.toContain(t);
      expect(written).not.toContain(t);
    }
    expect(out('writer').token).toMatch(/^ghs_/);
  });
});

describe('the registry check of a job token (GHCR-like)', () => {
  const book = createTokenBook();
  book.set('tok-read', { job: 'scan', permissions: normalizePermissions({ packages: 'read' }) });
  book.set('tok-write', { job: 'build', permissions: normalizePermissions({ packages: 'write' }) });
  book.set('tok-none', { job: 'lint', permissions: normalizePermissions({}) });
  const basic = (t: string) => `Basic ${Buffer.from(`actor:${t}`).toString('base64')}`;

  it('pulls with packages: read, pushes only with packages: write, nothing without a job token', () => {
    expect(registryGate(book, { method: 'GET', authorization: basic('tok-read') })).toEqual({ ok: true, job: 'scan' });
    expect(registryGate(book, { method: 'PUT', authorization: basic('tok-read') })).toMatchObject({ ok: false, status: 403 });
    expect(registryGate(book, { method: 'PUT', authorization: basic('tok-write') })).toEqual({ ok: true, job: 'build' });
    expect(registryGate(book, { method: 'HEAD', authorization: basic('tok-none') })).toMatchObject({ ok: false, status: 403 });
    expect(registryGate(book, { method: 'GET', authorization: basic('not-a-job-token') })).toMatchObject({ ok: false, status: 401 });
    expect(registryGate(book, { method: 'GET', authorization: 'Bearer tok-write' })).toEqual({ ok: true, job: 'build' });
  });

  it('reads permissions blocks as GitHub does', () => {
    expect(normalizePermissions(undefined)).toMatchObject({ contents: 'read', packages: 'read', 'id-token': 'none', issues: 'none' });
    expect(normalizePermissions(undefined, { defaults: 'permissive' })).toMatchObject({
      contents: 'write',
      packages: 'write',
      'id-token': 'none',
    });
    expect(normalizePermissions('read-all')).toMatchObject({ contents: 'read', 'id-token': 'none' });
    expect(normalizePermissions('write-all')).toMatchObject({ contents: 'write', 'id-token': 'write' });
    expect(() => normalizePermissions({ 'id-token': 'read' })).toThrow(/write or none/);
    expect(() => normalizePermissions({ package: 'read' })).toThrow(/unknown scope 'package'/);
  });
});

describe('reusable workflows', () => {
  it('refuses, before any job starts, a nested job that asks for more than the calling job grants', async () => {
    const root = repo({
      '.github/workflows/called.yml':
        'on: workflow_call\njobs:\n  push:\n    runs-on: ubuntu-24.04\n    permissions: { packages: write, contents: read }\n    steps:\n      - run: "true"\n',
      '.github/workflows/caller.yml': `on: push
permissions: {}
jobs:
  first:
    runs-on: ubuntu-24.04
    steps:
      - run: touch "$RUNNER_TEMP/../../ran"
  ok:
    permissions: { packages: write, contents: read }
    uses: ./.github/workflows/called.yml
  short:
    permissions: { packages: read, contents: read }
    uses: ./.github/workflows/called.yml
`,
    });
    await expect(run(root, '.github/workflows/caller.yml')).rejects.toThrow(
      "the nested job 'push' asks for packages: write, but the calling job 'short' allows only packages: read",
    );
    expect(existsSync(join(root, '.run', 'jobs'))).toBe(false);
  });

  it('refuses a calling job with keys GitHub does not support there (continue-on-error, env, runs-on …)', async () => {
    const root = repo({
      '.github/workflows/called.yml': 'on: workflow_call\njobs:\n  inner:\n    runs-on: ubuntu-24.04\n    steps:\n      - run: "true"\n',
      '.github/workflows/caller.yml':
        'on: push\npermissions: {}\njobs:\n  call:\n    continue-on-error: true\n    env: { A: b }\n    uses: ./.github/workflows/called.yml\n',
    });
    await expect(run(root, '.github/workflows/caller.yml')).rejects.toThrow(
      "job 'call' calls a reusable workflow and also sets continue-on-error, env, which GitHub does not support there",
    );
  });

  it("gives a nested job without a permissions block the calling job's permissions", async () => {
    const root = repo({
      '.github/workflows/called.yml': 'on: workflow_call\njobs:\n  inner:\n    runs-on: ubuntu-24.04\n    steps:\n      - run: "true"\n',
      '.github/workflows/caller.yml':
        'on: push\npermissions: {}\njobs:\n  call:\n    permissions: { packages: write }\n    uses: ./.github/workflows/called.yml\n',
    });
    const book = createTokenBook();
    const { record, log } = await run(root, '.github/workflows/caller.yml', { tokenBook: book });
    expect(record.status, log).toBe('success');
    expect(record.jobs.find((j) => j.name === 'call / inner')!.permissions).toEqual({ packages: 'write' });
  });
});

describe.runIf(hasRegistry && existsSync('/usr/bin/buildah') && existsSync('/usr/bin/skopeo'))(
  'packages permission at the registry (GHCR-like gate before a real htpasswd registry)',
  () => {
    let registry: Registry;
    let gate: Awaited<ReturnType<typeof startRegistryGate>>;
    const book = createTokenBook();
    const dir = mkdtempSync(join(tmpdir(), 'hallmark-rules-gate-'));
    beforeAll(async () => {
      const bcrypt = (await import('bcryptjs')).default;
      writeFileSync(join(dir, 'htpasswd'), `upstream-bot:${bcrypt.hashSync('upstream-pw-91', 5)}\n`);
      registry = await startRegistry({ htpasswd: join(dir, 'htpasswd') });
      gate = await startRegistryGate({ upstream: registry.url, auth: { username: 'upstream-bot', password: 'upstream-pw-91' }, book });
    });
    afterAll(async () => {
      await gate?.close();
      await registry?.stop();
      rmSync(dir, { recursive: true, force: true });
    });

    // Each job logs in with its own job token, then tries to pull and to push.
    const job = (perm: string, pushes: boolean) => `    runs-on: ubuntu-24.04
    permissions: ${perm}
    steps:
      - id: r
        env:
          TOKEN: \${{ github.token }}
        run: |
          echo "$TOKEN" | buildah login --tls-verify=false -u "$GITHUB_ACTOR" --password-stdin "$GATE" >/dev/null 2>&1 && echo "login=ok" >> "$GITHUB_OUTPUT" || echo "login=refused" >> "$GITHUB_OUTPUT"
          ${pushes ? 'c=$(buildah from scratch) && echo payload > f && buildah copy "$c" f /f >/dev/null && buildah commit -q "$c" app >/dev/null' : 'true'}
          ${pushes ? 'buildah push -q --tls-verify=false app "docker://$GATE/shop/app:1" >/dev/null 2>&1 && echo "push=ok" >> "$GITHUB_OUTPUT" || echo "push=refused" >> "$GITHUB_OUTPUT"' : 'skopeo copy -q --src-tls-verify=false --dest-tls-verify=false "docker://$GATE/shop/app:1" "docker://$GATE/shop/app:copy" >/dev/null 2>&1 && echo "push=ok" >> "$GITHUB_OUTPUT" || echo "push=refused" >> "$GITHUB_OUTPUT"'}
          skopeo inspect --tls-verify=false "docker://$GATE/shop/app:1" >/dev/null 2>&1 && echo "pull=ok" >> "$GITHUB_OUTPUT" || echo "pull=refused" >> "$GITHUB_OUTPUT"
`;

    it('pushes with packages: write, pulls but cannot push with packages: read, and gets nothing with none', async () => {
      const root = repo({
        'w.yml': `on: push
permissions: {}
env:
  GATE: ${gate.host}
jobs:
  writer:
${job('{ packages: write }', true)}
  reader:
    needs: writer
${job('{ packages: read }', false)}
  nobody:
    needs: writer
${job('{ contents: read }', false)}
`,
      });
      const { record, log } = await run(root, 'w.yml', { env: { PATH: process.env.PATH ?? '/usr/bin:/bin' }, tokenBook: book });
      expect(record.status, log).toBe('success');
      const out = (j: string) => record.jobs.find((x) => x.name === j)!.steps[0]!.outputs;
      expect(out('writer')).toEqual({ login: 'ok', push: 'ok', pull: 'ok' });
      expect(out('reader')).toEqual({ login: 'ok', push: 'refused', pull: 'ok' });
      expect(out('nobody')).toEqual({ login: 'ok', push: 'refused', pull: 'refused' });
      // What the real registry holds: the writer's tag, never the reader's copy.
      const basic = `Basic ${Buffer.from('upstream-bot:upstream-pw-91').toString('base64')}`;
      const tags = (await (await fetch(`${registry.url}/v2/shop/app/tags/list`, { headers: { authorization: basic } })).json()) as {
        tags: string[];
      };
      expect(tags.tags).toEqual(['1']);
      // The gate refused the reader's manifest push (and every request of the job without packages).
      expect(gate.seen).toContainEqual({ job: 'reader', method: 'PUT', path: '/v2/shop/app/manifests/copy', status: 403 });
      expect(gate.seen.filter((x) => x.job === 'nobody' && x.path !== '/v2/').every((x) => x.status === 403)).toBe(true);
    });
  },
);

describe('actions that need a permission their job does not grant', () => {
  it('upload-sarif fails without security-events: write, as on GitHub, and passes with it', async () => {
    const sarif = JSON.stringify({ version: '2.1.0', runs: [{ tool: { driver: { name: 't' } }, results: [] }] });
    const job = (perm: string) => `    runs-on: ubuntu-24.04
    permissions: ${perm}
    steps:
      - run: echo '${sarif}' > r.sarif
      - uses: github/codeql-action/upload-sarif@51f77329afa6477de8c49fc9c7046c15b9a4e79d # v3.29.5
        with: { sarif_file: r.sarif }
`;
    const root = repo({
      'w.yml': `on: push\npermissions: {}\njobs:\n  granted:\n${job('{ security-events: write }')}  denied:\n${job('{ contents: read }')}`,
    });
    const { record, job: j } = await run(root, 'w.yml');
    expect(record.status).toBe('failure');
    expect(j('granted')!.status).toBe('success');
    expect(j('denied')!.steps[1]!.error).toMatch(/Resource not accessible by integration: uploading SARIF needs 'security-events: write'/);
  });
});

describe('OIDC: each job asks for its own ID token, with its own claims', () => {
  let services: GitHubServices;
  beforeAll(async () => {
    services = await startGitHubServices({ owner: 'hallmark-dev', repo: 'hallmark' });
  });
  afterAll(() => services?.close());

  const ask = `
      - id: t
        run: |
          jwt=$(curl -s -H "Authorization: bearer $ACTIONS_ID_TOKEN_REQUEST_TOKEN" "$ACTIONS_ID_TOKEN_REQUEST_URL&audience=sigstore" | sed -n 's/.*"value":"\\([^"]*\\)".*/\\1/p')
          claims=$(printf '%s' "$jwt" | cut -d. -f2 | tr '_-' '/+'); while [ $(( \${#claims} % 4 )) -ne 0 ]; do claims="$claims="; done
          printf '%s' "$claims" | base64 -d > claims.json
          echo "jwf=$(sed -n 's/.*"job_workflow_ref":"\\([^"]*\\)".*/\\1/p' claims.json)" >> "$GITHUB_OUTPUT"
          echo "sub=$(sed -n 's/.*"sub":"\\([^"]*\\)".*/\\1/p' claims.json)" >> "$GITHUB_OUTPUT"
          echo "aud=$(sed -n 's/.*"aud":"\\([^"]*\\)".*/\\1/p' claims.json)" >> "$GITHUB_OUTPUT"`;

  it('names the workflow that defines the job at the ref its caller pinned (@<sha>, @v1), and the environment in sub', async () => {
    const sha = 'a'.repeat(40);
    const root = repo({
      '.github/workflows/called.yml': `on: workflow_call\njobs:\n  inner:\n    runs-on: ubuntu-24.04\n    permissions: { id-token: write }\n    steps:${ask}\n`,
      '.github/workflows/top.yml': `on: push
permissions: {}
jobs:
  direct:
    runs-on: ubuntu-24.04
    permissions: { id-token: write }
    environment: production
    steps:${ask}
  by-sha:
    permissions: { id-token: write }
    uses: hallmark-dev/hallmark/.github/workflows/called.yml@${sha}
  by-tag:
    permissions: { id-token: write }
    uses: hallmark-dev/hallmark/.github/workflows/called.yml@v1
`,
    });
    const book = createTokenBook();
    services.intercept = githubInterceptor(book);
    const { record, log, job } = await run(root, '.github/workflows/top.yml', {
      env: { ...services.env, PATH: process.env.PATH ?? '/usr/bin:/bin' },
      tokenBook: book,
      approve: true,
      ref: 'refs/heads/main',
    });
    services.intercept = undefined;
    expect(record.status, log).toBe('success');
    expect(job('direct')!.steps[0]!.outputs).toEqual({
      jwf: 'hallmark-dev/hallmark/.github/workflows/top.yml@refs/heads/main',
      sub: 'repo:hallmark-dev/hallmark:environment:production',
      aud: 'sigstore',
    });
    expect(job('by-sha / inner')!.steps[0]!.outputs).toMatchObject({
      jwf: `hallmark-dev/hallmark/.github/workflows/called.yml@${sha}`,
      sub: 'repo:hallmark-dev/hallmark:ref:refs/heads/main',
    });
    expect(job('by-tag / inner')!.steps[0]!.outputs).toMatchObject({
      jwf: 'hallmark-dev/hallmark/.github/workflows/called.yml@refs/tags/v1',
    });
    // Three jobs, three request tokens; none of them is the service's shared one.
    const reqTokens = [...book.values()].map((e) => e.oidc?.requestToken).filter(Boolean);
    expect(new Set(reqTokens).size).toBe(3);
    expect(reqTokens).not.toContain(services.oidcRequestToken);
  });
});
