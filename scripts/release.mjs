#!/usr/bin/env node
// hallmark's own releases (issue 15).
//
//   npm run release -- X.Y.Z [--date YYYY-MM-DD] [--no-tag]
//     Prepares a release on the current branch, from a clean tree:
//       1. the release commit "Release X.Y.Z": every `<owner>/<repo>/actions/<name>@…` and
//          `…/.github/workflows/<file>@…` reference in .github/workflows/ and workflows/ names
//          `@vX.Y.Z`; the root and workspace package versions (and package-lock.json) are X.Y.Z;
//          CHANGELOG.md's [Unreleased] section becomes [X.Y.Z] - date; dist/ and the catalog are
//          rebuilt; the result is verified (`verify` below) — then the annotated tag vX.Y.Z;
//       2. the commit "Back to @main after X.Y.Z": the references say `@main` again, so `main`
//          between releases keeps mapping them to its own checkout.
//     Then: git push --atomic origin HEAD vX.Y.Z  (the tag push runs .github/workflows/release.yml).
//
//   Used by .github/workflows/release.yml (and usable by hand):
//     node scripts/release.mjs verify vX.Y.Z        the checkout is that release: refs, versions, changelog
//     node scripts/release.mjs check-dist           dist/ rebuilds byte-identically, the catalog is current
//     node scripts/release.mjs notes vX.Y.Z [FILE]  the changelog section of that version (release notes)
//     node scripts/release.mjs checksums [FILE]     `sha256  dist/<name>/….js` for every bundle file
//     node scripts/release.mjs github <op> …        the GitHub REST calls of the release (see githubMain)
//
// The owner/name of hallmark lives in one place: package.json `repository`. The static checks
// (test/workflows/checks.ts), the catalog, the rehearsal and this script read it there, so a fork
// that changes it gets a working release.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { appendFileSync, existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const WORKFLOW_DIRS = ['.github/workflows', 'workflows'];
const SEMVER = /^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)$/;
const TAG = /^v(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)$/;
const cmpVersion = (a, b) => {
  const x = TAG.exec(a).slice(1).map(Number);
  const y = TAG.exec(b).slice(1).map(Number);
  return x[0] - y[0] || x[1] - y[1] || x[2] - y[2];
};

export class ReleaseError extends Error {}

// ------------------------------------------------------------------------------- the repository

/**
 * `owner/name` from a package.json `repository` (an object with `url`, or a string): the npm forms
 * `github:owner/name`, `owner/name`, `git+https://github.com/owner/name.git`, `git@github.com:owner/name.git`.
 */
export function ownerRepoOf(pkg) {
  const r = pkg?.repository;
  const raw = typeof r === 'string' ? r : typeof r?.url === 'string' ? r.url : '';
  const m =
    /^(?:github:)?([A-Za-z0-9][A-Za-z0-9-]{0,38})\/([A-Za-z0-9._-]+?)(?:\.git)?$/.exec(raw) ??
    /^(?:git\+)?(?:https?|ssh|git):\/\/(?:[^@/]+@)?github\.com\/([A-Za-z0-9][A-Za-z0-9-]{0,38})\/([A-Za-z0-9._-]+?)(?:\.git)?\/?$/.exec(
      raw,
    ) ??
    /^git@github\.com:([A-Za-z0-9][A-Za-z0-9-]{0,38})\/([A-Za-z0-9._-]+?)(?:\.git)?$/.exec(raw);
  if (!m)
    throw new ReleaseError(
      `package.json: 'repository' must name a GitHub repository (e.g. { "url": "git+https://github.com/owner/name.git" }), got ${JSON.stringify(raw)}`,
    );
  return `${m[1]}/${m[2]}`;
}

export const readPackage = (root = ROOT) => JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
export const readOwnerRepo = (root = ROOT) => ownerRepoOf(readPackage(root));

export function workflowFiles(root = ROOT) {
  return WORKFLOW_DIRS.filter((d) => existsSync(join(root, d)))
    .flatMap((d) =>
      readdirSync(join(root, d))
        .filter((f) => /\.ya?ml$/.test(f))
        .map((f) => `${d}/${f}`),
    )
    .sort();
}

