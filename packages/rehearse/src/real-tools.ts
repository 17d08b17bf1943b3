// The CLIs a rehearsed `setup-tools` step installs. On GitHub, setup-tools downloads each vendor's
// verified release; a rehearsal cannot reach the vendors, so the real setup-tools installs from a
// loopback mirror (tool-mirror.ts) of the REAL tools that `npm run tools` (scripts/tools.mjs)
// built from the Go module proxy at setup-tools' catalog versions: cosign 3 (and 2.6 for a pinned `cosign@2.x`), syft, trivy, helm 4 (and 3 for a pinned
// `helm@3.x`), kyverno, terraform (the machine's, else OpenTofu). kubectl and any other name come
// from this machine's PATH. Nothing here is a stand-in.
import { existsSync, mkdirSync, statSync, symlinkSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { HALLMARK_ROOT } from './root.js';
import type { ToolSet } from './types.js';

/** hallmark's own checkout (where scripts/tools.mjs lives), whatever repository is rehearsed. */
const TOOLS_SCRIPT = join(HALLMARK_ROOT, 'scripts', 'tools.mjs');

/** The real tools found: entry → { version, path }, and the entries not built yet. */
export interface RealTools {
  tools: ToolSet;
  missing: string[];
}

/** The real tool picked for a setup-tools name and version. */
export interface PickedTool {
  entry: string;
  version: string;
  path: string;
  note?: string;
  error?: undefined;
}

type EnsureTools = (opts: { only?: string[]; check?: boolean; log?: (m: string) => void }) => ToolSet;

/** setup-tools name → the `npm run tools` entries that can stand for it, newest line first. */
export const REAL_TOOLS: Record<string, string[]> = {
  cosign: ['cosign', 'cosign2'],
  syft: ['syft'],
  trivy: ['trivy'],
  helm: ['helm', 'helm3'],
  kyverno: ['kyverno'],
  terraform: ['terraform'],
};

/** Every `npm run tools` entry name. */
const ENTRIES = [...new Set(Object.values(REAL_TOOLS).flat())];

/**
 * The real tools available now: entry → { version, path, via }, and the entries not built yet.
 * `build: true` builds the missing ones (minutes per tool; `npm run tools` does the same).
 */
export async function findRealTools({ build = false, log }: { build?: boolean; log?: (m: string) => void } = {}): Promise<RealTools> {
  const { ensureTools } = (await import(pathToFileURL(TOOLS_SCRIPT).href)) as { ensureTools: EnsureTools };
  if (build) return { tools: ensureTools({ log }), missing: [] };
  const tools: ToolSet = {};
  const missing: string[] = [];
  for (const name of ENTRIES) {
    try {
      Object.assign(tools, ensureTools({ only: [name], check: true }));
    } catch {
      missing.push(name);
    }
  }
  return { tools, missing };
}

const major = (v: unknown) => Number(/^v?(\d+)/.exec(String(v ?? ''))?.[1] ?? NaN);

/**
 * Which real tool answers `name[@version]`: the entry of the same major version (cosign@2.6.4 →
 * cosign 2.6.4; cosign@3.0.0 → cosign 3.1.2, with a note that the exact version differs).
 * Returns { entry, version, path, note } or { error }.
 */
export function pickRealTool(name: string, version: string | undefined, real: RealTools): PickedTool | { error: string } | undefined {
  const entries = REAL_TOOLS[name];
  if (!entries) return undefined;
  const have: PickedTool[] = entries.flatMap((e) => (real.tools[e] ? [{ entry: e, ...real.tools[e] }] : []));
  const built = entries.filter((e) => !real.missing.includes(e));
  if (!have.length) return { error: `the rehearsal has no real ${name}${built.length ? '' : ' yet'} (\`npm run tools\` builds it)` };
  if (!version) {
    const first = have.find((h) => h.entry === entries[0]);
    return first
      ? { ...first }
      : { error: `the rehearsal has no real ${name} ${entries[0] === name ? '' : `(${entries[0]}) `}yet (\`npm run tools\` builds it)` };
  }
  const want = version.replace(/^v/, '');
  // terraform: the machine's one or OpenTofu; its version is what it is.
  const first = have[0] as PickedTool;
  if (name === 'terraform')
    return { ...first, note: first.version === want ? undefined : `asked ${want}; the rehearsal's is ${first.version}` };
  const same = have.find((h) => major(h.version) === major(want));
  if (!same) {
    const lines = built.length > have.length ? ' (some not built yet: `npm run tools`)' : '';
    return {
      error: `${name}@${want}: the rehearsal has ${have.map((h) => `${name} ${h.version}`).join(' and ')}${lines}, none of major version ${major(want)}`,
    };
  }
  return {
    ...same,
    note: same.version === want ? undefined : `asked ${want}; the rehearsal's real ${name} of that line is ${same.version}`,
  };
}

/**
 * A directory holding `tool` under the name the workflow calls (`cosign2` appears as `cosign`, the
 * OpenTofu build as `terraform`), the way setup-tools puts one directory per tool on PATH.
 */
export function toolDir(root: string, name: string, picked: { version: string; path: string }): string {
  const dir = join(root, `${name}-${picked.version}`.replace(/[^\w.-]+/g, '_'));
  const target = join(dir, name);
  if (!existsSync(target)) {
    mkdirSync(dir, { recursive: true });
    try {
      symlinkSync(picked.path, target);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    // OpenTofu exposed as `terraform` is a link to `tofu` next to it: offer `tofu` too.
    const tofu = join(dirname(picked.path), 'tofu');
    if (name === 'terraform' && basename(picked.path) === 'terraform' && existsSync(tofu) && !existsSync(join(dir, 'tofu'))) {
      try {
        symlinkSync(tofu, join(dir, 'tofu'));
      } catch {
        /* raced */
      }
    }
  }
  return dir;
}

export function whichIn(tool: string, pathVar: string | undefined): string | undefined {
  for (const d of String(pathVar ?? '').split(':')) {
    if (!d) continue;
    try {
      const f = join(d, tool);
      if (statSync(f).isFile() && statSync(f).mode & 0o111) return f;
    } catch {
      /* not here */
    }
  }
  return undefined;
}
