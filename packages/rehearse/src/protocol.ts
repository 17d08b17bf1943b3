// The runner's protocol with a step, in one place for the rehearsal and test/harness/runner.ts:
// - file commands: the files behind GITHUB_OUTPUT, GITHUB_ENV, GITHUB_PATH, GITHUB_STATE and
//   GITHUB_STEP_SUMMARY; OUTPUT/ENV/STATE hold `name=value` lines and `name<<DELIMITER` blocks
//   (docs "Workflow commands for GitHub Actions" > "Multiline strings");
// - workflow commands: `::command key=value,…::data` lines on stdout, with `::stop-commands::TOKEN`
//   … `::TOKEN::` switching them off, and `%25`/`%0D`/`%0A` (data) and also `%3A`/`%2C`
//   (properties) escapes, as @actions/core writes them (toCommandValue / escapeData / escapeProperty).
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** The runner files of one step, by the variable that names them. */
export const RUNNER_FILES = ['GITHUB_OUTPUT', 'GITHUB_ENV', 'GITHUB_PATH', 'GITHUB_STEP_SUMMARY', 'GITHUB_STATE'] as const;
export type RunnerFile = (typeof RUNNER_FILES)[number];

/** Fresh, empty runner files in `dir` (created): variable → path. */
export function createRunnerFiles(dir: string): Record<RunnerFile, string> {
  mkdirSync(dir, { recursive: true });
  const files = {} as Record<RunnerFile, string>;
  for (const k of RUNNER_FILES) {
    files[k] = join(dir, k.toLowerCase());
    writeFileSync(files[k], '');
  }
  return files;
}

/** A runner file the runner would refuse (an unterminated heredoc, a line without `=`). */
export class FileCommandError extends Error {}

/** Parses a GITHUB_OUTPUT / GITHUB_ENV / GITHUB_STATE file: `k=v` lines and `k<<DELIM` blocks. */
export function parseFileCommands(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] as string;
    if (!line) continue;
    const heredoc = /^([^=<]+)<<(.+)$/.exec(line);
    if (heredoc && !line.includes('=')) {
      const key = heredoc[1] as string;
      const delim = heredoc[2] as string;
      const value: string[] = [];
      i++;
      while (i < lines.length && lines[i] !== delim) value.push(lines[i++] as string);
      if (i >= lines.length) throw new FileCommandError(`unterminated ${key}<<${delim} in a runner file`);
      out[key] = value.join('\n');
      continue;
    }
    const eq = line.indexOf('=');
    if (eq <= 0) throw new FileCommandError(`invalid line in a runner file: ${JSON.stringify(line.slice(0, 80))}`);
    out[line.slice(0, eq)] = line.slice(eq + 1);
  }
  return out;
}

/** The lines a GITHUB_PATH file adds, in the order written. */
export function parsePathFile(text: string): string[] {
  return text.split(/\r?\n/).filter(Boolean);
}

export interface WorkflowCommand {
  command: string;
  properties: Record<string, string>;
  value: string;
}

/** `%25`, `%0D`, `%0A` back to `%`, CR, LF (a command's data). */
export function unescapeData(s: string): string {
  return s.replace(/%0D/g, '\r').replace(/%0A/g, '\n').replace(/%25/g, '%');
}

/** A property value: the data escapes plus `%3A` and `%2C`. */
export function unescapeProperty(s: string): string {
  return unescapeData(s).replace(/%3A/g, ':').replace(/%2C/g, ',');
}

/** The runner's view of stdout: `::cmd k=v,…::data` lines, with `::stop-commands::TOKEN` … `::TOKEN::` honoured. */
export function parseWorkflowCommands(stdout: string): WorkflowCommand[] {
  const cmds: WorkflowCommand[] = [];
  let stopToken: string | undefined;
  for (const rawLine of stdout.split(/\r\n|\r|\n/)) {
    const line = rawLine.trimStart();
    if (stopToken !== undefined) {
      if (line === `::${stopToken}::`) stopToken = undefined;
      continue;
    }
    const m = /^::([A-Za-z-]+)(?: ([^:]*))?::(.*)$/.exec(line);
    if (!m) continue;
    const command = m[1] as string;
    const data = m[3] ?? '';
    const properties: Record<string, string> = {};
    for (const p of (m[2] ?? '').split(',').filter(Boolean)) {
      const eq = p.indexOf('=');
      if (eq > 0) properties[p.slice(0, eq).trim()] = unescapeProperty(p.slice(eq + 1));
    }
    if (command === 'stop-commands') {
      stopToken = data;
      continue;
    }
    cmds.push({ command, properties, value: unescapeData(data) });
  }
  return cmds;
}

/** What the runner acts on in a step's stdout: values to mask (`::add-mask::`) and `::error::` messages (on one line). */
export function stepCommands(stdout: string): { masks: string[]; errors: string[] } {
  const masks: string[] = [];
  const errors: string[] = [];
  for (const c of parseWorkflowCommands(stdout)) {
    if (c.command === 'add-mask' && c.value) masks.push(c.value);
    else if (c.command === 'error') errors.push(c.value.replace(/\r/g, '').replace(/\n/g, ' '));
  }
  return { masks, errors };
}
