/**
 * The build options docker/build-push-action users expect — layer cache, build secrets, target,
 * labels and annotations — parsed and checked against what the chosen builder can honour. Pure:
 * plain text in, plain data out, an InputError naming the input for anything wrong. An option a
 * builder cannot honour is refused here, before any build, never silently dropped.
 *
 * What each builder takes (read at the versions we support):
 * - buildah 1.28 (Debian bookworm; pkg/cli/common.go, pkg/parse/parse.go RepoNameToNamedReference,
 *   imagebuildah/stage_executor.go pushCache/pullCache at containers/buildah v1.28.2): `--cache-from`
 *   and `--cache-to` each take ONE repository without a tag or digest; with `--layers` buildah pushes
 *   every step's intermediate image there tagged with that step's cache key (so a `ref` with a tag is
 *   refused, and the default cache is the repository `<image>-buildcache`). Several cache
 *   repositories need buildah 1.29 (StringArray flags); `buildah manifest annotate --index` (annotations
 *   on the index itself) needs buildah 1.35 — both are checked against the runner's buildah in flow.ts.
 * - buildx: `--cache-from/--cache-to` in its own CSV syntax (passed through after checking; for
 *   `type=gha` buildx takes the token and URL from the job's ACTIONS_RUNTIME_TOKEN, ACTIONS_CACHE_URL
 *   or ACTIONS_RESULTS_URL, which the runner gives a JavaScript action: build/opt.go at docker/buildx
 *   v0.36.1), `--secret id=…,src=…`, `--annotation [type,…][platform]:key=value`
 *   (docs/reference/buildx_build.md, "Create annotations").
 * - docker (the classic builder): `--cache-from <image>` only, no cache export, no build secrets,
 *   no annotations.
 */
import { InputError } from '@hallmark/kit';
import { parseImageRef, repoName, RefError, type ImageRef } from '@hallmark/oci';
import { isAbsolute, resolve } from 'node:path';

type Builder = 'buildx' | 'docker' | 'buildah';

export const CACHE_TYPES = ['registry', 'gha', 'local', 'inline', 's3', 'azblob'] as const;

export interface CacheSpec {
  type: string;
  /** Every attribute but `type`, in the order given (buildx CSV). */
  attrs: [string, string][];
  /** `ref` for type=registry. */
  ref?: string;
}

export interface BuildSecret {
  id: string;
  value: string;
}

export interface BuildSecretFile {
  id: string;
  /** Absolute (resolved against the workspace). */
  path: string;
}

export const ANNOTATION_LEVELS = ['manifest', 'index', 'manifest-descriptor', 'index-descriptor'] as const;
export type AnnotationLevel = (typeof ANNOTATION_LEVELS)[number];

export interface Annotation {
  levels: AnnotationLevel[];
  /** buildx only: `manifest[linux/amd64]:key=value`. */
  platform?: string;
  key: string;
  value: string;
  /** True when the caller wrote it in `annotations` (false for the generated OCI defaults). */
  fromInput: boolean;
}

export interface BuildOptions {
  cacheFrom: CacheSpec[];
  cacheTo: CacheSpec[];
  /** The ids of `secrets` (values travel separately, never in the config). */
  secretIds: string[];
  secretFiles: BuildSecretFile[];
  target?: string;
  /** From the `labels` input (merged over the OCI defaults by metadata.ts). */
  labels: [string, string][];
  annotations: Annotation[];
}

export interface RawBuildOptions {
  cacheFrom: string;
  cacheTo: string;
  cache: boolean;
  /** The ids parsed from `secrets` (parseBuildSecrets), so they can be checked against `secret-files`. */
  secretIds: string[];
  secretFiles: string;
  target: string;
  labels: string;
  annotations: string;
}

const SECRET_ID = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;
const STAGE = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/;
const META_KEY = /^[A-Za-z0-9][A-Za-z0-9._/-]{0,254}$/;
const CACHE_ATTR = /^[a-z][a-z0-9_-]{0,63}$/;
const PLATFORM = /^[a-z0-9]+\/[a-z0-9_]+(?:\/[a-z0-9]+)?$/;

const lines = (text: string): string[] =>
  text
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));
const show = (s: string, n = 60): string => JSON.stringify(s.length > n ? `${s.slice(0, n)}…` : s);

