/**
 * inputs.ts: targets, secrets never echoed, the input named in each refusal, started-at.
 */
import { describe, expect, it } from 'vitest';
import { InputError } from '@hallmark/kit';
import { checkInputs, parseStartedAt, type RawInputs } from '../../actions/slack-notify/src/inputs.js';

const raw = (over: Partial<RawInputs> = {}): RawInputs => ({
  webhookUrl: '',
  botToken: '',
  channel: '',
  updateTs: '',
  status: 'success',
  title: '',
  text: '',
  fields: {},
  mention: [],
  payload: undefined,
  apiUrl: '',
  environment: '',
  startedAt: '',
  onMissing: 'skip',
  onError: 'fail',
  retries: 3,
  retryDelayMs: 1000,
  timeoutMs: 10_000,
  ...over,
});

function inputErr(over: Partial<RawInputs>): InputError {
  try {
    checkInputs(raw(over));
  } catch (e) {
    if (e instanceof InputError) return e;
    throw e;
  }
  throw new Error('no InputError');
}

describe('checkInputs', () => {
  const hook = 'https://hooks.slack.com/services/T0/B0/sekretsekret';
  it('targets: webhook, postMessage, update, none', () => {
    expect(checkInputs(raw({ webhookUrl: hook })).target).toEqual({ kind: 'webhook', url: hook });
    expect(checkInputs(raw({ botToken: 'xoxb-1-2-abcdef', channel: '#deploys' })).target).toMatchObject({
      kind: 'api',
      method: 'chat.postMessage',
      url: 'https://slack.com/api/chat.postMessage',
    });
    expect(
      checkInputs(
        raw({ botToken: 'xoxb-1-2-abcdef', channel: 'C0DEPLOYS1', updateTs: '1503435956.000247', apiUrl: 'https://slack-gov.com/api/' }),
      ).target,
    ).toMatchObject({ method: 'chat.update', url: 'https://slack-gov.com/api/chat.update', ts: '1503435956.000247' });
    expect(checkInputs(raw({ channel: '#deploys', updateTs: '1503435956.000247' })).target).toEqual({ kind: 'none' });
    expect(checkInputs(raw({ retries: 0 })).attempts).toBe(1);
  });
  it('never echoes a secret in its messages', () => {
    for (const over of [
      { webhookUrl: 'http://hooks.slack.com/services/sekretsekret' },
      { webhookUrl: 'sekretsekret' },
      { webhookUrl: 'https://u:sekretsekret@x.test/' },
      { botToken: 'sekretsekret' },
      { botToken: 'xapp-sekretsekret' },
    ]) {
      const e = inputErr(over);
      expect(e.input).toBe('webhookUrl' in over ? 'webhook-url' : 'bot-token');
      expect(e.message).not.toContain('sekretsekret');
    }
  });
  it('names the input that is wrong', () => {
    expect(inputErr({ webhookUrl: hook, botToken: 'xoxb-1-2-abcdef' }).input).toBe('bot-token');
    expect(inputErr({ botToken: 'xoxb-1-2-abcdef' }).input).toBe('channel');
    expect(inputErr({ botToken: 'xoxb-1-2-abcdef', channel: '#deploys', updateTs: '1503435956.000247' }).input).toBe('channel');
    expect(inputErr({ webhookUrl: hook, updateTs: '1503435956.000247' }).input).toBe('update-ts');
    expect(inputErr({ updateTs: 'yesterday' }).input).toBe('update-ts');
    expect(inputErr({ channel: 'two words' }).input).toBe('channel');
    expect(inputErr({ mention: ['alice'] }).input).toBe('mention');
    expect(inputErr({ apiUrl: 'ftp://slack.com/api' }).input).toBe('api-url');
    expect(inputErr({ apiUrl: 'https://slack.com/api?x=1' }).input).toBe('api-url');
    expect(inputErr({ payload: [1] }).input).toBe('payload');
    expect(inputErr({ startedAt: 'monday' }).input).toBe('started-at');
    expect(inputErr({ fields: Object.fromEntries(Array.from({ length: 21 }, (_, i) => [`k${i}`, 'v'])) }).input).toBe('fields');
  });
  it('started-at: epoch seconds, epoch ms, ISO 8601', () => {
    expect(parseStartedAt('1764525600')).toBe(1764525600000);
    expect(parseStartedAt('1764525600123')).toBe(1764525600123);
    expect(parseStartedAt('2025-11-30T18:00:00Z')).toBe(Date.UTC(2025, 10, 30, 18));
    expect(parseStartedAt('2025-11-30')).toBeUndefined();
  });
});
