import { describe, expect, it } from 'vitest';
import { oneLine, md } from '@hallmark/kit';
import { maskSecret, printUntrusted } from '@hallmark/kit/runner';
import { parseWorkflowCommands } from '../harness/runner.js';

const capture = (text: string) => {
  let out = '';
  printUntrusted(text, (s) => (out += s));
  return out;
};

describe('printUntrusted keeps workflow commands inert', () => {
  const hostile = [
    '::set-output name=passed::true',
    '::add-mask::hunter2',
    '  ::error file=x::owned',
    '::stop-commands::abc',
    '::abc::',
    '::warning::x\r::set-env name=A::1',
    '##[set-output name=x;]y',
    'ok line',
  ].join('\n');

  it('the runner sees no command from the text, and the text is printed whole', () => {
    const out = capture(hostile);
    expect(parseWorkflowCommands(out)).toEqual([]);
    expect(out).toContain('::set-output name=passed::true');
    expect(out).toContain('ok line');
  });

  it('a command after the block is seen again (the block is closed)', () => {
    const out = `${capture(hostile)}::notice::ours\n`;
    expect(parseWorkflowCommands(out)).toEqual([{ command: 'notice', properties: {}, value: 'ours' }]);
  });

  it('plain text is printed without a block', () => {
    expect(capture('hello\nworld')).toBe('hello\nworld\n');
  });

  it('redacts registered secrets, also inside blocks', () => {
    maskSecret('s3cr3t-canary-value');
    expect(capture('token=s3cr3t-canary-value ::x')).not.toContain('s3cr3t-canary-value');
    expect(oneLine('a\nb\r\nc s3cr3t-canary-value')).toBe('a ⏎ b ⏎ c ***');
  });
});

describe('summary escaping', () => {
  it('escapes markdown, HTML and table pipes in untrusted text', () => {
    const cell = md.cell('<img src=x onerror=alert(1)> | [link](http://evil) **b**\nnext');
    expect(cell).not.toMatch(/<img/);
    expect(cell).not.toMatch(/(^|[^\\])\|/);
    expect(cell).toContain('\\[link\\]');
    expect(cell).not.toContain('\n');
    expect(md.table(['a', 'b'], [[md.cell('x|y'), '1']])).toBe('| a | b |\n| --- | --- |\n| x\\|y | 1 |');
  });
});