/** Our actions (directories with an action.yml) and reusable workflows, as `uses:` paths. */
function ourPaths(root) {
  const actions = existsSync(join(root, 'actions'))
    ? readdirSync(join(root, 'actions'))
        .filter((n) => existsSync(join(root, 'actions', n, 'action.yml')))
        .map((n) => `actions/${n}`)
    : [];
  const wfs = existsSync(join(root, '.github/workflows'))
    ? readdirSync(join(root, '.github/workflows'))
        .filter((f) => /\.ya?ml$/.test(f))
        .map((f) => `.github/workflows/${f}`)
    : [];
  return new Set([...actions, ...wfs]);
}

/**
 * Every reference to one of our actions or reusable workflows in a text, under any owner/name
 * (so a fork's release also adopts references that still name the upstream):
 * `{ index, length, line, owner, path, ref }`. Comments count too: the header examples are rewritten
 * with the rest.
 */
export function ownRefs(text, root = ROOT) {
  const ours = ourPaths(root);
  const out = [];
  const re =
    /([A-Za-z0-9][A-Za-z0-9-]{0,38}\/[A-Za-z0-9._-]+)\/((?:actions\/[\w.-]+)|(?:\.github\/workflows\/[\w.-]+\.ya?ml))@([\w./-]*[\w-])/g;
  for (const m of text.matchAll(re)) {
    if (!ours.has(m[2])) continue;
    const line = text.slice(0, m.index).split('\n').length;
    out.push({ index: m.index, length: m[0].length, line, owner: m[1], path: m[2], ref: m[3] });
  }
  return out;
}

/** The text with every own reference renamed to `<ownerRepo>/<path>@<ref>`. */
export function rewriteRefs(text, ownerRepo, ref, root = ROOT) {
  let out = '';
  let at = 0;
  for (const r of ownRefs(text, root)) {
    out += `${text.slice(at, r.index)}${ownerRepo}/${r.path}@${ref}`;
    at = r.index + r.length;
  }
  return out + text.slice(at);
}

/** Findings (`file:line: …`) for own references that are not exactly `<ownerRepo>/…@<ref>`. */
export function refFindings(root, ref, ownerRepo = readOwnerRepo(root)) {
  const findings = [];
  for (const f of workflowFiles(root))
    for (const r of ownRefs(readFileSync(join(root, f), 'utf8'), root)) {
      if (r.owner !== ownerRepo)
        findings.push(`${f}:${r.line}: '${r.owner}/${r.path}@${r.ref}' names ${r.owner}, not this repository (${ownerRepo})`);
      else if (r.ref !== ref) findings.push(`${f}:${r.line}: '${r.owner}/${r.path}@${r.ref}' must name @${ref}`);
    }
  return findings;
}

// ------------------------------------------------------------------------------- the changelog

const UNRELEASED = /^## \[Unreleased\][^\n]*\n/m;

/** The body of one `## [version]` section (without its heading), or undefined. */
export function changelogSection(text, version) {
  const esc = version.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const m = new RegExp(`^## \\[${esc}\\][^\\n]*\\n`, 'm').exec(text);
  if (!m) return undefined;
  const rest = text.slice(m.index + m[0].length);
  const end = rest.search(/^## \[|^\[[^\]]+\]: /m);
  return (end < 0 ? rest : rest.slice(0, end)).trim();
}

/** [Unreleased] → [X.Y.Z] - date, a fresh empty [Unreleased] above it, and the link references. */
export function rollChangelog(text, version, date, ownerRepo) {
  const m = UNRELEASED.exec(text);
  if (!m) throw new ReleaseError('CHANGELOG.md has no "## [Unreleased]" section');
  if (changelogSection(text, version) !== undefined) throw new ReleaseError(`CHANGELOG.md already has a [${version}] section`);
  const body = changelogSection(text, 'Unreleased') ?? '';
  if (!/^\s*[-*] /m.test(body)) throw new ReleaseError('CHANGELOG.md: the [Unreleased] section lists no change: nothing to release');
  const previous = [...text.matchAll(/^## \[(\d+\.\d+\.\d+)\]/gm)].map((x) => x[1])[0];
  let out = `${text.slice(0, m.index)}## [Unreleased]\n\n## [${version}] - ${date}\n${text.slice(m.index + m[0].length)}`;
  const base = `https://github.com/${ownerRepo}`;
  const links = [
    `[Unreleased]: ${base}/compare/v${version}...HEAD`,
    previous ? `[${version}]: ${base}/compare/v${previous}...v${version}` : `[${version}]: ${base}/releases/tag/v${version}`,
  ];
  out = out.replace(/^\[Unreleased\]: .*\n?/m, '');
  const firstLink = out.search(/^\[[^\]]+\]: /m);
  out =
    firstLink < 0 ? `${out.trimEnd()}\n\n${links.join('\n')}\n` : `${out.slice(0, firstLink)}${links.join('\n')}\n${out.slice(firstLink)}`;
  return out;
}

// ------------------------------------------------------------------------------- dist

function walk(dir, base = dir) {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name);
    return e.isDirectory() ? walk(p, base) : [relative(base, p)];
  });
}

