// SIMULATED: local equivalents of the cloud sign-in actions deploy-prod's `cluster-auth` uses, so a
// rehearsal of the gke / eks / aks modes runs without a cloud. Registered in local.ts'
// TABLE as `cloud:<name>`. No cloud can be reached here; what these keep from the real actions
// (read at the pinned tags: action.yml and src/main.ts of each) is what deploy-prod relies on:
//
// - google-github-actions/auth v3.0.0: `workload_identity_provider` must be the full provider name
//   (projects/<number>/locations/global/workloadIdentityPools/<pool>/providers/<provider>) with
//   `service_account`; it needs the job's OIDC token (id-token: write) and fails without it, as the
//   real one does. It writes a credentials file `gha-creds-<random>.json` into GITHUB_WORKSPACE and
//   exports GOOGLE_APPLICATION_CREDENTIALS / CLOUDSDK_AUTH_CREDENTIAL_FILE_OVERRIDE, as the real one
//   does (src/main.ts: "we explicitly and intentionally export to GITHUB_WORKSPACE"); its post step
//   removes the file.
// - google-github-actions/get-gke-credentials v3.0.0: `cluster_name` required, `location` required
//   unless the name is a full resource name; needs the auth step's credentials; writes
//   `gha-kubeconfig-<random>` (0600) into GITHUB_WORKSPACE and exports KUBECONFIG (src/main.ts).
// - aws-actions/configure-aws-credentials v6.2.3: `aws-region` required, `role-to-assume` an IAM
//   role ARN, the OIDC token required for a role without keys; exports AWS_REGION,
//   AWS_DEFAULT_REGION and masked AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY / AWS_SESSION_TOKEN.
// - azure/login v3.0.1: OIDC login with client-id, tenant-id and subscription-id (no client
//   secret); fails without the OIDC token.
//
// The OIDC token is really fetched from the rehearsal's token service (ACTIONS_ID_TOKEN_REQUEST_URL,
// present only when the job grants id-token: write) with the audience the real action asks for, and
// its claims are checked against the simulated cloud's trust condition: the repository, and the
// ref when HALLMARK_SIMULATED_CLOUD_REF is set (the WIF principal restricted to refs/heads/main).
//
// The "cluster" every mode reaches is the rehearsal's loopback Kubernetes API server: the kubeconfig
// file named by HALLMARK_SIMULATED_CLUSTER_KUBECONFIG. `aws eks update-kubeconfig` and
// `az aks get-credentials` (CLIs preinstalled on GitHub's runners) are SIMULATED too: the aws/azure
// stand-ins put a tiny `aws` / `az` on the job's PATH that implements only those subcommands, and
// only once the login step has run (they read the credentials it exported).
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { JobState, RunState } from '../state.js';
import type { EquivalentContext, EquivalentResult, Inputs } from './local.js';

type Env = Record<string, string | undefined>;

export const CLOUD_EQUIVALENTS = ['gcp-auth', 'get-gke-credentials', 'aws-credentials', 'azure-login'];

const WIF_PROVIDER = /^projects\/\d+\/locations\/global\/workloadIdentityPools\/[a-z0-9-]{4,32}\/providers\/[a-z0-9-]{4,32}$/;
const SA_EMAIL = /^[a-z][a-z0-9-]{4,28}[a-z0-9]@[a-z0-9-]+\.iam\.gserviceaccount\.com$/;
const ROLE_ARN = /^arn:aws[a-z-]*:iam::\d{12}:role\/[A-Za-z0-9+=,.@_/-]+$/;
const AWS_REGION = /^[a-z]{2}(-gov)?-[a-z]+-\d$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

const need = (inputs: Inputs, name: string, re?: RegExp, what?: string): string => {
  const v = String(inputs[name] ?? '').trim();
  if (!v) throw new Error(`input '${name}' is required`);
  if (re && !re.test(v)) throw new Error(`input '${name}' must be ${what}, got '${v.slice(0, 120)}'`);
  return v;
};

