/**
 * The rehearsal's SIMULATED equivalents of actions/setup-node and actions/attest-build-provenance
 * (packages/rehearse/src/equivalents/release.ts), against the loopback GitHub services
 * (test/harness/github.ts + ./github-release.ts): what they refuse and what they send.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { rehearse, type TokenBook } from '../../packages/rehearse/src/engine.js';
import { githubInterceptor } from '../../packages/rehearse/src/rules.js';
import { startGitHubServices } from '../harness/github.js';
import { addReleaseRoutes } from './github-release.js';

const dir = mkdtempSync(join(tmpdir(), 'hallmark-releq-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const ATTEST = 'actions/attest-build-provenance@a2bbfa25375fe432b6a289bc6b6cd05ecd0c4c32 # v4.1.0';
const CHECKOUT = 'actions/checkout@11bd71901bbe5b1630ceea73d27597364c9af683 # v4.2.2';

async function run(name: string, workflow: string) {
  const root = join(dir, name);
  mkdirSync(join(root, '.github', 'workflows'), { recursive: true });
  mkdirSync(join(root, 'out'), { recursive: true });
  writeFileSync(join(root, 'out', 'a.js'), 'console.log("a")\n');
  writeFileSync(join(root, 'out', 'b.js'), 'console.log("b")\n');
  writeFileSync(join(root, '.github', 'workflows', 'w.yml'), workflow);
  const svc = await startGitHubServices({ owner: 'hallmark-dev', repo: 'hallmark' });
  const routes = addReleaseRoutes(svc, 'hallmark-dev', 'hallmark');
  // As GitHub: job tokens carry their job's permissions, OIDC tokens their job's claims.
  const tokenBook: TokenBook = new Map();
  const gate = githubInterceptor(tokenBook);
  const releaseRoutes = svc.intercept;
  svc.intercept = async (req, res) => gate(req, res) || (releaseRoutes ? releaseRoutes(req, res) : false);
  let log = '';
  try {
    const record = await rehearse({
      workflow: '.github/workflows/w.yml',
      root,
      event: 'push',
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...svc.env },
      tokenBook,
      runDir: join(dir, `${name}-run`),
      out: { write: (t: string) => (log += t) },
    });
    return { record, routes, log };
  } finally {
    await svc.close();
  }
}

const sha = (s: string) => createHash('sha256').update(s).digest('hex');

describe('release equivalents in a rehearsal', () => {
  it('attest-build-provenance: subjects by path, stored through the REST service, only with id-token: write and attestations: write', async () => {
    const wf = (perms: string) => `on: push
permissions: {}
jobs:
  a:
    runs-on: ubuntu-24.04
    permissions: { contents: read${perms} }
    steps:
      - uses: ${CHECKOUT}
      - uses: ${ATTEST}
        with:
          subject-path: out/*.js
          github-token: \${{ github.token }}
`;
    const ok = await run('attest-ok', wf(', attestations: write, id-token: write'));
    expect(ok.record.status, ok.log).toBe('success');
    expect(ok.routes.attestations).toHaveLength(1);
    const env = ok.routes.attestations[0]!.bundle.dsseEnvelope as { payload: string };
    const st = JSON.parse(Buffer.from(env.payload, 'base64').toString('utf8'));
    // As actions/attest names path subjects: the file's base name.
    expect(st.subject).toEqual([
      { name: 'a.js', digest: { sha256: sha('console.log("a")\n') } },
      { name: 'b.js', digest: { sha256: sha('console.log("b")\n') } },
    ]);
    const noId = await run('attest-no-id-token', wf(', attestations: write'));
    expect(noId.record.status).toBe('failure');
    expect(noId.log).toMatch(/id-token: write/);
    expect(noId.routes.attestations).toHaveLength(0);
    const noScope = await run('attest-no-attestations-scope', wf(', id-token: write'));
    expect(noScope.record.status).toBe('failure');
    expect(noScope.log).toMatch(/POST attestations: 403 .*Resource not accessible by integration/);
    expect(noScope.routes.attestations).toHaveLength(0);
  });

  it('setup-node: the machine’s Node when the major matches, a clear failure when it does not', async () => {
    const wf = (v: string) => `on: push
permissions: {}
jobs:
  a:
    runs-on: ubuntu-24.04
    permissions: {}
    steps:
      - uses: actions/setup-node@49933ea5288caeca8642d1e84afbd3f7d6820020 # v4.4.0
        with:
          node-version: ${v}
      - run: node -e 'console.log("node is " + process.version)'
`;
    const major = process.version.slice(1).split('.')[0]!;
    const ok = await run('node-ok', wf(major));
    expect(ok.record.status, ok.log).toBe('success');
    const bad = await run('node-bad', wf('12'));
    expect(bad.record.status).toBe('failure');
    expect(bad.log).toMatch(/node-version 12: this machine has v\d+/);
  });
});
