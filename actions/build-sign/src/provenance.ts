/**
 * SLSA v1 build provenance for what build-sign built, as plain data: the `FROM` lines of the
 * Containerfile (with `--platform`, ARG substitution and references to earlier stages), and the
 * in-toto statement (`https://in-toto.io/Statement/v1`, predicate `https://slsa.dev/provenance/v1`)
 * whose predicate `cosign attest --type slsaprovenance1` signs. Nothing here reads the environment,
 * the network or the disk: the caller hands in the Containerfile text, the runner facts and the
 * base-image digests the registry resolved.
 *
 * Read to get this right:
 * - https://slsa.dev/spec/v1.0/provenance (buildDefinition / runDetails, ResourceDescriptor).
 * - moby/buildkit frontend/dockerfile/parser/{parser.go,directives.go} and
 *   frontend/dockerfile/instructions/parse.go (v0.x): parser directives (`# escape=`) only before
 *   the first instruction/comment, line continuation with the escape character, comment lines
 *   dropped inside a continuation, `ARG`s before the first `FROM` are the only ones a `FROM` may
 *   use, stage names are matched case-insensitively, `scratch` is no image.
 * - moby/buildkit frontend/dockerfile/shell/lex.go: `$VAR`, `${VAR}`, `${VAR:-word}`,
 *   `${VAR-word}`, `${VAR:+word}`, `${VAR+word}`, an escaped `$` is literal.
 * - sigstore/cosign pkg/cosign/attestation/attestation.go at v3.1.2: `--type slsaprovenance1` is
 *   the predicate type `https://slsa.dev/provenance/v1`; cosign wraps the predicate file we give it
 *   in a statement whose subject is the image repository and the signed digest.
 */
import { HALLMARK_REPOSITORY, isDigest, parseImageRef, repoName, RefError, type ImageRef } from '@hallmark/oci';

export const SLSA_PROVENANCE_V1 = 'https://slsa.dev/provenance/v1';
export const IN_TOTO_STATEMENT_V1 = 'https://in-toto.io/Statement/v1';
/** The statement type cosign 3.1.2 `attest` wraps every predicate in. */
export const IN_TOTO_STATEMENT_V01 = 'https://in-toto.io/Statement/v0.1';
/** cosign's `--type` for SLSA v1 provenance. */
export const COSIGN_PROVENANCE_TYPE = 'slsaprovenance1';

/** The repository that owns the build type and the reusable workflow: one constant. */
export const BUILD_TYPE = `https://github.com/${HALLMARK_REPOSITORY}/buildtypes/build-sign/v1`;
/** The reusable workflow whose job_workflow_ref is the builder id (without `@ref`). */
export const BUILDER_WORKFLOW_PATH = '.github/workflows/build-sign-scan.yml';

export class ProvenanceError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ProvenanceError';
  }
}

// ---------------------------------------------------------------------------------------------
// Containerfile FROM lines
// ---------------------------------------------------------------------------------------------

export interface FromLine {
  /** 1-based line number where the instruction starts. */
  line: number;
  /** The image as written, after ARG substitution. */
  image: string;
  /** `--platform=` after ARG substitution (may still hold `$BUILDPLATFORM` when it is unknown). */
  platform?: string;
  /** `AS <name>` (lowercased, as BuildKit compares it). */
  stage?: string;
  /** `external`: an image from a registry; `stage`: an earlier stage; `scratch`: no image. */
  kind: 'external' | 'stage' | 'scratch';
  /** external only: the parsed reference. */
  ref?: ImageRef;
}

/** One logical instruction: joined continuation lines, comments inside them removed. */
interface Instruction {
  line: number;
  keyword: string;
  rest: string;
}

