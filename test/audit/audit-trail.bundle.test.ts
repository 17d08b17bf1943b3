/**
 * audit-trail, the bundle (dist/audit-trail/index.js) as the runner runs it: parts written by the
 * real record writer, signed by the REAL cosign 3 (keyless against the loopback Fulcio/Rekor of
 * test/harness/sigstore.ts, SIMULATED; or with a key, no log), uploaded through the real
 * @actions/artifact client to the loopback GitHub (SIMULATED), then verified offline by
 * verifyTrail (sigstore-js). Proves: the joined trail verifies and tells the story; one edited,
 * removed or reordered record, or a bundle over other bytes, fails and is named; bad inputs fail
 * with one ::error:: and no side effect; a broken part fails naming part and record; text in a
 * part stays inert; no secret reaches the trail.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appendAuditRecord, AUDIT_FILE, canonicalJson, type AuditEntry, type AuditRecord } from '@hallmark/audit';
import { verifyTrail } from '@hallmark/audit/verify';
import { startGitHubServices, type GitHubServices } from '../harness/github.js';
import { ROOT, runAction, runtimes, type ActionResult, type RunnerHome, type Runtime } from '../harness/runner.js';
import { startSigstore, type LoopbackSigstore } from '../harness/sigstore.js';
import { binDir, toolPath } from '../harness/tools.js';
import { cleanupTracked, trackedDir, trackedHome } from '../harness/tracked.js';
import { canary, withoutMaskCommands } from '../hardening/lib.js';
import { unzipEntries } from '../sbom-attach/setup.js';
import { DIGEST, entry, pipeline } from './fixtures.js';

const IDENTITY = 'https://github.com/octo-org/shop/.github/workflows/ci.yml@refs/heads/main';
const ARTIFACT = 'audit-9100200300-1';

let gh: GitHubServices;
let sigstore: LoopbackSigstore;
let lab: string;
let bin: string;
let key: { privateKey: string; pubFile: string; password: string };

beforeAll(async () => {
  lab = trackedDir('hallmark-audit-lab-');
  gh = await startGitHubServices();
  sigstore = await startSigstore(lab);
  bin = binDir(['cosign']);
  const password = canary('cosignpassword');
  const g = spawnSync(toolPath('cosign'), ['generate-key-pair'], {
    cwd: lab,
    env: { PATH: '/usr/bin:/bin', HOME: lab, COSIGN_PASSWORD: password },
    encoding: 'utf8',
    timeout: 60_000,
  });
  if (g.status !== 0) throw new Error(`cosign generate-key-pair: ${g.stderr}`);
  key = { privateKey: readFileSync(join(lab, 'cosign.key'), 'utf8'), pubFile: join(lab, 'cosign.pub'), password };
}, 120_000);

afterAll(async () => {
  await gh?.close();
  await sigstore?.close();
  cleanupTracked();
});

/** Writes each job's part as download-artifact (no merge) lays it out: <dir>/hallmark-audit-part-<job>/hallmark-audit.jsonl. */
function writeParts(home: RunnerHome, parts: Record<string, AuditEntry[]> = pipeline()): string {
  const dir = join(home.temp, 'parts');
  for (const [job, entries] of Object.entries(parts)) {
    const f = join(dir, `hallmark-audit-part-${job}`, AUDIT_FILE);
    for (const e of entries) appendAuditRecord(f, e);
  }
  return dir;
}

function withSigstore(home: RunnerHome): Record<string, string> {
  copyFileSync(sigstore.signingConfigPath, join(home.workspace, 'signing_config.json'));
  copyFileSync(sigstore.trustedRootPath, join(home.workspace, 'trusted_root.json'));
  return { 'signing-config': 'signing_config.json', 'trusted-root': 'trusted_root.json' };
}

async function auditTrail(
  inputs: Record<string, string>,
  home: RunnerHome,
  runtime?: Runtime,
  env: Record<string, string | undefined> = {},
): Promise<ActionResult> {
  return runAction('audit-trail', {
    home,
    runtime,
    inputs,
    env: { ...gh.env, PATH: `${bin}:${process.env.PATH ?? '/usr/bin:/bin'}`, GITHUB_JOB: 'audit', ...env },
    timeoutMs: 90_000,
  });
}

