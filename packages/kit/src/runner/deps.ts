import type { StdDeps } from '../deps.js';
import { sleep } from '../retry.js';
import { runnerContext } from './context.js';
import { exec } from './exec.js';
import { request } from './http.js';
import * as log from './log.js';
import { maskSecret } from './secrets.js';

/** The standard Deps of a flow, built once in main.ts: `flow(cfg, { ...standardDeps(ACTION), upload })`. */
export function standardDeps(action: string): StdDeps {
  const context = runnerContext();
  return {
    action,
    exec: (tool, args, opts) => exec(tool, args, opts),
    http: (req) => request(req),
    log: {
      info: (m) => log.info(m),
      warning: (m) => log.warning(m),
      notice: (m) => log.notice(m),
      debug: (m) => log.debug(m),
      untrusted: (t) => log.printUntrusted(t),
    },
    mask: maskSecret,
    paths: { temp: context.temp, workspace: context.workspace, toolCache: context.toolCache },
    context,
    env: (name) => process.env[name],
    now: () => new Date(),
    sleep,
  };
}
