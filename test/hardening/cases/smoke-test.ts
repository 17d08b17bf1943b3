/**
 * smoke-test's bad inputs: each must fail with one `::error::` naming the input before any check
 * runs (no request reaches the loopback server, no report is written). smoke-test has no secret
 * inputs: secrets reach it through `env:` and `${NAME}` in the check file.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ActionCorpus } from '../corpus.js';

const corpus: ActionCorpus = {
  action: 'smoke-test',
  base: { inputs: { url: '{url}/healthz', retries: '0', interval: '10ms', timeout: '2s' } },
  setup: (workspace) => {
    mkdirSync(join(workspace, 'reports'), { recursive: true });
    writeFileSync(join(workspace, 'smoke.yml'), 'checks:\n  - tcp: { host: 127.0.0.1, port: 9 }\n');
  },
  secrets: [],
  bad: [
    { name: 'neither checks nor url', inputs: { url: undefined }, input: 'checks', expect: /is required/ },
    { name: 'checks and url together', inputs: { checks: 'smoke.yml' }, input: 'url', expect: /cannot be used with 'checks'/ },
    { name: 'url without a scheme', inputs: { url: 'example.com/healthz' }, input: 'url', expect: /http:\/\/ or https:\/\// },
    { name: 'url ftp', inputs: { url: 'ftp://example.com/file' }, input: 'url', expect: /http:\/\/ or https:\/\// },
    { name: 'url javascript', inputs: { url: 'javascript:alert(1)' }, input: 'url' },
    { name: 'url with a space', inputs: { url: 'http://example.com/a b' }, input: 'url' },
    { name: 'url with a newline and a command', inputs: { url: 'http://example.com/\n::set-output name=x::y' }, input: 'url' },
    { name: 'checks file missing', inputs: { url: undefined, checks: 'nope.yml' }, input: 'checks', expect: /not found/ },
    { name: 'checks a directory', inputs: { url: undefined, checks: 'reports' }, input: 'checks', expect: /a directory/ },
    { name: 'checks path with a control character', inputs: { url: undefined, checks: 'smoke\u0007.yml' }, input: 'checks' },
    { name: 'retries a word', inputs: { retries: 'three' }, input: 'retries', expect: /whole number/ },
    { name: 'retries negative', inputs: { retries: '-1' }, input: 'retries' },
    { name: 'retries too many', inputs: { retries: '101' }, input: 'retries', expect: /≤ 100/ },
    { name: 'retries fractional', inputs: { retries: '1.5' }, input: 'retries' },
    { name: 'interval not a duration', inputs: { interval: '5 parsecs' }, input: 'interval', expect: /duration/ },
    { name: 'interval negative', inputs: { interval: '-1s' }, input: 'interval' },
    { name: 'interval too long', inputs: { interval: '11m' }, input: 'interval', expect: /at most/ },
    { name: 'timeout zero', inputs: { timeout: '0s' }, input: 'timeout', expect: /at least/ },
    { name: 'timeout a word', inputs: { timeout: 'forever' }, input: 'timeout' },
    { name: 'timeout too long', inputs: { timeout: '31m' }, input: 'timeout', expect: /at most/ },
    { name: 'concurrency zero', inputs: { concurrency: '0' }, input: 'concurrency', expect: /≥ 1/ },
    { name: 'concurrency too high', inputs: { concurrency: '257' }, input: 'concurrency' },
    { name: 'concurrency a word', inputs: { concurrency: 'ten' }, input: 'concurrency' },
    { name: 'fail-on-warning yes', inputs: { 'fail-on-warning': 'yes' }, input: 'fail-on-warning', expect: /true or false/ },
    { name: 'report ends with a slash', inputs: { report: 'reports/' }, input: 'report', expect: /not a directory/ },
    { name: 'report an existing directory', inputs: { report: 'reports' }, input: 'report', expect: /a directory/ },
    { name: 'report with a newline', inputs: { report: 'smoke\n.json' }, input: 'report', expect: /one line/ },
    { name: 'junit the same file as report', inputs: { junit: 'smoke-report.json' }, input: 'junit', expect: /differ/ },
    { name: 'junit a directory', inputs: { junit: 'reports/' }, input: 'junit' },
    { name: 'junit with a newline', inputs: { junit: 'junit\n.xml' }, input: 'junit' },
  ],
};

export default corpus;