/** `dist/…` → sha256 of every file under dist/. */
export function distHashes(root = ROOT) {
  return Object.fromEntries(
    walk(join(root, 'dist'))
      .sort()
      .map((f) => [
        `dist/${f}`,
        createHash('sha256')
          .update(readFileSync(join(root, 'dist', f)))
          .digest('hex'),
      ]),
  );
}

/** `sha256  dist/<name>/….js` lines (sha256sum's format) for every bundle file: the attestation subjects. */
export function checksums(root = ROOT) {
  return Object.entries(distHashes(root))
    .filter(([f]) => f.endsWith('.js'))
    .map(([f, h]) => `${h}  ${f}\n`)
    .join('');
}

function run(cmd, args, { cwd = ROOT, env } = {}) {
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8', env: env ?? process.env, maxBuffer: 64 << 20 });
  if (r.error) throw new ReleaseError(`${cmd} ${args.join(' ')}: ${r.error.message}`);
  if (r.status !== 0)
    throw new ReleaseError(
      `${cmd} ${args.join(' ')} exited ${r.status}: ${(r.stderr || r.stdout).trim().split('\n').slice(-5).join(' | ')}`,
    );
  return r.stdout;
}

const node = (root, ...args) => run(process.execPath, args, { cwd: root });

/**
 * Rebuilds every bundle and compares with what was there: findings for every file added, removed
 * or changed, every dist/<name> that no action builds, and catalog drift. No git needed (a
 * rehearsal's checkout has no .git).
 */
export function checkDist(root = ROOT) {
  const before = distHashes(root);
  // dist/rehearse is the rehearsal engine (packages/rehearse), built by scripts/build.mjs with the actions.
  const actions = [...readdirSync(join(root, 'actions')).filter((n) => existsSync(join(root, 'actions', n, 'src', 'main.ts'))), 'rehearse'];
  const findings = [];
  for (const d of existsSync(join(root, 'dist')) ? readdirSync(join(root, 'dist')) : [])
    if (!actions.includes(d)) findings.push(`dist/${d}: no action builds it (actions/${d}/src/main.ts does not exist)`);
  node(root, 'scripts/build.mjs');
  const after = distHashes(root);
  for (const f of Object.keys(after)) {
    if (!(f in before)) findings.push(`${f}: missing from the commit (the build writes it)`);
    else if (before[f] !== after[f]) findings.push(`${f}: differs from a rebuild of the source`);
  }
  for (const f of Object.keys(before))
    if (!(f in after) && !findings.some((x) => x.startsWith(`${f.split('/').slice(0, 2).join('/')}: no action`)))
      findings.push(`${f}: in the commit but not written by the build`);
  const cat = spawnSync(process.execPath, ['scripts/catalog.mjs', '--check'], { cwd: root, encoding: 'utf8' });
  if (cat.status !== 0) findings.push(`catalog: ${(cat.stderr || cat.stdout).trim()}`);
  return findings;
}

// ------------------------------------------------------------------------------- verify

/** Is this checkout release `tag` (vX.Y.Z)? Findings, empty when it is. */
export function verifyRelease(root, tag) {
  const m = /^v(\d+\.\d+\.\d+)$/.exec(tag ?? '');
  if (!m || !SEMVER.test(m[1])) return [`'${tag}' is not a release tag vX.Y.Z`];
  const version = m[1];
  const findings = [];
  const pkg = readPackage(root);
  if (pkg.version !== version) findings.push(`package.json: version is ${pkg.version}, not ${version}`);
  for (const d of existsSync(join(root, 'packages')) ? readdirSync(join(root, 'packages')) : []) {
    const f = join(root, 'packages', d, 'package.json');
    if (existsSync(f) && JSON.parse(readFileSync(f, 'utf8')).version !== version)
      findings.push(`packages/${d}/package.json: version is not ${version}`);
  }
  const cl = existsSync(join(root, 'CHANGELOG.md')) ? readFileSync(join(root, 'CHANGELOG.md'), 'utf8') : '';
  const section = changelogSection(cl, version);
  if (!section) findings.push(`CHANGELOG.md: no [${version}] section (or an empty one)`);
  findings.push(...refFindings(root, tag, ownerRepoOf(pkg)));
  return findings;
}

