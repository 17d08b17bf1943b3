// hallmark's own GitHub owner/name, read from the root package.json `repository` (the one place it
// is written; scripts/release.mjs and the static checks read the same field). A fork that changes it
// and rebuilds gets its own name in provenance build types, signer identities and hints.
import { repository } from '../../../package.json';

/** `owner/name` from a package.json `repository` field (`owner/name`, `github:owner/name`, or a GitHub URL). */
export function ownerRepoOf(field: string | { url?: string } | undefined): string {
  const raw = typeof field === 'string' ? field : (field?.url ?? '');
  const m = /^(?:github:)?([\w-]+)\/([\w.-]+?)(?:\.git)?$/.exec(raw) ?? /github\.com[/:]([\w-]+)\/([\w.-]+?)(?:\.git)?\/?$/.exec(raw);
  if (!m) throw new Error(`package.json: 'repository' does not name a GitHub repository: ${JSON.stringify(raw)}`);
  return `${m[1]}/${m[2]}`;
}

export const HALLMARK_REPOSITORY = ownerRepoOf(repository);

/** The hint every action gives when a tool is missing from PATH. */
export const setupToolsHint = (tool: string): string =>
  `add ${HALLMARK_REPOSITORY}/actions/setup-tools with \`tools: ${tool}\` before this step`;
