/**
 * The secrets this process knows, and `redact`, which scrubs them from any text. Pure: the
 * runner layer's `maskSecret` (`@hallmark/kit/runner`) registers a value here AND with the
 * runner's log masker; hallmark scrubs secrets itself from every message, report, output and
 * audit record it writes, so a secret never leaves the process (except in `::add-mask::`).
 */
const registered = new Set<string>();

/**
 * The forms of one secret worth scrubbing: as given, trimmed, URL-encoded, JSON-escaped, and each
 * line of a multi-line value. Forms shorter than 4 characters are left out (the runner ignores
 * them too, and scrubbing them would mangle ordinary text).
 */
export function secretVariants(value: string | undefined): string[] {
  if (!value) return [];
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
  return [...variants].filter((v) => v.length >= 4);
}

/** Registers a secret with `redact` only; returns the forms newly registered (for the runner's masker). */
export function registerSecret(value: string | undefined): string[] {
  const added: string[] = [];
  for (const v of secretVariants(value)) {
    if (registered.has(v)) continue;
    registered.add(v);
    added.push(v);
  }
  return added;
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

/** Whether `text` holds any registered secret (in any registered form). */
export function containsSecret(text: string | undefined): boolean {
  if (!text || registered.size === 0) return false;
  for (const s of registered) if (text.includes(s)) return true;
  return false;
}

/** For tests: forget every registered secret. */
export function _resetSecrets(): void {
  registered.clear();
}
