import { afterEach, describe, expect, it } from 'vitest';
import { input, InputError, parseDuration, formatDuration, splitList, redact, _resetSecrets } from '@hallmark/kit';

const set = (name: string, v: string | undefined) => {
  const k = `INPUT_${name.replace(/ /g, '_').toUpperCase()}`;
  if (v === undefined) delete process.env[k];
  else process.env[k] = v;
};

function errorOf(fn: () => unknown): InputError {
  try {
    fn();
  } catch (e) {
    if (e instanceof InputError) return e;
    throw e;
  }
  throw new Error('expected an InputError');
}

afterEach(() => {
  for (const k of Object.keys(process.env)) if (k.startsWith('INPUT_')) delete process.env[k];
  _resetSecrets();
});

describe('input readers', () => {
  it('string: required, default, pattern; message names input and expectation', () => {
    expect(errorOf(() => input.string('image', { required: true })).message).toBe("input 'image' is required");
    expect(input.string('image', { default: 'x' })).toBe('x');
    set('image', '  ghcr.io/o/app  ');
    expect(input.string('image')).toBe('ghcr.io/o/app');
    set('image', 'bad value');
    const e = errorOf(() => input.string('image', { pattern: /^\S+$/, expected: 'an image without spaces' }));
    expect(e.message).toBe('input \'image\' must be an image without spaces (got "bad value")');
    expect(e.reason).toBe('invalid-input');
    expect(e.input).toBe('image');
  });

  it('boolean accepts the YAML 1.2 core spellings only', () => {
    for (const [v, want] of [['true', true], ['True', true], ['FALSE', false], ['', true]] as const) {
      set('cache', v);
      expect(input.boolean('cache', true)).toBe(want);
    }
    set('cache', 'yes');
    expect(errorOf(() => input.boolean('cache', true)).message).toBe('input \'cache\' must be true or false (got "yes")');
  });

  it('integer: whole numbers within bounds', () => {
    set('retries', '3');
    expect(input.integer('retries', { min: 0, max: 10 })).toBe(3);
    for (const bad of ['3.5', 'three', '11', '-1', '1e3']) {
      set('retries', bad);
      expect(errorOf(() => input.integer('retries', { min: 0, max: 10 })).message).toMatch(/^input 'retries' must be a whole number ≥ 0 and ≤ 10 \(got /);
    }
    set('retries', undefined);
    expect(input.integer('retries', { default: 3 })).toBe(3);
  });

  it('duration: units, combinations, bare seconds; rejects the rest', () => {
    expect(parseDuration('500ms')).toBe(500);
    expect(parseDuration('30s')).toBe(30_000);
    expect(parseDuration('2m')).toBe(120_000);
    expect(parseDuration('1h')).toBe(3_600_000);
    expect(parseDuration('1m30s')).toBe(90_000);
    expect(parseDuration('10')).toBe(10_000);
    for (const bad of ['', 'soon', '5 s', '-1s', '1d', 's']) expect(parseDuration(bad)).toBeUndefined();
    set('timeout', 'forever');
    expect(errorOf(() => input.duration('timeout', { default: '30s' })).message).toContain("input 'timeout' must be a duration such as 500ms, 30s, 2m or 1h");
    set('timeout', undefined);
    expect(input.duration('timeout', { default: '30s' })).toBe(30_000);
    expect(formatDuration(850)).toBe('850ms');
    expect(formatDuration(3200)).toBe('3.2s');
    expect(formatDuration(125_000)).toBe('2m 5s');
  });

  it('oneOf: exact or case-insensitive, listing what is accepted', () => {
    set('severity', 'high');
    expect(input.oneOf('severity', ['CRITICAL', 'HIGH'] as const, { caseInsensitive: true })).toBe('HIGH');
    expect(errorOf(() => input.oneOf('severity', ['CRITICAL', 'HIGH'] as const)).message).toBe('input \'severity\' must be one of CRITICAL, HIGH (got "high")');
  });

  it('list: commas, newlines, comments, item pattern', () => {
    expect(splitList('a, b\nc,,\n# comment\n  d  ')).toEqual(['a', 'b', 'c', 'd']);
    set('tools', 'cosign\ntrivy@0.74.0');
    expect(input.list('tools', { item: /^[a-z]+(@[\d.]+)?$/ })).toEqual(['cosign', 'trivy@0.74.0']);
    set('tools', 'cosign;rm');
    expect(errorOf(() => input.list('tools', { item: /^[a-z]+$/, expected: 'tool names' })).message).toBe('input \'tools\' must be a list of tool names (got "cosign;rm")');
  });

  it('structured and map: YAML or JSON, errors name the input', () => {
    set('fields', '{"a": 1, "b": "two"}');
    expect(input.map('fields')).toEqual({ a: '1', b: 'two' });
    set('fields', 'a: 1\nb: [x]');
    expect(errorOf(() => input.map('fields')).message).toContain("input 'fields' must map each key to a single value");
    set('fields', 'a: [unclosed');
    expect(errorOf(() => input.structured('fields')).message).toMatch(/^input 'fields' must be YAML or JSON: /);
  });

  it('secret: masked on read, never echoed, redacted from text', () => {
    const writes: string[] = [];
    const orig = process.stdout.write.bind(process.stdout);
    (process.stdout as unknown as { write: (s: string) => boolean }).write = (s: string) => (writes.push(String(s)), true);
    try {
      set('token', 'xoxb-canary-1234');
      expect(input.secret('token')).toBe('xoxb-canary-1234');
    } finally {
      (process.stdout as unknown as { write: typeof orig }).write = orig;
    }
    expect(writes.join('')).toContain('::add-mask::xoxb-canary-1234');
    expect(redact('Bearer xoxb-canary-1234 and xoxb-canary-1234')).toBe('Bearer *** and ***');
    set('token', '');
    expect(errorOf(() => input.secret('token', { required: true })).message).not.toContain('xoxb');
  });
});