function instructions(text: string): { escape: string; list: Instruction[] } {
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  let escapeChar = '\\';
  // Parser directives: `# key=value` lines at the very top; the first other line ends them.
  let i = 0;
  for (; i < lines.length; i++) {
    const m = /^#\s*([a-zA-Z][a-zA-Z0-9]*)\s*=\s*(\S+)\s*$/.exec(lines[i] as string);
    if (!m) break;
    if ((m[1] as string).toLowerCase() === 'escape') {
      if (m[2] !== '\\' && m[2] !== '`') throw new ProvenanceError(`the escape directive must be \\ or \` (line ${i + 1})`);
      escapeChar = m[2] as string;
    }
  }
  const out: Instruction[] = [];
  let cur: { line: number; text: string } | undefined;
  for (let n = 0; n < lines.length; n++) {
    const raw = lines[n] as string;
    const trimmed = raw.trim();
    if (cur && (trimmed === '' || trimmed.startsWith('#'))) continue; // empty and comment lines inside a continuation are dropped
    if (!cur && (trimmed === '' || trimmed.startsWith('#'))) continue;
    const body = raw.replace(/\s+$/, '');
    const continued = body.endsWith(escapeChar);
    const piece = continued ? body.slice(0, -1) : body;
    if (cur) cur.text += piece;
    else cur = { line: n + 1, text: piece.replace(/^\s+/, '') };
    if (!continued) {
      const m = /^(\S+)\s*([\s\S]*)$/.exec(cur.text);
      if (m) out.push({ line: cur.line, keyword: (m[1] as string).toUpperCase(), rest: (m[2] as string).trim() });
      cur = undefined;
    }
  }
  if (cur) {
    const m = /^(\S+)\s*([\s\S]*)$/.exec(cur.text);
    if (m) out.push({ line: cur.line, keyword: (m[1] as string).toUpperCase(), rest: (m[2] as string).trim() });
  }
  return { escape: escapeChar, list: out };
}

/**
 * Substitutes `$VAR`, `${VAR}` and the `:-`, `-`, `:+`, `+` forms from `vars`; a variable that is
 * not in `vars` is left as written (so the caller can tell it was not resolved), an escaped `$` is
 * a literal `$`.
 */
export function substitute(s: string, vars: ReadonlyMap<string, string>, escapeChar = '\\'): string {
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const c = s[i] as string;
    if (c === escapeChar && s[i + 1] === '$') {
      out += '$';
      i++;
      continue;
    }
    if (c !== '$') {
      out += c;
      continue;
    }
    if (s[i + 1] === '{') {
      const end = s.indexOf('}', i + 2);
      if (end < 0) {
        out += s.slice(i);
        break;
      }
      const inner = s.slice(i + 2, end);
      const m = /^([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-+])([\s\S]*))?$/.exec(inner);
      if (!m) {
        out += s.slice(i, end + 1);
      } else {
        const name = m[1] as string;
        const op = m[2];
        const word = substitute(m[3] ?? '', vars, escapeChar);
        const has = vars.has(name);
        const value = vars.get(name) ?? '';
        if (!op) out += has ? value : s.slice(i, end + 1);
        else if (op === ':-') out += has && value !== '' ? value : word;
        else if (op === '-') out += has ? value : word;
        else if (op === ':+') out += has && value !== '' ? word : '';
        else out += has ? word : '';
      }
      i = end;
      continue;
    }
    const m = /^[A-Za-z_][A-Za-z0-9_]*/.exec(s.slice(i + 1));
    if (!m) {
      out += c;
      continue;
    }
    const name = m[0];
    out += vars.has(name) ? (vars.get(name) as string) : `$${name}`;
    i += name.length;
  }
  return out;
}

