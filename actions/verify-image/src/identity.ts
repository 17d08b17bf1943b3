/**
 * The signer identity policy: which workflow, at which refs, for which source repository.
 *
 * A keyless signature made by hallmark's reusable build-sign-scan workflow carries a Fulcio
 * certificate whose SAN is `https://github.com/<job_workflow_ref>`, e.g.
 * `https://github.com/hallmark-dev/hallmark/.github/workflows/build-sign-scan.yml@refs/tags/v1`
 * (caller pins `@v1`), `…@refs/tags/v1.2.3` (`@v1.2.3`) or `…@<40 hex>` (`@<sha>`, as SECURITY.md
 * recommends). Its `repository` claim (the caller's repository, certificate extension
 * 1.3.6.1.4.1.57264.1.5) names who ran it.
 *
 * We verify with cosign's `--certificate-identity-regexp` built HERE, from checked parts only
 * (every literal escaped, the whole pattern anchored `^…$`), and `--certificate-github-workflow-repository`
 * (exact match of the repository claim). Flags as in sigstore/cosign
 * cmd/cosign/cli/options/certificate.go at v3.1.2; the regexp is Go RE2 (golang.org/s/re2syntax):
 * we use only syntax RE2 and JavaScript read alike (`\d`, `{m,n}`, `(…|…)`, `[0-9a-f]`, `\.`), so
 * the same string is tested here with RegExp.
 *
 * The `allowed-refs` syntax (one rule a line, or comma-separated):
 *   tags                  release tags: refs/tags/vN, vN.N, vN.N.N
 *   tags: v1, v2          release tags of those majors only (v1, v1.N, v1.N.N)
 *   sha                   any full 40-hex commit SHA
 *   sha: <40 hex>         exactly that commit
 *   branches: main, rel   exactly those branches (refs/heads/<name>)
 * Default: `tags`, `sha`, `branches: main`.
 */
import { HALLMARK_REPOSITORY } from '@hallmark/oci';

export const DEFAULT_WORKFLOW = `${HALLMARK_REPOSITORY}/.github/workflows/build-sign-scan.yml`;
export const DEFAULT_ALLOWED_REFS = ['tags', 'sha', 'branches: main'];
export const GITHUB_ISSUER = 'https://token.actions.githubusercontent.com';

export class PolicyInputError extends Error {
  constructor(
    readonly input: 'workflow' | 'allowed-refs' | 'source-repository' | 'server-url',
    message: string,
  ) {
    super(message);
    this.name = 'PolicyInputError';
  }
}

export type RefRule = { kind: 'tags'; majors?: number[] } | { kind: 'sha'; sha?: string } | { kind: 'branches'; names: string[] };

export interface Workflow {
  owner: string;
  repo: string;
  /** `.github/workflows/<file>.yml` */
  path: string;
}

/** GitHub's owner and repository name rules (letters, digits, `-`, `_`, `.`; not `.`/`..`). */
const OWNER = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})$/;
const NAME = /^[A-Za-z0-9._-]{1,100}$/;
const WORKFLOW_FILE = /^[A-Za-z0-9._-]{1,200}\.ya?ml$/;
/** A branch name we accept: git's ref rules narrowed to a safe alphabet (no `..`, no `@{`, no trailing `/` or `.lock`). */
const BRANCH = /^[A-Za-z0-9._/-]{1,200}$/;

export function parseRepository(input: 'source-repository', value: string): string {
  const m = /^([^/]+)\/([^/]+)$/.exec(value.trim());
  if (!m || !OWNER.test(m[1]!) || !NAME.test(m[2]!) || m[2] === '.' || m[2] === '..') {
    throw new PolicyInputError(input, 'must be a GitHub repository owner/name (letters, digits, - _ .)');
  }
  return `${m[1]}/${m[2]}`;
}

/** `owner/name/.github/workflows/<file>.yml`, with no `@ref` (the ref policy is `allowed-refs`). */
export function parseWorkflow(value: string): Workflow {
  const v = value.trim();
  if (v.includes('@')) throw new PolicyInputError('workflow', 'must not carry an @ref: name the refs in allowed-refs');
  const m = /^([^/]+)\/([^/]+)\/\.github\/workflows\/([^/]+)$/.exec(v);
  if (!m || !OWNER.test(m[1]!) || !NAME.test(m[2]!) || m[2] === '.' || m[2] === '..' || !WORKFLOW_FILE.test(m[3]!)) {
    throw new PolicyInputError('workflow', 'must be owner/name/.github/workflows/<file>.yml (a reusable workflow file, no @ref)');
  }
  return { owner: m[1]!, repo: m[2]!, path: `.github/workflows/${m[3]}` };
}

function checkBranch(b: string): string {
  if (
    !BRANCH.test(b) ||
    b.startsWith('/') ||
    b.endsWith('/') ||
    b.startsWith('-') ||
    b.includes('..') ||
    b.includes('//') ||
    b.endsWith('.lock') ||
    b.endsWith('.') ||
    b.split('/').some((p) => p.startsWith('.'))
  ) {
    throw new PolicyInputError(
      'allowed-refs',
      `branch ${JSON.stringify(b.slice(0, 80))} is not a valid branch name (letters, digits, . _ / -)`,
    );
  }
  return b;
}

