/**
 * The three builders as argument arrays, and where each one reports the digest of what it
 * pushed. The digest always comes from the builder itself — buildx's metadata file, buildah's
 * `--digestfile`, `docker push`'s own output — never from pulling a tag back.
 */
import { isDigest, repoName } from '@hallmark/oci';
import type { Config } from './inputs.js';
import { formatCacheSpec, type Annotation } from './build-options.js';

export interface Step {
  /** What this step is, for the log and for the failure reason it maps to. */
  kind: 'build' | 'push' | 'annotate';
  tool: string;
  args: string[];
  /** For `docker push`: the tag whose digest this push reports. */
  tag?: string;
  /** buildah: the file the registry's manifest digest is written to. */
  digestFile?: string;
}

export interface BuildPlan {
  steps: Step[];
  /** buildx: the metadata file holding `containerimage.digest`. */
  metadataFile?: string;
  /** buildah: the local image or manifest list name to remove afterwards. */
  localName?: string;
  localIsManifest?: boolean;
}

export function tagRef(cfg: Pick<Config, 'image'>, tag: string): string {
  return `${repoName(cfg.image)}:${tag}`;
}

function commonBuildFlags(cfg: Config, contextDir: string, file: string): { before: string[]; context: string } {
  const before: string[] = ['--file', file || `${contextDir.replace(/\/+$/, '')}/Dockerfile`];
  for (const [k, v] of cfg.buildArgs) before.push('--build-arg', `${k}=${v}`);
  return { before, context: contextDir };
}

/** Where flow.ts writes the value of the build secret `id` (0600, under the private work dir). */
export function secretValueFile(work: string, id: string): string {
  return `${work}/secrets/${id}`;
}

/** What the runner's builder can do beyond the oldest version we support (found by flow.ts). */
export interface BuilderCaps {
  /** buildah >= 1.35: `buildah manifest annotate --index`. */
  indexAnnotations?: boolean;
}

/** `--cache-*`, `--secret`, `--target`, `--label`, `--annotation` for one builder (issue 18). */
export function buildOptionFlags(cfg: Config, work: string): string[] {
  const b = cfg.build;
  const out: string[] = [];
  if (!b) return out;
  const secrets: [string, string][] = [
    ...b.secretIds.map((id) => [id, secretValueFile(work, id)] as [string, string]),
    ...b.secretFiles.map((f) => [f.id, f.path] as [string, string]),
  ];
  switch (cfg.builder) {
    case 'buildah':
      // buildah 1.28: a repository each (pkg/cli/common.go); --layers makes the steps cacheable.
      if (b.cacheFrom.length || b.cacheTo.length) out.push('--layers');
      for (const c of b.cacheFrom) out.push('--cache-from', c.ref as string);
      for (const c of b.cacheTo) out.push('--cache-to', c.ref as string);
      break;
    case 'buildx':
      for (const c of b.cacheFrom) out.push('--cache-from', formatCacheSpec(c));
      for (const c of b.cacheTo) out.push('--cache-to', formatCacheSpec(c));
      break;
    case 'docker':
      for (const c of b.cacheFrom) out.push('--cache-from', c.ref as string);
      break;
  }
  for (const [id, path] of secrets) out.push('--secret', `id=${id},src=${path}`);
  if (b.target) out.push('--target', b.target);
  // buildah (like docker) turns each --label into a LABEL step of its own with --layers
  // (imagebuildah/build.go at v1.28.2): the labels that change with every commit go last, so a
  // rebuild of a new commit still takes the stable ones from the cache.
  const volatile = (k: string) => /^org\.opencontainers\.image\.(created|revision|version)$/.test(k);
  const labels = Object.entries(cfg.metadata?.labels ?? {});
  for (const [k, v] of [...labels.filter(([k]) => !volatile(k)), ...labels.filter(([k]) => volatile(k))]) out.push('--label', `${k}=${v}`);
  for (const a of cfg.metadata?.annotations ?? []) {
    if (cfg.builder === 'buildx') out.push('--annotation', buildxAnnotation(a));
    else if (cfg.builder === 'buildah' && a.levels.includes('manifest')) out.push('--annotation', `${a.key}=${a.value}`);
  }
  return out;
}

/** buildx `--annotation`: `[type,…][platform]:key=value`; a plain `key=value` is the manifest. */
export function buildxAnnotation(a: Annotation): string {
  const plain = !a.platform && a.levels.length === 1 && a.levels[0] === 'manifest';
  return plain ? `${a.key}=${a.value}` : `${a.levels.join(',')}${a.platform ? `[${a.platform}]` : ''}:${a.key}=${a.value}`;
}

