import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { InputError, parseDuration, formatDuration, splitList, redact, _resetSecrets } from '@hallmark/kit';
import { input } from '@hallmark/kit/runner';

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
    for (const [v, want] of [
      ['true', true],
      ['True', true],
      ['FALSE', false],
      ['', true],
    ] as const) {
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
      expect(errorOf(() => input.integer('retries', { min: 0, max: 10 })).message).toMatch(
        /^input 'retries' must be a whole number ≥ 0 and ≤ 10 \(got /,
      );
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
    expect(errorOf(() => input.duration('timeout', { default: '30s' })).message).toContain(
      "input 'timeout' must be a duration such as 500ms, 30s, 2m or 1h",
    );
    set('timeout', undefined);
    expect(input.duration('timeout', { default: '30s' })).toBe(30_000);
    expect(formatDuration(850)).toBe('850ms');
    expect(formatDuration(3200)).toBe('3.2s');
    expect(formatDuration(125_000)).toBe('2m 5s');
  });

  it('oneOf: exact or case-insensitive, listing what is accepted', () => {
    set('severity', 'high');
    expect(input.oneOf('severity', ['CRITICAL', 'HIGH'] as const, { caseInsensitive: true })).toBe('HIGH');
    expect(errorOf(() => input.oneOf('severity', ['CRITICAL', 'HIGH'] as const)).message).toBe(
      'input \'severity\' must be one of CRITICAL, HIGH (got "high")',
    );
  });

  it('list: commas, newlines, comments, item pattern', () => {
    expect(splitList('a, b\nc,,\n# comment\n  d  ')).toEqual(['a', 'b', 'c', 'd']);
    set('tools', 'cosign\ntrivy@0.74.0');
    expect(input.list('tools', { item: /^[a-z]+(@[\d.]+)?$/ })).toEqual(['cosign', 'trivy@0.74.0']);
    set('tools', 'cosign;rm');
    expect(errorOf(() => input.list('tools', { item: /^[a-z]+$/, expected: 'tool names' })).message).toBe(
      'input \'tools\' must be a list of tool names (got "cosign;rm")',
    );
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

describe('input.path', () => {
  const ws = mkdtempSync(join(tmpdir(), 'kit-path-'));
  mkdirSync(join(ws, 'app'));
  writeFileSync(join(ws, 'app', 'Dockerfile'), 'FROM scratch\n');
  const outside = mkdtempSync(join(tmpdir(), 'kit-outside-'));
  writeFileSync(join(outside, 'secret.txt'), 'x');
  symlinkSync(join(outside, 'secret.txt'), join(ws, 'app', 'link.txt'));
  const opts = { base: ws };

  it('resolves relative values against the base; absolute values as given; unset → "" unless required', () => {
    set('context', 'app');
    expect(input.path('context', { ...opts, kind: 'dir' })).toBe(join(ws, 'app'));
    set('file', join(ws, 'app', 'Dockerfile'));
    expect(input.path('file', { ...opts, kind: 'file' })).toBe(join(ws, 'app', 'Dockerfile'));
    expect(input.path('unset', opts)).toBe('');
    expect(errorOf(() => input.path('unset', { ...opts, kind: 'file', required: true })).message).toBe(
      "input 'unset' is required: a path to a file",
    );
    expect(input.path('unset', { ...opts, kind: 'dir', default: 'app' })).toBe(join(ws, 'app'));
  });

  it('missing: InputError naming the input (invalid-input); mustExist: false accepts it', () => {
    set('file', 'app/Containerfile');
    const e = errorOf(() => input.path('file', { ...opts, kind: 'file' }));
    expect(e.message).toBe(`input 'file' must name an existing file in the workspace (got "app/Containerfile": not found)`);
    expect(e.reason).toBe('invalid-input');
    expect(input.path('file', { ...opts, kind: 'file', mustExist: false })).toBe(join(ws, 'app', 'Containerfile'));
  });

  it('wrong kind: a directory for a file, a file for a directory, a trailing slash for a file — also when it need not exist', () => {
    set('file', 'app');
    expect(errorOf(() => input.path('file', { ...opts, kind: 'file' })).message).toBe(
      `input 'file' must be a path to a file (got "app": a directory)`,
    );
    expect(errorOf(() => input.path('file', { ...opts, kind: 'file', mustExist: false })).message).toBe(
      `input 'file' must be a path to a file (got "app": a directory)`,
    );
    set('context', 'app/Dockerfile');
    expect(errorOf(() => input.path('context', { ...opts, kind: 'dir' })).message).toBe(
      `input 'context' must be a path to a directory (got "app/Dockerfile": a file)`,
    );
    set('report', 'out/');
    expect(errorOf(() => input.path('report', { ...opts, kind: 'file', mustExist: false })).message).toBe(
      `input 'report' must be a path to a file, not a directory (got "out/")`,
    );
  });

  it('control characters are refused', () => {
    set('file', 'app/Docker\u0007file');
    expect(errorOf(() => input.path('file', opts)).message).toBe(
      `input 'file' must be a path on one line, without control characters (got "app/Docker?file")`,
    );
  });

  it('escapes: allowed by default (as the actions do today); with within, "..", absolute paths elsewhere and symbolic links out are refused', () => {
    set('file', '../x');
    expect(input.path('file', { ...opts, mustExist: false })).toBe(join(ws, '..', 'x'));
    expect(errorOf(() => input.path('file', { ...opts, mustExist: false, within: true })).message).toBe(
      `input 'file' must be a path inside the workspace (got "../x")`,
    );
    set('file', join(outside, 'secret.txt'));
    expect(input.path('file', { ...opts, kind: 'file' })).toBe(join(outside, 'secret.txt'));
    expect(errorOf(() => input.path('file', { ...opts, kind: 'file', within: true })).message).toMatch(
      /^input 'file' must be a path inside the workspace/,
    );
    set('file', 'app/link.txt');
    expect(input.path('file', { ...opts, kind: 'file' })).toBe(join(ws, 'app', 'link.txt'));
    expect(errorOf(() => input.path('file', { ...opts, kind: 'file', within: true })).message).toBe(
      `input 'file' must be a path inside the workspace (got "app/link.txt")`,
    );
    set('file', 'app/./Dockerfile');
    expect(input.path('file', { ...opts, kind: 'file', within: true })).toBe(join(ws, 'app', 'Dockerfile'));
  });

  it('resolvePath: the same checks for a list item, against another base and named so', () => {
    const wd = join(ws, 'app');
    expect(input.resolvePath('var-files', 'Dockerfile', { base: wd, kind: 'file', baseName: 'working-directory' })).toBe(
      join(wd, 'Dockerfile'),
    );
    expect(
      errorOf(() => input.resolvePath('var-files', 'prod.tfvars', { base: wd, kind: 'file', baseName: 'working-directory' })).message,
    ).toBe(`input 'var-files' must name an existing file in working-directory (got "prod.tfvars": not found)`);
  });

  it('the workspace is GITHUB_WORKSPACE by default', () => {
    const saved = process.env.GITHUB_WORKSPACE;
    process.env.GITHUB_WORKSPACE = ws;
    try {
      set('context', 'app');
      expect(input.path('context', { kind: 'dir' })).toBe(join(ws, 'app'));
    } finally {
      if (saved === undefined) delete process.env.GITHUB_WORKSPACE;
      else process.env.GITHUB_WORKSPACE = saved;
    }
  });
});
