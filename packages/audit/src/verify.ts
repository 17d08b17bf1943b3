// verifyTrail: check a downloaded audit artifact offline — the chain, the seal, and the Sigstore
// bundle over the trail's exact bytes (sigstore-js @sigstore/verify against a trusted root: the
// public-good root that ships in @sigstore/tuf's seeds, or the one you give) — and tell its story.
import { createPublicKey } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { bundleFromJSON } from '@sigstore/bundle';
import { TrustedRoot } from '@sigstore/protobuf-specs';
import { toSignedEntity, toTrustMaterial, Verifier } from '@sigstore/verify';
import { verifyChain } from './chain.js';
import type { AuditRecord } from './record.js';
import { lineHash } from './record.js';
import { checkSigner, type SignerPolicy } from './signer.js';
import { tellStory } from './story.js';
// The public-good trusted root as sigstore-js ships it (its TUF seed), bundled: verification needs no network.
import seeds from '@sigstore/tuf/seeds.json';

export interface VerifyTrailOptions extends SignerPolicy {
  /** The trail file (default: the one `audit-*.jsonl` in the directory). */
  trail?: string;
  /** The Sigstore bundle (default: `<trail>.sigstore.json`). */
  bundle?: string;
  /** A Sigstore trusted_root.json (private Sigstore, tests); default the public-good root. */
  trustedRoot?: string;
  /** A PEM public key: the trail was signed with COSIGN_PRIVATE_KEY, not keyless. */
  publicKey?: string;
  /** false: accept a key-signed bundle without a transparency-log entry. */
  tlog?: boolean;
  /** Check the chain only; say loudly that the signature was not checked. */
  unsigned?: boolean;
}

export interface TrailVerdict {
  ok: boolean;
  /** What failed, each naming the record or the file. */
  problems: string[];
  trail?: string;
  sha256?: string;
  records: AuditRecord[];
  /** Who signed it, when the signature verified. */
  signer?: string;
  story: string;
}

function findTrail(dir: string, opts: VerifyTrailOptions): string {
  if (opts.trail) return opts.trail;
  if (existsSync(dir) && statSync(dir).isFile()) return dir;
  const names = readdirSync(dir).filter((n) => /^audit-.*\.jsonl$/.test(n));
  if (names.length === 0) throw new Error(`${dir} holds no audit-*.jsonl trail`);
  if (names.length > 1) throw new Error(`${dir} holds ${names.length} trails (${names.join(', ')}): name one with --trail`);
  return join(dir, names[0] as string);
}

function publicGoodRoot(): unknown {
  const b64 = (seeds as Record<string, { targets: Record<string, string> }>)['https://tuf-repo-cdn.sigstore.dev']?.targets[
    'trusted_root.json'
  ];
  if (!b64) throw new Error('the public Sigstore trusted root is not in @sigstore/tuf/seeds.json');
  return JSON.parse(Buffer.from(b64, 'base64').toString('utf8'));
}

