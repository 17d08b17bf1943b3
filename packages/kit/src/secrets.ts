import * as core from '@actions/core';

/**
 * Every secret value this process has registered. Masking with `core.setSecret` tells the runner
 * to hide the value in the log it stores, but the raw bytes still leave the process; hallmark
 * also scrubs them itself (`redact`) from every message, report and output it writes, so a
 * secret never leaves the process at all (except in the `::add-mask::` command itself).
 */
const registered = new Set<string>();

/** Registers a secret with the runner and with `redact`. Empty and 1–3 character values are ignored (the runner ignores them too). */
export function maskSecret(value: string | undefined): void {
  if (!value) return;
  const variants = new Set<string>([value]);
  const trimmed = value.trim();
  if (trimmed) variants.add(trimmed);
  // The same secret as it would appear inside a URL, a query string or a JSON string.
  try {
    variants.add(encodeURIComponent(value));
  } catch {
    /* lone surrogates: nothing to add */
  }
  variants.add(JSON.stringify(value).slice(1, -1));
  for (const line of value.split(/\r?\n/)) if (line.trim().length >= 4) variants.add(line.trim());
  for (const v of variants) {
    if (v.length < 4 || registered.has(v)) continue;
    registered.add(v);
    core.setSecret(v);
  }
}

/** Replaces every registered secret in `text` with `***`. */
export function redact(text: string): string {
  if (registered.size === 0 || !text) return text;
  let out = text;
  // Longest first, so a secret that contains another is replaced whole.
  for (const s of [...registered].sort((a, b) => b.length - a.length)) {
    if (out.includes(s)) out = out.split(s).join('***');
  }
  return out;
}

/** For tests: forget every registered secret. */
export function _resetSecrets(): void {
  registered.clear();
}
