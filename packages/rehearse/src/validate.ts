// The workflow model, checked before a single job starts: what each `uses:` is (our action, a
// local action, a local reusable workflow, a local equivalent), and GitHub's refusals: secret names
// it cannot store, contexts it does not allow in `if:`, keys a calling job may not set, a nested
// job asking for more permissions than its caller, an action or bundle that is not there.
import { existsSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { LOCAL_EQUIVALENTS, localEquivalentFor } from './equivalents/local.js';
import { RehearsalError } from './errors.js';
import { actionMeta, CALLING_JOB_KEYS, isObj, type JobSpec, loadYaml, stepsOf, triggers, type WorkflowDoc } from './model.js';
import { HALLMARK_ROOT, OWNER_REPO } from './root.js';
import { badIfContexts, badSecretNames, exceeding, normalizePermissions } from './rules.js';
import type { RunState } from './state.js';
import type { PermissionSet } from './types.js';

/** What a `uses:` names. */
export type UsesKind =
  | { kind: 'action'; dir: string; setupTools?: boolean }
  | { kind: 'workflow'; file: string; setupTools?: undefined }
  | { kind: 'equivalent'; name: string; setupTools?: undefined }
  | { kind: 'unknown'; setupTools?: undefined };

type Roots = Pick<RunState, 'root' | 'hallmarkRoot'>;

export function classifyUses(state: Roots, uses: unknown): UsesKind | undefined {
  if (typeof uses !== 'string') return undefined;
  const remoteAction = new RegExp(`^${OWNER_REPO}/actions/([\\w-]+)@[\\w.-]+$`).exec(uses);
  const localAction = uses.startsWith('./') && !/\.ya?ml$/.test(uses) ? join(state.root, uses) : undefined;
  const actionDir = remoteAction ? join(state.hallmarkRoot, 'actions', remoteAction[1] as string) : localAction;
  // setup-tools runs for real (hallmark's own dist/setup-tools), from the rehearsal's loopback
  // mirror of the real tools `npm run tools` built (tool-mirror.ts), with verify: checksum.
  if (actionDir && resolve(actionDir) === join(state.hallmarkRoot, 'actions', 'setup-tools'))
    return { kind: 'action', dir: join(HALLMARK_ROOT, 'actions', 'setup-tools'), setupTools: true };
  if (actionDir) return { kind: 'action', dir: actionDir };
  const remoteWf = new RegExp(`^${OWNER_REPO}/(\\.github/workflows/[\\w.-]+\\.ya?ml)@[\\w.-]+$`).exec(uses);
  if (remoteWf) return { kind: 'workflow', file: join(state.hallmarkRoot, remoteWf[1] as string) };
  if (uses.startsWith('./') && /\.ya?ml$/.test(uses)) return { kind: 'workflow', file: join(state.root, uses) };
  const eq = localEquivalentFor(uses);
  if (eq) return { kind: 'equivalent', name: eq };
  return { kind: 'unknown' };
}

/** A file as the log names it: relative to the repository, or `hallmark:<path>` for hallmark's own files. */
export function shown(state: Roots, file: string): string {
  const r = relative(state.root, file);
  if (!r.startsWith('..')) return r;
  const h = relative(state.hallmarkRoot, file);
  return h.startsWith('..') ? file : `hallmark:${h}`;
}

/**
 * A job's token permissions: its own block, else its workflow's, else (in a called workflow) the
 * calling job's, else the repository default (`defaultPermissions`: restricted unless told).
 */
export function jobPermissions(
  state: Pick<RunState, 'opts'>,
  doc: WorkflowDoc,
  job: JobSpec,
  cap: PermissionSet | undefined,
): PermissionSet {
  const declared = job.permissions ?? doc.permissions;
  if (declared === undefined && cap) return cap;
  return normalizePermissions(declared, { defaults: state.opts.defaultPermissions ?? 'restricted' });
}

export interface PreflightOptions {
  /** Files already checked (with the cap they were checked under). */
  seen: Set<string>;
  /** Set when a step uses setup-tools (the banner then names the real tools). */
  usesSetupTools: { found: boolean };
  /** The calling job's permissions when `doc` is a called workflow (a nested job may not ask for more). */
  cap?: PermissionSet;
  /** The calling job's id. */
  caller?: string;
}

/** Refuses what cannot run, before anything runs (GitHub refuses such a run before it starts). */
export function preflight(state: RunState, file: string, doc: WorkflowDoc, o: PreflightOptions): void {
  const { seen, usesSetupTools, cap, caller } = o;
  const seenKey = `${file}\0${JSON.stringify(cap ?? null)}`;
  if (seen.has(seenKey)) return;
  seen.add(seenKey);
  const where = shown(state, file);
  const bad = badSecretNames(doc, triggers(doc));
  if (bad.length)
    throw new RehearsalError(
      `${where}: secret name${bad.length > 1 ? 's' : ''} GitHub cannot store (letters, digits and _ only, not starting with a digit or GITHUB_): ${bad.map((b) => `'${b.name}' in ${b.where} ${b.problem}`).join('; ')}`,
    );
  const badIf = badIfContexts(doc);
  if (badIf.length)
    throw new RehearsalError(
      `${where}: ${badIf.map((b) => `${b.where} uses the '${b.context}' context, which GitHub does not allow there`).join('; ')} (GitHub refuses the workflow: "Unrecognized named-value")`,
    );
  for (const [id, job] of Object.entries(doc.jobs)) {
    if (!isObj(job)) throw new RehearsalError(`${where}: job '${id}' is not a mapping`);
    let perms: PermissionSet;
    try {
      perms = jobPermissions(state, doc, job, cap);
    } catch (e) {
      throw new RehearsalError(`${where}: job '${id}': ${(e as Error).message}`);
    }
    if (cap) {
      const over = exceeding(perms, cap);
      if (over.length)
        throw new RehearsalError(
          `${where}: the nested job '${id}' asks for ${over.map((x) => `${x.scope}: ${x.asked}`).join(', ')}, but the calling job '${caller}' allows only ${over.map((x) => `${x.scope}: ${x.allowed}`).join(', ')} (GitHub refuses such a run)`,
        );
    }
    if (typeof job.uses === 'string') {
      // Anything but the calling keys makes GitHub refuse the workflow.
      const extra = Object.keys(job).filter((k) => !CALLING_JOB_KEYS.includes(k));
      if (extra.length)
        throw new RehearsalError(
          `${where}: job '${id}' calls a reusable workflow and also sets ${extra.join(', ')}, which GitHub does not support there (only ${CALLING_JOB_KEYS.join(', ')})`,
        );
      const c = classifyUses(state, job.uses);
      if (c?.kind !== 'workflow')
        throw new RehearsalError(
          `${where}: job '${id}' calls '${job.uses}', which is not a local reusable workflow (./.github/workflows/… or ${OWNER_REPO}/.github/workflows/…@ref)`,
        );
      if (!existsSync(c.file))
        throw new RehearsalError(`${where}: job '${id}' calls '${job.uses}': ${shown(state, c.file)} does not exist`);
      preflight(state, c.file, loadYaml(c.file), { seen, usesSetupTools, cap: perms, caller: id });
      continue;
    }
    stepsOf(job).forEach((s, i) => {
      const name = s?.name ?? s?.id ?? s?.uses ?? `#${i + 1}`;
      if (s?.uses === undefined) return;
      const c = classifyUses(state, s.uses) ?? { kind: 'unknown' };
      if (c.setupTools) usesSetupTools.found = true;
      if (c.kind === 'unknown')
        throw new RehearsalError(
          `${where}: job '${id}' step '${name}' uses '${s.uses}', which the rehearsal cannot run. It runs our actions (./actions/<name>, ${OWNER_REPO}/actions/<name>@ref), local actions, and local equivalents of: ${LOCAL_EQUIVALENTS.join(', ')}`,
        );
      if (c.kind === 'action') {
        const meta = actionMeta(c.dir);
        if (!meta)
          throw new RehearsalError(`${where}: job '${id}' step '${name}' uses '${s.uses}': no action.yml in ${shown(state, c.dir)}`);
        if (!/^node\d+$/.test(meta.runs?.using ?? ''))
          throw new RehearsalError(
            `${where}: job '${id}' step '${name}' uses '${s.uses}': runs.using '${meta.runs?.using}' is not supported (node actions only)`,
          );
        const main = join(c.dir, meta.runs?.main ?? '');
        if (!existsSync(main))
          throw new RehearsalError(
            `${where}: job '${id}' step '${name}' uses '${s.uses}': its bundle ${shown(state, main)} is missing (node scripts/build.mjs <name>)`,
          );
      }
      if (c.kind === 'workflow') throw new RehearsalError(`${where}: job '${id}' step '${name}': a workflow cannot be used as a step`);
    });
  }
}