/** Splits one buildx CSV item: `a=b,c="d,e"` (double quotes protect commas; `""` is a quote). */
function splitCsv(input: string, item: string): string[] {
  const out: string[] = [];
  let cur = '';
  let quoted = false;
  for (let i = 0; i < item.length; i++) {
    const c = item[i] as string;
    if (quoted) {
      if (c === '"' && item[i + 1] === '"') {
        cur += '"';
        i++;
      } else if (c === '"') quoted = false;
      else cur += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      out.push(cur.trim());
      cur = '';
    } else cur += c;
  }
  if (quoted) throw new InputError(input, `has an unclosed double quote in ${show(item)}`);
  out.push(cur.trim());
  return out;
}

/**
 * `cache-from` / `cache-to`: one cache per line in buildx syntax (`type=registry,ref=…,mode=max`,
 * `type=gha`); a line without `=` is buildx's short form for `type=registry,ref=<line>`.
 */
export function parseCacheList(input: 'cache-from' | 'cache-to', text: string): CacheSpec[] {
  const out: CacheSpec[] = [];
  for (const line of lines(text)) {
    if (!line.includes('=')) {
      out.push({ type: 'registry', attrs: [['ref', line]], ref: checkCacheRef(input, line) });
      continue;
    }
    let type = '';
    const attrs: [string, string][] = [];
    for (const part of splitCsv(input, line)) {
      const eq = part.indexOf('=');
      const k = eq > 0 ? part.slice(0, eq).trim() : '';
      if (!CACHE_ATTR.test(k))
        throw new InputError(
          input,
          `must be lines of key=value pairs such as type=registry,ref=ghcr.io/o/app:buildcache (got ${show(part)})`,
        );
      const v = part.slice(eq + 1).trim();
      if (/[\r\n\0]/.test(v)) throw new InputError(input, `has a control character in ${k}`);
      if (k === 'type') type = v;
      else attrs.push([k, v]);
    }
    if (!type) throw new InputError(input, `needs type= on every line (got ${show(line)})`);
    if (!(CACHE_TYPES as readonly string[]).includes(type))
      throw new InputError(input, `has type=${show(type, 20)}; expected one of ${CACHE_TYPES.join(', ')}`);
    const refAttr = attrs.find(([k]) => k === 'ref')?.[1];
    if (type === 'registry' && !refAttr) throw new InputError(input, `type=registry needs ref=<image reference> (got ${show(line)})`);
    const mode = attrs.find(([k]) => k === 'mode')?.[1];
    if (mode !== undefined && mode !== 'min' && mode !== 'max')
      throw new InputError(input, `has mode=${show(mode, 20)}; expected min or max`);
    if (mode !== undefined && input === 'cache-from') throw new InputError(input, 'takes no mode= (mode is for cache-to)');
    out.push({ type, attrs, ...(refAttr ? { ref: checkCacheRef(input, refAttr) } : {}) });
  }
  return out;
}

function checkCacheRef(input: string, ref: string): string {
  try {
    const r = parseImageRef(ref);
    if (r.digest) throw new InputError(input, `ref must be a repository or repository:tag, not a digest (got ${show(ref)})`);
    return ref;
  } catch (e) {
    if (e instanceof InputError) throw e;
    throw new InputError(
      input,
      `ref must be an image reference such as ghcr.io/o/app:buildcache: ${e instanceof RefError ? e.message : 'invalid'}`,
    );
  }
}

