/**
 * hallmark's own releases (issue 15): `npm run release -- 1.0.0` in a scratch clone, the static
 * checks in release mode, the release workflow rehearsed against the loopback GitHub services
 * (SIMULATED: test/harness/github.ts plus ./github-release.ts), and a fork's release.
 * Expected values are computed here from the files (refs parsed line by line, dist/ hashed,
 * the changelog sliced), not by scripts/release.mjs.
 */
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { appendFileSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { rehearse, type RehearseOptions, type TokenBook } from '../../packages/rehearse/src/engine.js';
import { changelogSection, ownerRepoOf, rewriteRefs, rollChangelog } from '../../scripts/release.mjs';
import { githubInterceptor } from '../../packages/rehearse/src/rules.js';
import { startGitHubServices, type GitHubServices } from '../harness/github.js';
import {
  checkLocalRefs,
  checkNoExprInRun,
  checkPermissions,
  checkPinned,
  expectedOwnRef,
  loadWorkflow,
  ownerRepoAt,
  ROOT,
  workflowFiles,
} from '../workflows/checks.js';
import { addReleaseRoutes, type ReleaseRoutes } from './github-release.js';
import { git, scratchClone, sh, type Scratch } from './scratch.js';

delete process.env.HALLMARK_RELEASE; // the tests decide the mode from the clone itself

// ------------------------------------------------------------------ independent readers

/** Every `uses:` value naming <ownerRepo>/…, with file and line. */
function usesRefs(root: string, ownerRepo: string) {
  const out: { file: string; line: number; target: string; ref: string }[] = [];
  for (const file of workflowFiles(root))
    readFileSync(join(root, file), 'utf8')
      .split('\n')
      .forEach((l, i) => {
        const m = /^\s*(?:-\s+)?uses:\s*['"]?([^\s'"#]+)/.exec(l);
        if (!m || !(m[1] as string).startsWith(`${ownerRepo}/`)) return;
        const at = (m[1] as string).lastIndexOf('@');
        out.push({ file, line: i + 1, target: (m[1] as string).slice(0, at), ref: (m[1] as string).slice(at + 1) });
      });
  return out;
}

function walk(dir: string): string[] {
  return readdirSync(dir).flatMap((e) => (statSync(join(dir, e)).isDirectory() ? walk(join(dir, e)) : [join(dir, e)]));
}

/** `dist/…/x.js` → sha256, for every bundle file. */
function bundleDigests(root: string): Record<string, string> {
  return Object.fromEntries(
    walk(join(root, 'dist'))
      .filter((f) => f.endsWith('.js'))
      .map((f) => [relative(root, f), createHash('sha256').update(readFileSync(f)).digest('hex')]),
  );
}

function sectionOf(changelog: string, version: string): string {
  const lines = changelog.split('\n');
  const start = lines.findIndex((l) => l.startsWith(`## [${version}]`));
  if (start < 0) return '';
  const end = lines.findIndex((l, i) => i > start && (l.startsWith('## [') || /^\[[^\]]+\]: /.test(l)));
  return lines
    .slice(start + 1, end < 0 ? undefined : end)
    .join('\n')
    .trim();
}

const staticFindings = (root: string, ownRef: string) =>
  workflowFiles(root).flatMap((f) => {
    const wf = loadWorkflow(f, root);
    return [
      ...checkPinned(wf, { ownRef, ownerRepo: ownerRepoAt(root) }),
      ...checkNoExprInRun(wf),
      ...checkPermissions(wf, root),
      ...checkLocalRefs(wf, root),
    ];
  });

// ------------------------------------------------------------------ units

describe('release.mjs pieces', () => {
  it('reads owner/name from every npm form of package.json `repository`', () => {
    for (const r of [
      'git+https://github.com/acme/forked-hallmark.git',
      'https://github.com/acme/forked-hallmark',
      'github:acme/forked-hallmark',
      'acme/forked-hallmark',
      'git@github.com:acme/forked-hallmark.git',
    ])
      expect(ownerRepoOf({ repository: { url: r } })).toBe('acme/forked-hallmark');
    expect(ownerRepoOf({ repository: 'acme/forked-hallmark' })).toBe('acme/forked-hallmark');
    expect(() => ownerRepoOf({})).toThrow(/repository/);
    expect(() => ownerRepoOf({ repository: { url: 'https://gitlab.com/a/b.git' } })).toThrow(/GitHub repository/);
  });

  it('rolls [Unreleased] into a dated section with link references, and refuses an empty one', () => {
    const text = '# Changelog\n\n## [Unreleased]\n\n### Added\n\n- a thing\n';
    const out = rollChangelog(text, '1.0.0', '2026-12-01', 'acme/h');
    expect(out).toMatch(/## \[Unreleased\]\n\n## \[1\.0\.0\] - 2026-12-01\n\n### Added\n\n- a thing\n/);
    expect(out).toContain('[Unreleased]: https://github.com/acme/h/compare/v1.0.0...HEAD');
    expect(out).toContain('[1.0.0]: https://github.com/acme/h/releases/tag/v1.0.0');
    expect(changelogSection(out, '1.0.0')).toBe('### Added\n\n- a thing');
    expect(() => rollChangelog(out, '1.0.1', '2026-12-02', 'acme/h')).toThrow(/nothing to release/);
    const next = rollChangelog(out.replace('## [Unreleased]\n', '## [Unreleased]\n\n- fix\n'), '1.0.1', '2026-12-02', 'acme/h');
    expect(next).toContain('[1.0.1]: https://github.com/acme/h/compare/v1.0.0...v1.0.1');
    expect(next.match(/^\[Unreleased\]: /gm)).toHaveLength(1);
  });

  it('rewrites only references to our own actions and workflows, in uses: lines and comments', () => {
    const text = [
      '# uses: hallmark-dev/hallmark/.github/workflows/build-sign-scan.yml@main',
      '      - uses: hallmark-dev/hallmark/actions/build-sign@main',
      '      - uses: upstream/hallmark/actions/trivy-gate@v1',
      '      - uses: actions/checkout@11bd71901bbe5b1630ceea73d27597364c9af683 # v4.2.2',
      '      - uses: hallmark-dev/hallmark/actions/no-such-action@main',
    ].join('\n');
    const out = rewriteRefs(text, 'acme/h', 'v2.0.0');
    expect(out.split('\n')).toEqual([
      '# uses: acme/h/.github/workflows/build-sign-scan.yml@v2.0.0',
      '      - uses: acme/h/actions/build-sign@v2.0.0',
      '      - uses: acme/h/actions/trivy-gate@v2.0.0',
      '      - uses: actions/checkout@11bd71901bbe5b1630ceea73d27597364c9af683 # v4.2.2',
      '      - uses: hallmark-dev/hallmark/actions/no-such-action@main',
    ]);
  });
});

// ------------------------------------------------------------------ npm run release in a scratch clone

describe('npm run release -- 1.0.0 in a scratch clone', () => {
  let s: Scratch;
  let before: string; // the commit released from
  let releaseSha: string;
  let ownerRepo: string;
  let run: ReturnType<typeof sh>;
  let branch: string;
  const back = () => git(s.repo, 'checkout', '-q', branch);

  beforeAll(() => {
    s = scratchClone();
    before = git(s.repo, 'rev-parse', 'HEAD');
    branch = git(s.repo, 'rev-parse', '--abbrev-ref', 'HEAD');
    ownerRepo = ownerRepoAt(s.repo);
    run = sh('npm', ['run', 'release', '--', '1.0.0', '--date', '2026-12-01'], s.repo);
    if (run.code === 0) releaseSha = git(s.repo, 'rev-parse', 'v1.0.0^{commit}');
  }, 300_000);
  afterAll(() => s?.remove());

  it('makes the release commit, tags it v1.0.0, and puts @main back in the next commit', { timeout: 300_000 }, () => {
    expect(run.code, run.out).toBe(0);
    expect(git(s.repo, 'rev-parse', 'HEAD~1')).toBe(releaseSha);
    expect(git(s.repo, 'rev-parse', 'HEAD~2')).toBe(before);
    expect(git(s.repo, 'cat-file', '-t', 'v1.0.0')).toBe('tag'); // annotated
    expect(git(s.repo, 'status', '--porcelain')).toBe('');
  });

  it('release commit: every internal reference names v1.0.0; versions, changelog, dist/ and catalog are the release', {
    timeout: 300_000,
  }, () => {
    const original = usesRefs(s.repo, ownerRepo); // HEAD: @main again
    git(s.repo, 'checkout', '-q', 'v1.0.0');
    try {
      const refs = usesRefs(s.repo, ownerRepo);
      expect(refs.length).toBeGreaterThan(10);
      expect(refs.length).toBe(original.length);
      expect(refs.filter((r) => r.ref !== 'v1.0.0')).toEqual([]);
      expect(original.filter((r) => r.ref !== 'main')).toEqual([]);
      // Comments that show a call (the workflow headers) name the release too.
      for (const f of workflowFiles(s.repo))
        expect(readFileSync(join(s.repo, f), 'utf8')).not.toMatch(new RegExp(`${ownerRepo}/[^\\s]+@main\\b`));
      const pkg = JSON.parse(readFileSync(join(s.repo, 'package.json'), 'utf8'));
      expect(pkg.version).toBe('1.0.0');
      const lock = JSON.parse(readFileSync(join(s.repo, 'package-lock.json'), 'utf8'));
      expect([lock.version, lock.packages[''].version]).toEqual(['1.0.0', '1.0.0']);
      const cl = readFileSync(join(s.repo, 'CHANGELOG.md'), 'utf8');
      expect(cl).toMatch(/^## \[1\.0\.0\] - 2026-12-01$/m);
      expect(sectionOf(cl, '1.0.0')).toMatch(/^### Added/);
      expect(sectionOf(cl, 'Unreleased')).toBe('');
      // dist/ and the catalog are what a fresh build of this commit writes.
      const build = sh(process.execPath, ['scripts/build.mjs'], s.repo);
      expect(build.code, build.out).toBe(0);
      expect(git(s.repo, 'status', '--porcelain', '--', 'dist', 'action-catalog.md', 'README.md')).toBe('');
      const cat = sh(process.execPath, ['scripts/catalog.mjs', '--check'], s.repo);
      expect(cat.code, cat.out).toBe(0);
      expect(readFileSync(join(s.repo, 'action-catalog.md'), 'utf8')).toContain(`${ownerRepo}/actions/build-sign@v1`);
    } finally {
      back();
    }
  });

  it('release commit: the static checks pass in release mode; planting one @v1 makes them fail', { timeout: 300_000 }, () => {
    git(s.repo, 'checkout', '-q', 'v1.0.0');
    try {
      expect(expectedOwnRef(s.repo)).toBe('v1.0.0');
      // Release mode adds no finding to what the same checks say about the commit released from.
      const found = staticFindings(s.repo, 'v1.0.0');
      git(s.repo, 'checkout', '-q', before);
      const onMain = staticFindings(s.repo, 'main');
      git(s.repo, 'checkout', '-q', 'v1.0.0');
      expect(found.filter((f) => /must say @main|release's own ref|pinned to|version comment|has no @ref/.test(f))).toEqual([]);
      expect(found.map((f) => f.replace(/@v1\.0\.0/g, '@main'))).toEqual(onMain);
      const verify = sh(process.execPath, ['scripts/release.mjs', 'verify', 'v1.0.0'], s.repo);
      expect(verify.code, verify.out).toBe(0);

      const victim = usesRefs(s.repo, ownerRepo)[0]!;
      const path = join(s.repo, victim.file);
      const lines = readFileSync(path, 'utf8').split('\n');
      lines[victim.line - 1] = lines[victim.line - 1]!.replace('@v1.0.0', '@v1');
      writeFileSync(path, lines.join('\n'));
      const pinned = workflowFiles(s.repo).flatMap((f) => checkPinned(loadWorkflow(f, s.repo), { ownRef: expectedOwnRef(s.repo) }));
      expect(pinned).toEqual([
        `${victim.file}:${victim.line}: '${victim.target}@v1' is not this release's own ref: a release commit names only @v1.0.0`,
      ]);
      const bad = sh(process.execPath, ['scripts/release.mjs', 'verify', 'v1.0.0'], s.repo);
      expect(bad.code).toBe(1);
      expect(bad.stderr).toContain(`${victim.file}:${victim.line}: '${victim.target}@v1' must name @v1.0.0`);
    } finally {
      git(s.repo, 'checkout', '-q', '--', '.');
      back();
    }
  });

  it('main after the release: @main everywhere, accepted by the checks in main mode', { timeout: 300_000 }, () => {
    expect(expectedOwnRef(s.repo)).toBe('main');
    expect(workflowFiles(s.repo).flatMap((f) => checkPinned(loadWorkflow(f, s.repo), { ownRef: 'main' }))).toEqual([]);
    const cl = readFileSync(join(s.repo, 'CHANGELOG.md'), 'utf8');
    expect(cl).toMatch(/^## \[Unreleased\]\n\n## \[1\.0\.0\] - 2026-12-01$/m);
    const again = sh(process.execPath, ['scripts/release.mjs', '1.0.0'], s.repo);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/tag v1\.0\.0 already exists/);
    const older = sh(process.execPath, ['scripts/release.mjs', '0.9.0'], s.repo);
    expect(older.code).toBe(1);
    expect(older.stderr).toMatch(/0\.9\.0 is not newer than 1\.0\.0/);
    expect(git(s.repo, 'status', '--porcelain')).toBe('');
  });

  // ---------------------------------------------------------------- the release workflow, rehearsed

  describe('.github/workflows/release.yml rehearsed against the loopback GitHub services', () => {
    const OLD_V1 = 'a'.repeat(40);
    const TAG_TOKEN = 'github_pat_11MAJORTAGTOKENFORTESTS';

    async function rehearseRelease(extraTags: Record<string, string> = {}) {
      const svc: GitHubServices = await startGitHubServices({ owner: 'hallmark-dev', repo: 'hallmark' });
      const routes: ReleaseRoutes = addReleaseRoutes(svc, 'hallmark-dev', 'hallmark', { v1: OLD_V1, 'v1.0.0': releaseSha, ...extraTags });
      const tokenBook: TokenBook = new Map();
      // As GitHub: each job's token has its job's permissions (403 otherwise), and its OIDC token the job's claims.
      const denied: { job: string; method: string; path: string; missing: string }[] = [];
      const gate = githubInterceptor(tokenBook, denied);
      const releaseRoutes = svc.intercept;
      svc.intercept = async (req, res) => gate(req, res) || (releaseRoutes ? releaseRoutes(req, res) : false);
      let log = '';
      try {
        const opts: RehearseOptions = {
          workflow: '.github/workflows/release.yml',
          root: s.repo,
          event: 'push',
          ref: 'refs/tags/v1.0.0',
          env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...svc.env, npm_config_cache: join(process.env.HOME ?? '/root', '.npm') },
          secrets: { MAJOR_TAG_TOKEN: TAG_TOKEN },
          tokenBook,
          runDir: mkdtempSync(join(s.dir, 'rehearsal-')), // removed with the scratch clone
          out: { write: (t: string) => (log += t) },
        };
        const record = await rehearse(opts);
        return { record, routes, tokenBook, log, denied };
      } finally {
        await svc.close();
      }
    }

    const permsOf = (book: TokenBook, token: string) => book.get(token)?.permissions as Record<string, string> | undefined;

    it('goes green: draft with the changelog section, SHA256SUMS, an attestation per bundle file, publish, then v1 moves', {
      timeout: 600_000,
    }, async () => {
      git(s.repo, 'checkout', '-q', 'v1.0.0');
      let r: Awaited<ReturnType<typeof rehearseRelease>> | undefined;
      try {
        r = await rehearseRelease();
      } finally {
        back();
      }
      const { record, routes, tokenBook, log, denied } = r;
      expect(record.status, log).toBe('success');
      expect(denied).toEqual([]);
      expect(Object.fromEntries(record.jobs.map((j) => [j.id, j.status]))).toEqual({
        check: 'success',
        release: 'success',
        provenance: 'success',
        publish: 'success',
        'major-tag': 'success',
      });

      git(s.repo, 'checkout', '-q', 'v1.0.0');
      let digests: Record<string, string>;
      let notes: string;
      try {
        digests = bundleDigests(s.repo);
        notes = sectionOf(readFileSync(join(s.repo, 'CHANGELOG.md'), 'utf8'), '1.0.0');
      } finally {
        back();
      }
      expect(Object.keys(digests).length).toBeGreaterThan(7);

      // The release: one, published, notes = the changelog section, SHA256SUMS = every bundle file.
      expect(routes.releases).toHaveLength(1);
      const rel = routes.releases[0]!;
      expect([rel.tag_name, rel.name, rel.draft]).toEqual(['v1.0.0', 'hallmark 1.0.0', false]);
      expect(rel.body.startsWith(notes)).toBe(true);
      const sums = rel.assets.find((a) => a.name === 'SHA256SUMS');
      const listed = Object.fromEntries(
        sums!.bytes
          .toString('utf8')
          .trim()
          .split('\n')
          .map((l) => l.split(/ +/).reverse() as [string, string]),
      );
      expect(listed).toEqual(digests);

      // The attestation: an in-toto statement whose subjects are exactly those files.
      expect(routes.attestations).toHaveLength(1);
      const env = routes.attestations[0]!.bundle.dsseEnvelope as { payload: string; payloadType: string };
      expect(env.payloadType).toBe('application/vnd.in-toto+json');
      const statement = JSON.parse(Buffer.from(env.payload, 'base64').toString('utf8'));
      expect(statement.predicateType).toBe('https://slsa.dev/provenance/v1');
      expect(
        Object.fromEntries(statement.subject.map((x: { name: string; digest: { sha256: string } }) => [x.name, x.digest.sha256])),
      ).toEqual(digests);
      expect(statement.predicate.buildDefinition.resolvedDependencies[0].digest.gitCommit).toBe(releaseSha);
      expect(statement.predicate.runDetails.builder.id).toBe(
        'https://github.com/hallmark-dev/hallmark/.github/workflows/release.yml@refs/tags/v1.0.0',
      );

      // Order: draft → asset → attestation → publish → major tag; and who called.
      const ops = routes.calls.map((c) => c.op);
      expect(ops).toEqual(['create-release', 'upload-asset', 'attestation', 'update-release', 'update-ref']);
      const call = (op: string) => routes.calls.find((c) => c.op === op)!;
      expect((call('create-release').body as { draft: boolean }).draft).toBe(true);
      expect((call('update-release').body as { draft: boolean }).draft).toBe(false);
      expect(routes.tags.get('v1')).toBe(releaseSha);
      expect(call('update-ref').token).toBe(TAG_TOKEN);
      expect(permsOf(tokenBook, call('create-release').token)?.contents).toBe('write');
      expect(permsOf(tokenBook, call('update-release').token)?.contents).toBe('write');
      expect(permsOf(tokenBook, call('attestation').token)).toMatchObject({ attestations: 'write', 'id-token': 'write' });
      expect(permsOf(tokenBook, call('attestation').token)?.contents).not.toBe('write');
    });

    it('fails at check, before any release, attestation or tag call, when dist/ does not match the source', {
      timeout: 600_000,
    }, async () => {
      git(s.repo, 'checkout', '-q', 'v1.0.0');
      let r: Awaited<ReturnType<typeof rehearseRelease>> | undefined;
      try {
        appendFileSync(join(s.repo, 'dist', 'slack-notify', 'index.js'), '\n// not built from the source\n');
        r = await rehearseRelease();
      } finally {
        git(s.repo, 'checkout', '-q', '--', '.');
        back();
      }
      const { record, routes, log } = r;
      expect(record.status).toBe('failure');
      const check = record.jobs.find((j) => j.id === 'check')!;
      expect(check.status).toBe('failure');
      expect(check.steps.find((st) => st.status === 'failure')?.name).toMatch(/dist\/ rebuilds byte-identically/);
      expect(log).toContain('dist/slack-notify/index.js: differs from a rebuild of the source');
      expect(record.jobs.filter((j) => j.id !== 'check').every((j) => j.status === 'skipped')).toBe(true);
      expect(routes.calls).toEqual([]);
      expect(routes.tags.get('v1')).toBe(OLD_V1);
    });
  });

  // ---------------------------------------------------------------- a fork's release

  it('a fork that changes package.json `repository` gets a working release under its own name', { timeout: 300_000 }, () => {
    git(s.repo, 'checkout', '-q', '-B', 'fork', before);
    git(s.repo, 'tag', '-d', 'v1.0.0');
    const pkgPath = join(s.repo, 'package.json');
    const pkg = JSON.parse(readFileSync(pkgPath, 'utf8'));
    pkg.repository = { type: 'git', url: 'git+https://github.com/acme/forked-hallmark.git' };
    writeFileSync(pkgPath, `${JSON.stringify(pkg, null, 2)}\n`);
    git(s.repo, 'commit', '-q', '-am', 'fork: our repository');
    const upstream = usesRefs(s.repo, ownerRepo).length;
    const r = sh('npm', ['run', 'release', '--', '1.0.0', '--date', '2026-12-01'], s.repo);
    expect(r.code, r.out).toBe(0);
    git(s.repo, 'checkout', '-q', 'v1.0.0');
    try {
      const refs = usesRefs(s.repo, 'acme/forked-hallmark');
      expect(refs.length).toBe(upstream);
      expect(refs.filter((x) => x.ref !== 'v1.0.0')).toEqual([]);
      expect(usesRefs(s.repo, ownerRepo)).toEqual([]);
      expect(
        workflowFiles(s.repo).flatMap((f) =>
          checkPinned(loadWorkflow(f, s.repo), { ownRef: expectedOwnRef(s.repo), ownerRepo: ownerRepoAt(s.repo) }),
        ),
      ).toEqual([]);
      expect(readFileSync(join(s.repo, 'action-catalog.md'), 'utf8')).toContain('acme/forked-hallmark/actions/build-sign@v1');
      expect(readFileSync(join(s.repo, 'CHANGELOG.md'), 'utf8')).toContain(
        '[1.0.0]: https://github.com/acme/forked-hallmark/releases/tag/v1.0.0',
      );
      expect(spawnSync(process.execPath, ['scripts/release.mjs', 'verify', 'v1.0.0'], { cwd: s.repo }).status).toBe(0);
    } finally {
      back();
    }
  });
});

// ------------------------------------------------------------------ the GitHub calls on their own

describe('scripts/release.mjs github … against the loopback REST service', () => {
  const SHA = 'b'.repeat(40);
  async function withServices<T>(
    tags: Record<string, string>,
    fn: (gh: (...args: string[]) => Promise<ReturnType<typeof sh>>, routes: ReleaseRoutes) => Promise<T>,
  ) {
    const svc = await startGitHubServices({ owner: 'hallmark-dev', repo: 'hallmark' });
    const routes = addReleaseRoutes(svc, 'hallmark-dev', 'hallmark', tags);
    // Asynchronous child: the service answers from this very process.
    const gh = (...args: string[]) =>
      new Promise<ReturnType<typeof sh>>((res) => {
        const child = spawn(process.execPath, ['scripts/release.mjs', 'github', ...args], {
          cwd: ROOT,
          env: {
            ...process.env,
            GITHUB_TOKEN: 'ghs_test',
            MAJOR_TAG_TOKEN: 'github_pat_test',
            GITHUB_REPOSITORY: 'hallmark-dev/hallmark',
            GITHUB_API_URL: svc.url,
            GITHUB_ACTIONS: '',
          },
        });
        let stdout = '';
        let stderr = '';
        child.stdout.on('data', (b) => (stdout += b));
        child.stderr.on('data', (b) => (stderr += b));
        child.on('close', (code) => res({ code: code ?? 1, stdout, stderr, out: stdout + stderr }));
      });
    try {
      return await fn(gh, routes);
    } finally {
      await svc.close();
    }
  }

  it('move-major: needs MAJOR_TAG_TOKEN, creates vX when missing, and never moves it back below a newer vX.*.*', async () => {
    await withServices({ 'v1.0.0': SHA, 'v1.2.0': 'c'.repeat(40), v1: 'c'.repeat(40) }, async (gh, routes) => {
      const r = await gh('move-major', 'v1.0.0', SHA);
      expect(r.code, r.out).toBe(0);
      expect(r.stdout).toContain('v1 stays: v1.2.0 is newer than v1.0.0');
      expect(routes.tags.get('v1')).toBe('c'.repeat(40));
      expect(routes.calls).toEqual([]);
    });
    const { MAJOR_TAG_TOKEN: _drop, ...noTagToken } = process.env;
    const missing = spawnSync(process.execPath, ['scripts/release.mjs', 'github', 'move-major', 'v1.0.0', SHA], {
      cwd: ROOT,
      encoding: 'utf8',
      env: { ...noTagToken, GITHUB_TOKEN: 'ghs_test', GITHUB_REPOSITORY: 'hallmark-dev/hallmark', GITHUB_API_URL: 'http://127.0.0.1:9' },
    });
    expect(missing.status).toBe(1);
    expect(missing.stderr).toMatch(/MAJOR_TAG_TOKEN is not set .*Workflows write/);
    await withServices({ 'v2.0.0': SHA }, async (gh, routes) => {
      const r = await gh('move-major', 'v2.0.0', SHA);
      expect(r.code, r.out).toBe(0);
      expect(routes.tags.get('v2')).toBe(SHA);
      expect(routes.calls.map((c) => c.op)).toEqual(['create-ref']);
    });
  });

  it('draft: a re-run updates its own draft; a published release is never rewritten; bad arguments fail before any call', async () => {
    const notesDir = mkdtempSync(join(tmpdir(), 'hallmark-notes-'));
    const notes = join(notesDir, 'notes.md');
    writeFileSync(notes, '### Fixed\n\n- a bug\n');
    onTestFinished(() => rmSync(notesDir, { recursive: true, force: true }));
    await withServices({}, async (gh, routes) => {
      expect((await gh('draft', 'v1.0.1', notes)).code).toBe(0);
      expect((await gh('draft', 'v1.0.1', notes)).code).toBe(0);
      expect(routes.releases).toHaveLength(1);
      expect(routes.calls.map((c) => c.op)).toEqual(['create-release', 'update-release']);
      expect((await gh('publish', String(routes.releases[0]!.id))).code).toBe(0);
      const again = await gh('draft', 'v1.0.1', notes);
      expect(again.code).toBe(1);
      expect(again.stderr).toMatch(/already published/);
      const n = routes.calls.length;
      for (const args of [['draft', 'v1.0', notes], ['move-major', 'v1.0.1', 'not-a-sha'], ['upload', 'x', notes], ['nope']]) {
        const r = await gh(...args);
        expect(r.code, args.join(' ')).toBe(1);
        expect(r.stderr).toMatch(/^release: /);
      }
      expect(routes.calls.length).toBe(n);
    });
  });
});
