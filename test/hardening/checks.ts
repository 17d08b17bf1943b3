/**
 * The generic checks of the canary and injection suites, kept apart from the suites so that
 * selftest.test.ts can prove each one fails on the defect it is there to catch.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { filesText, findLeaks, runnerVisible } from './lib.js';
import type { CanaryScenario, InjectionInput, Outcome } from './scenarios/types.js';
import { ROOT } from '../harness/runner.js';

export function checkCanary(s: Pick<CanaryScenario, 'labels' | 'expect'>, o: Outcome, values: Record<string, string>): void {
  const r = o.result;
  const shown = `\n--- stdout ---\n${r.stdout}\n--- stderr ---\n${r.stderr}`;
  expect(r.timedOut, 'the step ended').toBe(false);
  expect(r.code, `exit code${shown}`).toBe(s.expect.code);
  if (s.expect.code === 1) expect(r.outputs['failure-reason']).toBe(s.expect.reason);

  const problems: string[] = [];
  for (const hit of findLeaks(runnerVisible(r), values)) problems.push(`runner-visible output: ${hit}`);
  for (const dir of [r.home.root, ...(o.scan ?? [])]) {
    for (const f of filesText(dir)) for (const hit of findLeaks(f.text, values)) problems.push(`file ${f.file}: ${hit}`);
  }
  for (const b of o.blobs ?? [])
    for (const hit of findLeaks(typeof b.data === 'string' ? b.data : b.data.toString('latin1'), values))
      problems.push(`${b.name}: ${hit}`);
  for (const srv of o.servers ?? []) {
    for (const q of srv.requests()) {
      for (const hit of findLeaks(q.body.toString('latin1'), values)) problems.push(`${srv.name} ${q.method} ${q.path} (body): ${hit}`);
      for (const [label, value] of Object.entries(values)) {
        if (findLeaks(q.url, { [label]: value }).length === 0) continue;
        const allowed = (srv.allow ?? []).some((a) => a.label === label && a.header === ':url' && (!a.path || a.path.test(q.path)));
        if (!allowed) problems.push(`${srv.name} ${q.method} ${q.path} (url): ${label}`);
      }
      for (const [name, v] of Object.entries(q.headers)) {
        const text = Array.isArray(v) ? v.join('\n') : String(v ?? '');
        for (const [label, value] of Object.entries(values)) {
          if (findLeaks(text, { [label]: value }).length === 0) continue;
          const allowed = (srv.allow ?? []).some(
            (a) => a.label === label && a.header.toLowerCase() === name.toLowerCase() && (!a.path || a.path.test(q.path)),
          );
          if (!allowed) problems.push(`${srv.name} ${q.method} ${q.path} header ${name}: ${label}`);
        }
      }
    }
  }
  expect(problems, shown).toEqual([]);

  // Secret inputs are masked on read: the runner's masker hears of each one.
  const masks = r.commands.filter((c) => c.command === 'add-mask').map((c) => c.value);
  for (const label of s.labels.filter((l) => l.startsWith('input:'))) {
    const v = values[label] as string;
    const firstLine =
      v
        .split('\n')
        .find((l) => l.trim().length >= 4)
        ?.trim() ?? v;
    expect(
      masks.some((m) => m === v || m === v.trim() || m === firstLine),
      `${label} registered with ::add-mask::`,
    ).toBe(true);
  }
}

/** Commands that hallmark never writes to stdout (it uses the runner files), and legacy ones. */
const FORBIDDEN = ['set-output', 'set-env', 'add-path', 'save-state', 'echo', 'add-matcher', 'remove-matcher'];

/** The outputs action.yml declares; read by indentation if the file is not valid YAML (a separate test reports that). */
export function declaredOutputs(action: string): string[] {
  const text = readFileSync(join(ROOT, 'actions', action, 'action.yml'), 'utf8');
  try {
    return Object.keys((parseYaml(text) as { outputs?: Record<string, unknown> }).outputs ?? {});
  } catch {
    const block = /^outputs:\n((?:[ \t].*\n|\n)*)/m.exec(text)?.[1] ?? '';
    return [...block.matchAll(/^ {2}([A-Za-z0-9_-]+):/gm)].map((m) => m[1] as string);
  }
}

export function checkWorkflow(action: string, o: Outcome, p: InjectionInput): void {
  const r = o.result;
  const shown = `\n--- payload ---\n${JSON.stringify(p.payload)}\n--- stdout ---\n${r.stdout}`;
  expect(r.timedOut, 'the step ended').toBe(false);
  // Outputs: only declared ones, none named by the payload, none carrying a second line that is a command or a heredoc.
  const declared = declaredOutputs(action);
  expect(
    Object.keys(r.outputs).filter((k) => !declared.includes(k)),
    `undeclared outputs${shown}`,
  ).toEqual([]);
  for (const file of [r.outputs, r.env, r.state]) {
    expect(
      Object.keys(file).filter((k) => k.includes(p.tag)),
      `a key named by the payload${shown}`,
    ).toEqual([]);
  }
  expect(
    r.path.filter((l) => l.includes(p.tag)),
    'a PATH entry from the payload',
  ).toEqual([]);
  // Commands the runner would act on.
  const bad: string[] = [];
  for (const c of r.commands) {
    if (FORBIDDEN.includes(c.command)) bad.push(`::${c.command}:: (${c.value})`);
    if (c.command.includes(p.tag)) bad.push(`command ${c.command}`);
    if (c.value.startsWith(p.tag)) bad.push(`::${c.command}:: whose text is the payload's: ${c.value}`);
    for (const [k, v] of Object.entries(c.properties)) if (k.includes(p.tag) || v.includes(p.tag)) bad.push(`::${c.command} ${k}=${v}::`);
    if (c.command === 'add-mask' && (c.value === 'octo-org' || c.value.includes(p.tag))) bad.push(`::add-mask::${c.value}`);
  }
  // Raw stdout, read as the runner reads it: outside a stop-commands block, a stop-commands token
  // must be ours (32 hex) and be resumed; no legacy `##[` command. Inside a block nothing counts.
  const lines = r.stdout.split(/\r\n|\r|\n/).map((l) => l.trimStart());
  let active: string | undefined;
  lines.forEach((l) => {
    if (active !== undefined) {
      if (l === `::${active}::`) active = undefined;
      return;
    }
    const m = /^::stop-commands::(.*)$/.exec(l);
    if (m) {
      if (!/^[0-9a-f]{32}$/.test(m[1] as string)) bad.push(`stop-commands with a token not ours: ${l}`);
      active = m[1] as string;
    }
    if (l.startsWith('##[')) bad.push(`legacy command line: ${l}`);
  });
  if (active !== undefined) bad.push(`stop-commands ${active} never resumed: the rest of the log is dead`);
  expect(bad, shown).toEqual([]);
  expect(existsSync(p.canaryFile), 'a shell ran').toBe(false);
}