/** A copy of the trail and bundle in a fresh directory, as an auditor downloads them. */
function download(r: ActionResult, edit?: (lines: string[]) => string[]): string {
  const dir = trackedDir('hallmark-audit-dl-');
  const text = readFileSync(r.outputs.trail as string, 'utf8');
  const lines = text.trimEnd().split('\n');
  writeFileSync(join(dir, `${ARTIFACT}.jsonl`), `${(edit ? edit(lines) : lines).join('\n')}\n`);
  if (r.outputs.bundle) copyFileSync(r.outputs.bundle, join(dir, `${ARTIFACT}.jsonl.sigstore.json`));
  return dir;
}

describe.each(runtimes())('audit-trail on $name', (runtime) => {
  it('keyless: joins the parts, signs with real cosign as the job identity, uploads trail + bundle; verifyTrail passes and tells the story', async () => {
    const home = trackedHome();
    const parts = writeParts(home);
    const r = await auditTrail(
      {
        parts,
        ...withSigstore(home),
        jobs: JSON.stringify({
          build: { result: 'success', outputs: { x: '1' } },
          apply: { result: 'success', outputs: {} },
          deploy: { result: 'success', outputs: { method: 'helm' } },
          gitops: { result: 'skipped', outputs: {} },
          smoke: { result: 'success', outputs: {} },
        }),
        facts: 'environment: production\ndeploy-method: helm',
      },
      home,
      runtime,
    );
    expect(r.errors, r.stdout + r.stderr).toEqual([]);
    expect(r.code).toBe(0);
    expect(r.outputs['record-count']).toBe('7');
    expect(r.outputs.signed).toBe('true');
    expect(sigstore.issued).toContain(IDENTITY);
    const text = readFileSync(r.outputs.trail as string, 'utf8');
    // The artifact holds exactly these bytes and the bundle.
    const zip = gh.artifactBytes(ARTIFACT);
    expect(zip).toBeDefined();
    const files = unzipEntries(zip as Buffer);
    expect([...files.keys()].sort()).toEqual([`${ARTIFACT}.jsonl`, `${ARTIFACT}.jsonl.sigstore.json`]);
    expect(files.get(`${ARTIFACT}.jsonl`)?.toString('utf8')).toBe(text);
    expect(r.summary).toContain(r.outputs.sha256);
    // Offline verification of what was downloaded.
    const dir = trackedDir('hallmark-audit-dl-');
    for (const [n, b] of files) writeFileSync(join(dir, n), b);
    const v = await verifyTrail(dir, { trustedRoot: sigstore.trustedRootPath, identities: [IDENTITY] });
    expect(v.problems).toEqual([]);
    expect(v.ok).toBe(true);
    expect(v.signer).toContain(IDENTITY);
    expect(v.story).toContain(DIGEST);
    expect(v.story).toMatch(/scanned\s+.*passed \(threshold HIGH; critical 0, high 0, failing 0\)/);
    expect(v.story).toMatch(
      /signed\s+.*identity https:\/\/github\.com\/hallmark-dev\/hallmark\/\.github\/workflows\/build-sign-scan\.yml@refs\/heads\/main/,
    );
    expect(v.story).toMatch(/smoke\s+environment production: passed \(4\/4 checks passed/);
    expect(v.story).toMatch(/deployed\s+environment production, mode helm: job deploy success/);
    expect(v.story).toMatch(/approved\s+environment production: plan sha256 e{64} applied after approval: passed/);
    // The story reads in the order things happened, the seal's approval and deploy before the smoke test.
    const stages = v.story
      .split('\n')
      .map((l) => /^\s+\S+\s+(built|scanned|signed|approved|deployed|smoke)\b/.exec(l)?.[1])
      .filter((x): x is string => x !== undefined);
    expect(stages.filter((x, i) => stages.indexOf(x) === i)).toEqual(['built', 'scanned', 'signed', 'approved', 'deployed', 'smoke']);
    const seal = JSON.parse(text.trimEnd().split('\n').at(-1) as string) as AuditRecord;
    expect(seal.facts).toMatchObject({
      'job.build': 'success',
      'job.smoke': 'success',
      environment: 'production',
      'signer-identity': IDENTITY,
      'signing-mode': 'keyless',
    });
    expect(JSON.stringify(seal)).not.toContain('outputs');
    // Unpinned: accepted only because the certificate names the identity the seal claims, and said so.
    const loose = await verifyTrail(dir, { trustedRoot: sigstore.trustedRootPath });
    expect(loose.ok).toBe(true);
    expect(loose.signer).toMatch(/not pinned/);
    // Another signer pinned: refused.
    const other = await verifyTrail(dir, { trustedRoot: sigstore.trustedRootPath, identities: [IDENTITY.replace('main', 'evil')] });
    expect(other.ok).toBe(false);
    expect(other.problems.join()).toMatch(
      /signed by "https:\/\/github.com\/octo-org\/shop\/\.github\/workflows\/ci\.yml@refs\/heads\/main", not by/,
    );
    // The workflow rule (verify-image's allowed refs): main is allowed by default, a tag-only rule refuses it.
    expect(
      (await verifyTrail(dir, { trustedRoot: sigstore.trustedRootPath, workflows: ['octo-org/shop/.github/workflows/ci.yml'] })).ok,
    ).toBe(true);
    expect(
      (
        await verifyTrail(dir, {
          trustedRoot: sigstore.trustedRootPath,
          workflows: ['octo-org/shop/.github/workflows/ci.yml'],
          allowedRefs: ['tags'],
        })
      ).ok,
    ).toBe(false);

    if (runtime !== runtimes()[0]) return;
    // ---- tampering after signing: each named ----
    const opts = { trustedRoot: sigstore.trustedRootPath, identities: [IDENTITY] };
    const removed = await verifyTrail(
      download(r, (l) => l.filter((_, i) => i !== 2)),
      opts,
    );
    expect(removed.ok).toBe(false);
    expect(removed.problems[0]).toMatch(/record 3 is missing: record 4 \(build-sign\) follows record 2 \(build-sign\)/);
    const swapped = await verifyTrail(
      download(r, (l) => [l[0], l[2], l[1], ...l.slice(3)] as string[]),
      opts,
    );
    expect(swapped.problems[0]).toMatch(/record 3 \(trivy-gate\) is out of order/);
    const edited = await verifyTrail(
      download(r, (l) => l.map((line, i) => (i === 2 ? canonicalJson({ ...(JSON.parse(line) as object), verdict: 'failed' }) : line))),
      opts,
    );
    expect(edited.problems[0]).toMatch(
      /record 4 \(build-sign\) does not chain to record 3 \(trivy-gate\).*record 3 \(trivy-gate\) was edited/,
    );
    // The seal itself edited (only the signature covers the last line): the signature fails, and says where to look.
    const sealEdited = await verifyTrail(
      download(r, (l) => [...l.slice(0, -1), (l.at(-1) as string).replace('"job.build":"success"', '"job.build":"failure"')]),
      opts,
    );
    expect(sealEdited.ok).toBe(false);
    expect(sealEdited.problems.join()).toMatch(
      /signature does not verify over the trail's bytes.*chain is intact, so the last record — record 7 \(audit-trail\)/,
    );
    // A bundle over other bytes.
    const dl = download(r);
    const otherBlob = join(lab, 'other.txt');
    writeFileSync(otherBlob, 'not the trail\n');
    const s = spawnSync(
      toolPath('cosign'),
      [
        'sign-blob',
        '--yes',
        '--key',
        join(lab, 'cosign.key'),
        '--use-signing-config=false',
        '--tlog-upload=false',
        '--bundle',
        join(dl, `${ARTIFACT}.jsonl.sigstore.json`),
        otherBlob,
      ],
      { env: { PATH: '/usr/bin:/bin', HOME: lab, COSIGN_PASSWORD: key.password }, encoding: 'utf8', timeout: 60_000 },
    );
    expect(s.status, s.stderr).toBe(0);
    const wrong = await verifyTrail(dl, { ...opts, publicKey: key.pubFile, tlog: false });
    expect(wrong.ok).toBe(false);
    expect(wrong.problems.join()).toMatch(/signature does not verify/);
    // No bundle at all.
    const nob = download(r);
    rmSync(join(nob, `${ARTIFACT}.jsonl.sigstore.json`));
    expect((await verifyTrail(nob, opts)).problems.join()).toMatch(/no signature/);
    expect((await verifyTrail(nob, { unsigned: true })).ok).toBe(true);
  }, 120_000);
});

describe('audit-trail: key mode, inputs, broken parts, injection, secrets', () => {
  it('key mode without a log: verifies with the public key (and tlog false), not with another key', async () => {
    const home = trackedHome();
    const parts = writeParts(home);
    const r = await auditTrail(
      { parts, signing: 'key', 'cosign-key': key.privateKey, 'cosign-password': key.password, tlog: 'false', 'artifact-name': 'audit-key' },
      home,
      undefined,
      {
        ACTIONS_ID_TOKEN_REQUEST_URL: undefined,
        ACTIONS_ID_TOKEN_REQUEST_TOKEN: undefined,
      },
    );
    expect(r.errors, r.stdout + r.stderr).toEqual([]);
    expect(r.outputs.signed).toBe('true');
    const seal = JSON.parse(
      readFileSync(r.outputs.trail as string, 'utf8')
        .trimEnd()
        .split('\n')
        .at(-1) as string,
    ) as AuditRecord;
    expect(seal.facts['signing-mode']).toBe('key');
    expect(seal.facts['signer-key-sha256']).toMatch(/^[0-9a-f]{64}$/);
    const dir = trackedDir('hallmark-audit-dl-');
    copyFileSync(r.outputs.trail as string, join(dir, 'audit-key.jsonl'));
    copyFileSync(r.outputs.bundle as string, join(dir, 'audit-key.jsonl.sigstore.json'));
    const ok = await verifyTrail(dir, { publicKey: key.pubFile, tlog: false });
    expect(ok.problems).toEqual([]);
    // The shipped command (npm run audit:verify = dist/audit-trail/verify.js, bundled), not only the source.
    const cli = (args: string[]) =>
      spawnSync(process.execPath, [join(ROOT, 'dist', 'audit-trail', 'verify.js'), ...args], { encoding: 'utf8', timeout: 60_000 });
    const good = cli([dir, '--public-key', key.pubFile, '--tlog', 'false']);
    expect(good.status, good.stderr).toBe(0);
    expect(good.stdout).toMatch(/^Audit trail audit-key\.jsonl: 6 records from 5 parts, sealed, chain intact/);
    expect(good.stdout).toMatch(/smoke\s+environment production: passed/);
    const lines = readFileSync(join(dir, 'audit-key.jsonl'), 'utf8').trimEnd().split('\n');
    writeFileSync(join(dir, 'audit-key.jsonl'), `${lines.filter((_, i) => i !== 1).join('\n')}\n`);
    const bad = cli([dir, '--public-key', key.pubFile, '--tlog', 'false']);
    expect(bad.status).toBe(1);
    expect(bad.stderr).toMatch(/record 2 is missing: record 3 \(trivy-gate\) follows record 1 \(setup-tools\)/);
    expect(bad.stderr).toMatch(/signature does not verify/);
    expect(cli(['--nope']).status).toBe(2);
    expect((await verifyTrail(dir, { publicKey: key.pubFile })).ok).toBe(false); // a log entry was required
    const other = trackedDir('hallmark-audit-otherkey-');
    expect(
      spawnSync(toolPath('cosign'), ['generate-key-pair'], {
        cwd: other,
        env: { PATH: '/usr/bin:/bin', HOME: other, COSIGN_PASSWORD: 'x' },
      }).status,
    ).toBe(0);
    expect((await verifyTrail(dir, { publicKey: join(other, 'cosign.pub'), tlog: false })).ok).toBe(false);
    // The password canary is nowhere in what the run wrote, the trail, the bundle or the artifact.
    const everything = [
      withoutMaskCommands(r.everything),
      readFileSync(r.outputs.trail as string, 'utf8'),
      readFileSync(r.outputs.bundle as string, 'utf8'),
      (gh.artifactBytes('audit-key') as Buffer).toString('latin1'),
    ].join('\n');
    expect(everything).not.toContain(key.password);
  }, 120_000);

  const bad: [string, Record<string, string>, RegExp][] = [
    ['signing', { signing: 'maybe' }, /input 'signing' must be one of/],
    ['key without key', { signing: 'key' }, /input 'cosign-key' is required with signing: key/],
    ['tlog false keyless', { tlog: 'false' }, /input 'tlog' /],
    ['artifact-name', { 'artifact-name': '../x' }, /input 'artifact-name' must be an artifact name/],
    ['retention-days', { 'retention-days': '365' }, /input 'retention-days' must be a whole number/],
    ['jobs', { jobs: '{"build": {"result": "maybe"}}' }, /input 'jobs' must give each job a result/],
    ['jobs not json', { jobs: '[1, 2' }, /input 'jobs' must be the JSON of the needs context/],
    ['facts name', { facts: '"a b": 1' }, /input 'facts' must use fact names/],
    ['facts reserved', { facts: 'signer-identity: me' }, /input 'facts' must not set signer-identity/],
    ['parts is a file', { parts: 'file.txt' }, /input 'parts' must be a path to a directory/],
    ['trusted-root missing', { 'trusted-root': 'nope.json' }, /input 'trusted-root' must name an existing file/],
  ];
  for (const [what, inputs, msg] of bad) {
    it(`bad input (${what}): one ::error:: naming it, invalid-input, nothing written or uploaded`, async () => {
      const home = trackedHome();
      const parts = writeParts(home);
      writeFileSync(join(home.workspace, 'file.txt'), 'x');
      const before = gh.requests.length;
      const r = await auditTrail({ parts, 'artifact-name': `audit-bad-${what.replace(/\W/g, '')}`, ...inputs }, home);
      expect(r.code).toBe(1);
      expect(r.errors).toEqual([expect.stringMatching(msg)]);
      expect(r.errors[0]).toMatch(/^audit-trail: /);
      expect(r.outputs['failure-reason']).toBe('invalid-input');
      expect(existsSync(join(home.temp, 'hallmark-audit-trail'))).toBe(false);
      expect(gh.requests.slice(before).filter((q) => !/token|oidc/i.test(q.url))).toEqual([]);
      expect(r.stdout + r.stderr).not.toMatch(/\n\s+at /);
    });
  }

  it('a broken part fails the step naming the part and the record; nothing is signed or uploaded', async () => {
    const home = trackedHome();
    const parts = writeParts(home);
    const f = join(parts, 'hallmark-audit-part-build', AUDIT_FILE);
    const lines = readFileSync(f, 'utf8').trimEnd().split('\n');
    writeFileSync(f, `${lines[1]}\n`);
    const r = await auditTrail({ parts, signing: 'none', 'artifact-name': 'audit-broken' }, home);
    expect(r.code).toBe(1);
    expect(r.outputs['failure-reason']).toBe('part-broken');
    expect(r.errors).toEqual([
      expect.stringMatching(/audit part hallmark-audit-part-build does not verify: .*record 1 is missing: record 2 \(build-sign\)/),
    ]);
    expect(gh.artifactBytes('audit-broken')).toBeUndefined();
  });

  it('no parts downloaded: no-parts', async () => {
    const home = trackedHome();
    const r = await auditTrail({ parts: join(home.temp, 'none'), signing: 'none', upload: 'false' }, home);
    expect(r.outputs['failure-reason']).toBe('no-parts');
  });

  it('workflow commands and markup inside part records stay inert in the log, the summary and the outputs', async () => {
    const home = trackedHome();
    const evil = '::set-output name=signed::pwned\n::error::injected %0A::add-mask::x <img src=x> [link](http://evil)';
    const parts = writeParts(home, {
      ...pipeline(),
      evil: [
        entry('trivy-gate', 'evil', 4, {
          subject: { digest: evil.slice(0, 60), environment: evil },
          facts: { severity: evil, 'critical-count': 0 },
          verdict: 'failed',
          failureReason: 'gate-failed',
        }),
      ],
    });
    const r = await auditTrail({ parts, signing: 'none', 'artifact-name': 'audit-evil' }, home);
    expect(r.errors, r.stdout).toEqual([]);
    expect(r.code).toBe(0);
    // Only the runner's own commands: warnings, debug lines, and the artifact client masking its signed URLs.
    expect(
      r.commands
        .filter((c) => !['warning', 'debug'].includes(c.command) && !(c.command === 'add-mask' && !evil.includes(c.value)))
        .map((c) => `${c.command} ${c.value}`),
    ).toEqual([]);
    expect(r.warnings).toEqual([expect.stringMatching(/signing: none/)]);
    expect(Object.keys(r.outputs).sort()).toEqual(['artifact-name', 'bundle', 'record-count', 'sha256', 'signed', 'trail']);
    expect(r.outputs.signed).toBe('false');
    expect(r.summary).not.toContain('<img');
    expect(r.summary).not.toMatch(/\]\(http:\/\/evil/);
    // The record keeps the bytes (JSON-escaped, one line): the trail is evidence, not markup.
    expect(readFileSync(r.outputs.trail as string, 'utf8')).toContain(JSON.stringify(evil).slice(1, -1));
  });

  it('a part whose name is a workflow command is refused, and the refusal stays inert', async () => {
    const home = trackedHome();
    const parts = writeParts(home);
    const d = join(parts, '::error::pwned');
    mkdirSync(d, { recursive: true });
    copyFileSync(join(parts, 'hallmark-audit-part-scan', AUDIT_FILE), join(d, AUDIT_FILE));
    const r = await auditTrail({ parts, signing: 'none', upload: 'false' }, home);
    expect(r.outputs['failure-reason']).toBe('part-broken');
    expect(r.errors).toHaveLength(1);
    expect(r.errors[0]).toMatch(/^audit-trail: part file .*pwned.* has a name that is not an artifact name/);
    expect(r.errors.some((e) => e === 'pwned')).toBe(false);
  });
});