// ------------------------------------------------------------------------------- prepare

function git(root, ...args) {
  return run('git', ['-C', root, ...args]).trim();
}

export function prepare(root, version, { date = new Date().toISOString().slice(0, 10), tag = true, log = console.log } = {}) {
  if (!SEMVER.test(version ?? ''))
    throw new ReleaseError(`version must be X.Y.Z (semantic, no leading zeros, no 'v'), got '${version ?? ''}'`);
  if (!/^\d{4}-\d{2}-\d{2}$/.test(date)) throw new ReleaseError(`--date must be YYYY-MM-DD, got '${date}'`);
  const tagName = `v${version}`;
  const dirty = git(root, 'status', '--porcelain');
  if (dirty) throw new ReleaseError(`the working tree is not clean; commit or set aside first:\n${dirty}`);
  if (spawnSync('git', ['-C', root, 'rev-parse', '-q', '--verify', `refs/tags/${tagName}`]).status === 0)
    throw new ReleaseError(`tag ${tagName} already exists`);
  const pkg = readPackage(root);
  const ownerRepo = ownerRepoOf(pkg);
  // Forward only: once package.json's version is released, the next one must be higher.
  const released =
    SEMVER.test(pkg.version ?? '') &&
    spawnSync('git', ['-C', root, 'rev-parse', '-q', '--verify', `refs/tags/v${pkg.version}`]).status === 0;
  if (released && cmpVersion(tagName, `v${pkg.version}`) <= 0)
    throw new ReleaseError(`${version} is not newer than ${pkg.version}, the version package.json says is already released`);

  // Versions: root, workspaces, lock file.
  const setVersion = (file) => {
    const p = join(root, file);
    const j = JSON.parse(readFileSync(p, 'utf8'));
    j.version = version;
    if (file === 'package-lock.json' && j.packages) {
      if (j.packages['']) j.packages[''].version = version;
      for (const [k, v] of Object.entries(j.packages))
        if (/^packages\/[^/]+$/.test(k) && v && typeof v === 'object' && 'version' in v) v.version = version;
    }
    writeFileSync(p, `${JSON.stringify(j, null, 2)}\n`);
  };
  setVersion('package.json');
  for (const d of existsSync(join(root, 'packages')) ? readdirSync(join(root, 'packages')) : [])
    if (existsSync(join(root, 'packages', d, 'package.json'))) setVersion(`packages/${d}/package.json`);
  if (existsSync(join(root, 'package-lock.json'))) setVersion('package-lock.json');

  // Changelog.
  const clPath = join(root, 'CHANGELOG.md');
  if (!existsSync(clPath)) throw new ReleaseError('CHANGELOG.md does not exist');
  writeFileSync(clPath, rollChangelog(readFileSync(clPath, 'utf8'), version, date, ownerRepo));

  // Internal references, remembered so the next commit can put them back.
  const originals = new Map();
  let count = 0;
  for (const f of workflowFiles(root)) {
    const text = readFileSync(join(root, f), 'utf8');
    const next = rewriteRefs(text, ownerRepo, tagName, root);
    count += ownRefs(text, root).length;
    if (next !== text) {
      originals.set(f, text);
      writeFileSync(join(root, f), next);
    }
  }
  log(`release ${version}: ${count} internal reference(s) in ${originals.size} file(s) → @${tagName}`);

  // dist/ and the catalog.
  node(root, 'scripts/build.mjs');
  node(root, 'scripts/catalog.mjs');
  const findings = verifyRelease(root, tagName);
  if (findings.length) throw new ReleaseError(`the release commit would not verify:\n${findings.join('\n')}`);

  git(root, 'add', '-A', '--', '.');
  git(
    root,
    'commit',
    '-q',
    '-m',
    `Release ${version}`,
    '-m',
    `Internal references name @${tagName}; dist/ and the catalog rebuilt; CHANGELOG [${version}] - ${date}.`,
  );
  const releaseSha = git(root, 'rev-parse', 'HEAD');
  if (tag) git(root, 'tag', '-a', tagName, '-m', `hallmark ${version}`, releaseSha);
  log(`release ${version}: commit ${releaseSha}${tag ? `, tag ${tagName}` : ''}`);

  // Back to @main: the references as they were, versions and changelog kept.
  for (const [f, text] of originals) writeFileSync(join(root, f), text);
  if (originals.size) {
    git(root, 'add', '-A', '--', ...originals.keys());
    git(
      root,
      'commit',
      '-q',
      '-m',
      `Back to @main after ${version}`,
      '-m',
      `Between releases the internal references say @main (the rehearsal maps them to the checkout); ${tagName} keeps @${tagName}.`,
    );
  }
  const mainSha = git(root, 'rev-parse', 'HEAD');
  log(`release ${version}: ${mainSha === releaseSha ? 'no reference to put back' : `commit ${mainSha} puts @main back`}`);
  log(`next: git push --atomic origin HEAD ${tagName}   (the tag push runs .github/workflows/release.yml)`);
  return { version, tag: tagName, releaseSha, mainSha, refs: count };
}