/** `ARG A=1 B "C=x y"` → [['A','1'], ['B', undefined], ['C','x y']]. */
function argDeclarations(rest: string): [string, string | undefined][] {
  const out: [string, string | undefined][] = [];
  for (const m of rest.matchAll(/([A-Za-z_][A-Za-z0-9_]*)(?:=("([^"]*)"|'([^']*)'|\S*))?/g)) {
    const name = m[1] as string;
    const value = m[2] === undefined ? undefined : (m[3] ?? m[4] ?? m[2]);
    out.push([name, value]);
  }
  return out;
}

export interface FromContext {
  /** Build arguments (`--build-arg`), which override the global ARG defaults they name. */
  buildArgs?: ReadonlyMap<string, string> | [string, string][];
  /** The automatic platform ARGs (BuildKit): the first target platform, and the builder's. */
  targetPlatform?: string;
  buildPlatform?: string;
}

function platformArgs(name: 'TARGET' | 'BUILD', p: string | undefined): [string, string][] {
  if (!p) return [];
  const [os, arch, variant] = p.split('/');
  return [
    [`${name}PLATFORM`, p],
    [`${name}OS`, os ?? ''],
    [`${name}ARCH`, arch ?? ''],
    [`${name}VARIANT`, variant ?? ''],
  ];
}

/**
 * The `FROM` lines of a Containerfile, in order. Only ARGs declared before the first FROM are in
 * scope for FROM (with their default, or the build argument of that name); a FROM naming an
 * earlier stage is `kind: 'stage'`; `scratch` is `kind: 'scratch'`. A FROM whose image still
 * holds an unresolved `$` after substitution, or is not a valid reference, throws ProvenanceError.
 */
export function parseFromLines(text: string, ctx: FromContext = {}): FromLine[] {
  const given = new Map(ctx.buildArgs instanceof Map ? ctx.buildArgs : ((ctx.buildArgs as [string, string][] | undefined) ?? []));
  const vars = new Map<string, string>([...platformArgs('TARGET', ctx.targetPlatform), ...platformArgs('BUILD', ctx.buildPlatform)]);
  const stages = new Set<string>();
  const out: FromLine[] = [];
  let seenFrom = false;
  const { escape: escapeChar, list } = instructions(text);
  for (const ins of list) {
    if (ins.keyword === 'ARG' && !seenFrom) {
      for (const [name, def] of argDeclarations(ins.rest)) {
        if (given.has(name)) vars.set(name, given.get(name) as string);
        else if (def !== undefined) vars.set(name, substitute(def, vars, escapeChar));
        else vars.set(name, '');
      }
      continue;
    }
    if (ins.keyword !== 'FROM') continue;
    seenFrom = true;
    const words = ins.rest.split(/\s+/).filter(Boolean);
    let platform: string | undefined;
    while (words[0]?.startsWith('--')) {
      const flag = words.shift() as string;
      const m = /^--platform=(.*)$/i.exec(flag);
      if (m) platform = substitute(m[1] as string, vars, escapeChar);
      else if (!/^--\w[\w-]*(=.*)?$/.test(flag))
        throw new ProvenanceError(`line ${ins.line}: FROM has a malformed flag ${JSON.stringify(flag.slice(0, 40))}`);
    }
    const written = words[0];
    if (!written) throw new ProvenanceError(`line ${ins.line}: FROM names no image`);
    let stage: string | undefined;
    if (words.length >= 3 && (words[1] as string).toUpperCase() === 'AS') stage = (words[2] as string).toLowerCase();
    else if (words.length > 1) throw new ProvenanceError(`line ${ins.line}: FROM must be "FROM [--platform=…] <image> [AS <name>]"`);
    const image = substitute(written, vars, escapeChar);
    const base: Pick<FromLine, 'line' | 'image' | 'platform' | 'stage'> = {
      line: ins.line,
      image,
      ...(platform ? { platform } : {}),
      ...(stage ? { stage } : {}),
    };
    if (stages.has(image.toLowerCase())) out.push({ ...base, kind: 'stage' });
    else if (image.toLowerCase() === 'scratch') out.push({ ...base, kind: 'scratch' });
    else {
      if (image.includes('$'))
        throw new ProvenanceError(
          `line ${ins.line}: FROM ${JSON.stringify(written.slice(0, 80))} uses a variable that no ARG before the first FROM defines`,
        );
      let ref: ImageRef;
      try {
        ref = parseImageRef(image);
      } catch (e) {
        throw new ProvenanceError(
          `line ${ins.line}: FROM ${JSON.stringify(image.slice(0, 80))} is not an image reference (${e instanceof RefError ? e.message : 'invalid'})`,
        );
      }
      out.push({ ...base, kind: 'external', ref });
    }
    if (stage) stages.add(stage);
  }
  if (!seenFrom) throw new ProvenanceError('the Containerfile has no FROM instruction');
  return out;
}

/** The distinct external bases (first occurrence order), by their written reference after substitution. */
export function externalBases(froms: FromLine[]): { image: string; ref: ImageRef; platforms: string[] }[] {
  const byImage = new Map<string, { image: string; ref: ImageRef; platforms: string[] }>();
  for (const f of froms) {
    if (f.kind !== 'external' || !f.ref) continue;
    const key = `${repoName(f.ref)}${f.ref.tag ? `:${f.ref.tag}` : ''}${f.ref.digest ? `@${f.ref.digest}` : ''}`;
    const e = byImage.get(key) ?? { image: f.image, ref: f.ref, platforms: [] };
    if (f.platform && !e.platforms.includes(f.platform)) e.platforms.push(f.platform);
    byImage.set(key, e);
  }
  return [...byImage.values()];
}

/** `pkg:docker/<registry>/<repository>@<tag or digest>` for a base image reference. */
export function basePurl(ref: ImageRef): string {
  const version = ref.digest ?? ref.tag ?? 'latest';
  return `pkg:docker/${repoName(ref)}@${version}`;
}

// ---------------------------------------------------------------------------------------------
// The statement
// ---------------------------------------------------------------------------------------------

export interface ResourceDescriptor {
  uri: string;
  digest: Record<string, string>;
  name?: string;
  annotations?: Record<string, string>;
}

export interface ProvenancePredicate {
  buildDefinition: {
    buildType: string;
    externalParameters: {
      workflow: { repository: string; ref: string; path: string };
      build: { context: string; file: string; target?: string; platforms: string[]; buildArgs: string[]; builder: string };
    };
    internalParameters: { github: { event_name: string; repository_id: string; repository_owner_id: string; runner_environment: string } };
    resolvedDependencies: ResourceDescriptor[];
  };
  runDetails: {
    builder: { id: string };
    metadata: { invocationId: string; startedOn: string; finishedOn: string };
  };
}

export interface ProvenanceStatement {
  _type: typeof IN_TOTO_STATEMENT_V1;
  subject: { name: string; digest: { sha256: string } }[];
  predicateType: typeof SLSA_PROVENANCE_V1;
  predicate: ProvenancePredicate;
}

/** The runner facts provenance records (GITHUB_* variables, read by main.ts). */
export interface GithubFacts {
  serverUrl: string;
  /** GITHUB_REPOSITORY, `owner/name` of the caller. */
  repository: string;
  /** GITHUB_REF */
  ref: string;
  /** GITHUB_SHA */
  sha: string;
  /** GITHUB_WORKFLOW_REF: `owner/name/.github/workflows/ci.yml@refs/heads/main` (the caller's workflow). */
  workflowRef: string;
  eventName: string;
  repositoryId: string;
  repositoryOwnerId: string;
  /** RUNNER_ENVIRONMENT: `github-hosted` or `self-hosted`. */
  runnerEnvironment: string;
  runId: string;
  runAttempt: string;
}

export interface ProvenanceInput {
  image: Pick<ImageRef, 'registry' | 'repository'>;
  digest: string;
  build: { context: string; file: string; target?: string; platforms: string[]; buildArgNames: string[]; builder: string };
  github: GithubFacts;
  /** `https://github.com/<job_workflow_ref>` */
  builderId: string;
  /** External bases with the digest the registry resolved for each. */
  bases: { ref: ImageRef; digest: string }[];
  startedOn: Date;
  finishedOn: Date;
}

/** `.github/workflows/ci.yml` from `owner/name/.github/workflows/ci.yml@refs/heads/main`. */
export function workflowPath(workflowRef: string): string {
  const m = /^[^/]+\/[^/]+\/(.+?)@.+$/.exec(workflowRef);
  return m ? (m[1] as string) : '';
}

export function invocationId(g: Pick<GithubFacts, 'serverUrl' | 'repository' | 'runId' | 'runAttempt'>): string {
  return `${g.serverUrl.replace(/\/+$/, '')}/${g.repository}/actions/runs/${g.runId}/attempts/${g.runAttempt || '1'}`;
}

const hex = (digest: string): string => {
  if (!isDigest(digest)) throw new ProvenanceError(`not a sha256 digest: ${JSON.stringify(digest.slice(0, 80))}`);
  return digest.slice('sha256:'.length);
};

/** The in-toto statement build-sign attests (cosign gets `.predicate`; the subject is what cosign will write). */
export function provenanceStatement(p: ProvenanceInput): ProvenanceStatement {
  const g = p.github;
  if (!g.repository || !/^[^/\s]+\/[^/\s]+$/.test(g.repository))
    throw new ProvenanceError('GITHUB_REPOSITORY (owner/name) is needed for provenance');
  if (!/^[0-9a-f]{40}$/.test(g.sha)) throw new ProvenanceError('GITHUB_SHA (the source commit) is needed for provenance');
  if (!/^https:\/\/\S+@\S+$/.test(p.builderId))
    throw new ProvenanceError(
      `the builder id must be https://<host>/<job_workflow_ref> (got ${JSON.stringify(p.builderId.slice(0, 120))})`,
    );
  for (const n of p.build.buildArgNames)
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(n))
      throw new ProvenanceError(`build argument name ${JSON.stringify(n.slice(0, 40))} is not a name`);
  const server = g.serverUrl.replace(/\/+$/, '');
  const deps: ResourceDescriptor[] = [{ uri: `git+${server}/${g.repository}@${g.ref}`, digest: { gitCommit: g.sha } }];
  for (const b of p.bases) deps.push({ uri: basePurl(b.ref), digest: { sha256: hex(b.digest) } });
  const build: ProvenancePredicate['buildDefinition']['externalParameters']['build'] = {
    context: p.build.context,
    file: p.build.file,
    ...(p.build.target ? { target: p.build.target } : {}),
    platforms: [...p.build.platforms],
    buildArgs: [...p.build.buildArgNames],
    builder: p.build.builder,
  };
  return {
    _type: IN_TOTO_STATEMENT_V1,
    subject: [{ name: repoName(p.image), digest: { sha256: hex(p.digest) } }],
    predicateType: SLSA_PROVENANCE_V1,
    predicate: {
      buildDefinition: {
        buildType: BUILD_TYPE,
        externalParameters: {
          workflow: { repository: g.repository, ref: g.ref, path: workflowPath(g.workflowRef) },
          build,
        },
        internalParameters: {
          github: {
            event_name: g.eventName,
            repository_id: g.repositoryId,
            repository_owner_id: g.repositoryOwnerId,
            runner_environment: g.runnerEnvironment,
          },
        },
        resolvedDependencies: deps,
      },
      runDetails: {
        builder: { id: p.builderId },
        metadata: { invocationId: invocationId(g), startedOn: p.startedOn.toISOString(), finishedOn: p.finishedOn.toISOString() },
      },
    },
  };
}