async function checkSignature(
  bytes: Buffer,
  bundleText: string,
  seal: AuditRecord | undefined,
  opts: VerifyTrailOptions,
): Promise<{ signer?: string; problem?: string }> {
  let entity: ReturnType<typeof toSignedEntity>;
  try {
    entity = toSignedEntity(bundleFromJSON(JSON.parse(bundleText)), bytes);
  } catch (e) {
    return { problem: `the bundle is not a Sigstore bundle (${(e as Error).message.slice(0, 200)})` };
  }
  const rootJson = opts.trustedRoot ? JSON.parse(readFileSync(opts.trustedRoot, 'utf8')) : publicGoodRoot();
  const keyed = entity.key.$case === 'public-key';
  if (keyed && !opts.publicKey) return { problem: 'the trail is signed with a key, not keyless: give the public key (--public-key)' };
  if (!keyed && opts.publicKey) return { problem: 'the trail is signed keyless (a certificate), but a public key was given' };
  const pub = opts.publicKey ? createPublicKey(readFileSync(opts.publicKey, 'utf8')) : undefined;
  const trust = toTrustMaterial(TrustedRoot.fromJSON(rootJson), pub ? () => ({ publicKey: pub, validFor: () => true }) : undefined);
  const tlog = opts.tlog ?? true;
  const verifier = new Verifier(
    trust,
    keyed
      ? { tlogThreshold: tlog ? 1 : 0, ctlogThreshold: 0, timestampThreshold: tlog ? 1 : 0 }
      : { tlogThreshold: 1, ctlogThreshold: 1, timestampThreshold: 1 },
  );
  let signer: ReturnType<InstanceType<typeof Verifier>['verify']>;
  try {
    signer = verifier.verify(entity);
  } catch (e) {
    const err = e as Error & { code?: string };
    return {
      problem: `the signature does not verify over the trail's bytes: ${err.code ? `${err.code}: ` : ''}${err.message.slice(0, 300)}`,
    };
  }
  if (keyed) return { signer: `the public key ${basename(opts.publicKey as string)}` };
  const san = signer.identity?.subjectAlternativeName ?? '';
  const issuer = signer.identity?.extensions?.issuer ?? '';
  const policy: SignerPolicy = { ...opts };
  // No signer named: require at least that the certificate names the identity the seal claims
  // (a consistency check, not a pinned identity; the story says so).
  const claimed = seal?.facts['signer-identity'];
  const pinned = !!(opts.identities?.length || opts.workflows?.length);
  if (!pinned) {
    if (typeof claimed !== 'string')
      return {
        problem: `the trail is signed by ${san} but names no signer in its seal; name the signer you expect (--identity or --workflow)`,
      };
    policy.identities = [claimed];
  }
  const why = checkSigner(san, issuer, policy);
  if (why) return { problem: why };
  return {
    signer: `${san} (issuer ${issuer})${pinned ? '' : ' — the identity the seal names; not pinned: pass --identity or --workflow to require a signer'}`,
  };
}

/** Verifies the trail in `dir` (chain, seal, signature) and tells its story. Never throws for a bad trail: see `ok`/`problems`. */
export async function verifyTrail(dir: string, opts: VerifyTrailOptions = {}): Promise<TrailVerdict> {
  let trail: string;
  try {
    trail = findTrail(dir, opts);
  } catch (e) {
    return { ok: false, problems: [(e as Error).message], records: [], story: '' };
  }
  const bytes = readFileSync(trail);
  const text = bytes.toString('utf8');
  const sha256 = lineHash(text);
  const chain = verifyChain(text, { sealed: true, name: basename(trail) });
  const problems = chain.problems.map((p) => p.message);
  let signer: string | undefined;
  const seal = chain.records.at(-1)?.seal ? chain.records.at(-1) : undefined;
  if (opts.unsigned) {
    signer = 'NOT CHECKED (--unsigned): the chain alone shows no record was changed inside it, not that the trail is complete';
  } else {
    const bundle = opts.bundle ?? `${trail}.sigstore.json`;
    if (!existsSync(bundle)) problems.push(`no signature: ${basename(bundle)} is missing (pass --unsigned to check the chain only)`);
    else {
      const sig = await checkSignature(bytes, readFileSync(bundle, 'utf8'), seal, opts);
      if (sig.problem) {
        const intact =
          problems.length === 0
            ? ` (the chain is intact, so the last record — ${seal ? `record ${seal.seq} (${seal.action})` : 'the seal'} — or the bundle was changed, or a different signer signed)`
            : '';
        problems.push(`${basename(trail)}: ${sig.problem}${intact}`);
      } else signer = sig.signer;
    }
  }
  const ok = problems.length === 0;
  const story = ok ? tellStory(chain.records, { file: basename(trail), sha256, signature: signer }) : '';
  return { ok, problems, trail, sha256, records: chain.records, ...(signer ? { signer } : {}), story };
}
