/**
 * The terraform stand-in must be honest: it rejects flags the real CLI does not have, prints the
 * recorded plan JSON byte for byte, refuses stale plans and held locks with Terraform's wording,
 * and refuses variables with a saved plan as Terraform does.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { describeFixtures, fixturePath } from '../harness/fixtures.js';
import { ROOT } from '../harness/runner.js';

const TF = join(ROOT, 'test', 'stand-ins', 'terraform');

function dir(): { cwd: string; state: string } {
  const cwd = mkdtempSync(join(tmpdir(), 'hallmark-tf-standin-'));
  return { cwd, state: join(cwd, 'state', 'terraform.tfstate') };
}
function terraform(d: { cwd: string; state: string }, args: string[], env: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, [TF, ...args], { cwd: d.cwd, env: { PATH: process.env.PATH, TF_STANDIN_STATE: d.state, ...env }, encoding: 'utf8' });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('terraform stand-in flags', () => {
  it('rejects flags terraform does not have, and flags of another subcommand', () => {
    const d = dir();
    expect(terraform(d, ['init', '-input=false', '-no-color']).code).toBe(0);
    const bad = terraform(d, ['plan', '-auto-approve']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('flag provided but not defined: -auto-approve');
    expect(terraform(d, ['plan', '--out-file=x']).stderr).toContain('flag provided but not defined');
    expect(terraform(d, ['apply', '-detailed-exitcode', 'x']).code).toBe(1);
    expect(terraform(d, ['plan', '-lock-timeout=5 minutes']).stderr).toContain('invalid duration');
    expect(terraform(d, ['frobnicate']).stderr).toContain('no command named');
    expect(terraform(d, ['plan', '-input=maybe']).stderr).toContain('invalid boolean value');
  });

  it('plan needs init first, like terraform', () => {
    const d = dir();
    expect(terraform(d, ['plan', '-input=false']).stderr).toContain('terraform init');
  });
});

describeFixtures('terraform stand-in behaviour', () => {
  it('show -json prints the recorded plan byte for byte; -detailed-exitcode says 2 for changes, 0 for none', () => {
    const d = dir();
    terraform(d, ['init', '-input=false']);
    const p = terraform(d, ['plan', '-input=false', '-out=tfplan', '-detailed-exitcode'], { TF_STANDIN_FIXTURE: 'tofu-show-json-replace.json' });
    expect(p.code).toBe(2);
    expect(p.stdout).toContain('Plan: 1 to add, 0 to change, 1 to destroy.');
    const show = terraform(d, ['show', '-json', 'tfplan']);
    expect(show.stdout.trimEnd()).toBe(readFileSync(fixturePath('terraform', 'tofu-show-json-replace.json'), 'utf8').trimEnd());
    const none = terraform(d, ['plan', '-input=false', '-out=noop', '-detailed-exitcode'], { TF_STANDIN_FIXTURE: 'tofu-show-json-no-op.json' });
    expect(none.code).toBe(0);
    // Two plans of the same configuration are different files, as with the real CLI.
    terraform(d, ['plan', '-input=false', '-out=again'], { TF_STANDIN_FIXTURE: 'tofu-show-json-replace.json' });
    expect(readFileSync(join(d.cwd, 'again'))).not.toEqual(readFileSync(join(d.cwd, 'tfplan')));
  });

  it('an errored recorded plan makes plan fail', () => {
    const d = dir();
    terraform(d, ['init']);
    expect(terraform(d, ['plan', '-out=x'], { TF_STANDIN_FIXTURE: 'tf-show-json-plan-error.json' }).code).toBe(1);
  });

  it('apply: stale plan, held lock and -var-file with a saved plan are refused with terraform wording', () => {
    const d = dir();
    terraform(d, ['init']);
    writeFileSync(join(d.cwd, 'x.tfvars'), 'a = 1\n');
    expect(terraform(d, ['plan', '-out=p1', '-var-file=missing.tfvars']).stderr).toContain('Given variables file missing.tfvars does not exist.');
    terraform(d, ['plan', '-out=p1', '-var-file=x.tfvars']);
    terraform(d, ['plan', '-out=p2']);
    expect(terraform(d, ['apply', '-var-file=x.tfvars', 'p1']).stderr).toContain("Can't set variables when applying a saved plan");
    const lock = join(d.cwd, 'lock');
    writeFileSync(lock, 'ci@elsewhere');
    const locked = terraform(d, ['apply', '-input=false', 'p1'], { TF_STANDIN_LOCK: lock });
    expect(locked.code).toBe(1);
    expect(locked.stderr).toContain('Error acquiring the state lock');
    expect(locked.stderr).toContain('Who:       ci@elsewhere');
    const ok = terraform(d, ['apply', '-input=false', 'p1'], { TF_STANDIN_LOCK: join(d.cwd, 'no-lock') });
    expect(ok.code).toBe(0);
    expect(ok.stdout).toContain('Apply complete! Resources: 1 added, 0 changed, 0 destroyed.');
    const stale = terraform(d, ['apply', '-input=false', 'p2']);
    expect(stale.code).toBe(1);
    expect(stale.stderr).toContain('Error: Saved plan is stale');
    expect(stale.stderr).toContain('can no longer be applied because the state was changed');
  });

  it('output -json keeps the sensitive flag of recorded outputs', () => {
    const d = dir();
    mkdirSync(join(d.cwd, 'x'));
    terraform(d, ['init']);
    terraform(d, ['plan', '-out=p'], { TF_STANDIN_FIXTURE: 'tofu-show-json-sensitive-values.json' });
    expect(terraform(d, ['apply', 'p']).code).toBe(0);
    expect(JSON.parse(terraform(d, ['output', '-json']).stdout)).toEqual({ test: { sensitive: true, type: 'string', value: 'boop' } });
  });
});