/**
 * A statement file written by an earlier build-sign step (the build job of build-sign-scan), checked
 * before it is attested for `image@digest` in this run: our statement and build type, the same
 * subject, the same workflow run (any attempt). Returns it, or throws ProvenanceError naming what differs.
 */
export function checkStatementFile(
  text: string,
  expect: {
    image: Pick<ImageRef, 'registry' | 'repository'>;
    digest: string;
    run?: Pick<GithubFacts, 'serverUrl' | 'repository' | 'runId'>;
  },
): ProvenanceStatement {
  let s: ProvenanceStatement;
  try {
    s = JSON.parse(text) as ProvenanceStatement;
  } catch {
    throw new ProvenanceError('is not JSON');
  }
  if (!s || typeof s !== 'object') throw new ProvenanceError('is not an in-toto statement');
  // v0.1 is what cosign 3.1.2 writes around the predicate it attests (pkg/cosign/attestation/attestation.go).
  if (s._type !== IN_TOTO_STATEMENT_V1 && (s._type as string) !== IN_TOTO_STATEMENT_V01)
    throw new ProvenanceError(`is not an in-toto statement (_type ${JSON.stringify(String(s._type).slice(0, 80))})`);
  if (s.predicateType !== SLSA_PROVENANCE_V1)
    throw new ProvenanceError(`has predicate type ${JSON.stringify(String(s.predicateType).slice(0, 80))}, not ${SLSA_PROVENANCE_V1}`);
  if (s.predicate?.buildDefinition?.buildType !== BUILD_TYPE)
    throw new ProvenanceError(
      `was not written by build-sign (buildType ${JSON.stringify(String(s.predicate?.buildDefinition?.buildType).slice(0, 120))})`,
    );
  const subj = Array.isArray(s.subject) ? s.subject : [];
  const want = { name: repoName(expect.image), sha256: hex(expect.digest) };
  if (subj.length !== 1 || subj[0]?.name !== want.name || subj[0]?.digest?.sha256 !== want.sha256) {
    throw new ProvenanceError(
      `describes ${subj.map((x) => `${x?.name}@sha256:${x?.digest?.sha256}`).join(', ') || 'no subject'}, not ${want.name}@sha256:${want.sha256}`,
    );
  }
  // The same run, any attempt: "Re-run failed jobs" reruns the sign job alone (attempt 2) over the build job's statement (attempt 1).
  const inv = s.predicate?.runDetails?.metadata?.invocationId;
  if (expect.run) {
    const prefix = `${expect.run.serverUrl.replace(/\/+$/, '')}/${expect.run.repository}/actions/runs/${expect.run.runId}/attempts/`;
    if (typeof inv !== 'string' || !inv.startsWith(prefix) || !/^\d+$/.test(inv.slice(prefix.length))) {
      throw new ProvenanceError(
        `was written by another workflow run (${JSON.stringify(String(inv).slice(0, 200))}, this is ${prefix.slice(0, -'/attempts/'.length)})`,
      );
    }
  }
  return s;
}

