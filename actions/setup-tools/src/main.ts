import * as core from '@actions/core';
import { splitList } from '@hallmark/kit';
import { audit, input, log, run, runnerContext, setOutputs, writeSummary } from '@hallmark/kit/runner';
import { plan, platformName, platformOf } from './catalog.js';
import { installAll } from './flow.js';
import { checkPlatform, parseMirror, parseTools, parseVerify } from './inputs.js';
import { summaryMarkdown, toolsOutput } from './summary.js';

const ACTION = 'setup-tools';

await run(ACTION, async () => {
  // Inputs, all validated before anything is fetched or written.
  const wanted = parseTools(splitList(input.raw('tools')));
  const mirror = parseMirror(input.raw('mirror'));
  const verify = parseVerify(input.raw('verify'));
  let useCache = input.boolean('cache', true);
  const timeoutMs = input.duration('download-timeout', { default: '5m', min: 100, max: 3_600_000 });
  const retries = input.integer('retries', { default: 3, min: 0, max: 10 });
  const retryDelayMs = input.duration('retry-delay', { default: '1s', min: 0, max: 60_000 });
  audit.facts({ tools: wanted.map((w) => `${w.tool}@${w.version}`).join(','), verify, mirror: Boolean(mirror.base) });
  const platform = platformOf(process.platform, process.arch);
  checkPlatform(wanted, platform, `${process.platform}/${process.arch}`);
  if (!platform) return;
  if (mirror.plainHttp)
    log.warning(
      `${ACTION}: mirror ${mirror.base} is plain http: archives and checksum files travel unauthenticated over the same channel; prefer https`,
    );

  const ctx = runnerContext();
  if (useCache && !ctx.toolCache) {
    log.warning(`${ACTION}: RUNNER_TOOL_CACHE is not set, so nothing can be cached; installing under RUNNER_TEMP as with cache: false`);
    useCache = false;
  }
  // The tool-cache/download side loads only once the inputs are valid (a bad input fails fast).
  const { runnerIo } = await import('./runner.js');
  const io = runnerIo({
    temp: ctx.temp,
    toolCache: ctx.toolCache,
    timeoutMs,
    attempts: retries + 1,
    retryDelayMs,
    log: (m) => log.info(m),
    warn: (m) => log.warning(m),
  });
  const { pinnedTrust } = await import('./trust/index.js');
  const plans = wanted.map((w) => plan(w.tool, w.version, platform, mirror.base || undefined));
  const r = await installAll(plans, { useCache, verify }, io, pinnedTrust, (m) => log.errorAnnotation(m));

  const cacheHit = r.failed.length === 0 && r.installed.every((i) => i.cached);
  audit.facts({ 'cache-hit': cacheHit, 'installed-count': r.installed.length, 'failed-count': r.failed.length });
  writeSummary(summaryMarkdown(r.installed, r.failed, { platform: platformName(platform), mirror: mirror.base, useCache }));
  setOutputs({ tools: toolsOutput(r.installed), 'cache-hit': cacheHit });
  if (r.failure) throw r.failure;
  // All or nothing: PATH changes only when every tool was verified and installed.
  for (const i of r.installed) core.addPath(i.path);
  for (const i of r.installed) log.info(`${i.tool} ${i.version} → ${i.path}/${i.binary}${i.cached ? ' (tool cache)' : ''}`);
});
