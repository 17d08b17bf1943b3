// Who may have signed a trail: exact identities, or a reusable workflow at allowed refs (the same
// rules as verify-image's `workflow` + `allowed-refs`), or a public key. Pure.

export const GITHUB_ISSUER = 'https://token.actions.githubusercontent.com';

export interface SignerPolicy {
  /** Exact certificate SANs, any of which may sign. */
  identities?: string[];
  /** `owner/name/.github/workflows/<file>.yml` (no @ref): its runs at `allowedRefs` may sign. */
  workflows?: string[];
  /** verify-image's rules: `tags`, `tags: v1`, `sha`, `sha: <40 hex>`, `branches: main, next`. Default tags, sha, branches: main. */
  allowedRefs?: string[];
  issuer?: string;
  serverUrl?: string;
}

export class SignerPolicyError extends Error {
  override name = 'SignerPolicyError';
}

type RefRule = { kind: 'tags'; major?: string } | { kind: 'sha'; sha?: string } | { kind: 'branches'; names: string[] };

export function parseAllowedRefs(rules: string[] | undefined): RefRule[] {
  const list = rules?.length ? rules : ['tags', 'sha', 'branches: main'];
  return list.map((raw) => {
    const r = raw.trim();
    let m: RegExpExecArray | null;
    if (r === 'tags') return { kind: 'tags' };
    if ((m = /^tags:\s*(v\d+)$/.exec(r))) return { kind: 'tags', major: m[1] };
    if (r === 'sha') return { kind: 'sha' };
    if ((m = /^sha:\s*([0-9a-f]{40})$/.exec(r))) return { kind: 'sha', sha: m[1] };
    if ((m = /^branches:\s*(.+)$/.exec(r))) {
      const names = (m[1] as string)
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean);
      if (names.every((n) => /^[A-Za-z0-9._/-]+$/.test(n))) return { kind: 'branches', names };
    }
    throw new SignerPolicyError(
      `allowed ref rule ${JSON.stringify(r.slice(0, 80))} is not one of: tags, tags: vN, sha, sha: <40 hex>, branches: a, b`,
    );
  });
}

function refAllowed(ref: string, rules: RefRule[]): boolean {
  return rules.some((rule) => {
    if (rule.kind === 'tags') {
      const m = /^refs\/tags\/(v\d+)(\.\d+){0,2}$/.exec(ref);
      return !!m && (!rule.major || m[1] === rule.major);
    }
    if (rule.kind === 'sha') return /^[0-9a-f]{40}$/.test(ref) && (!rule.sha || rule.sha === ref);
    return rule.names.some((n) => ref === `refs/heads/${n}`);
  });
}

/** null when `san` (with `issuer`) is admitted, else why not. */
export function checkSigner(san: string, issuer: string, policy: SignerPolicy): string | null {
  const wantIssuer = policy.issuer ?? GITHUB_ISSUER;
  if (issuer !== wantIssuer) return `the certificate's issuer is ${JSON.stringify(issuer.slice(0, 200))}, not ${wantIssuer}`;
  if (policy.identities?.includes(san)) return null;
  const server = (policy.serverUrl ?? 'https://github.com').replace(/\/+$/, '');
  const rules = parseAllowedRefs(policy.allowedRefs);
  for (const wf of policy.workflows ?? []) {
    const prefix = `${server}/${wf}@`;
    if (san.startsWith(prefix) && refAllowed(san.slice(prefix.length), rules)) return null;
  }
  const wanted = [...(policy.identities ?? []), ...(policy.workflows ?? []).map((w) => `${server}/${w}@<allowed ref>`)];
  return `the trail is signed by ${JSON.stringify(san.slice(0, 300))}, not by ${wanted.length ? wanted.join(' or ') : 'a signer you named'}`;
}