/** buildx's CSV form of a cache spec, quoting values that need it. */
export function formatCacheSpec(c: CacheSpec): string {
  const q = (v: string) => (/[,"]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v);
  return [`type=${c.type}`, ...c.attrs.map(([k, v]) => `${k}=${q(v)}`)].join(',');
}

/** The cache `cache: true` stands for: `<image>:buildcache` (buildx), the repository `<image>-buildcache` (buildah, which tags each layer with its cache key). */
export function defaultCacheRef(image: ImageRef, builder: Builder): string {
  return builder === 'buildah' ? `${repoName(image)}-buildcache` : `${repoName(image)}:buildcache`;
}

/**
 * `secrets`: `id=VALUE` lines, as docker/build-push-action takes them. A value spanning lines is
 * written as one double-quoted entry, `"id=line1<newline>line2"` (`""` is a literal quote).
 * Errors never echo a value.
 */
export function parseBuildSecrets(text: string): BuildSecret[] {
  const out: BuildSecret[] = [];
  const all = text.split(/\r?\n/);
  for (let i = 0; i < all.length; i++) {
    let entry = all[i] as string;
    if (!entry.trim() || entry.trim().startsWith('#')) continue;
    entry = entry.trim();
    if (entry.startsWith('"')) {
      // A quoted entry: runs until a line ending in an unescaped closing quote.
      let body = entry.slice(1);
      const closes = (s: string) => /(^|[^"])("")*"$/.test(s);
      while (!closes(body)) {
        if (++i >= all.length) throw new InputError('secrets', 'has a quoted entry ("id=…) without its closing double quote');
        body += `\n${all[i] as string}`;
      }
      entry = body.slice(0, -1).replace(/""/g, '"');
    }
    const eq = entry.indexOf('=');
    const id = eq > 0 ? entry.slice(0, eq).trim() : '';
    if (!SECRET_ID.test(id))
      throw new InputError(
        'secrets',
        `must be id=VALUE lines with id made of letters, digits, _ . - (line ${i + 1} has no valid id; values are not shown)`,
      );
    const value = entry.slice(eq + 1);
    if (!value) throw new InputError('secrets', `gives ${id} an empty value`);
    if (out.some((s) => s.id === id)) throw new InputError('secrets', `sets ${id} twice`);
    out.push({ id, value });
  }
  return out;
}

/** `secret-files`: `id=path` lines, paths relative to the workspace. Existence is checked by the caller. */
export function parseSecretFiles(text: string, workspace: string): BuildSecretFile[] {
  const out: BuildSecretFile[] = [];
  for (const line of lines(text)) {
    const eq = line.indexOf('=');
    const id = eq > 0 ? line.slice(0, eq).trim() : '';
    if (!SECRET_ID.test(id))
      throw new InputError('secret-files', `must be id=path lines with id made of letters, digits, _ . - (got ${show(line)})`);
    const p = line.slice(eq + 1).trim();
    if (!p || /\0/.test(p)) throw new InputError('secret-files', `gives ${id} no file path`);
    // Both builders split --secret on commas (buildah: pkg/parse Secrets; buildx: CSV).
    if (p.includes(','))
      throw new InputError(
        'secret-files',
        `gives ${id} a path with a comma, which the builders' --secret id=…,src=… cannot carry: rename the file`,
      );
    if (out.some((s) => s.id === id)) throw new InputError('secret-files', `sets ${id} twice`);
    out.push({ id, path: isAbsolute(p) ? p : resolve(workspace, p) });
  }
  return out;
}

/** `labels`: `key=value` lines (docker/metadata-action's `labels` output fits as is). */
export function parseLabels(text: string): [string, string][] {
  const out = new Map<string, string>();
  for (const line of lines(text)) {
    const eq = line.indexOf('=');
    const key = eq > 0 ? line.slice(0, eq).trim() : '';
    if (!META_KEY.test(key))
      throw new InputError('labels', `must be key=value lines with a key such as org.opencontainers.image.title (got ${show(line)})`);
    out.set(key, line.slice(eq + 1).trim());
  }
  return [...out];
}

/**
 * `annotations`: `key=value` lines, optionally prefixed as buildx and docker/metadata-action write
 * them: `manifest:`, `index:`, `manifest-descriptor:`, `index-descriptor:`, several joined by
 * commas, and (buildx) a platform in brackets, `manifest[linux/amd64]:key=value`. Without a prefix
 * an annotation goes where the defaults go (the manifest; also the index of a multi-platform build).
 */
export function parseAnnotations(text: string): Annotation[] {
  const out: Annotation[] = [];
  for (const line of lines(text)) {
    const eq = line.indexOf('=');
    if (eq <= 0) throw new InputError('annotations', `must be [type:]key=value lines (got ${show(line)})`);
    let head = line.slice(0, eq).trim();
    let levels: AnnotationLevel[] = [];
    let platform: string | undefined;
    const m = /^([a-z,-]+)(?:\[([^\]]*)\])?:(.+)$/.exec(head);
    if (m) {
      const names = (m[1] as string).split(',');
      if (!names.every((n) => (ANNOTATION_LEVELS as readonly string[]).includes(n))) {
        throw new InputError(
          'annotations',
          `has the prefix ${show(m[1] as string, 40)}; expected ${ANNOTATION_LEVELS.join(', ')} (comma-separated) before the colon`,
        );
      }
      levels = [...new Set(names)] as AnnotationLevel[];
      if (m[2] !== undefined) {
        if (!PLATFORM.test(m[2])) throw new InputError('annotations', `has the platform ${show(m[2], 40)}; expected os/arch[/variant]`);
        platform = m[2];
      }
      head = m[3] as string;
    }
    if (!META_KEY.test(head))
      throw new InputError(
        'annotations',
        `must be [type:]key=value lines with a key such as org.opencontainers.image.source (got ${show(line)})`,
      );
    out.push({ levels, ...(platform ? { platform } : {}), key: head, value: line.slice(eq + 1).trim(), fromInput: true });
  }
  return out;
}

/** Checks the build options against the builder; `image` and `platforms` are already checked. */
export function checkBuildOptions(
  raw: RawBuildOptions,
  ctx: { builder: Builder; image: ImageRef; platforms: string[]; workspace: string },
): BuildOptions {
  const { builder } = ctx;
  const multi = ctx.platforms.length > 1;
  let cacheFrom = parseCacheList('cache-from', raw.cacheFrom);
  let cacheTo = parseCacheList('cache-to', raw.cacheTo);
  if (raw.cache) {
    if (builder === 'docker')
      throw new InputError(
        'cache',
        "is true, but the classic 'docker' builder cannot write a layer cache (it has no --cache-to): use builder buildx or buildah, or name an image to reuse in 'cache-from'",
      );
    const ref = defaultCacheRef(ctx.image, builder);
    if (!cacheFrom.length) cacheFrom = [{ type: 'registry', attrs: [['ref', ref]], ref }];
    if (!cacheTo.length)
      cacheTo = [
        {
          type: 'registry',
          attrs:
            builder === 'buildx'
              ? [
                  ['ref', ref],
                  ['mode', 'max'],
                ]
              : [['ref', ref]],
          ref,
        },
      ];
  }
  for (const [input, list] of [
    ['cache-from', cacheFrom],
    ['cache-to', cacheTo],
  ] as const) {
    for (const c of list) {
      if (builder === 'buildx') continue;
      if (c.type !== 'registry') {
        throw new InputError(
          input,
          `has type=${c.type}, which only the buildx builder supports; with builder ${builder} use type=registry,ref=<repository>`,
        );
      }
      const extra = c.attrs.filter(([k, v]) => k !== 'ref' && !(builder === 'buildah' && k === 'mode' && v === 'max'));
      if (extra.length)
        throw new InputError(
          input,
          `has ${extra.map(([k]) => k).join(', ')}, which builder ${builder} cannot honour (it takes type=registry,ref=<repository>${builder === 'buildah' ? ' and mode=max, which is what buildah does' : ''})`,
        );
      if (builder === 'buildah') {
        const r = parseImageRef(c.ref as string);
        if (r.tag)
          throw new InputError(
            input,
            `ref ${show(c.ref as string)} has a tag, but buildah's cache is a repository (it tags each layer with its cache key): use ${repoName(r)}`,
          );
      }
    }
  }
  if (builder === 'docker' && cacheTo.length)
    throw new InputError('cache-to', "is set, but the classic 'docker' builder cannot export a layer cache: use builder buildx or buildah");

  const secretFiles = parseSecretFiles(raw.secretFiles, ctx.workspace);
  for (const f of secretFiles)
    if (raw.secretIds.includes(f.id)) throw new InputError('secret-files', `uses the id ${f.id}, which 'secrets' already sets`);
  if (builder === 'docker' && (raw.secretIds.length || secretFiles.length)) {
    throw new InputError(
      raw.secretIds.length ? 'secrets' : 'secret-files',
      "is set, but the classic 'docker' builder cannot mount build secrets (RUN --mount=type=secret needs BuildKit or buildah): use builder buildx or buildah",
    );
  }

  const target = raw.target.trim();
  if (target && !STAGE.test(target))
    throw new InputError('target', `must be a build stage name (letters, digits, _ . -), got ${show(target)}`);

  const labels = parseLabels(raw.labels);
  const annotations = parseAnnotations(raw.annotations);
  if (annotations.length && builder === 'docker')
    throw new InputError(
      'annotations',
      "is set, but the classic 'docker' builder cannot write OCI annotations: use builder buildx or buildah",
    );
  for (const a of annotations) {
    if (builder === 'buildah') {
      if (a.platform) throw new InputError('annotations', `names a platform (${a.platform}) for ${a.key}, which only buildx supports`);
      const bad = a.levels.filter((l) => l.endsWith('-descriptor'));
      if (bad.length)
        throw new InputError(
          'annotations',
          `has ${bad.join(', ')} for ${a.key}, which buildah cannot write (it annotates the manifest, and the index itself)`,
        );
    }
    if (a.levels.includes('index') && !multi)
      throw new InputError(
        'annotations',
        `puts ${a.key} on the index, but a single-platform build has no index: drop the index: prefix or build for several platforms`,
      );
  }
  return { cacheFrom, cacheTo, secretIds: raw.secretIds, secretFiles, ...(target ? { target } : {}), labels, annotations };
}
