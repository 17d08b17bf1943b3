/** The step summary: what was built, what was signed by whom, whether verify held, where the policy is. */
import { md } from '@hallmark/kit';
import { repoName } from '@hallmark/oci';
import type { Config } from './inputs.js';
import type { Result } from './flow.js';

export function summary(cfg: Config, r: Result): string {
  const status = r.failure
    ? `❌ failed: \`${r.failure.reason}\``
    : r.signed
      ? '✅ built, signed and verified'
      : r.digest
        ? '✅ built (not signed)'
        : '✅ built (not pushed)';
  const rows: string[][] = [
    ['Image', r.imageRef ? md.code(r.imageRef) : md.code(repoName(cfg.image))],
    ['Digest', r.digest ? md.code(r.digest) : '—'],
    ['Tags', r.tags.length ? r.tags.map((t) => md.code(t)).join('<br>') : cfg.digest ? '— (existing image signed by digest)' : '—'],
    ['Builder', cfg.digest ? '— (build skipped)' : md.text(cfg.builder)],
    [
      'Signing',
      md.text(cfg.sign) + (r.cosignVersion ? ` (cosign ${md.code(r.cosignVersion)}${cfg.tlog ? '' : ', no transparency log'})` : ''),
    ],
    ['Signer identity', r.identity ? md.code(r.identity) + (r.issuer ? ` (issuer ${md.code(r.issuer)})` : '') : '—'],
    [
      'Verify',
      r.verify === 'passed'
        ? `✅ passed (${r.verifiedSignatures ?? 0} signature(s) over the built digest${r.verifiedAttestations ? `; ${r.verifiedAttestations} attestation(s) also verified, not counted` : ''})`
        : r.verify === 'failed'
          ? '❌ failed'
          : '— not run',
    ],
    ['Policy', r.policy ? md.code(r.policy) : '— not written'],
  ];
  const m = r.metadata;
  if (m) {
    const st = m.cache.stats;
    if (m.target) rows.push(['Target', md.code(m.target)]);
    if (m.cache.from.length || m.cache.to.length) {
      const refs = `from ${m.cache.from.map((c) => md.code(c)).join(', ') || '—'}; to ${m.cache.to.map((c) => md.code(c)).join(', ') || '—'}`;
      rows.push([
        'Layer cache',
        st
          ? `${refs}<br>${st.cached} of ${st.steps} step(s) from the cache (${st.pulled} pulled, ${st.pushed} pushed)`
          : `${refs}<br>hits not reported by ${md.text(cfg.builder)}`,
      ]);
    }
    if (m.secrets.length)
      rows.push(['Build secrets', `${m.secrets.map((s) => md.code(s)).join(', ')} (ids only; files removed after the build)`]);
    const ann = Object.entries(m.annotations)
      .map(([lvl, kv]) => `${Object.keys(kv).length} on the ${md.text(lvl)}`)
      .join(', ');
    rows.push([
      'Labels / annotations',
      `${Object.keys(m.labels).length} label(s)${ann ? `; annotations: ${ann}` : ''} (see the \`metadata\` output)`,
    ]);
  }
  let out = `### build-sign: ${md.text(repoName(cfg.image))}\n\n${status}\n\n${md.table(
    ['', ''],
    rows.map(([k, v]) => [`**${k}**`, v as string]),
  )}\n`;
  if (r.failure) out += `\n**Why:** ${md.text(r.failure.message)}\n`;
  if (r.verify === 'passed' && r.imageRef && r.identity) {
    const extra = `${cfg.tlog ? '' : ' --insecure-ignore-tlog=true'}${cfg.trustedRoot ? ' --trusted-root trusted_root.json' : ''}`;
    const cmd =
      cfg.sign === 'keyless'
        ? `cosign verify --certificate-identity ${r.identity} --certificate-oidc-issuer ${r.issuer ?? cfg.issuer}${extra} ${r.imageRef}`
        : `cosign verify --key cosign.pub${extra} ${r.imageRef}`;
    out += `\n**Verify it yourself:** ${md.code(cmd)}\n`;
  }
  return out;
}
