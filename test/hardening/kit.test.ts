/**
 * Regression tests for two kit defects the hardening suites found:
 * - `exec({ stream: true })` printed each pipe chunk as it came, so a secret flushed in two pieces
 *   was redacted in neither and, each piece on its own line, escaped the runner's masker too.
 *   Streaming is now whole lines.
 * - `input.shown` echoed a malformed URL whole, credentials included (`https://ci:token@bad host`).
 * - `http.request` dropped only Authorization/Cookie/Proxy-Authorization on a cross-origin
 *   redirect: an API key in X-Api-Key (or PRIVATE-TOKEN …) followed the redirect to the new host.
 * - `log.info` neutralised a line starting with `::` only after LF; the runner also ends a line at
 *   a lone CR, so `text\r::set-output …` (e.g. a value from an HTTP response) was a live command.
 */
import { afterEach, expect, it, vi } from 'vitest';
import { _resetSecrets, shown } from '@hallmark/kit';
import { exec, http, log, maskSecret } from '@hallmark/kit/runner';
import { startServer } from '../harness/server.js';
import { parseWorkflowCommands } from '../harness/runner.js';

afterEach(() => {
  vi.restoreAllMocks();
  _resetSecrets();
});

function capture(): { text: () => string } {
  let out = '';
  vi.spyOn(process.stdout, 'write').mockImplementation(((chunk: string | Uint8Array) => {
    out += typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8');
    return true;
  }) as typeof process.stdout.write);
  return { text: () => out };
}

it('a secret a tool flushes in two pieces is redacted whole in the streamed log', async () => {
  const secret = 'hardening-split-secret-0123456789';
  maskSecret(secret);
  const out = capture();
  const script = `process.stdout.write('token ' + ${JSON.stringify(secret.slice(0, 12))}); setTimeout(() => process.stdout.write(${JSON.stringify(secret.slice(12))} + ' done\\n'), 300);`;
  const r = await exec(process.execPath, ['-e', script], { stream: true });
  vi.restoreAllMocks();
  expect(r.exitCode).toBe(0);
  const printed = out
    .text()
    .split('\n')
    .filter((l) => !l.startsWith('::add-mask::'))
    .join('\n');
  expect(printed).toContain('token *** done');
  expect(printed.replace(/\n/g, '')).not.toContain(secret.slice(0, 12));
});

it('a workflow command split across chunks stays inert, and a last line without a newline is still printed', async () => {
  const out = capture();
  const script = `process.stdout.write('step\\n:'); setTimeout(() => { process.stdout.write(':set-output name=x::y\\n'); process.stdout.write('tail'); }, 300);`;
  await exec(process.execPath, ['-e', script], { stream: true });
  vi.restoreAllMocks();
  const lines = out.text().split('\n');
  // The command line is printed whole, inside a stop-commands block (never bare).
  const i = lines.indexOf('::set-output name=x::y');
  expect(i).toBeGreaterThan(0);
  expect(lines.slice(0, i).some((l) => /^::stop-commands::[0-9a-f]{32}$/.test(l))).toBe(true);
  expect(lines).toContain('tail');
});

it('multi-byte characters split across chunks are not corrupted', async () => {
  const out = capture();
  const script = `const b = Buffer.from('größe ✓\\n'); process.stdout.write(b.subarray(0, 3)); setTimeout(() => process.stdout.write(b.subarray(3)), 200);`;
  const r = await exec(process.execPath, ['-e', script], { stream: true });
  vi.restoreAllMocks();
  expect(r.stdout).toBe('größe ✓\n');
  expect(out.text()).toContain('größe ✓');
});

it('log.info: a CR inside our own line cannot start a workflow command', () => {
  const out = capture();
  log.info('sent (ts 1.2\r::set-output name=pwned::x and \r\n::add-mask::octo-org)');
  vi.restoreAllMocks();
  expect(parseWorkflowCommands(out.text())).toEqual([]);
  expect(out.text()).toContain('␤::set-output name=pwned::x');
});

it('shown: a rejected URL-like value is echoed without its credentials', () => {
  expect(shown('https://ci:hunter2secret@mirror .example.com/x')).toBe('"https://***@mirror .example.com/x"');
  expect(shown('not a url')).toBe('"not a url"');
});

it('http.request: a cross-origin redirect carries no credential-bearing header, whatever its name', async () => {
  const b = await startServer((_q, res) => (res.writeHead(200), res.end('landed')));
  const a = await startServer(
    (_q, res) => (res.writeHead(302, { location: `${b.url.replace('127.0.0.1', 'localhost')}/landing` }), res.end()),
  );
  try {
    const r = await http.request({
      url: `${a.url}/start`,
      headers: { 'X-Api-Key': 'k-secret-1', 'PRIVATE-TOKEN': 'k-secret-2', Authorization: 'Bearer k-secret-3', Accept: 'text/plain' },
    });
    expect(r.status).toBe(200);
    expect(a.requests[0]?.headers['x-api-key']).toBe('k-secret-1');
    const landed = b.requests[0]?.headers ?? {};
    expect([landed['x-api-key'], landed['private-token'], landed.authorization]).toEqual([undefined, undefined, undefined]);
    expect(landed.accept).toBe('text/plain');
  } finally {
    await a.close();
    await b.close();
  }
});
