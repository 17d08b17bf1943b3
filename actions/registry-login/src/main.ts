import * as core from '@actions/core';
import { http, input, log, maskSecret, run, runnerContext, setOutputs, UserError, writeSummary, HttpError } from '@hallmark/kit';
import { LoginError, login, logout } from './flow.js';
import { checkInputs } from './inputs.js';
import { summary } from './summary.js';

const ACTION = 'registry-login';

await run(ACTION, async () => {
  const ctx = runnerContext();
  // The post step (post-if: always()) runs this same bundle with the state the main step saved.
  if (core.getState('isPost') === 'true') {
    const removed = logout(core.getState('dir'), ctx.temp);
    log.info(`${ACTION}: ${removed ? 'removed the job\'s registry credentials' : 'nothing to remove'}`);
    return;
  }
  core.saveState('isPost', 'true');
  // Secrets first: masked before anything else reads or prints them.
  const password = input.secret('password');
  const githubToken = input.secret('github-token');
  const githubRegistry = input.string('github-registry', { default: 'ghcr.io' });
  const timeoutMs = input.duration('timeout', { default: '20s', min: 1000, max: 300_000 });
  const cfg = checkInputs({
    registry: input.string('registry'),
    image: input.string('image'),
    username: input.string('username'),
    passwordGiven: password !== '',
    githubTokenGiven: githubToken !== '',
    githubRegistry,
    insecure: input.boolean('insecure', false),
    verify: input.boolean('verify', true),
    actor: ctx.actor,
  });
  const secret = cfg.credentials === 'explicit' ? password : cfg.credentials === 'github-token' ? githubToken : '';
  let result;
  try {
    result = await login(cfg, secret, {
      temp: ctx.temp,
      home: process.env.HOME ?? '',
      dockerConfig: process.env.DOCKER_CONFIG ?? '',
      mask: maskSecret,
      info: log.info,
      async get(url, headers) {
        try {
          const r = await http.request({ url, headers, timeoutMs, attempts: 3 });
          return { status: r.status, headers: r.headers };
        } catch (e) {
          // A final 4xx is an answer, not an outage; 408/429 that outlasted the retries are (not a verdict on the credentials).
          if (e instanceof HttpError && e.status !== undefined && e.status < 500 && e.status !== 408 && e.status !== 429) return { status: e.status, headers: e.response?.headers ?? {} };
          throw e;
        }
      },
    });
  } catch (e) {
    if (e instanceof LoginError) throw new UserError(e.message, e.reason);
    throw e;
  }
  if (result.loggedIn && result.dockerConfig && result.authFile) {
    core.saveState('dir', result.dockerConfig);
    core.exportVariable('DOCKER_CONFIG', result.dockerConfig);
    core.exportVariable('REGISTRY_AUTH_FILE', result.authFile);
    log.info(`${ACTION}: logged in to ${cfg.registry} as ${cfg.credentials === 'github-token' ? `${cfg.username} (job token)` : cfg.username}; DOCKER_CONFIG and REGISTRY_AUTH_FILE point at the job's config${result.pluginsLinked ? ' (docker CLI plugins kept)' : ''}`);
  } else log.notice(`${ACTION}: no credentials for ${cfg.registry} (neither username/password nor, for ${cfg.registry === githubRegistry ? 'it' : githubRegistry}, the job token): tools pull anonymously`);
  setOutputs({ registry: result.registry, 'logged-in': String(result.loggedIn), 'docker-config': result.dockerConfig ?? '' });
  await writeSummary(summary(result));
});
