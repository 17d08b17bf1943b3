/**
 * Which cosign is on PATH: the one rule build-sign, sbom-attach and verify-image apply before they
 * build cosign arguments (cosign 3 writes Sigstore bundles as OCI referrers and refuses
 * `--tlog-upload=false` next to a signing config; cosign 2 writes the legacy `.sig`/`.att` tags and
 * reads `--signing-config`/`--trusted-root` only in its new bundle format).
 *
 * The rule: run `cosign version --json` (60 s); exit 127/126 means cosign is missing or cannot be
 * started (the kit's exec launcher maps ENOENT to 127, any other spawn error to 126), which fails
 * the step with the setup-tools hint; otherwise the version it prints, or — when it prints none we
 * can read — cosign 3 (the current major) with a warning the caller logs.
 */
import { setupToolsHint } from './hallmark.js';

export interface CosignVersion {
  major: number;
  minor: number;
  patch: number;
  /** As cosign printed it, e.g. `v3.1.2`. */
  raw: string;
}

/** The major version assumed when cosign does not say which it is. */
export const ASSUMED_COSIGN_MAJOR = 3;

export const COSIGN_VERSION_TIMEOUT_MS = 60_000;

/** Parses `cosign version --json` (or its text form, `GitVersion:    v3.1.2`). */
export function parseCosignVersion(stdout: string): CosignVersion | undefined {
  let raw: string | undefined;
  const t = stdout.trim();
  const start = t.indexOf('{');
  if (start >= 0) {
    try {
      const j = JSON.parse(t.slice(start, t.lastIndexOf('}') + 1)) as { gitVersion?: unknown; GitVersion?: unknown };
      const g = j.gitVersion ?? j.GitVersion;
      if (typeof g === 'string') raw = g;
    } catch {
      /* fall through to the text form */
    }
  }
  if (raw === undefined) raw = /^\s*GitVersion:\s*(\S+)/im.exec(t)?.[1];
  if (raw === undefined) return undefined;
  const m = /^v?(\d+)\.(\d+)\.(\d+)/.exec(raw);
  if (!m) return undefined;
  return { major: Number(m[1]), minor: Number(m[2]), patch: Number(m[3]), raw };
}

/** What a tool run returns (the kit's exec result, or a test's). */
export interface CosignRunResult {
  exitCode: number;
  stdout: string;
  stderr: string;
  timedOut: boolean;
}

/** The exec every action's Deps has: a tool, an argument array, env and a deadline. */
export type CosignExec = (
  tool: string,
  args: string[],
  opts: { env?: Record<string, string | undefined>; timeoutMs?: number },
) => Promise<CosignRunResult>;

export type CosignDetection =
  /** cosign is not on PATH, or cannot be started: `problem` says so and how to install it. */
  | { found: false; problem: string }
  /**
   * cosign ran. `version` when it said which it is; else `major` is ASSUMED_COSIGN_MAJOR and
   * `warning` says so (with the tail of what cosign printed, made one line by `shown`).
   */
  | { found: true; major: number; version?: CosignVersion; warning?: string };

const squash = (t: string): string => t.replace(/\s+/g, ' ').trim().slice(0, 300);

/**
 * Runs `cosign version --json` through `exec` and applies the rule above. `env` is what cosign
 * gets (no secret is needed to print a version). `shown` makes cosign's own text one inert line for
 * the warning (pass the kit's `oneLine`); the default collapses whitespace and cuts at 300 characters.
 */
export async function detectCosign(
  exec: CosignExec,
  opts: { env?: Record<string, string | undefined>; shown?: (untrusted: string) => string } = {},
): Promise<CosignDetection> {
  const r = await exec('cosign', ['version', '--json'], { env: opts.env, timeoutMs: COSIGN_VERSION_TIMEOUT_MS });
  if (!r.timedOut && r.exitCode === 127) return { found: false, problem: `cosign was not found on PATH: ${setupToolsHint('cosign')}` };
  if (!r.timedOut && r.exitCode === 126)
    return { found: false, problem: `cosign is on PATH but could not be started (exit 126: not executable?): ${setupToolsHint('cosign')}` };
  const version = r.exitCode === 0 ? parseCosignVersion(r.stdout) : undefined;
  if (version) return { found: true, major: version.major, version };
  const said = r.timedOut ? 'timed out' : `${r.stderr}\n${r.stdout}`.trim().split('\n').slice(-4).join('\n') || `exit code ${r.exitCode}`;
  return {
    found: true,
    major: ASSUMED_COSIGN_MAJOR,
    warning: `could not tell the cosign version from \`cosign version --json\` (${(opts.shown ?? squash)(said)}): assuming cosign ${ASSUMED_COSIGN_MAJOR}`,
  };
}

/**
 * The Sigstore file inputs cosign 2 cannot take (it reads `--signing-config` and `--trusted-root`
 * only with `--new-bundle-format`, which the actions do not use): the first one given, when the
 * detected major is below 3, with the message that names the version; else undefined.
 */
export function cosign3OnlyInput<N extends string>(
  d: CosignDetection,
  given: Partial<Record<N, string | undefined>>,
): { input: N; message: string } | undefined {
  if (!d.found || d.major >= 3) return undefined;
  for (const [input, v] of Object.entries(given) as [N, string | undefined][]) {
    if (v)
      return {
        input,
        message: `needs cosign 3 or later (this runner has cosign ${d.version?.raw ?? d.major}; cosign 2 reads it only in its new bundle format)`,
      };
  }
  return undefined;
}