/** The same statement with the builder id the attesting job proved (its OIDC token's job_workflow_ref). */
export function withBuilderId(s: ProvenanceStatement, builderId: string): ProvenanceStatement {
  if (!/^https:\/\/\S+@\S+$/.test(builderId))
    throw new ProvenanceError(`the builder id must be https://<host>/<job_workflow_ref> (got ${JSON.stringify(builderId.slice(0, 120))})`);
  return { ...s, predicate: { ...s.predicate, runDetails: { ...s.predicate.runDetails, builder: { id: builderId } } } };
}

// ---------------------------------------------------------------------------------------------
// The inputs
// ---------------------------------------------------------------------------------------------

export interface RawProvenanceInputs {
  /** `provenance` (default true). */
  provenance: boolean;
  /** `provenance-file`: with `digest`, the statement an earlier build-sign step wrote. */
  provenanceFile: string;
  /** `require-provenance` (default false). */
  requireProvenance: boolean;
  /** `builder-refs`: refs of the builder workflow the policy accepts (default: the builder's own ref). */
  builderRefs: string[];
}

export interface ProvenanceConfig {
  /** Write the statement when building; attest it when signing. */
  attest: boolean;
  /** Absolute path of a statement file to attest (digest mode). */
  file?: string;
  /** The policy requires the provenance attestation. */
  require: boolean;
  builderRefs: string[];
}

