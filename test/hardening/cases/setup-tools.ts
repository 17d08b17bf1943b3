/**
 * setup-tools' bad inputs: each fails with one `::error::` naming the input before anything is
 * fetched from the mirror (the loopback `{url}`) or written to the tool cache. setup-tools has no
 * secret inputs (it needs no token); the canary suite checks that runner tokens in its
 * environment never reach the mirror.
 */
import type { ActionCorpus } from '../corpus.js';

const corpus: ActionCorpus = {
  action: 'setup-tools',
  base: { inputs: { tools: 'cosign', mirror: '{url}/mirror', retries: '0', 'retry-delay': '10ms', 'download-timeout': '2s' } },
  secrets: [],
  bad: [
    { name: 'tools missing', inputs: { tools: undefined }, input: 'tools', expect: /is required/ },
    { name: 'tools only separators', inputs: { tools: ' , ,\n,' }, input: 'tools', expect: /is required/ },
    { name: 'tools only a comment', inputs: { tools: '# cosign' }, input: 'tools', expect: /is required/ },
    { name: 'unknown tool (typo)', inputs: { tools: 'cosign, kubeclt' }, input: 'tools', expect: /unknown tool "kubeclt"/ },
    { name: 'unknown tool docker', inputs: { tools: 'docker' }, input: 'tools', expect: /accepted are cosign, helm/ },
    { name: 'tool with a shell separator', inputs: { tools: 'cosign;id' }, input: 'tools', expect: /unknown tool/ },
    { name: 'tool as command substitution', inputs: { tools: '$(touch /tmp/hallmark-pwned)' }, input: 'tools' },
    { name: 'tool as backticks', inputs: { tools: '`id`' }, input: 'tools' },
    { name: 'tool as a leading-dash flag', inputs: { tools: '--output=/etc/passwd' }, input: 'tools', expect: /unknown tool/ },
    { name: 'tool as a workflow command', inputs: { tools: '::set-output name=tools::pwned' }, input: 'tools' },
    { name: 'tool with a path', inputs: { tools: '../../bin/cosign' }, input: 'tools' },
    { name: 'version latest', inputs: { tools: 'trivy@latest' }, input: 'tools', expect: /malformed version/ },
    { name: 'version range', inputs: { tools: 'cosign@^2.6.0' }, input: 'tools', expect: /malformed version/ },
    { name: 'version two parts', inputs: { tools: 'helm@3.21' }, input: 'tools', expect: /X\.Y\.Z/ },
    { name: 'version empty', inputs: { tools: 'kubectl@' }, input: 'tools', expect: /malformed version/ },
    { name: 'version with a shell tail', inputs: { tools: 'cosign@2.6.4;id' }, input: 'tools', expect: /malformed version/ },
    { name: 'version as path traversal', inputs: { tools: 'syft@../../../etc/passwd' }, input: 'tools', expect: /malformed version/ },
    { name: 'version with a dangling prerelease dash', inputs: { tools: 'helm@4.2.4-' }, input: 'tools', expect: /malformed version/ },
    { name: 'malicious trivy 0.69.4', inputs: { tools: 'trivy@0.69.4' }, input: 'tools', expect: /malicious/ },
    {
      name: 'malicious trivy 0.69.4 as a prerelease',
      inputs: { tools: 'trivy@v0.69.4-rc.1' },
      input: 'tools',
      expect: /aquasecurity\/trivy#10345/,
    },
    { name: 'deleted trivy release', inputs: { tools: 'trivy@0.50.0' }, input: 'tools', expect: /deleted/ },
    {
      name: 'one tool twice at two versions',
      inputs: { tools: 'cosign@2.6.4, cosign@3.1.2' },
      input: 'tools',
      expect: /twice with different versions/,
    },
    { name: 'mirror not a URL', inputs: { mirror: 'mirror.example.com/tools' }, input: 'mirror', expect: /http\(s\) base URL/ },
    { name: 'mirror ftp', inputs: { mirror: 'ftp://mirror.example.com/tools' }, input: 'mirror', expect: /ftp URL/ },
    { name: 'mirror file URL', inputs: { mirror: 'file:///etc' }, input: 'mirror', expect: /file URL/ },
    {
      name: 'mirror with credentials',
      inputs: { mirror: 'https://ci:hunter22@mirror.example.com/tools' },
      input: 'mirror',
      expect: /credentials/,
    },
    {
      name: 'mirror with a token in the query',
      inputs: { mirror: 'https://mirror.example.com/tools?token=abc' },
      input: 'mirror',
      expect: /without a query/,
    },
    { name: 'mirror with a fragment', inputs: { mirror: '{url}/mirror#x' }, input: 'mirror', expect: /fragment/ },
    { name: 'cache yes', inputs: { cache: 'yes' }, input: 'cache', expect: /true or false/ },
    { name: 'download-timeout a word', inputs: { 'download-timeout': 'forever' }, input: 'download-timeout', expect: /duration/ },
    { name: 'download-timeout below 100ms', inputs: { 'download-timeout': '50ms' }, input: 'download-timeout', expect: /at least/ },
    { name: 'download-timeout over an hour', inputs: { 'download-timeout': '2h' }, input: 'download-timeout', expect: /at most/ },
    { name: 'retries eleven', inputs: { retries: '11' }, input: 'retries', expect: /≤ 10/ },
    { name: 'retries negative', inputs: { retries: '-1' }, input: 'retries', expect: /≥ 0/ },
    { name: 'retries a word', inputs: { retries: 'three' }, input: 'retries', expect: /whole number/ },
    { name: 'retries fractional', inputs: { retries: '1.5' }, input: 'retries' },
    { name: 'retry-delay over a minute', inputs: { 'retry-delay': '2m' }, input: 'retry-delay', expect: /at most/ },
    { name: 'retry-delay a word', inputs: { 'retry-delay': 'soon' }, input: 'retry-delay', expect: /duration/ },
  ],
};

export default corpus;
