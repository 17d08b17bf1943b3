import { readFileSync } from 'node:fs';
import {
  audit,
  exec,
  fail,
  input,
  log,
  maskSecret,
  pathKind,
  printUntrusted,
  run,
  runnerContext,
  setOutputs,
  writeSummary,
} from '@hallmark/kit/runner';
import { auditFacts, auditSubject, flow } from './flow.js';
import { checkInputs, SCAN_TYPES } from './inputs.js';
import { actionsCache } from './runner.js';
import { THRESHOLDS } from './severity.js';

const ACTION = 'trivy-gate';

await run(ACTION, async () => {
  const ctx = runnerContext();
  const registryPassword = input.secret('registry-password');
  const scanType = input.oneOf('scan-type', SCAN_TYPES, { default: 'image' });
  const report = input.path('report', { kind: 'file' });
  // A path target (fs, config, sbom) is resolved by the kit; it need not exist when a report is gated instead.
  const targetGiven = input.string('target');
  const target =
    scanType === 'image' || !targetGiven
      ? targetGiven
      : input.resolvePath('target', targetGiven, { kind: scanType === 'sbom' ? 'file' : 'any', mustExist: !report });
  const cfg = checkInputs(
    {
      scanType,
      target,
      report,
      reportShown: input.string('report'),
      severity: input.oneOf('severity', THRESHOLDS, { default: 'HIGH', caseInsensitive: true }),
      ignoreUnfixed: input.boolean('ignore-unfixed', false),
      scanners: input.list('scanners'),
      scannersGiven: input.raw('scanners') !== '',
      ignoreFile: input.path('ignore-file', { kind: 'file' }),
      ignoreFileShown: input.string('ignore-file'),
      sarif: input.path('sarif', { kind: 'file', mustExist: false, default: 'trivy-results.sarif' }),
      json: input.path('json', { kind: 'file', mustExist: false, default: 'trivy-results.json' }),
      dbRepository: input.list('db-repository'),
      javaDbRepository: input.list('java-db-repository'),
      checksBundleRepository: input.list('checks-bundle-repository'),
      cache: input.boolean('cache', true),
      insecure: input.boolean('insecure', false),
      timeoutMs: input.duration('timeout', { default: '15m', min: 10_000, max: 6 * 3600_000 }),
      registryUsername: input.string('registry-username'),
      registryPasswordGiven: registryPassword !== '',
    },
    { workspace: ctx.workspace, now: new Date(), stat: pathKind, readText: (p) => readFileSync(p, 'utf8') },
  );
  audit.subject(auditSubject(cfg));
  audit.facts(auditFacts(cfg));
  const r = await flow(cfg, registryPassword, {
    // The kit's exec leaves INPUT_* and registered secrets out of trivy's environment; the flow also
    // removes TRIVY_USERNAME/TRIVY_PASSWORD/TRIVY_REGISTRY_TOKEN explicitly, with a warning.
    exec: (tool, args, o) => exec(tool, args, o),
    log: { info: log.info, warning: (m) => log.warning(m), errorAnnotation: log.errorAnnotation, untrusted: (t) => printUntrusted(t) },
    now: () => new Date(),
    sleep: (ms) => new Promise((res) => setTimeout(res, ms)),
    maskSecret,
    env: process.env,
    temp: ctx.temp,
    workspace: ctx.workspace,
    readFile: (p) => readFileSync(p),
    readText: (p) => {
      try {
        return readFileSync(p, 'utf8');
      } catch {
        return undefined;
      }
    },
    stat: pathKind,
    cache: { store: !cfg.report && cfg.cache ? await actionsCache() : undefined, os: process.env.RUNNER_OS || process.platform },
    attempts: Number(process.env.HALLMARK_TRIVY_DB_ATTEMPTS) || 3,
    backoffMs: process.env.HALLMARK_TRIVY_DB_BACKOFF_MS !== undefined ? Number(process.env.HALLMARK_TRIVY_DB_BACKOFF_MS) : 2000,
  });
  audit.facts(auditFacts(cfg, r));
  writeSummary(r.summary);
  setOutputs(r.outputs);
  if (r.failure) fail(ACTION, 'gate-failed', r.failure);
  else setOutputs({ 'failure-reason': '' });
});