// ------------------------------------------------------------------------------- GitHub REST

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * One REST call with a deadline per try and bounded retries (network errors, 408/429/5xx) with
 * exponential backoff, honouring Retry-After. Throws with the status and GitHub's message.
 */
export async function api(method, url, { token, body, headers = {}, attempts = 4, timeoutMs = 30_000, baseMs = 500 } = {}) {
  let last;
  for (let i = 1; i <= attempts; i++) {
    let res;
    try {
      res = await fetch(url, {
        method,
        headers: {
          accept: 'application/vnd.github+json',
          'x-github-api-version': '2022-11-28',
          'user-agent': 'hallmark-release',
          ...(token ? { authorization: `Bearer ${token}` } : {}),
          ...(body !== undefined && !Buffer.isBuffer(body) ? { 'content-type': 'application/json' } : {}),
          ...headers,
        },
        body: body === undefined ? undefined : Buffer.isBuffer(body) ? body : JSON.stringify(body),
        signal: AbortSignal.timeout(timeoutMs),
        redirect: 'error',
      });
    } catch (e) {
      last = new ReleaseError(
        `${method} ${new URL(url).pathname}: ${e.name === 'TimeoutError' ? `no answer in ${timeoutMs} ms` : e.message}`,
      );
      if (i < attempts) await sleep(Math.min(8000, baseMs * 2 ** (i - 1)));
      continue;
    }
    const text = await res.text();
    let json;
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch {
      json = undefined;
    }
    if (res.ok) return { status: res.status, json };
    const message = String(json?.message ?? text)
      .replace(/\s+/g, ' ')
      .slice(0, 300);
    last = Object.assign(new ReleaseError(`${method} ${new URL(url).pathname}: ${res.status} ${message}`), { status: res.status });
    if (!(res.status === 408 || res.status === 429 || res.status >= 500) || i === attempts) throw last;
    const ra = res.headers.get('retry-after');
    const wait = ra && /^\d+$/.test(ra) ? Number(ra) * 1000 : ra ? Math.max(0, Date.parse(ra) - Date.now()) : baseMs * 2 ** (i - 1);
    await sleep(Math.min(60_000, Number.isFinite(wait) ? wait : baseMs));
  }
  throw last;
}

function ghEnv(tokenVar = 'GITHUB_TOKEN', why = '') {
  const e = (k, more = '') => {
    const v = process.env[k];
    if (!v) throw new ReleaseError(`environment variable ${k} is not set${more}`);
    return v;
  };
  const token = e(tokenVar, why);
  // A token that reaches this process is masked in the log, whatever prints it later.
  if (process.env.GITHUB_ACTIONS === 'true') process.stdout.write(`::add-mask::${token}\n`);
  const repository = e('GITHUB_REPOSITORY');
  if (!/^[A-Za-z0-9][A-Za-z0-9-]*\/[A-Za-z0-9._-]+$/.test(repository))
    throw new ReleaseError(`GITHUB_REPOSITORY '${repository}' is not owner/name`);
  const apiUrl = (process.env.GITHUB_API_URL || 'https://api.github.com').replace(/\/+$/, '');
  return { token, repository, apiUrl, repo: `${apiUrl}/repos/${repository}` };
}

