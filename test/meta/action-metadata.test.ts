/**
 * Every actions/<name>/action.yml as the runner loads it: strict YAML, node24 pointing at the
 * committed bundle, every input described, a `failure-reason` output, a README, and no input
 * default that evaluates a secret.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { ROOT } from '../harness/runner.js';

const names = readdirSync(join(ROOT, 'actions')).filter((n) => existsSync(join(ROOT, 'actions', n, 'action.yml')));

interface ActionYml {
  name?: string;
  description?: string;
  inputs?: Record<string, { description?: string; required?: boolean; default?: unknown }>;
  outputs?: Record<string, { description?: string }>;
  runs?: { using?: string; main?: string; post?: string };
}

describe('action metadata', () => {
  it('finds the eleven actions', () => {
    expect(names.sort()).toEqual([
      'audit-trail',
      'build-sign',
      'gitops-update',
      'registry-login',
      'sbom-attach',
      'setup-tools',
      'slack-notify',
      'smoke-test',
      'terraform-gated-apply',
      'trivy-gate',
      'verify-image',
    ]);
  });

  describe.each(names)('%s', (name) => {
    const dir = join(ROOT, 'actions', name);
    const text = readFileSync(join(dir, 'action.yml'), 'utf8');

    it('parses as strict YAML with unique keys', () => {
      expect(() => parse(text, { strict: true, uniqueKeys: true, prettyErrors: true })).not.toThrow();
    });

    it('runs its committed bundle on node24', () => {
      const a = parse(text) as ActionYml;
      expect(a.runs?.using).toBe('node24');
      expect(a.runs?.main).toBe(`../../dist/${name}/index.js`);
      expect(existsSync(resolve(dir, a.runs?.main ?? ''))).toBe(true);
      expect(existsSync(join(ROOT, 'dist', name, 'package.json'))).toBe(true);
    });

    it('describes every input and output, and reports a failure-reason', () => {
      const a = parse(text) as ActionYml;
      expect(a.name && a.description).toBeTruthy();
      for (const [k, v] of Object.entries(a.inputs ?? {})) {
        expect(k, `input ${k}`).toMatch(/^[a-z][a-z0-9-]*$/);
        expect(v.description?.trim().length ?? 0, `input ${k} has a description`).toBeGreaterThan(10);
        expect(String(v.default ?? ''), `input ${k} default must not read a secret`).not.toMatch(/secrets\./);
      }
      expect(Object.keys(a.outputs ?? {})).toContain('failure-reason');
      for (const [k, v] of Object.entries(a.outputs ?? {})) expect(v.description?.trim().length ?? 0, `output ${k}`).toBeGreaterThan(5);
      expect(existsSync(join(dir, 'README.md'))).toBe(true);
    });
  });
});
