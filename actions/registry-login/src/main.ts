import * as core from '@actions/core';
import { HttpError, UserError } from '@hallmark/kit';
import { audit, http, input, log, maskSecret, run, runnerContext, setOutputs, writeSummary } from '@hallmark/kit/runner';
import { LoginError, login, logout, type LoginResult } from './flow.js';
import { checkInputs } from './inputs.js';
import { summary } from './summary.js';

const ACTION = 'registry-login';

// The post step (post-if: always()) runs this same bundle with the state the main step saved; it
// writes no audit record (the login's record is the main step's).
const isPost = core.getState('isPost') === 'true';

await run(
  ACTION,
  async () => {
    const ctx = runnerContext();
    if (isPost) {
      const removed = logout(core.getState('dir'), ctx.temp);
      log.info(`${ACTION}: ${removed ? "removed the job's registry credentials" : 'nothing to remove'}`);
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
    // Never the user name (it may come from a secret) nor the password: which registry, and which kind of credentials.
    audit.facts({ registry: cfg.registry, credentials: cfg.credentials, verify: cfg.verify });
    const secret = cfg.credentials === 'explicit' ? password : cfg.credentials === 'github-token' ? githubToken : '';
    let result: LoginResult;
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
            if (e instanceof HttpError && e.status !== undefined && e.status < 500 && e.status !== 408 && e.status !== 429)
              return { status: e.status, headers: e.response?.headers ?? {} };
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
      log.info(
        `${ACTION}: logged in to ${cfg.registry} as ${cfg.credentials === 'github-token' ? `${cfg.username} (job token)` : cfg.username}; DOCKER_CONFIG and REGISTRY_AUTH_FILE point at the job's config${result.pluginsLinked ? ' (docker CLI plugins kept)' : ''}`,
      );
    } else
      log.notice(
        `${ACTION}: no credentials for ${cfg.registry} (neither username/password nor, for ${cfg.registry === githubRegistry ? 'it' : githubRegistry}, the job token): tools pull anonymously`,
      );
    audit.facts({ 'logged-in': result.loggedIn, checked: result.checked });
    setOutputs({ registry: result.registry, 'logged-in': String(result.loggedIn), 'docker-config': result.dockerConfig ?? '' });
    await writeSummary(summary(result));
  },
  { audit: !isPost },
);