/** The job's OIDC token from the rehearsal's token service, and its claims; checked against the simulated cloud's trust. */
async function oidc(env: Env, audience: string, who: string): Promise<{ jwt: string; claims: Record<string, string | undefined> }> {
  const url = env.ACTIONS_ID_TOKEN_REQUEST_URL;
  const token = env.ACTIONS_ID_TOKEN_REQUEST_TOKEN;
  if (!url || !token)
    throw new Error(`${who}: Unable to get ACTIONS_ID_TOKEN_REQUEST_URL env variable (the job needs permissions: id-token: write)`);
  const u = new URL(url);
  u.searchParams.set('audience', audience);
  const r = await fetch(u, {
    headers: { authorization: `Bearer ${token}`, accept: 'application/json' },
    signal: AbortSignal.timeout(20_000),
  });
  if (r.status !== 200) throw new Error(`${who}: the OIDC token request answered HTTP ${r.status}`);
  const jwt = String(((await r.json()) as { value?: unknown } | null)?.value ?? '');
  const claims: Record<string, string | undefined> = JSON.parse(Buffer.from(jwt.split('.')[1] ?? '', 'base64url').toString('utf8') || '{}');
  const repo = env.GITHUB_REPOSITORY;
  if (claims.repository && repo && claims.repository !== repo)
    throw new Error(`${who}: SIMULATED cloud refused the token: repository ${claims.repository} is not ${repo}`);
  const wantRef = env.HALLMARK_SIMULATED_CLOUD_REF;
  const ref = claims.ref ?? env.GITHUB_REF;
  if (wantRef && ref !== wantRef)
    throw new Error(`${who}: SIMULATED cloud refused the token: the trust condition requires ref ${wantRef}, the token says ${ref}`);
  return { jwt, claims };
}

function clusterKubeconfig(env: Env, who: string): string {
  const f = env.HALLMARK_SIMULATED_CLUSTER_KUBECONFIG;
  if (!f || !existsSync(f))
    throw new Error(
      `${who}: the rehearsal has no simulated cluster (set HALLMARK_SIMULATED_CLUSTER_KUBECONFIG to a kubeconfig of the loopback API server)`,
    );
  return readFileSync(f, 'utf8');
}

/** A SIMULATED cloud CLI on the job's PATH: a node script implementing one subcommand. */
function installCli(state: RunState, jobState: JobState, name: string, body: string): string {
  const dir = join(state.runDir, 'simulated-cli', `${name}-${randomBytes(3).toString('hex')}`);
  mkdirSync(dir, { recursive: true });
  const file = join(dir, name);
  writeFileSync(
    file,
    `#!${process.execPath}\n// SIMULATED ${name} CLI (packages/rehearse/src/equivalents/cloud.ts): only what deploy-prod runs.\n${body}\n`,
  );
  chmodSync(file, 0o755);
  jobState.path.unshift(dir);
  return file;
}

const CLI_COMMON = `
const fs = require('node:fs');
const args = process.argv.slice(2);
const flag = (n) => { const i = args.indexOf(n); return i >= 0 ? args[i + 1] : undefined; };
const die = (m) => { process.stderr.write(m + '\\n'); process.exit(2); };
const src = process.env.HALLMARK_SIMULATED_CLUSTER_KUBECONFIG;
if (!src || !fs.existsSync(src)) die('no simulated cluster (HALLMARK_SIMULATED_CLUSTER_KUBECONFIG)');
`;