/** Parses the `allowed-refs` rules (lines or comma-separated; `#` comment lines ignored). */
export function parseAllowedRefs(lines: string[]): RefRule[] {
  const rules: RefRule[] = [];
  // Join "key: a, b" lines first: a comma inside a rule separates its values, not rules.
  const items = lines.map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
  if (items.length === 0)
    throw new PolicyInputError('allowed-refs', 'must name at least one rule: tags, tags: v1, sha, sha: <40 hex>, branches: <names>');
  for (const item of items) {
    const m = /^([a-z]+)\s*(?::\s*(.*))?$/.exec(item);
    const key = m?.[1];
    const vals = m?.[2] !== undefined ? m[2].split(/[,\s]+/).filter(Boolean) : undefined;
    if (key === 'tags') {
      if (vals === undefined) rules.push({ kind: 'tags' });
      else {
        if (!vals.length) throw new PolicyInputError('allowed-refs', "'tags:' needs one or more majors such as v1");
        const majors = vals.map((x) => {
          const t = /^v(\d{1,6})$/.exec(x);
          if (!t) throw new PolicyInputError('allowed-refs', `tags: ${JSON.stringify(x.slice(0, 40))} is not a release major such as v1`);
          return Number(t[1]);
        });
        rules.push({ kind: 'tags', majors: [...new Set(majors)].sort((a, b) => a - b) });
      }
    } else if (key === 'sha') {
      if (vals === undefined) rules.push({ kind: 'sha' });
      else {
        if (!vals.length) throw new PolicyInputError('allowed-refs', "'sha:' needs a 40-hex commit SHA");
        for (const s of vals) {
          if (!/^[0-9a-f]{40}$/.test(s))
            throw new PolicyInputError('allowed-refs', `sha: ${JSON.stringify(s.slice(0, 50))} is not a full 40-hex lowercase commit SHA`);
          rules.push({ kind: 'sha', sha: s });
        }
      }
    } else if (key === 'branches') {
      if (!vals?.length) throw new PolicyInputError('allowed-refs', "'branches:' needs one or more branch names, e.g. branches: main");
      rules.push({ kind: 'branches', names: [...new Set(vals.map(checkBranch))] });
    } else {
      throw new PolicyInputError(
        'allowed-refs',
        `rule ${JSON.stringify(item.slice(0, 60))} is not one of: tags, tags: v1, sha, sha: <40 hex>, branches: <names>`,
      );
    }
  }
  return rules;
}

/** Escapes every character that is not a letter, digit, `/`, `:`, `_` or `-` (so RE2 and JS read it as a literal). */
export function escapeRegexp(s: string): string {
  return s.replace(/[^A-Za-z0-9/:_-]/g, (c) => {
    if (/[.*+?^${}()|[\]\\]/.test(c)) return `\\${c}`;
    // Anything else non-alphanumeric (cannot occur after the checks above): a hex escape RE2 and JS share.
    const code = c.codePointAt(0)!;
    if (code > 0xff) throw new Error(`cannot escape ${JSON.stringify(c)}`);
    return `\\x${code.toString(16).padStart(2, '0')}`;
  });
}

/** The ref alternatives of the rules, as regexp fragments (already safe). */
export function refAlternatives(rules: RefRule[]): string[] {
  const out: string[] = [];
  for (const r of rules) {
    if (r.kind === 'tags') {
      if (!r.majors) out.push('refs/tags/v\\d+(\\.\\d+){0,2}');
      else for (const m of r.majors) out.push(`refs/tags/v${m}(\\.\\d+){0,2}`);
    } else if (r.kind === 'sha') out.push(r.sha ?? '[0-9a-f]{40}');
    else for (const b of r.names) out.push(`refs/heads/${escapeRegexp(b)}`);
  }
  return [...new Set(out)];
}

export interface IdentityPolicy {
  workflow: Workflow;
  rules: RefRule[];
  sourceRepository: string;
  issuer: string;
  /** `https://github.com` (or a GHES server URL). */
  serverUrl: string;
  /** The anchored pattern for `--certificate-identity-regexp`. */
  identityRegexp: string;
}

export function identityPolicy(o: {
  workflow: Workflow;
  rules: RefRule[];
  sourceRepository: string;
  serverUrl?: string;
  issuer?: string;
}): IdentityPolicy {
  const serverUrl = (o.serverUrl ?? 'https://github.com').replace(/\/+$/, '');
  if (!/^https:\/\/[A-Za-z0-9.-]+(:\d{1,5})?$/.test(serverUrl))
    throw new PolicyInputError('server-url', 'must be https://<host> (the GitHub server the workflow ran on)');
  const base = `${serverUrl}/${o.workflow.owner}/${o.workflow.repo}/${o.workflow.path}`;
  const alts = refAlternatives(o.rules);
  const identityRegexp = `^${escapeRegexp(base)}@(${alts.join('|')})$`;
  return {
    workflow: o.workflow,
    rules: o.rules,
    sourceRepository: o.sourceRepository,
    issuer: o.issuer ?? GITHUB_ISSUER,
    serverUrl,
    identityRegexp,
  };
}

/** Whether an identity (a SAN, or a provenance builder id) is the policy's workflow at an allowed ref. */
export function identityAllowed(policy: IdentityPolicy, identity: string): boolean {
  return new RegExp(policy.identityRegexp).test(identity);
}

/** The ref part of an admitted identity (`refs/tags/v1`, a SHA, `refs/heads/main`). */
export function identityRef(policy: IdentityPolicy, identity: string): string | undefined {
  if (!identityAllowed(policy, identity)) return undefined;
  return identity.slice(identity.lastIndexOf('@') + 1);
}

/** The rules in words, for messages and the summary. */
export function describeRules(rules: RefRule[]): string {
  return rules
    .map((r) =>
      r.kind === 'tags'
        ? r.majors
          ? `release tags ${r.majors.map((m) => `v${m}.*`).join(', ')}`
          : 'release tags vN[.N[.N]]'
        : r.kind === 'sha'
          ? r.sha
            ? `commit ${r.sha}`
            : 'any 40-hex commit SHA'
          : `branch${r.names.length > 1 ? 'es' : ''} ${r.names.join(', ')}`,
    )
    .join('; ');
}
