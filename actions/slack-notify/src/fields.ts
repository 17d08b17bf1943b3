/**
 * `fields` as people write them in a workflow: one `key: value` per line, values usually coming
 * from `${{ }}` expressions. Read as YAML, such values break or silently change: `fix #123` loses
 * `#123` (a comment), `*ok*` is an alias error, `a: b` a nested-mapping error. So a flat list of
 * `key: value` lines is read literally (a value wrapped in matching quotes is unquoted as YAML
 * would); anything else (JSON, block scalars, indented lines) is left to the YAML reader.
 */
import { parse as parseYaml } from 'yaml';

const LINE = /^([A-Za-z0-9_][^:]*?)\s*:(?:[ \t]+(.*))?$/;

export type FlatFields = { fields: Record<string, string> } | { duplicate: string } | undefined;

/** The fields when `text` is a flat `key: value` list; undefined when it is not (use YAML). */
export function parseFlatFields(text: string): FlatFields {
  const lines = text.split(/\r?\n/).filter((l) => l.trim() && !/^\s*#/.test(l));
  if (lines.length === 0) return undefined;
  const out: Record<string, string> = {};
  for (const line of lines) {
    const m = LINE.exec(line);
    if (!m) return undefined;
    const key = (m[1] as string).trim();
    let value = (m[2] ?? '').trim();
    if (value.length >= 2 && (value[0] === '"' || value[0] === "'") && value.at(-1) === value[0]) {
      try {
        const v = parseYaml(value) as unknown;
        if (typeof v === 'string') value = v;
      } catch {
        /* not a valid quoted scalar: keep it as written */
      }
    }
    if (Object.hasOwn(out, key)) return { duplicate: key };
    out[key] = value;
  }
  return { fields: out };
}
