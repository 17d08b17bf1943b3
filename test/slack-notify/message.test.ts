/**
 * message.ts: Slack escaping and fitting, mentions, the message built for each status (checked
 * with the loopback Slack's rules), payload shape.
 */
import { describe, expect, it } from 'vitest';
import {
  buildMessage,
  escapeAndFit,
  escapeSlack,
  link,
  parseMentions,
  payloadProblem,
  type RunFacts,
} from '../../actions/slack-notify/src/message.js';
import { messageProblems, unescapeSlack } from './slack.js';

const facts: RunFacts = {
  serverUrl: 'https://github.com',
  repository: 'octo-org/shop',
  workflow: 'ci',
  runUrl: 'https://github.com/octo-org/shop/actions/runs/1',
  runNumber: '7',
  sha: '4f1c6b9e0a2d3c5b7e8f9a0b1c2d3e4f5a6b7c8d',
  actor: 'octocat',
  ref: 'main',
  environment: '',
};

describe('escaping', () => {
  it('escapes exactly &, < and > (in that order, so nothing is double-escaped)', () => {
    expect(escapeSlack('a & b <!channel> >x &amp;')).toBe('a &amp; b &lt;!channel&gt; &gt;x &amp;amp;');
    expect(unescapeSlack(escapeSlack('"q" \n 🚀 <@U1> & &lt;'))).toBe('"q" \n 🚀 <@U1> & &lt;');
  });
  it('fits to a limit without cutting an entity or a surrogate pair', () => {
    for (let n = 5; n < 40; n++) {
      const s = escapeAndFit('a&<>🚀'.repeat(20), n);
      expect(s.length).toBeLessThanOrEqual(n);
      expect(s.endsWith('…')).toBe(true);
      expect(s.slice(0, -1)).not.toMatch(/&[a-z]{0,3}$/);
      expect(s).not.toMatch(/[\ud800-\udbff]…$/);
    }
  });
  it('links keep their URL intact and escape the label', () => {
    expect(link('https://x.test/a|b<c>', 'o|k <b>')).toBe('<https://x.test/a%7Cb%3Cc%3E|o¦k &lt;b&gt;>');
    expect(link('javascript:alert(1)', '<x>')).toBe('&lt;x&gt;');
  });
});

describe('mentions', () => {
  it('accepts IDs and here/channel/everyone in their usual spellings', () => {
    expect(
      parseMentions([
        'here',
        '@channel',
        '<!everyone>',
        'U024BE7LH',
        '@W123ABC',
        '<@U99>',
        'S0614TZR7',
        '<!subteam^S0614TZR7|@oncall>',
        'here',
      ]),
    ).toEqual({
      mentions: ['<!here>', '<!channel>', '<!everyone>', '<@U024BE7LH>', '<@W123ABC>', '<@U99>', '<!subteam^S0614TZR7>'],
    });
  });
  it('refuses names and half-written syntax', () => {
    for (const bad of ['alice', '@alice', '<!here', 'here>', '<@u024>', 'U1', '<!subteam^X1>', '<https://x|y>'])
      expect(parseMentions([bad])).toEqual({ bad });
  });
});

describe('buildMessage', () => {
  const base = { title: 'deploy', text: '', fields: {}, mentions: [] as string[] };
  it('every status gives its own emoji and colour, and a message Slack accepts', () => {
    const seen = new Set<string>();
    for (const status of ['success', 'failure', 'cancelled', 'skipped'] as const) {
      const m = buildMessage({ ...base, status }, facts);
      expect(messageProblems(m)).toEqual([]);
      const color = (m.attachments![0] as { color: string }).color;
      const header = (m.blocks![0] as { text: { text: string } }).text.text;
      expect(header.endsWith(`deploy: ${status}`)).toBe(true);
      seen.add(`${color}|${header.split(' ')[0]}`);
    }
    expect(seen.size).toBe(4);
  });
  it('mentions only on failure', () => {
    const m = { ...base, mentions: ['<!here>'] };
    expect(JSON.stringify(buildMessage({ ...m, status: 'failure' }, facts))).toContain('<!here>');
    for (const s of ['success', 'cancelled', 'skipped'] as const)
      expect(JSON.stringify(buildMessage({ ...m, status: s }, facts))).not.toContain('<!here>');
  });
  it('20 fields become two sections of ten; Slack accepts it', () => {
    const fields = Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`k${i}`, `v${i}`]));
    const m = buildMessage({ ...base, status: 'success', fields }, facts);
    const sections = (m.attachments![0] as { blocks: { fields?: unknown[] }[] }).blocks.filter((b) => b.fields);
    expect(sections.map((s) => s.fields!.length)).toEqual([10, 10]);
    expect(messageProblems(m)).toEqual([]);
  });
  it('default title from the workflow and repository; context omits what is unknown', () => {
    const m = buildMessage(
      { ...base, title: '', status: 'success' },
      { ...facts, actor: '', ref: '', runUrl: '', sha: 'not-a-sha', durationMs: 125_000, environment: 'prod' },
    );
    expect((m.blocks![0] as { text: { text: string } }).text.text).toBe('✅ ci (octo-org/shop): success');
    const ctx = (m.attachments![0] as { blocks: { type: string; elements?: { text: string }[] }[] }).blocks
      .find((b) => b.type === 'context')!
      .elements!.map((e) => e.text);
    expect(ctx).toEqual(['<https://github.com/octo-org/shop|octo-org/shop>', 'ci #7', 'env prod', 'took 2m 5s']);
  });
});

describe('payloadProblem', () => {
  it('accepts a mapping with text/blocks/attachments, refuses the rest', () => {
    expect(payloadProblem({ text: 'x' })).toBeUndefined();
    expect(payloadProblem({ blocks: [{ type: 'divider' }] })).toBeUndefined();
    expect(payloadProblem([1])).toMatch(/mapping/);
    expect(payloadProblem('x')).toMatch(/mapping/);
    expect(payloadProblem({ foo: 1 })).toMatch(/text, blocks or attachments/);
    expect(payloadProblem({ blocks: {} })).toMatch(/blocks as a list/);
    expect(payloadProblem({ blocks: [{}] })).toMatch(/type/);
    expect(payloadProblem({ blocks: Array.from({ length: 51 }, () => ({ type: 'divider' })) })).toMatch(/at most 50/);
  });
});