export async function runCloudEquivalent(
  name: string,
  inputs: Inputs,
  { state, env, home, jobState }: EquivalentContext,
): Promise<EquivalentResult> {
  const mask = (v: string) => state.addMask(v);
  switch (name) {
    case 'gcp-auth': {
      if (inputs.credentials_json)
        throw new Error("input 'credentials_json' is a long-lived key: deploy-prod uses Workload Identity Federation only");
      const provider = need(
        inputs,
        'workload_identity_provider',
        WIF_PROVIDER,
        'projects/<number>/locations/global/workloadIdentityPools/<pool>/providers/<provider>',
      );
      const sa = need(inputs, 'service_account', SA_EMAIL, 'a service account email <name>@<project>.iam.gserviceaccount.com');
      await oidc(env, `https://iam.googleapis.com/${provider}`, 'google-github-actions/auth');
      const file = join(home.workspace, `gha-creds-${randomBytes(8).toString('hex')}.json`);
      writeFileSync(
        file,
        JSON.stringify({
          type: 'external_account',
          audience: `//iam.googleapis.com/${provider}`,
          service_account_impersonation_url: `https://iamcredentials.googleapis.com/v1/projects/-/serviceAccounts/${sa}:generateAccessToken`,
          simulated: true,
        }),
        { mode: 0o600 },
      );
      const project = sa.split('@')[1]?.split('.')[0] ?? '';
      Object.assign(jobState.env, {
        GOOGLE_APPLICATION_CREDENTIALS: file,
        CLOUDSDK_AUTH_CREDENTIAL_FILE_OVERRIDE: file,
        GOOGLE_GHA_CREDS_PATH: file,
        CLOUDSDK_CORE_PROJECT: project,
        GCLOUD_PROJECT: project,
      });
      return {
        log: `google-github-actions/auth (SIMULATED): OIDC token exchanged for ${sa} through ${provider}\n`,
        outputs: { project_id: project, credentials_file_path: file },
        post: async () => rmSync(file, { force: true }),
      };
    }
    case 'get-gke-credentials': {
      const cluster = need(inputs, 'cluster_name');
      const full = /^projects\/[^/]+\/locations\/[^/]+\/clusters\/[^/]+$/.test(cluster);
      if (!full && !String(inputs.location ?? '').trim())
        throw new Error("input 'location' is required unless 'cluster_name' is a full resource name");
      if (!jobState.env.GOOGLE_APPLICATION_CREDENTIALS || !existsSync(jobState.env.GOOGLE_APPLICATION_CREDENTIALS))
        throw new Error('no Google Cloud credentials: run google-github-actions/auth first');
      const file = join(home.workspace, `gha-kubeconfig-${randomBytes(4).toString('hex')}`);
      writeFileSync(file, clusterKubeconfig(env, 'get-gke-credentials'), { mode: 0o600 });
      jobState.env.KUBECONFIG = file;
      return { log: `get-gke-credentials (SIMULATED): cluster ${cluster} → KUBECONFIG ${file} (the loopback API server)\n` };
    }
    case 'aws-credentials': {
      const region = need(inputs, 'aws-region', AWS_REGION, 'an AWS region such as eu-west-1');
      if (inputs['aws-access-key-id'] || inputs['aws-secret-access-key'])
        throw new Error('long-lived access keys: deploy-prod assumes a role with the OIDC token only');
      const role = need(inputs, 'role-to-assume', ROLE_ARN, 'an IAM role ARN arn:aws:iam::<12 digits>:role/<name>');
      await oidc(env, inputs.audience || 'sts.amazonaws.com', 'aws-actions/configure-aws-credentials');
      const creds = {
        AWS_ACCESS_KEY_ID: `ASIA${randomBytes(8).toString('hex').toUpperCase()}`,
        AWS_SECRET_ACCESS_KEY: randomBytes(20).toString('base64'),
        AWS_SESSION_TOKEN: randomBytes(32).toString('base64'),
      };
      Object.values(creds).forEach(mask);
      Object.assign(jobState.env, { AWS_REGION: region, AWS_DEFAULT_REGION: region, ...creds });
      installCli(
        state,
        jobState,
        'aws',
        `${CLI_COMMON}
if (args[0] !== 'eks' || args[1] !== 'update-kubeconfig') die('SIMULATED aws implements only: aws eks update-kubeconfig');
if (!process.env.AWS_SESSION_TOKEN) die('Unable to locate credentials');
if (!flag('--name')) die('the following arguments are required: --name');
const out = flag('--kubeconfig') || (process.env.HOME + '/.kube/config');
fs.writeFileSync(out, fs.readFileSync(src, 'utf8'), { mode: 0o600 });
process.stdout.write('Added new context arn:aws:eks:' + (flag('--region') || process.env.AWS_REGION) + ':000000000000:cluster/' + flag('--name') + ' to ' + out + '\\n');`,
      );
      return {
        log: `aws-actions/configure-aws-credentials (SIMULATED): assumed ${role} in ${region} with the OIDC token\n`,
        outputs: { 'aws-account-id': role.split(':')[4] ?? '' },
      };
    }
    case 'azure-login': {
      if (inputs.creds) throw new Error("input 'creds' is a client secret: deploy-prod logs in with OIDC only");
      for (const k of ['client-id', 'tenant-id', 'subscription-id']) need(inputs, k, UUID, 'a GUID');
      await oidc(env, inputs.audience || 'api://AzureADTokenExchange', 'azure/login');
      jobState.env.AZURE_SIMULATED_LOGIN = inputs['subscription-id'] ?? '';
      installCli(
        state,
        jobState,
        'az',
        `${CLI_COMMON}
if (args[0] !== 'aks' || args[1] !== 'get-credentials') die('SIMULATED az implements only: az aks get-credentials');
if (!process.env.AZURE_SIMULATED_LOGIN) die("Please run 'az login' to setup account.");
if (!flag('--name') || !flag('--resource-group')) die('the following arguments are required: --resource-group/-g, --name/-n');
const out = flag('--file') || (process.env.HOME + '/.kube/config');
fs.writeFileSync(out, fs.readFileSync(src, 'utf8'), { mode: 0o600 });
process.stdout.write('Merged "' + flag('--name') + '" as current context in ' + out + '\\n');`,
      );
      return { log: `azure/login (SIMULATED): OIDC login to tenant ${inputs['tenant-id']}\n` };
    }
    default:
      throw new Error(`no cloud equivalent named ${name}`);
  }
}
