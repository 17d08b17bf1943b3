/**
 * Reading vendor checksum files. Pure.
 * - `sha256sum`: lines `<64 hex>  <file name>` (goreleaser checksums.txt, HashiCorp SHA256SUMS);
 *   `<hex> *<name>` (binary mode) is read too.
 * - `hex`: the whole file is one hash (kubectl `.sha256`, helm `.sha256`), optionally followed by a
 *   file name (helm's `.sha256sum` form) which must then be the asset's.
 */
import type { ChecksumFormat } from './catalog.js';

export type ChecksumLookup = { ok: true; sha256: string } | { ok: false; problem: string };

const HEX = /^[0-9a-fA-F]{64}$/;

export function expectedSha256(text: string, format: ChecksumFormat, asset: string): ChecksumLookup {
  const lines = text
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter(Boolean);
  if (format === 'hex') {
    const [first = '', name] = (lines[0] ?? '').split(/\s+\*?/);
    if (lines.length !== 1 || !HEX.test(first)) return { ok: false, problem: 'is not a single SHA-256 hash' };
    if (name !== undefined && name !== asset) return { ok: false, problem: `names ${JSON.stringify(name.slice(0, 80))}, not ${asset}` };
    return { ok: true, sha256: first.toLowerCase() };
  }
  const found: string[] = [];
  for (const line of lines) {
    const m = /^([0-9a-fA-F]{64})\s+\*?(.+)$/.exec(line);
    if (!m) continue;
    const name = (m[2] as string).trim().replace(/^\.\//, '');
    if (name === asset) found.push((m[1] as string).toLowerCase());
  }
  if (found.length === 0) return { ok: false, problem: `has no entry for ${asset}` };
  if (new Set(found).size > 1) return { ok: false, problem: `lists ${asset} more than once with different hashes` };
  return { ok: true, sha256: found[0] as string };
}
