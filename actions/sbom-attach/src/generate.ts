/**
 * The generator command lines, as argument arrays. syft writes every format in one run
 * (`-o spdx-json=<file> -o cyclonedx-json=<file>`); trivy writes one format per run. Images are
 * always read straight from the registry by digest (`registry:` for syft, `--image-src remote` for
 * trivy), never from a local daemon where a tag could point elsewhere.
 */
import { digestRef } from '@hallmark/oci';
import type { Config, Format } from './inputs.js';

export interface Invocation {
  tool: 'syft' | 'trivy';
  args: string[];
  /** The files this run writes, by format. */
  writes: Partial<Record<Format, string>>;
  /** Variables for the tool (never secrets: registry credentials go through a private DOCKER_CONFIG). */
  env: Record<string, string>;
}

const TRIVY_FORMAT: Record<Format, string> = { 'spdx-json': 'spdx-json', 'cyclonedx-json': 'cyclonedx' };

export function plan(cfg: Config, files: Record<Format, string>, source: { path?: string; pathIsFile?: boolean }): Invocation[] {
  const ref = cfg.image ? digestRef(cfg.image, cfg.image.digest) : undefined;
  if (cfg.generator === 'syft') {
    const src = ref ? `registry:${ref}` : `${source.pathIsFile ? 'file' : 'dir'}:${source.path}`;
    const writes: Partial<Record<Format, string>> = {};
    const outs: string[] = [];
    for (const f of cfg.formats) {
      writes[f] = files[f];
      outs.push('-o', `${f}=${files[f]}`);
    }
    // No `--quiet`: real syft 1.51 then prints nothing at all, not even why it failed (exit 1 alone).
    // Without a terminal it prints only warnings and errors; NO_COLOR keeps them free of ANSI codes.
    const env: Record<string, string> = { SYFT_CHECK_FOR_APP_UPDATE: 'false', NO_COLOR: '1' };
    if (cfg.registryInsecure) env.SYFT_REGISTRY_INSECURE_USE_HTTP = 'true';
    return [{ tool: 'syft', args: ['scan', src, ...outs, ...(ref ? [] : ['--source-name', cfg.service])], writes, env }];
  }
  return cfg.formats.map((f) => ({
    tool: 'trivy' as const,
    args: ref
      ? [
          'image',
          '--quiet',
          '--image-src',
          'remote',
          ...(cfg.registryInsecure ? ['--insecure'] : []),
          '--format',
          TRIVY_FORMAT[f],
          '--output',
          files[f],
          ref,
        ]
      : ['fs', '--quiet', '--format', TRIVY_FORMAT[f], '--output', files[f], source.path as string],
    writes: { [f]: files[f] },
    env: {},
  }));
}

/** `cosign attest --type` per format. */
export const ATTEST_TYPE: Record<Format, string> = { 'spdx-json': 'spdxjson', 'cyclonedx-json': 'cyclonedx' };
/** OCI artifactType / layer media type per format (as oras, syft and the OCI guidance use them). */
export const MEDIA_TYPE: Record<Format, string> = {
  'spdx-json': 'application/spdx+json',
  'cyclonedx-json': 'application/vnd.cyclonedx+json',
};
