// `concurrency:` as GitHub documents it ("Control the concurrency of workflows and jobs",
// docs.github.com/en/actions/writing-workflows/choosing-what-your-workflow-does/control-the-concurrency-of-workflows-and-jobs):
// in one concurrency group at most one run (or job) is running and at most one is pending. When a
// new one enters a group that already has a running one, it becomes the pending one, and the run
// that was pending before it is cancelled. With `cancel-in-progress: true` the running one is
// cancelled too, and the newcomer runs as soon as it has stopped.
//
// The groups live in a JSON state file shared by every rehearsal that names it (`--concurrency-state`;
// the CLI's default is one per user in the temp directory, so two rehearsals started from two shells
// meet there, as two runs of one repository meet on GitHub; rehearse() called from code defaults to
// one per process, so parallel test files do not queue behind each other). Each entry carries the pid of its rehearsal:
// an entry whose process is gone is dropped (a killed rehearsal does not hold its group forever).
import { mkdirSync, readFileSync, rmdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** `scope: 'user'` (the CLI's default) or `'process'` (rehearse()'s default). */
export function defaultStateFile(scope: 'user' | 'process' = 'user'): string {
  return join(
    tmpdir(),
    `hallmark-rehearse-concurrency-${process.getuid?.() ?? 'user'}${scope === 'process' ? `-${process.pid}` : ''}.json`,
  );
}

function alive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function withLock<T>(file: string, fn: (doc: StateDoc) => T): Promise<T> {
  const lock = `${file}.lock`;
  for (let i = 0; ; i++) {
    try {
      mkdirSync(lock);
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      // A lock older than 10 s was left by a process that died holding it.
      try {
        if (Date.now() - statSync(lock).mtimeMs > 10_000) rmdirSync(lock);
      } catch {
        /* gone meanwhile */
      }
      await sleep(i < 20 ? 5 : 25);
    }
  }
  try {
    let doc: StateDoc = { groups: {} };
    let before = '';
    try {
      before = readFileSync(file, 'utf8');
      doc = JSON.parse(before) as StateDoc;
    } catch {
      /* a new file */
    }
    doc.groups ??= {};
    const out = fn(doc);
    // Written only when changed; no group left: no file left behind.
    const after = JSON.stringify(doc, null, 2);
    if (!Object.keys(doc.groups).length) rmSync(file, { force: true });
    else if (after !== before) writeFileSync(file, after);
    return out;
  } finally {
    rmdirSync(lock);
  }
}

/** Drops entries whose rehearsal process has gone. */
function tidy(g: Group): void {
  if (g.running && !alive(g.running.pid)) g.running = null;
  if (g.pending && !alive(g.pending.pid)) g.pending = null;
  g.cancelled = (g.cancelled ?? []).filter((c) => alive(c.pid));
  g.cancelRunning = g.cancelRunning && g.running && g.cancelRunning === g.running.key ? g.cancelRunning : null;
}

/**
 * Enters `group` as `key`. Resolves { status: 'running', release, cancelled: Promise } once it may
 * run (cancelled resolves when a newer entry with cancel-in-progress cancels it), or
 * { status: 'cancelled', by } when a newer entry replaced it while it was pending. `onWait(text)`
 * is told once when it has to wait.
 */
export async function enterGroup({
  file = defaultStateFile(),
  group,
  key,
  cancelInProgress = false,
  onWait,
  pollMs = 50,
}: {
  file?: string;
  group: string;
  key: string;
  cancelInProgress?: boolean;
  onWait?: (text: string) => void;
  pollMs?: number;
}): Promise<GroupEntry> {
  const me: Entry = { key, pid: process.pid, since: new Date().toISOString() };
  const first = await withLock(file, (doc) => {
    const g = (doc.groups[group] ??= { running: null, pending: null, cancelled: [] });
    tidy(g);
    if (cancelInProgress && g.running) g.cancelRunning = g.running.key;
    if (!g.running && !g.pending) {
      g.running = me;
      return 'running';
    }
    if (g.pending) g.cancelled.push({ ...g.pending, by: key });
    g.pending = me;
    return g.running ? `pending behind ${g.running.key}` : 'pending';
  });
  if (first !== 'running') onWait?.(first);
  while (first !== 'running') {
    const now = await withLock(file, (doc): { status: 'cancelled'; by: string } | { status: 'running' } | undefined => {
      const g = (doc.groups[group] ??= { running: null, pending: null, cancelled: [] });
      tidy(g);
      const c = g.cancelled.findIndex((x) => x.key === key);
      if (c >= 0) {
        const [gone] = g.cancelled.splice(c, 1);
        return { status: 'cancelled', by: gone?.by ?? '' };
      }
      if (!g.running && g.pending?.key === key) {
        g.running = me;
        g.pending = null;
        return { status: 'running' };
      }
      return undefined;
    });
    if (now?.status === 'cancelled') return now;
    if (now) break;
    await sleep(pollMs);
  }
  let stop = false;
  let onCancel: (why: string) => void = () => {};
  const cancelled = new Promise<string>((r) => {
    onCancel = r;
  });
  (async () => {
    while (!stop) {
      await sleep(pollMs * 4);
      if (stop) break;
      const asked = await withLock(file, (doc) => doc.groups[group]?.cancelRunning === key);
      if (asked) {
        onCancel('a newer run in the group has cancel-in-progress');
        break;
      }
    }
  })();
  return {
    status: 'running',
    cancelled,
    release: async () => {
      stop = true;
      await withLock(file, (doc) => {
        const g = doc.groups[group];
        if (!g) return;
        if (g.running?.key === key) g.running = null;
        if (g.cancelRunning === key) g.cancelRunning = null;
        if (!g.running && !g.pending && !(g.cancelled ?? []).length) delete doc.groups[group];
      });
    },
  };
}

/** A `concurrency:` value (string or { group, cancel-in-progress }) after interpolation. */
export function concurrencySpec(value: unknown): { group: string; cancelInProgress: boolean } | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  if (typeof value === 'string') return { group: value, cancelInProgress: false };
  if (typeof value === 'object' && !Array.isArray(value)) {
    const v = value as Record<string, unknown>;
    const group = String(v.group ?? '');
    if (!group) throw new Error("concurrency: 'group' is empty");
    const c = v['cancel-in-progress'];
    return { group, cancelInProgress: c === true || c === 'true' };
  }
  throw new Error(`concurrency: expected a group name or { group, cancel-in-progress }, got ${JSON.stringify(value)}`);
}

interface Entry {
  key: string;
  pid: number;
  since: string;
  by?: string;
}
interface Group {
  running: Entry | null;
  pending: Entry | null;
  cancelled: Entry[];
  cancelRunning?: string | null;
}
interface StateDoc {
  groups: Record<string, Group>;
}
/** The outcome of entering a group: running (with release and the cancel signal), or cancelled while pending. */
export type GroupEntry =
  | { status: 'running'; cancelled: Promise<string>; release: () => Promise<void> }
  | { status: 'cancelled'; by: string; cancelled?: undefined; release?: undefined };