function setOutput(k, v) {
  if (process.env.GITHUB_OUTPUT) appendFileSync(process.env.GITHUB_OUTPUT, `${k}=${v}\n`);
}

/**
 * `github draft <tag> <notes-file>`: create (or, on a re-run, update) the DRAFT release of the tag;
 *   outputs release-id, upload-url. A published release of the tag is never touched.
 * `github upload <release-id> <file>…`: release assets (replacing a same-named asset of the draft).
 * `github publish <release-id>`: the draft becomes the published release.
 * `github move-major <tag> <sha>`: refs/tags/vX → sha, unless a higher vX.*.* release exists.
 */
export async function githubMain(args) {
  const [op, ...rest] = args;
  // The major tag moves with its own token: GitHub refuses GITHUB_TOKEN a ref update onto a commit
  // whose .github/workflows files differ from the branch's (it lacks the `workflows` permission).
  const g =
    op === 'move-major'
      ? ghEnv(
          'MAJOR_TAG_TOKEN',
          ' (the secret MAJOR_TAG_TOKEN: a fine-grained token of this repository with Contents and Workflows write; GITHUB_TOKEN cannot move a tag onto a release commit)',
        )
      : ghEnv();
  const token = g.token;
  switch (op) {
    case 'draft': {
      const [tag, notesFile] = rest;
      if (!TAG.test(tag ?? '')) throw new ReleaseError(`draft: '${tag}' is not vX.Y.Z`);
      const body = readFileSync(notesFile, 'utf8');
      const name = `hallmark ${tag.slice(1)}`;
      let existing;
      try {
        existing = (await api('GET', `${g.repo}/releases/tags/${tag}`, { token })).json;
      } catch (e) {
        if (e.status !== 404) throw e;
      }
      // A draft is not found by tag; look through the list for one of ours.
      if (!existing) {
        const list = (await api('GET', `${g.repo}/releases?per_page=100`, { token })).json ?? [];
        existing = list.find((r) => r.tag_name === tag);
      }
      let rel;
      if (existing && !existing.draft)
        throw new ReleaseError(`release ${tag} is already published (id ${existing.id}); a release is never rewritten: cut a new version`);
      if (existing) rel = (await api('PATCH', `${g.repo}/releases/${existing.id}`, { token, body: { name, body, draft: true } })).json;
      else
        rel = (
          await api('POST', `${g.repo}/releases`, {
            token,
            body: { tag_name: tag, name, body, draft: true, prerelease: false, generate_release_notes: false },
          })
        ).json;
      console.log(`release ${tag}: draft ${rel.id} ${existing ? 'updated' : 'created'}`);
      setOutput('release-id', rel.id);
      setOutput('upload-url', String(rel.upload_url ?? '').replace(/\{.*\}$/, ''));
      return;
    }
    case 'upload': {
      const [id, ...files] = rest;
      if (!/^\d+$/.test(id ?? '') || !files.length) throw new ReleaseError('upload: usage: github upload <release-id> <file>…');
      const rel = (await api('GET', `${g.repo}/releases/${id}`, { token })).json;
      if (!rel.draft) throw new ReleaseError(`release ${id} is published: assets are added to the draft only`);
      const uploadUrl = String(rel.upload_url).replace(/\{.*\}$/, '');
      for (const f of files) {
        const name = f.split('/').pop();
        const old = (rel.assets ?? []).find((a) => a.name === name);
        if (old) await api('DELETE', `${g.repo}/releases/assets/${old.id}`, { token });
        const bytes = readFileSync(f);
        const a = (
          await api('POST', `${uploadUrl}?name=${encodeURIComponent(name)}`, {
            token,
            body: bytes,
            headers: { 'content-type': 'application/octet-stream' },
            timeoutMs: 120_000,
          })
        ).json;
        console.log(`release ${id}: asset ${name} (${bytes.length} bytes, id ${a?.id})`);
      }
      return;
    }
    case 'publish': {
      const [id] = rest;
      if (!/^\d+$/.test(id ?? '')) throw new ReleaseError('publish: usage: github publish <release-id>');
      const rel = (await api('PATCH', `${g.repo}/releases/${id}`, { token, body: { draft: false } })).json;
      console.log(`release ${rel.tag_name}: published ${rel.html_url ?? ''}`);
      return;
    }
    case 'move-major': {
      const [tag, sha] = rest;
      if (!TAG.test(tag ?? '')) throw new ReleaseError(`move-major: '${tag}' is not vX.Y.Z`);
      if (!/^[0-9a-f]{40}$/.test(sha ?? '')) throw new ReleaseError(`move-major: '${sha}' is not a 40-hex commit SHA`);
      const major = `v${TAG.exec(tag)[1]}`;
      const refs = (await api('GET', `${g.repo}/git/matching-refs/tags/${major}.`, { token })).json ?? [];
      const higher = refs.map((r) => String(r.ref).replace(/^refs\/tags\//, '')).filter((t) => TAG.test(t) && cmpVersion(t, tag) > 0);
      if (higher.length) {
        console.log(`${major} stays: ${higher.sort(cmpVersion).at(-1)} is newer than ${tag}`);
        setOutput('moved', 'false');
        return;
      }
      try {
        await api('PATCH', `${g.repo}/git/refs/tags/${major}`, { token, body: { sha, force: true } });
        console.log(`${major} → ${sha} (${tag})`);
      } catch (e) {
        // GitHub answers 422 "Reference does not exist" for a ref that is not there yet.
        if (e.status !== 422 && e.status !== 404) throw e;
        await api('POST', `${g.repo}/git/refs`, { token, body: { ref: `refs/tags/${major}`, sha } });
        console.log(`${major} created → ${sha} (${tag})`);
      }
      setOutput('moved', 'true');
      return;
    }
    default:
      throw new ReleaseError(`github: unknown operation '${op ?? ''}' (draft, upload, publish, move-major)`);
  }
}

// ------------------------------------------------------------------------------- CLI

async function main(argv) {
  const [cmd, ...rest] = argv;
  const flag = (name) => {
    const i = rest.indexOf(name);
    if (i < 0) return undefined;
    const v = rest[i + 1];
    rest.splice(i, 2);
    return v;
  };
  switch (cmd) {
    case 'verify': {
      const f = verifyRelease(ROOT, rest[0]);
      if (f.length) throw new ReleaseError(`this checkout is not release ${rest[0]}:\n${f.join('\n')}`);
      console.log(
        `release ${rest[0]}: versions, changelog and every internal reference (${workflowFiles(ROOT).length} workflow files) are the release's own`,
      );
      return;
    }
    case 'check-dist': {
      const f = checkDist(ROOT);
      if (f.length) throw new ReleaseError(`dist/ does not rebuild byte-identically from this source:\n${f.join('\n')}`);
      console.log(`dist/: ${Object.keys(distHashes(ROOT)).length} files rebuild byte-identically; the catalog is current`);
      return;
    }
    case 'notes': {
      const v = String(rest[0] ?? '').replace(/^v/, '');
      const s = changelogSection(existsSync(join(ROOT, 'CHANGELOG.md')) ? readFileSync(join(ROOT, 'CHANGELOG.md'), 'utf8') : '', v);
      if (!s) throw new ReleaseError(`CHANGELOG.md has no [${v}] section`);
      const text = `${s}\n\nFull changelog: https://github.com/${readOwnerRepo(ROOT)}/blob/v${v}/CHANGELOG.md\n`;
      if (rest[1]) writeFileSync(rest[1], text);
      else process.stdout.write(text);
      return;
    }
    case 'checksums': {
      const text = checksums(ROOT);
      if (!text) throw new ReleaseError('dist/ has no bundle');
      if (rest[0]) writeFileSync(rest[0], text);
      else process.stdout.write(text);
      return;
    }
    case 'github':
      return githubMain(rest);
    case undefined:
    case '-h':
    case '--help':
      console.log(
        'usage: npm run release -- X.Y.Z [--date YYYY-MM-DD] [--no-tag]\n       node scripts/release.mjs verify|check-dist|notes|checksums|github …',
      );
      if (cmd === undefined) process.exitCode = 2;
      return;
    default: {
      const date = flag('--date');
      const noTag = rest.includes('--no-tag');
      prepare(ROOT, cmd, { date, tag: !noTag });
    }
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  main(process.argv.slice(2)).catch((e) => {
    if (!(e instanceof ReleaseError)) throw e;
    console.error(`release: ${e.message}`);
    process.exit(1);
  });
}