/**
 * Checks the provenance inputs; `bad(input, expected)` builds the error to throw (an InputError in
 * the action). `resolvePath` makes a workspace-relative path absolute. Returns the config and
 * warnings.
 */
export function checkProvenanceInputs(
  raw: RawProvenanceInputs,
  ctx: { digest: boolean; sign: 'keyless' | 'key' | 'none'; policyKind: string; resolvePath: (p: string) => string },
  bad: (input: string, expected: string) => Error,
): { config: ProvenanceConfig; warnings: string[] } {
  const warnings: string[] = [];
  const file = raw.provenanceFile.trim();
  if (file) {
    if (!ctx.digest) throw bad('provenance-file', "only applies with 'digest' (a build writes its own statement)");
    if (/[\0\r\n]/.test(file)) throw bad('provenance-file', 'must be one file path');
    if (!raw.provenance) throw bad('provenance-file', "is set but 'provenance' is false");
  }
  for (const r of raw.builderRefs) {
    if (!/^refs\/(heads|tags)\/[A-Za-z0-9._\-/+*]+$/.test(r))
      throw bad(
        'builder-refs',
        `must be refs/tags/… or refs/heads/… patterns (a * matches within one path segment), got ${JSON.stringify(r.slice(0, 120))}`,
      );
  }
  if (raw.builderRefs.length && !raw.requireProvenance)
    warnings.push("'builder-refs' is set but 'require-provenance' is false: it is not used");
  if (raw.requireProvenance && ctx.sign === 'none') warnings.push("'require-provenance' is set but sign is 'none': no policy is written");
  if (ctx.digest && raw.provenance && !file && ctx.sign !== 'none') {
    warnings.push("'digest' skips the build and no 'provenance-file' was given: no provenance is attested in this step");
  }
  return {
    config: {
      attest: raw.provenance,
      ...(file ? { file: ctx.resolvePath(file) } : {}),
      require: raw.requireProvenance,
      builderRefs: [...new Set(raw.builderRefs)],
    },
    warnings,
  };
}
