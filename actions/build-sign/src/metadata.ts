/**
 * The standard OCI labels and annotations (image-spec annotations.md: org.opencontainers.image.*)
 * that docker/metadata-action users get without thinking, generated from the runner context and the
 * event, merged under the caller's `labels` / `annotations` (the caller wins). Also reads the cache
 * hits buildah reports in its build log. Pure.
 */
import type { Annotation, AnnotationLevel } from './build-options.js';

export interface OciFacts {
  serverUrl: string;
  /** owner/name */
  repository: string;
  sha: string;
  /** GITHUB_REF */
  ref: string;
  /** The tags being pushed (the version falls back to the first). */
  tags: string[];
  /** RFC 3339 time of the source: the pushed commit's timestamp from the event, else SOURCE_DATE_EPOCH, else now. */
  created: string;
  /** From the event's `repository` object, when present. */
  title?: string;
  description?: string;
  licenses?: string;
  url?: string;
}

const P = 'org.opencontainers.image.';

/** The version an image of this run carries: the tag name for a tag push, else the first pushed tag. */
export function ociVersion(ref: string, tags: string[]): string {
  const m = /^refs\/tags\/(.+)$/.exec(ref);
  if (m) return m[1] as string;
  return tags[0] ?? '';
}

/** The generated defaults, as key → value (empty values left out). */
export function ociDefaults(f: OciFacts): Record<string, string> {
  const out: Record<string, string> = {};
  const set = (k: string, v: string | undefined) => {
    const t = (v ?? '').replace(/[\r\n]+/g, ' ').trim();
    if (t) out[`${P}${k}`] = t;
  };
  const source = f.repository ? `${f.serverUrl.replace(/\/+$/, '')}/${f.repository}` : '';
  set('created', f.created);
  set('source', source);
  set('url', f.url || source);
  set('revision', /^[0-9a-f]{40}$/.test(f.sha) ? f.sha : '');
  set('version', ociVersion(f.ref, f.tags));
  set('title', f.title || f.repository.split('/')[1]);
  set('description', f.description);
  set('licenses', f.licenses);
  return out;
}

/**
 * Facts from the event payload (GITHUB_EVENT_PATH): the source time and the repository's
 * name, description, SPDX licence and URL. Unknown shapes give nothing, never an error.
 */
export function eventFacts(
  event: unknown,
  now: Date,
  sourceDateEpoch?: string,
): Pick<OciFacts, 'created' | 'title' | 'description' | 'licenses' | 'url'> {
  // The fields of a GitHub event payload read here (push events carry head_commit; most carry repository).
  type Repo = { name?: unknown; description?: unknown; html_url?: unknown; license?: { spdx_id?: unknown } | null };
  const e = (event && typeof event === 'object' ? event : {}) as { head_commit?: { timestamp?: unknown } | null; repository?: unknown };
  const repo = (e.repository && typeof e.repository === 'object' ? e.repository : {}) as Repo;
  const str = (v: unknown) => (typeof v === 'string' && v.trim() ? v.trim() : undefined);
  const time = (v: unknown) => {
    const s = str(v);
    const d = s ? new Date(s) : undefined;
    return d && !Number.isNaN(d.getTime()) ? d.toISOString().replace(/\.000Z$/, 'Z') : undefined;
  };
  let created = time(e.head_commit?.timestamp);
  if (!created && sourceDateEpoch && /^\d{1,12}$/.test(sourceDateEpoch))
    created = new Date(Number(sourceDateEpoch) * 1000).toISOString().replace(/\.000Z$/, 'Z');
  created ??= now.toISOString().replace(/\.\d{3}Z$/, 'Z');
  const spdx = str(repo.license?.spdx_id);
  return {
    created,
    title: str(repo.name),
    description: str(repo.description),
    licenses: spdx && spdx !== 'NOASSERTION' ? spdx : undefined,
    url: str(repo.html_url),
  };
}

export interface MergedMetadata {
  labels: Record<string, string>;
  /** Each annotation with the levels it goes on for this builder. */
  annotations: Annotation[];
}

/**
 * Defaults under the caller's values. Labels: defaults then `labels`. Annotations: the defaults go
 * on the manifest (and the index of a multi-platform build); the classic docker builder writes
 * none. A caller's annotation replaces a default with the same key.
 */
export function mergeMetadata(
  defaults: Record<string, string>,
  labels: [string, string][],
  annotations: Annotation[],
  ctx: { builder: 'buildx' | 'docker' | 'buildah'; multi: boolean },
): MergedMetadata {
  const mergedLabels: Record<string, string> = { ...defaults };
  for (const [k, v] of labels) mergedLabels[k] = v;
  if (ctx.builder === 'docker') return { labels: mergedLabels, annotations: [] };
  const where: AnnotationLevel[] = ctx.multi ? ['index', 'manifest'] : ['manifest'];
  const given = new Set(annotations.map((a) => a.key));
  const out: Annotation[] = Object.entries(defaults)
    .filter(([k]) => !given.has(k))
    .map(([key, value]) => ({ levels: where, key, value, fromInput: false }));
  for (const a of annotations) out.push(a.levels.length ? a : { ...a, levels: where });
  return { labels: mergedLabels, annotations: out };
}

/** Annotations as one key → value map per level, for the `metadata` output. */
export function annotationsByLevel(annotations: Annotation[]): Record<string, Record<string, string>> {
  const out: Record<string, Record<string, string>> = {};
  for (const a of annotations) {
    for (const l of a.levels) {
      const k = a.platform ? `${l}[${a.platform}]` : l;
      (out[k] ??= {})[a.key] = a.value;
    }
  }
  return out;
}

export interface CacheStats {
  /** Build steps buildah ran or took from a cache (FROM lines not counted). */
  steps: number;
  /** Steps taken from a cache (`--> Using cache`), local or pulled. */
  cached: number;
  /** Cache images pulled from the `cache-from` repository (`--> Cache pulled from remote`). */
  pulled: number;
  /** Cache images pushed to the `cache-to` repository (`--> Pushing cache`). */
  pushed: number;
}

/**
 * buildah's build log (imagebuildah/stage_executor.go at v1.28.2: logCacheHit, logCachePulled,
 * logCachePush print these lines) → cache hits. Undefined when the log has no STEP lines.
 */
export function buildahCacheStats(log: string): CacheStats | undefined {
  let steps = 0;
  let cached = 0;
  let pulled = 0;
  let pushed = 0;
  for (const line of log.split(/\r?\n/)) {
    const step = /^(?:\[\d+\/\d+\] )?STEP \d+\/\d+: (\S+)/.exec(line);
    if (step) {
      if ((step[1] as string).toUpperCase() !== 'FROM') steps++;
      continue;
    }
    if (line.startsWith('--> Using cache ')) cached++;
    else if (line.startsWith('--> Cache pulled from remote ')) pulled++;
    else if (line.startsWith('--> Pushing cache ')) pushed++;
  }
  return steps ? { steps, cached, pulled, pushed } : undefined;
}
