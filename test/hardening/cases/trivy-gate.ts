/**
 * trivy-gate bad inputs for the hardening corpus (issue #9). The base gates a small valid report
 * made by `setup`, so no case can reach Trivy, a registry or the cache: every one must stop at input
 * validation with one `input '<name>'` error.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ActionCorpus } from '../corpus.js';

const D64 = 'a'.repeat(64);

const corpus: ActionCorpus = {
  action: 'trivy-gate',
  base: { inputs: { report: 'scan/report.json', severity: 'HIGH' } },
  setup(workspace: string) {
    mkdirSync(join(workspace, 'scan'), { recursive: true });
    writeFileSync(
      join(workspace, 'scan', 'report.json'),
      JSON.stringify({ SchemaVersion: 2, ArtifactName: 'app', ArtifactType: 'container_image', Results: [] }),
    );
    mkdirSync(join(workspace, 'infra'), { recursive: true });
    writeFileSync(join(workspace, 'infra', 'Dockerfile'), 'FROM scratch\n');
    writeFileSync(join(workspace, 'bad.trivyignore.yaml'), 'vulnerability:\n  - id: CVE-2024-1\n');
    writeFileSync(join(workspace, 'expiry.trivyignore'), 'CVE-2024-1 exp:31-12-2024\n');
    writeFileSync(join(workspace, 'empty-entry.yaml'), 'secrets:\n  - statement: everything\n');
    writeFileSync(join(workspace, 'bad-purl.yaml'), 'vulnerabilities:\n  - id: CVE-1\n    purls: ["openssl"]\n');
  },
  bad: [
    {
      name: 'unknown severity',
      inputs: { severity: 'SEVERE' },
      input: 'severity',
      expect: /must be one of CRITICAL, HIGH, MEDIUM, LOW, UNKNOWN, none/,
    },
    { name: 'severity as a number', inputs: { severity: '7' }, input: 'severity' },
    { name: 'severity list', inputs: { severity: 'HIGH,CRITICAL' }, input: 'severity' },
    { name: 'unknown scan-type', inputs: { 'scan-type': 'repo' }, input: 'scan-type', expect: /image, fs, config, sbom/ },
    {
      name: 'missing report file',
      inputs: { report: 'scan/nope.json' },
      input: 'report',
      expect: /existing file in the workspace .*not found/,
    },
    { name: 'report is a directory', inputs: { report: 'scan' }, input: 'report', expect: /must be a path to a file/ },
    {
      name: 'report path with a newline',
      inputs: { report: 'scan/report.json\n::set-output name=passed::true' },
      input: 'report',
      expect: /control characters/,
    },
    { name: 'no target and no report', inputs: { report: undefined }, input: 'target', expect: /is required/ },
    {
      name: 'image reference with a space',
      inputs: { report: undefined, target: 'ghcr.io/o/app latest' },
      input: 'target',
      expect: /without spaces or shell characters/,
    },
    { name: 'image reference with ;', inputs: { report: undefined, target: 'ghcr.io/o/app;rm -rf /' }, input: 'target' },
    { name: 'image reference with $()', inputs: { report: undefined, target: 'ghcr.io/o/$(id)' }, input: 'target' },
    { name: 'image reference with a backtick', inputs: { report: undefined, target: 'ghcr.io/o/`id`' }, input: 'target' },
    { name: 'image reference with a pipe', inputs: { report: undefined, target: 'alpine|sh' }, input: 'target' },
    { name: 'image reference that is a flag', inputs: { report: undefined, target: '--config=/etc/passwd' }, input: 'target' },
    {
      name: 'image reference with uppercase repository',
      inputs: { report: undefined, target: `ghcr.io/Octo/App@sha256:${D64}` },
      input: 'target',
      expect: /image reference/,
    },
    {
      name: 'image reference with a short digest',
      inputs: { report: undefined, target: 'ghcr.io/o/app@sha256:abc' },
      input: 'target',
      expect: /digest/,
    },
    {
      name: 'fs target that does not exist',
      inputs: { report: undefined, 'scan-type': 'fs', target: 'no/such/dir' },
      input: 'target',
      expect: /not found/,
    },
    {
      name: 'sbom target that is a directory',
      inputs: { report: undefined, 'scan-type': 'sbom', target: 'infra' },
      input: 'target',
      expect: /must be a path to a file/,
    },
    { name: 'unknown scanner', inputs: { scanners: 'vuln,malware' }, input: 'scanners', expect: /"malware"/ },
    {
      name: 'vuln scanner with scan-type config',
      inputs: { report: undefined, 'scan-type': 'config', target: 'infra', scanners: 'vuln' },
      input: 'scanners',
    },
    { name: 'ignore-unfixed not a boolean', inputs: { 'ignore-unfixed': 'yes' }, input: 'ignore-unfixed', expect: /true or false/ },
    { name: 'cache not a boolean', inputs: { cache: 'maybe' }, input: 'cache' },
    { name: 'missing ignore file', inputs: { 'ignore-file': '.trivyignore-missing' }, input: 'ignore-file', expect: /not found/ },
    {
      name: 'ignore file with an unknown section',
      inputs: { 'ignore-file': 'bad.trivyignore.yaml' },
      input: 'ignore-file',
      expect: /unknown section 'vulnerability'/,
    },
    {
      name: 'ignore file with a bad exp date',
      inputs: { 'ignore-file': 'expiry.trivyignore' },
      input: 'ignore-file',
      expect: /line 1 \(CVE-2024-1\): expiry date/,
    },
    {
      name: 'ignore file entry that ignores everything',
      inputs: { 'ignore-file': 'empty-entry.yaml' },
      input: 'ignore-file',
      expect: /would ignore everything/,
    },
    { name: 'ignore file with a bad purl', inputs: { 'ignore-file': 'bad-purl.yaml' }, input: 'ignore-file', expect: /not a package URL/ },
    { name: 'sarif equal to json', inputs: { sarif: 'out.json', json: 'out.json' }, input: 'sarif', expect: /must differ from 'json'/ },
    { name: 'sarif overwriting the report', inputs: { sarif: 'scan/report.json' }, input: 'sarif', expect: /must not be the report/ },
    { name: 'json path is a directory', inputs: { json: 'infra' }, input: 'json', expect: /directory/ },
    {
      name: 'db-repository with a scheme',
      inputs: { 'db-repository': 'https://ghcr.io/aquasecurity/trivy-db' },
      input: 'db-repository',
      expect: /without a scheme/,
    },
    { name: 'db-repository with spaces', inputs: { 'db-repository': 'ghcr.io/aqua security/trivy-db' }, input: 'db-repository' },
    { name: 'java-db-repository not a repository', inputs: { 'java-db-repository': 'mirror.gcr.io' }, input: 'java-db-repository' },
    {
      name: 'insecure with a public registry',
      inputs: { report: undefined, target: `ghcr.io/o/app@sha256:${D64}`, insecure: 'true', 'db-repository': '127.0.0.1:5000/trivy-db' },
      input: 'insecure',
      expect: /loopback/,
    },
    {
      name: 'insecure with a public DB repository',
      inputs: {
        report: undefined,
        target: `127.0.0.1:5000/o/app@sha256:${D64}`,
        insecure: 'true',
        'db-repository': 'ghcr.io/aquasecurity/trivy-db',
      },
      input: 'insecure',
      expect: /loopback/,
    },
    { name: 'timeout not a duration', inputs: { timeout: 'forever' }, input: 'timeout', expect: /duration/ },
    { name: 'timeout too short', inputs: { timeout: '1s' }, input: 'timeout' },
    {
      name: 'checks-bundle-repository with a scheme',
      inputs: { 'checks-bundle-repository': 'https://ghcr.io/aquasecurity/trivy-checks' },
      input: 'checks-bundle-repository',
      expect: /without a scheme/,
    },
    {
      name: 'registry-username without a password',
      inputs: { report: undefined, target: `127.0.0.1:5000/o/app@sha256:${D64}`, 'registry-username': 'ci' },
      input: 'registry-password',
      expect: /is required when 'registry-username' is set/,
    },
    {
      name: 'registry-password without a username',
      inputs: { report: undefined, target: `127.0.0.1:5000/o/app@sha256:${D64}`, 'registry-password': 'hunter2-canary' },
      input: 'registry-username',
      expect: /is required when 'registry-password' is set/,
    },
    {
      name: 'registry-username with a colon',
      inputs: {
        report: undefined,
        target: `127.0.0.1:5000/o/app@sha256:${D64}`,
        'registry-username': 'ci:admin',
        'registry-password': 'hunter2-canary',
      },
      input: 'registry-username',
      expect: /without spaces or colons/,
    },
    {
      name: 'a registry login with scan-type fs',
      inputs: { report: undefined, 'scan-type': 'fs', target: 'infra', 'registry-username': 'ci', 'registry-password': 'hunter2-canary' },
      input: 'registry-username',
      expect: /only used with scan-type image/,
    },
  ],
  secrets: ['registry-password'],
};

export default corpus;
