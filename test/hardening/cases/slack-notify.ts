/**
 * slack-notify's bad inputs: each must fail with one `::error::` naming the input, before any
 * request reaches Slack. The webhook URL and the bot token are the secret inputs.
 */
import type { ActionCorpus } from '../corpus.js';

const TOKEN = 'xoxb-1234567890-hardening-canarytoken';
const api = { 'webhook-url': undefined, 'bot-token': TOKEN, channel: '#deploys', 'api-url': '{url}/api' };

const corpus: ActionCorpus = {
  action: 'slack-notify',
  base: {
    inputs: {
      'webhook-url': '{url}/services/T0HARD/B0HARD/hardeningcanarysecret',
      status: 'success',
      title: 'deploy',
      'retry-delay': '10ms',
    },
  },
  secrets: ['webhook-url', 'bot-token'],
  bad: [
    { name: 'status missing', inputs: { status: undefined }, input: 'status', expect: /required/ },
    { name: 'status not a job status', inputs: { status: 'ok' }, input: 'status', expect: /success, failure, cancelled, skipped/ },
    { name: 'status in_progress', inputs: { status: 'in_progress' }, input: 'status' },
    {
      name: 'webhook-url not a URL',
      inputs: { 'webhook-url': 'hooks.slack.com/services/T0/B0/x' },
      input: 'webhook-url',
      expect: /https:\/\//,
    },
    {
      name: 'webhook-url plain http off loopback',
      inputs: { 'webhook-url': 'http://hooks.slack.com/services/T0/B0/xsecretx' },
      input: 'webhook-url',
      expect: /https:\/\//,
    },
    {
      name: 'webhook-url with credentials',
      inputs: { 'webhook-url': 'https://user:pw@hooks.slack.com/services/T0/B0/x' },
      input: 'webhook-url',
      expect: /credentials/,
    },
    { name: 'webhook-url and bot-token together', inputs: { 'bot-token': TOKEN }, input: 'bot-token', expect: /cannot be combined/ },
    { name: 'bot-token not a Slack token', inputs: { ...api, 'bot-token': 'ghp_notaslacktoken1234' }, input: 'bot-token', expect: /xoxb-/ },
    {
      name: 'bot-token an app-level token',
      inputs: { ...api, 'bot-token': 'xapp-1-A0-123-abcdef' },
      input: 'bot-token',
      expect: /app-level/,
    },
    { name: 'bot-token without channel', inputs: { ...api, channel: undefined }, input: 'channel', expect: /required with bot-token/ },
    { name: 'channel with spaces', inputs: { ...api, channel: 'two words' }, input: 'channel' },
    { name: 'channel with a newline', inputs: { ...api, channel: 'deploys\n#other' }, input: 'channel' },
    {
      name: 'update-ts not a ts',
      inputs: { ...api, channel: 'C0DEPLOYS1', 'update-ts': 'yesterday' },
      input: 'update-ts',
      expect: /1503435956\.000247/,
    },
    { name: 'update-ts with a webhook', inputs: { 'update-ts': '1503435956.000247' }, input: 'update-ts', expect: /cannot edit/ },
    { name: 'update-ts with a channel name', inputs: { ...api, 'update-ts': '1503435956.000247' }, input: 'channel', expect: /channel ID/ },
    { name: 'mention by name', inputs: { mention: 'alice' }, input: 'mention', expect: /user IDs/ },
    { name: 'mention half-written', inputs: { mention: '<!here' }, input: 'mention' },
    { name: 'fields not YAML', inputs: { fields: '[unclosed' }, input: 'fields' },
    { name: 'fields a list', inputs: { fields: '- a\n- b' }, input: 'fields', expect: /mapping/ },
    { name: 'fields nested', inputs: { fields: 'image:\n  name: x' }, input: 'fields', expect: /single value/ },
    {
      name: 'fields over 20',
      inputs: { fields: Array.from({ length: 21 }, (_, i) => `k${i}: v`).join('\n') },
      input: 'fields',
      expect: /at most 20/,
    },
    { name: 'fields duplicate key', inputs: { fields: 'a: 1\na: 2' }, input: 'fields', expect: /twice/ },
    { name: 'fields duplicate key (JSON)', inputs: { fields: '{"a": 1, "a": 2}' }, input: 'fields' },
    { name: 'payload a list', inputs: { payload: '[1, 2]' }, input: 'payload', expect: /mapping/ },
    { name: 'payload a string', inputs: { payload: 'hello' }, input: 'payload' },
    {
      name: 'payload without content',
      inputs: { payload: '{"username": "bot"}' },
      input: 'payload',
      expect: /text, blocks or attachments/,
    },
    { name: 'payload blocks not a list', inputs: { payload: '{"blocks": {"type": "divider"}}' }, input: 'payload', expect: /list/ },
    { name: 'payload broken JSON', inputs: { payload: '{"text": "x"' }, input: 'payload' },
    { name: 'api-url not https', inputs: { ...api, 'api-url': 'ftp://slack.com/api' }, input: 'api-url' },
    { name: 'api-url with a query', inputs: { 'api-url': 'https://slack.com/api?x=1' }, input: 'api-url', expect: /query/ },
    { name: 'on-missing unknown', inputs: { 'on-missing': 'ignore' }, input: 'on-missing', expect: /skip, fail/ },
    { name: 'on-error unknown', inputs: { 'on-error': 'retry' }, input: 'on-error', expect: /fail, warn/ },
    { name: 'retries negative', inputs: { retries: '-1' }, input: 'retries' },
    { name: 'retries too many', inputs: { retries: '11' }, input: 'retries', expect: /≤ 10/ },
    { name: 'retries a word', inputs: { retries: 'three' }, input: 'retries' },
    { name: 'retry-delay not a duration', inputs: { 'retry-delay': 'soon' }, input: 'retry-delay' },
    { name: 'timeout too short', inputs: { timeout: '50ms' }, input: 'timeout', expect: /at least/ },
    { name: 'timeout too long', inputs: { timeout: '10m' }, input: 'timeout', expect: /at most/ },
    { name: 'started-at not a time', inputs: { 'started-at': 'this morning' }, input: 'started-at', expect: /ISO 8601/ },
  ],
};

export default corpus;
