/**
 * fields.ts: the flat `key: value` reading of `fields`.
 */
import { describe, expect, it } from 'vitest';
import { parseFlatFields } from '../../actions/slack-notify/src/fields.js';

describe('parseFlatFields', () => {
  it('reads key: value lines literally, where YAML would drop or refuse them', () => {
    expect(
      parseFlatFields(
        "note: fix #123\nstate: *ok*\nwhy: a: b\n# a comment\n\nempty:\nquoted: \"x\\ty\"\nsingle: 'it''s'\nscan passed: true",
      ),
    ).toEqual({
      fields: { note: 'fix #123', state: '*ok*', why: 'a: b', empty: '', quoted: 'x\ty', single: "it's", 'scan passed': 'true' },
    });
  });
  it('leaves JSON, lists, nesting and block scalars to YAML; reports duplicates', () => {
    for (const t of ['{"a": 1}', '- a', 'a:\n  b: c', 'a: |\n  text', '"a": 1', '']) expect(parseFlatFields(t)).toBeUndefined();
    expect(parseFlatFields('a: 1\nb: 2\na: 3')).toEqual({ duplicate: 'a' });
  });
});
