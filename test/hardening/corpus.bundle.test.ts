/**
 * The bad-input corpus (issue #9): every case in test/hardening/cases/*.ts runs through the real
 * bundle, on the host Node, and must yield
 * - exactly one `::error::` line, `<action>: input '<name>' …` (plus the case's `expect`),
 * - exit code 1 and `failure-reason=invalid-input`,
 * - no stack trace on stdout or stderr,
 * - no request on the case's own recording loopback server (its URL replaces `{url}`),
 * - no secret input's value echoed anywhere the runner shows (its `::add-mask::` aside),
 * - no file created, changed or removed outside RUNNER_TEMP: the runner home (HOME, workspace,
 *   tool cache, and a TMPDIR placed there so os.tmpdir() writes show up) is snapshotted before and
 *   after; the runner's own command files are left out, and RUNNER_TEMP may be written.
 * Cases run in a small pool (one fresh runner home and server each), so ~150 cases take well
 * under a minute and a half on two cores. An action whose bundle is not built is skipped with a
 * message, not passed.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ActionCorpus, BadInputCase } from './corpus.js';
import { ACTIONS, diffSnapshots, fill, findLeaks, hasBundle, loadCorpora, pool, runnerVisible, snapshot, stackLines } from './lib.js';
import { runAction, runnerHome, runtimes, type ActionResult } from '../harness/runner.js';
import { startServer, type RecordedRequest } from '../harness/server.js';

const corpora = await loadCorpora();
const host = runtimes()[0] as ReturnType<typeof runtimes>[number];
const POOL = Number(process.env.HARDENING_POOL ?? 4);

interface Outcome {
  r: ActionResult;
  inputs: Record<string, string | undefined>;
  requests: RecordedRequest[];
  changed: string[];
}

async function runCase(c: ActionCorpus, bad: BadInputCase): Promise<Outcome> {
  const server = await startServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end('{"ok":true}');
  });
  try {
    const home = runnerHome('hallmark-corpus-');
    const tmp = join(home.root, 'tmp');
    mkdirSync(tmp);
    c.setup?.(home.workspace);
    const inputs = fill({ ...c.base.inputs, ...bad.inputs }, server.url);
    const env = fill({ ...(c.base.env ?? {}) }, server.url);
    // The runner's own files (GITHUB_OUTPUT etc. live in files-*) and RUNNER_TEMP are left out.
    const skip = (rel: string) => rel === 'temp' || rel.startsWith('temp/') || /^files-\d+-\d+(\/|$)/.test(rel);
    const before = snapshot(home.root, skip);
    const r = await runAction(c.action, { inputs, env: { ...env, TMPDIR: tmp }, home, runtime: host, timeoutMs: 30_000 });
    const after = snapshot(home.root, skip);
    return { r, inputs, requests: [...server.requests], changed: diffSnapshots(before, after) };
  } finally {
    await server.close();
  }
}

it('every built action has a corpus of at least 25 bad inputs with unique names', () => {
  const problems: string[] = [];
  for (const a of ACTIONS) {
    if (!hasBundle(a)) continue;
    const c = corpora.find((x) => x.action === a);
    if (!c) problems.push(`${a}: no test/hardening/cases/${a}.ts`);
    else {
      if (c.bad.length < 25) problems.push(`${a}: only ${c.bad.length} cases`);
      const names = c.bad.map((b) => b.name);
      const dup = names.filter((n, i) => names.indexOf(n) !== i);
      if (dup.length) problems.push(`${a}: duplicate case names ${dup.join(', ')}`);
    }
  }
  expect(problems).toEqual([]);
});

for (const c of corpora) {
  if (!hasBundle(c.action)) {
    console.warn(`hardening corpus: SKIPPED ${c.action} (${c.bad.length} cases): dist/${c.action}/index.js is not built`);
    describe.skip(`bad-input corpus: ${c.action} (SKIPPED: bundle not built)`, () => {
      it.skip('bundle missing', () => undefined);
    });
    continue;
  }
  describe(`bad-input corpus: ${c.action} (${c.bad.length} cases on ${host.name})`, () => {
    const outcomes = new Map<string, Outcome>();
    beforeAll(async () => {
      const results = await pool(c.bad, POOL, (b) => runCase(c, b));
      c.bad.forEach((b, i) => outcomes.set(b.name, results[i] as Outcome));
    }, 300_000);
    afterAll(() => outcomes.clear());

    it.each(c.bad.map((b) => [b.name, b] as const))('%s', (_name, bad) => {
      const o = outcomes.get(bad.name) as Outcome;
      const { r } = o;
      const shown = `\n--- stdout ---\n${r.stdout}\n--- stderr ---\n${r.stderr}`;
      expect(r.timedOut, `timed out${shown}`).toBe(false);
      expect(r.errors, `exactly one ::error:: line${shown}`).toHaveLength(1);
      const line = r.errors[0] as string;
      expect(line.startsWith(`${c.action}: `), `error line is prefixed with the action: ${line}`).toBe(true);
      expect(line, 'error line names the input').toContain(`input '${bad.input}'`);
      if (bad.expect) {
        if (typeof bad.expect === 'string') expect(line).toContain(bad.expect);
        else expect(line).toMatch(bad.expect);
      }
      expect(r.code, `exit code${shown}`).toBe(1);
      expect(r.outputs['failure-reason']).toBe('invalid-input');
      expect(stackLines(`${r.stdout}\n${r.stderr}`), 'no stack trace').toEqual([]);
      expect(
        o.requests.map((q) => `${q.method} ${q.url}`),
        'no request reached the loopback server',
      ).toEqual([]);
      expect(o.changed, 'no file outside RUNNER_TEMP was created, changed or removed').toEqual([]);
      const secrets: Record<string, string> = {};
      for (const name of c.secrets ?? []) {
        const v = o.inputs[name];
        if (v && v.trim().length >= 8) secrets[name] = v.trim();
      }
      expect(findLeaks(runnerVisible(r), secrets), 'a secret input echoed back').toEqual([]);
    });
  });
}

for (const a of ACTIONS) {
  if (corpora.some((c) => c.action === a)) continue;
  const why = hasBundle(a) ? 'no cases file yet' : 'bundle not built';
  describe.skip(`bad-input corpus: ${a} (SKIPPED: ${why})`, () => {
    it.skip(why, () => undefined);
  });
}
