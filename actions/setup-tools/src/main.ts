import * as core from '@actions/core';
import { UserError, input, log, oneLine, run, runnerContext, setOutputs, splitList, writeSummary } from '@hallmark/kit';
import { plan, platformName, platformOf } from './catalog.js';
import { install, type Installed } from './flow.js';
import { checkPlatform, parseMirror, parseTools, parseVerify } from './inputs.js';
import { summaryMarkdown, toolsOutput, type Failed } from './summary.js';

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
  const platform = platformOf(process.platform, process.arch);
  checkPlatform(wanted, platform, `${process.platform}/${process.arch}`);
  if (!platform) return;
  if (mirror.plainHttp) log.warning(`${ACTION}: mirror ${mirror.base} is plain http: archives and checksum files travel unauthenticated over the same channel; prefer https`);

  const ctx = runnerContext();
  if (useCache && !ctx.toolCache) {
    log.warning(`${ACTION}: RUNNER_TOOL_CACHE is not set, so nothing can be cached; installing under RUNNER_TEMP as with cache: false`);
    useCache = false;
  }
  // The tool-cache/download side loads only once the inputs are valid (a bad input fails fast).
  const { runnerIo } = await import('./io.js');
  const io = runnerIo({ temp: ctx.temp, toolCache: ctx.toolCache, timeoutMs, attempts: retries + 1, retryDelayMs, log: (m) => log.info(m), warn: (m) => log.warning(m) });
  const { pinnedTrust } = await import('./trust/index.js');
  const results = await Promise.allSettled(wanted.map((w) => install(plan(w.tool, w.version, platform, mirror.base || undefined), { useCache, verify }, io, pinnedTrust)));

  const installed: Installed[] = [];
  const failed: Failed[] = [];
  results.forEach((r, i) => {
    const w = wanted[i] as (typeof wanted)[number];
    if (r.status === 'fulfilled') installed.push(r.value);
    else if (r.reason instanceof UserError) failed.push({ tool: w.tool, version: w.version, reason: r.reason.reason, message: r.reason.message });
    else throw r.reason;
  });

  writeSummary(summaryMarkdown(installed, failed, { platform: platformName(platform), mirror: mirror.base, useCache }));
  setOutputs({ tools: toolsOutput(installed), 'cache-hit': failed.length === 0 && installed.every((i) => i.cached) });

  if (failed.length === 1) throw new UserError((failed[0] as Failed).message, (failed[0] as Failed).reason);
  if (failed.length > 1) {
    for (const f of failed) log.errorAnnotation(`${ACTION}: ${oneLine(f.message, 1000)}`);
    const reason = failed.find((f) => f.reason === 'signature-invalid' || f.reason === 'checksum-mismatch')?.reason ?? (failed[0] as Failed).reason;
    throw new UserError(`${failed.length} of ${wanted.length} tools failed (${failed.map((f) => `${f.tool}: ${f.reason}`).join(', ')}); none was added to PATH`, reason);
  }
  // All or nothing: PATH changes only when every tool was verified and installed.
  for (const i of installed) core.addPath(i.path);
  for (const i of installed) log.info(`${i.tool} ${i.version} → ${i.path}/${i.binary}${i.cached ? ' (tool cache)' : ''}`);
});
