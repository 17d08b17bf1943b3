/**
 * The hardening checks must be able to fail: each is fed a run that has the defect it exists to
 * catch (synthetic ActionResults, no bundle) and must reject it; a clean run must pass.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { checkCanary, checkWorkflow } from './checks.js';
import { findLeaks, stackLines } from './lib.js';
import { parseFileCommands, parseWorkflowCommands, runnerHome, type ActionResult } from '../harness/runner.js';
import type { RecordedRequest } from '../harness/server.js';

const dir = mkdtempSync(join(tmpdir(), 'hallmark-selftest-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function result(o: { stdout?: string; output?: string; summary?: string; code?: number }): ActionResult {
  const stdout = o.stdout ?? '';
  const commands = parseWorkflowCommands(stdout);
  return {
    code: o.code ?? 0,
    signal: null,
    stdout,
    stderr: '',
    outputs: parseFileCommands(o.output ?? ''),
    env: {},
    state: {},
    path: [],
    summary: o.summary ?? '',
    commands,
    errors: commands.filter((c) => c.command === 'error').map((c) => c.value),
    warnings: [],
    everything: stdout,
    home: runnerHome('hallmark-selftest-home-'),
    timedOut: false,
  };
}

const tag = 'hmkselftest';
const p = { tag, payload: 'x', canaryFile: join(dir, 'canary') };

describe('checkWorkflow', () => {
  it('passes a clean run, and one whose payload sits inert in our own error or a stop-commands block', () => {
    const token = 'a'.repeat(32);
    checkWorkflow(
      'setup-tools',
      {
        result: result({
          stdout: `::error::setup-tools: bad "::set-output name=${tag}::x"\n::stop-commands::${token}\n::set-output name=${tag}::x\n::stop-commands::x${tag}\n::${token}::\n`,
          output: 'tools<<ghadelimiter_1\n{}\nghadelimiter_1\n',
        }),
      },
      p,
    );
  });
  const bad: [string, string, string?][] = [
    ['a bare ::set-output', `::set-output name=${tag}::pwned\n`],
    ['a CR-started ::set-output', `ok\r::set-output name=x::y\n`],
    ['a forged ::error', `::error::${tag} forged\n`],
    ['a property from the payload', `::warning file=${tag}::x\n`],
    ['::add-mask:: of a public word', `::add-mask::octo-org\n`],
    ['a stop-commands token that is not ours', `::stop-commands::x${tag}\n`],
    ['a stop-commands block never resumed', `::stop-commands::${'b'.repeat(32)}\nrest\n`],
    ['a legacy ##[ command', `##[set-output name=${tag};]x\n`],
    ['an undeclared output', '', `${tag}=pwned\n`],
    ['an output split by a heredoc', '', `tools<<EOF\nx\nEOF\n${tag}<<EOF\npwned\nEOF\n`],
  ];
  it.each(bad)('rejects %s', (_n, stdout, output) => {
    expect(() => checkWorkflow('setup-tools', { result: result({ stdout, output }) }, p)).toThrow();
  });
  it('rejects a run after which the shell canary file exists', () => {
    writeFileSync(p.canaryFile, '');
    expect(() => checkWorkflow('setup-tools', { result: result({}) }, p)).toThrow(/a shell ran/);
    rmSync(p.canaryFile);
  });
});

describe('checkCanary', () => {
  const secret = 'CANARYSELFTEST0123456789abcdef';
  const s = { labels: ['input:cosign-password'], expect: { code: 0 as const } };
  const masked = `::add-mask::${secret}\n`;
  const req = (headers: Record<string, string>, body = '', url = '/x'): RecordedRequest => ({
    method: 'POST',
    url,
    path: url.split('?')[0] as string,
    headers,
    body: Buffer.from(body),
    text: body,
  });
  it('passes a run that only registers the mask and sends the secret in its one allowed header', () => {
    checkCanary(
      s,
      {
        result: result({ stdout: masked }),
        servers: [
          {
            name: 'api',
            requests: () => [req({ authorization: `Bearer ${secret}` })],
            allow: [{ label: 'input:cosign-password', header: 'authorization' }],
          },
        ],
      },
      { 'input:cosign-password': secret },
    );
  });
  const leaks: [string, () => Parameters<typeof checkCanary>[1]][] = [
    ['in the log', () => ({ result: result({ stdout: `${masked}password is ${secret}\n` }) })],
    ['in two pieces on two lines', () => ({ result: result({ stdout: `${masked}${secret.slice(0, 10)}\n${secret.slice(10)}\n` }) })],
    ['base64-encoded in the summary', () => ({ result: result({ stdout: masked, summary: Buffer.from(secret).toString('base64') }) })],
    ['in an output', () => ({ result: result({ stdout: masked, output: `x=${encodeURIComponent(secret)}\n` }) })],
    [
      'in a request body',
      () => ({ result: result({ stdout: masked }), servers: [{ name: 'api', requests: () => [req({}, `{"p":"${secret}"}`)] }] }),
    ],
    [
      'in a header it is not allowed in',
      () => ({
        result: result({ stdout: masked }),
        servers: [
          {
            name: 'api',
            requests: () => [req({ 'x-debug': secret })],
            allow: [{ label: 'input:cosign-password', header: 'authorization' }],
          },
        ],
      }),
    ],
    [
      'in the URL',
      () => ({ result: result({ stdout: masked }), servers: [{ name: 'api', requests: () => [req({}, '', `/x?k=${secret}`)] }] }),
    ],
    [
      'in an uploaded artifact',
      () => ({ result: result({ stdout: masked }), blobs: [{ name: 'artifact', data: Buffer.from(`zip…${secret}…`) }] }),
    ],
    ['without the mask registration', () => ({ result: result({}) })],
  ];
  it.each(leaks)('rejects a secret %s', (_n, o) => {
    expect(() => checkCanary(s, o(), { 'input:cosign-password': secret })).toThrow();
  });
  it('rejects a secret left in a file under the runner home', () => {
    const r = result({ stdout: masked });
    writeFileSync(join(r.home.temp, 'docker-config.json'), `{"auth":"${secret}"}`);
    expect(() => checkCanary(s, { result: r }, { 'input:cosign-password': secret })).toThrow();
  });
});

describe('helpers', () => {
  it('stackLines finds a Node stack and an uncaught error header, not our own messages', () => {
    expect(stackLines('TypeError: x is not a function\n    at main (/a/index.js:1:2)')).toHaveLength(2);
    expect(stackLines("::error::setup-tools: input 'tools' has an Error: in its name")).toEqual([]);
  });
  it('findLeaks ignores short forms and finds URL-encoded ones', () => {
    expect(findLeaks('a%2Fb%3Dsecretvalue', { k: 'a/b=secretvalue' })).toHaveLength(1);
    expect(findLeaks('nothing here', { k: 'a/b=secretvalue' })).toEqual([]);
  });
});