/** buildah >= 1.35: the index's own annotations, set on the local manifest list before it is pushed. */
function indexAnnotateStep(cfg: Config, localName: string): Step | undefined {
  const idx = (cfg.metadata?.annotations ?? []).filter((a) => a.levels.includes('index'));
  if (!idx.length) return undefined;
  return {
    kind: 'annotate',
    tool: 'buildah',
    args: ['manifest', 'annotate', '--index', ...idx.flatMap((a) => ['--annotation', `${a.key}=${a.value}`]), localName],
  };
}

/**
 * The commands for one build. `work` is a private directory under RUNNER_TEMP for the digest and
 * metadata files; `unique` makes buildah's local names collision-free on shared runners.
 */
export function planBuild(cfg: Config, work: string, unique: string, resolvedFile: string, caps: BuilderCaps = {}): BuildPlan {
  const { before: common, context } = commonBuildFlags(cfg, cfg.context, resolvedFile);
  const before = [...common, ...buildOptionFlags(cfg, work)];
  const first = cfg.tags[0] as string;
  switch (cfg.builder) {
    case 'buildx': {
      const metadataFile = `${work}/buildx-metadata.json`;
      const args = ['buildx', 'build', ...before];
      for (const t of cfg.tags) args.push('--tag', tagRef(cfg, t));
      if (cfg.platforms.length) args.push('--platform', cfg.platforms.join(','));
      args.push('--metadata-file', metadataFile);
      if (cfg.push) args.push('--push');
      args.push(context);
      return { steps: [{ kind: 'build', tool: 'docker', args }], metadataFile };
    }
    case 'docker': {
      const args = ['build', ...before];
      for (const t of cfg.tags) args.push('--tag', tagRef(cfg, t));
      if (cfg.platforms.length) args.push('--platform', cfg.platforms[0] as string);
      args.push(context);
      const steps: Step[] = [{ kind: 'build', tool: 'docker', args }];
      if (cfg.push) for (const t of cfg.tags) steps.push({ kind: 'push', tool: 'docker', args: ['push', tagRef(cfg, t)], tag: t });
      return { steps };
    }
    case 'buildah': {
      const multi = cfg.platforms.length > 1;
      const localName = `localhost/hallmark-build-${unique}:${first}`;
      const args = ['build', ...before];
      // A base image FROM the same loopback registry is pulled over plain HTTP too.
      if (cfg.registryInsecure) args.push('--tls-verify=false');
      if (cfg.platforms.length) args.push('--platform', cfg.platforms.join(','));
      if (multi) args.push('--manifest', localName);
      else args.push('--tag', localName);
      args.push(context);
      const steps: Step[] = [{ kind: 'build', tool: 'buildah', args }];
      const annotate = multi && caps.indexAnnotations ? indexAnnotateStep(cfg, localName) : undefined;
      if (annotate) steps.push(annotate);
      if (cfg.push) {
        cfg.tags.forEach((t, i) => {
          const digestFile = `${work}/digest-${i}`;
          const tls = cfg.registryInsecure ? ['--tls-verify=false'] : [];
          const pushArgs = multi
            ? ['manifest', 'push', '--all', ...tls, '--digestfile', digestFile, localName, `docker://${tagRef(cfg, t)}`]
            : ['push', ...tls, '--digestfile', digestFile, localName, `docker://${tagRef(cfg, t)}`];
          steps.push({ kind: 'push', tool: 'buildah', args: pushArgs, tag: t, digestFile });
        });
      }
      return { steps, localName, localIsManifest: multi };
    }
  }
}

/** buildah's `--digestfile`: the manifest digest the registry stored. */
export function digestFromFile(text: string): string | undefined {
  const d = text.trim();
  return isDigest(d) ? d : undefined;
}

/** `docker push` prints `<tag>: digest: sha256:… size: N` for what the registry stored. */
export function digestFromDockerPush(output: string, tag?: string): string | undefined {
  let found: string | undefined;
  for (const m of output.matchAll(/^(?:(\S+): )?digest: (sha256:[a-f0-9]{64}) size: \d+\s*$/gm)) {
    if (tag && m[1] && m[1] !== tag) continue;
    found = m[2];
  }
  return found;
}

/** buildx `--metadata-file`: `containerimage.digest` (the pushed manifest or index). */
export function digestFromBuildxMetadata(text: string): string | undefined {
  try {
    const meta = JSON.parse(text) as Record<string, unknown>;
    const d = meta['containerimage.digest'];
    return typeof d === 'string' && isDigest(d) ? d : undefined;
  } catch {
    return undefined;
  }
}
