/**
 * The runner's protocol (packages/rehearse/src/protocol.ts), the one module the rehearsal and
 * test/harness/runner.ts read step output with: what the real @actions/core writes (random
 * heredoc delimiters, escaped command data) comes back value for value.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import * as harness from '../harness/runner.js';
import {
  createRunnerFiles,
  FileCommandError,
  parseFileCommands,
  parsePathFile,
  parseWorkflowCommands,
  stepCommands,
} from '../../packages/rehearse/src/protocol.js';

const ROOT = join(import.meta.dirname, '..', '..');

describe('file commands', () => {
  it('reads what the real @actions/core writes: multi-line values in heredocs, env, path, state', () => {
    const files = createRunnerFiles(mkdtempSync(join(tmpdir(), 'protocol-')));
    const script = `
      import * as core from '@actions/core';
      core.setOutput('one', 'plain');
      core.setOutput('multi', 'line 1\\nline 2 = with equals\\n\\nline 4');
      core.setOutput('json', { a: [1, 2] });
      core.exportVariable('NEXT', 'a=b');
      core.addPath('/opt/first');
      core.addPath('/opt/second');
      core.saveState('kept', 'x\\ny');
      core.setSecret('hunter2-long');
      core.error('bad\\nthing 100%');
      console.log('::stop-commands::tok123');
      console.log('::add-mask::not-a-mask');
      console.log('::tok123::');
      core.warning('w', { file: 'a:b,c.ts', startLine: 3 });
    `;
    const r = spawnSync(process.execPath, ['--input-type=module', '--eval', script], {
      cwd: ROOT,
      encoding: 'utf8',
      env: { PATH: process.env.PATH, ...files },
    });
    expect(r.status, r.stderr).toBe(0);
    const outputs = parseFileCommands(readFileSync(files.GITHUB_OUTPUT, 'utf8'));
    expect(outputs).toEqual({ one: 'plain', multi: 'line 1\nline 2 = with equals\n\nline 4', json: '{"a":[1,2]}' });
    expect(parseFileCommands(readFileSync(files.GITHUB_ENV, 'utf8'))).toEqual({ NEXT: 'a=b' });
    expect(parseFileCommands(readFileSync(files.GITHUB_STATE, 'utf8'))).toEqual({ kept: 'x\ny' });
    expect(parsePathFile(readFileSync(files.GITHUB_PATH, 'utf8'))).toEqual(['/opt/first', '/opt/second']);

    const cmds = parseWorkflowCommands(r.stdout);
    // stop-commands switched the add-mask between the tokens off.
    expect(cmds.map((c) => c.command)).toEqual(['add-mask', 'error', 'warning']);
    expect(cmds[1]?.value).toBe('bad\nthing 100%');
    expect(cmds[2]?.properties).toEqual({ file: 'a:b,c.ts', line: '3' });
    expect(stepCommands(r.stdout)).toEqual({ masks: ['hunter2-long'], errors: ['bad thing 100%'] });
  });

  it('refuses an unterminated heredoc and a line without =, as the runner does', () => {
    expect(() => parseFileCommands('k<<EOF\nvalue\n')).toThrow(FileCommandError);
    expect(() => parseFileCommands('k<<EOF\nvalue\n')).toThrow('unterminated k<<EOF');
    expect(() => parseFileCommands('novalue\n')).toThrow('invalid line in a runner file: "novalue"');
    expect(parseFileCommands('a=\r\nb<<X\r\n1\r\nX\r\n')).toEqual({ a: '', b: '1' });
  });

  it('is the module test/harness/runner.ts reads bundles with', () => {
    expect(harness.parseFileCommands).toBe(parseFileCommands);
    expect(harness.parseWorkflowCommands).toBe(parseWorkflowCommands);
  });
});
