/**
 * The helm stand-in (test/stand-ins/helm) behaves like helm where deploy-prod depends on it:
 * flags checked against the real CLI, release revisions kept, rollback to the previous revision.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ROOT } from '../harness/runner.js';

const HELM = join(ROOT, 'test/stand-ins/helm');
const dir = mkdtempSync(join(tmpdir(), 'hallmark-helm-standin-'));
const chart = join(dir, 'chart');
mkdirSync(chart);
writeFileSync(join(chart, 'Chart.yaml'), 'apiVersion: v2\nname: api\nversion: 0.1.0\n');
const helm = (...args: string[]) => spawnSync(HELM, args, { encoding: 'utf8', env: { ...process.env, HELM_STANDIN_STATE: join(dir, 'state') } });
const digest = (c: string) => `sha256:${c.repeat(64)}`;
const upgrade = (d: string) => helm('upgrade', '--install', 'api', chart, '--namespace', 'shop', '--atomic', '--wait', '--timeout', '5m', '--set-string', 'image.repository=r.example/api', '--set-string', `image.digest=${d}`);

describe('helm stand-in', () => {
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('refuses a flag the real helm does not have, the way cobra does', () => {
    const r = helm('upgrade', '--install', 'api', chart, '--atomik');
    expect(r.status).toBe(1);
    expect(r.stderr).toBe('Error: unknown flag: --atomik\n');
    expect(helm('upgrade', 'api', chart, '--timeout', '5 minutes').stderr).toMatch(/invalid duration "5 minutes"/);
    expect(helm('upgrade', 'api', join(dir, 'nope'), '--install').stderr).toMatch(/path ".*nope" not found/);
  });

  it('installs, upgrades and rolls back to the previous revision, keeping the history', () => {
    expect(upgrade(digest('a')).stdout).toMatch(/does not exist\. Installing it now[\s\S]*REVISION: 1/);
    expect(upgrade(digest('b')).stdout).toMatch(/has been upgraded\. Happy Helming![\s\S]*REVISION: 2/);
    expect(helm('rollback', 'api', '--namespace', 'shop', '--wait', '--timeout', '5m').stdout).toBe('Rollback was a success! Happy Helming!\n');
    const history = JSON.parse(helm('history', 'api', '-n', 'shop', '-o', 'json').stdout) as { revision: number; status: string; description: string }[];
    expect(history.map((h) => [h.revision, h.status, h.description])).toEqual([
      [1, 'superseded', 'Install complete'],
      [2, 'superseded', 'Upgrade complete'],
      [3, 'deployed', 'Rollback to 1'],
    ]);
    const status = JSON.parse(helm('status', 'api', '-n', 'shop', '-o', 'json').stdout) as { version: number; config: { image: { digest: string } } };
    expect(status.version).toBe(3);
    expect(status.config.image.digest).toBe(digest('a'));
  });
});
