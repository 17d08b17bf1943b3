// `npm run audit:verify -- <dir> [options]`: verify a downloaded audit artifact offline and print its story.
import { parseArgs } from 'node:util';
import { verifyTrail, type VerifyTrailOptions } from './verify.js';

export const USAGE = `usage: npm run audit:verify -- <dir|trail.jsonl> [options]

Verifies an audit-<run_id>-<attempt> artifact offline: the hash chain (every record, in order,
unchanged), the seal (no record removed at the end) and the Sigstore bundle <trail>.sigstore.json
over the trail's exact bytes; then prints the story: built → scanned → signed → approved →
deployed → smoke.

  --identity <san>        a keyless signer admitted, exactly (repeatable)
  --workflow <o/r/.github/workflows/f.yml>
                          a reusable workflow whose runs at --allowed-refs are admitted (repeatable)
  --allowed-refs <rule>   tags | tags: vN | sha | sha: <40 hex> | branches: a, b (repeatable;
                          default tags, sha, branches: main)
  --issuer <url>          the OIDC issuer (default https://token.actions.githubusercontent.com)
  --server-url <url>      GitHub's URL in the identity (default https://github.com)
  --public-key <pem>      the trail was signed with COSIGN_PRIVATE_KEY: verify with this public key
  --tlog false            key mode: accept a bundle without a transparency-log entry
  --trusted-root <json>   a private Sigstore's trusted_root.json (default the public-good root)
  --trail <file>          the trail, when the directory holds several
  --bundle <file>         the bundle (default <trail>.sigstore.json)
  --unsigned              check the chain only (says so)
  --json                  print the verdict as JSON
Without --identity or --workflow the certificate must name the signer the seal records (printed as not pinned).
Exit 0: verified; 1: the trail does not verify (each problem names the record); 2: usage.`;

export async function main(
  argv: string[],
  out: (s: string) => void = (s) => process.stdout.write(s),
  err: (s: string) => void = (s) => process.stderr.write(s),
): Promise<number> {
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(argv);
  } catch (e) {
    err(`audit:verify: ${(e as Error).message}\n\n${USAGE}\n`);
    return 2;
  }
  if (parsed.values.help) {
    out(`${USAGE}\n`);
    return 0;
  }
  const [dir, ...extra] = parsed.positionals;
  if (!dir || extra.length) {
    err(`audit:verify: give exactly one directory or trail file\n\n${USAGE}\n`);
    return 2;
  }
  const v = parsed.values;
  if (v.tlog !== undefined && v.tlog !== 'true' && v.tlog !== 'false') {
    err("audit:verify: --tlog must be 'true' or 'false'\n");
    return 2;
  }
  const opts: VerifyTrailOptions = {
    identities: v.identity,
    workflows: v.workflow,
    allowedRefs: v['allowed-refs'],
    issuer: v.issuer,
    serverUrl: v['server-url'],
    publicKey: v['public-key'],
    trustedRoot: v['trusted-root'],
    trail: v.trail,
    bundle: v.bundle,
    tlog: v.tlog === undefined ? undefined : v.tlog === 'true',
    unsigned: v.unsigned,
  };
  let verdict: Awaited<ReturnType<typeof verifyTrail>>;
  try {
    verdict = await verifyTrail(dir, opts);
  } catch (e) {
    err(`audit:verify: ${(e as Error).message}\n`);
    return 2;
  }
  if (v.json) {
    const { records, ...rest } = verdict;
    out(`${JSON.stringify({ ...rest, recordCount: records.length }, null, 2)}\n`);
  } else if (verdict.ok) out(verdict.story);
  else
    err(
      `audit:verify: the trail does NOT verify${verdict.trail ? ` (${verdict.trail})` : ''}:\n${verdict.problems.map((p) => `  - ${p}`).join('\n')}\n`,
    );
  return verdict.ok ? 0 : 1;
}

function parse(argv: string[]) {
  return parseArgs({
    args: argv,
    allowPositionals: true,
    strict: true,
    options: {
      identity: { type: 'string', multiple: true },
      workflow: { type: 'string', multiple: true },
      'allowed-refs': { type: 'string', multiple: true },
      issuer: { type: 'string' },
      'server-url': { type: 'string' },
      'public-key': { type: 'string' },
      'trusted-root': { type: 'string' },
      tlog: { type: 'string' },
      trail: { type: 'string' },
      bundle: { type: 'string' },
      unsigned: { type: 'boolean' },
      json: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
}
