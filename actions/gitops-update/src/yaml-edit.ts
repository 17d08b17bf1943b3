/**
 * Byte-preserving YAML edits: the file is parsed with `yaml`'s Document API (source ranges kept),
 * the scalar to change is located, and only its source range is spliced with the new text, so
 * comments, ordering, quoting and formatting elsewhere stay byte for byte. Nothing is re-serialised.
 */
import { isMap, isPair, isScalar, isSeq, parseAllDocuments, type Document, type Node, type Pair, type Scalar, type YAMLMap } from 'yaml';

export type Reason = 'not-found' | 'ambiguous-image' | 'invalid-input';

/** A refusal of the edit: nothing is written. */
export class EditError extends Error {
  constructor(
    message: string,
    readonly reason: Reason,
  ) {
    super(message);
    this.name = 'EditError';
  }
}

/** Replace `text[start, end)` by `text`. */
export interface Splice {
  start: number;
  end: number;
  text: string;
}

export function parseDocs(text: string, file: string): Document.Parsed[] {
  const docs = parseAllDocuments(text, { keepSourceTokens: true, uniqueKeys: false });
  if (!Array.isArray(docs)) return [];
  for (const d of docs) {
    if (d.errors.length)
      throw new EditError(`${file} is not valid YAML: ${d.errors[0]?.message.split('\n')[0] ?? 'parse error'}`, 'not-found');
  }
  return docs;
}

export function applySplices(text: string, splices: Splice[]): string {
  const sorted = [...splices].sort((a, b) => b.start - a.start);
  for (let i = 1; i < sorted.length; i++)
    if ((sorted[i] as Splice).end > (sorted[i - 1] as Splice).start) throw new Error('overlapping YAML edits');
  let out = text;
  for (const s of sorted) out = out.slice(0, s.start) + s.text + out.slice(s.end);
  return out;
}

/** The value of a scalar as a string, or undefined when the node is not a plain/quoted scalar. */
export function scalarText(node: unknown): string | undefined {
  if (!isScalar(node)) return undefined;
  const v = (node as Scalar).value;
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return undefined;
}

/** A splice that sets a scalar node to `value`, keeping its quoting style. Block scalars and aliases are refused. */
export function setScalar(node: Node | null | undefined, value: string, where: string): Splice {
  if (!node || !isScalar(node) || !node.range) throw new EditError(`${where} is not a scalar value`, 'not-found');
  const [start, end] = node.range;
  switch (node.type) {
    case 'PLAIN':
      return { start, end, text: value };
    case 'QUOTE_DOUBLE':
      return { start, end, text: `"${value}"` };
    case 'QUOTE_SINGLE':
      return { start, end, text: `'${value}'` };
    default:
      throw new EditError(`${where} is a block scalar; write it as a plain or quoted scalar`, 'not-found');
  }
}

export function mapGet(map: unknown, key: string): Pair<Node, Node | null> | undefined {
  if (!isMap(map)) return undefined;
  for (const p of (map as YAMLMap<Node, Node | null>).items)
    if (isPair(p) && scalarText(p.key) === key) return p as Pair<Node, Node | null>;
  return undefined;
}

/** Walks a dot path (`api.image.tag`) through maps; undefined when a step is missing. */
export function getPath(root: unknown, path: readonly string[]): { pair: Pair<Node, Node | null>; parent: YAMLMap } | undefined {
  let cur: unknown = root;
  let found: { pair: Pair<Node, Node | null>; parent: YAMLMap } | undefined;
  for (const k of path) {
    const p = mapGet(cur, k);
    if (!p) return undefined;
    found = { pair: p, parent: cur as YAMLMap };
    cur = p.value;
  }
  return found;
}

export function seqItems(node: unknown): unknown[] {
  return isSeq(node) ? node.items : [];
}

/** Every map (depth first) in a node tree, with the key path that led to it. */
export function walkMaps(node: unknown, visit: (m: YAMLMap<Node, Node | null>) => void): void {
  if (isMap(node)) {
    visit(node as YAMLMap<Node, Node | null>);
    for (const p of node.items) if (isPair(p)) walkMaps(p.value, visit);
  } else if (isSeq(node)) {
    for (const i of node.items) walkMaps(i, visit);
  }
}

/** 1-based line of an offset, for messages. */
export function lineOf(text: string, offset: number): number {
  let n = 1;
  for (let i = 0; i < offset && i < text.length; i++) if (text.charCodeAt(i) === 10) n++;
  return n;
}

/**
 * A splice inserting `key: value` as a new last entry of a block map, on its own line at the
 * indentation of the map's existing keys. Flow maps (`{a: 1}`) are refused.
 */
export function insertPair(text: string, map: YAMLMap, key: string, value: string, where: string): Splice {
  if (map.flow || !map.items.length) throw new EditError(`${where} is a flow or empty mapping; add \`${key}:\` yourself once`, 'not-found');
  const first = map.items[0] as Pair<Node, Node | null>;
  const last = map.items[map.items.length - 1] as Pair<Node, Node | null>;
  const keyStart = first.key?.range?.[0];
  const lastEnd = last.value?.range?.[1] ?? last.key?.range?.[1];
  if (keyStart === undefined || lastEnd === undefined)
    throw new EditError(`${where}: cannot locate the mapping in the source`, 'not-found');
  const lineStart = text.lastIndexOf('\n', keyStart - 1) + 1;
  const col = keyStart - lineStart;
  // End of the line holding the last value (after any trailing comment).
  const nl = text.indexOf('\n', lastEnd);
  const at = nl < 0 ? text.length : nl;
  const eol = text.includes('\r\n') ? '\r\n' : '\n';
  const lead = at > 0 && text[at - 1] === '\r' ? at - 1 : at;
  return { start: lead, end: lead, text: `${eol}${' '.repeat(col)}${key}: ${value}` };
}
