/**
 * The catalog against ../shared/TOOL-RELEASES.md: every tool × platform, written out by hand from
 * the vendors' facts (not computed the way the catalog computes them), so a slip in the catalog's
 * naming, format, binary path or checksum location fails here.
 */
import { describe, expect, it } from 'vitest';
import {
  PLATFORMS,
  TOOL_NAMES,
  TOOLS,
  compareVersions,
  plan,
  platformOf,
  type Platform,
  type ToolName,
} from '../../actions/setup-tools/src/catalog.js';

type Key = 'linux/x64' | 'linux/arm64' | 'darwin/x64' | 'darwin/arm64' | 'windows/x64';
interface Fact {
  url: string;
  checksumUrl: string;
  format: 'tar.gz' | 'zip' | 'binary';
  binaryInArchive: string;
  binary: string;
  checksumFormat: 'sha256sum' | 'hex';
  /** The name looked up in the checksum file (the asset's file name). */
  name: string;
}

const GH = 'https://github.com';
const facts: Record<ToolName, { version: string; rows: Record<Key, Fact> }> = {
  cosign: {
    version: '3.1.2',
    rows: {
      'linux/x64': {
        url: `${GH}/sigstore/cosign/releases/download/v3.1.2/cosign-linux-amd64`,
        checksumUrl: `${GH}/sigstore/cosign/releases/download/v3.1.2/cosign_checksums.txt`,
        format: 'binary',
        binaryInArchive: 'cosign-linux-amd64',
        binary: 'cosign',
        checksumFormat: 'sha256sum',
        name: 'cosign-linux-amd64',
      },
      'linux/arm64': {
        url: `${GH}/sigstore/cosign/releases/download/v3.1.2/cosign-linux-arm64`,
        checksumUrl: `${GH}/sigstore/cosign/releases/download/v3.1.2/cosign_checksums.txt`,
        format: 'binary',
        binaryInArchive: 'cosign-linux-arm64',
        binary: 'cosign',
        checksumFormat: 'sha256sum',
        name: 'cosign-linux-arm64',
      },
      'darwin/x64': {
        url: `${GH}/sigstore/cosign/releases/download/v3.1.2/cosign-darwin-amd64`,
        checksumUrl: `${GH}/sigstore/cosign/releases/download/v3.1.2/cosign_checksums.txt`,
        format: 'binary',
        binaryInArchive: 'cosign-darwin-amd64',
        binary: 'cosign',
        checksumFormat: 'sha256sum',
        name: 'cosign-darwin-amd64',
      },
      'darwin/arm64': {
        url: `${GH}/sigstore/cosign/releases/download/v3.1.2/cosign-darwin-arm64`,
        checksumUrl: `${GH}/sigstore/cosign/releases/download/v3.1.2/cosign_checksums.txt`,
        format: 'binary',
        binaryInArchive: 'cosign-darwin-arm64',
        binary: 'cosign',
        checksumFormat: 'sha256sum',
        name: 'cosign-darwin-arm64',
      },
      'windows/x64': {
        url: `${GH}/sigstore/cosign/releases/download/v3.1.2/cosign-windows-amd64.exe`,
        checksumUrl: `${GH}/sigstore/cosign/releases/download/v3.1.2/cosign_checksums.txt`,
        format: 'binary',
        binaryInArchive: 'cosign-windows-amd64.exe',
        binary: 'cosign.exe',
        checksumFormat: 'sha256sum',
        name: 'cosign-windows-amd64.exe',
      },
    },
  },
  syft: {
    version: '1.51.0',
    rows: {
      'linux/x64': {
        url: `${GH}/anchore/syft/releases/download/v1.51.0/syft_1.51.0_linux_amd64.tar.gz`,
        checksumUrl: `${GH}/anchore/syft/releases/download/v1.51.0/syft_1.51.0_checksums.txt`,
        format: 'tar.gz',
        binaryInArchive: 'syft',
        binary: 'syft',
        checksumFormat: 'sha256sum',
        name: 'syft_1.51.0_linux_amd64.tar.gz',
      },
      'linux/arm64': {
        url: `${GH}/anchore/syft/releases/download/v1.51.0/syft_1.51.0_linux_arm64.tar.gz`,
        checksumUrl: `${GH}/anchore/syft/releases/download/v1.51.0/syft_1.51.0_checksums.txt`,
        format: 'tar.gz',
        binaryInArchive: 'syft',
        binary: 'syft',
        checksumFormat: 'sha256sum',
        name: 'syft_1.51.0_linux_arm64.tar.gz',
      },
      'darwin/x64': {
        url: `${GH}/anchore/syft/releases/download/v1.51.0/syft_1.51.0_darwin_amd64.tar.gz`,
        checksumUrl: `${GH}/anchore/syft/releases/download/v1.51.0/syft_1.51.0_checksums.txt`,
        format: 'tar.gz',
        binaryInArchive: 'syft',
        binary: 'syft',
        checksumFormat: 'sha256sum',
        name: 'syft_1.51.0_darwin_amd64.tar.gz',
      },
      'darwin/arm64': {
        url: `${GH}/anchore/syft/releases/download/v1.51.0/syft_1.51.0_darwin_arm64.tar.gz`,
        checksumUrl: `${GH}/anchore/syft/releases/download/v1.51.0/syft_1.51.0_checksums.txt`,
        format: 'tar.gz',
        binaryInArchive: 'syft',
        binary: 'syft',
        checksumFormat: 'sha256sum',
        name: 'syft_1.51.0_darwin_arm64.tar.gz',
      },
      'windows/x64': {
        url: `${GH}/anchore/syft/releases/download/v1.51.0/syft_1.51.0_windows_amd64.zip`,
        checksumUrl: `${GH}/anchore/syft/releases/download/v1.51.0/syft_1.51.0_checksums.txt`,
        format: 'zip',
        binaryInArchive: 'syft.exe',
        binary: 'syft.exe',
        checksumFormat: 'sha256sum',
        name: 'syft_1.51.0_windows_amd64.zip',
      },
    },
  },
  trivy: {
    version: '0.74.0',
    rows: {
      'linux/x64': {
        url: `${GH}/aquasecurity/trivy/releases/download/v0.74.0/trivy_0.74.0_Linux-64bit.tar.gz`,
        checksumUrl: `${GH}/aquasecurity/trivy/releases/download/v0.74.0/trivy_0.74.0_checksums.txt`,
        format: 'tar.gz',
        binaryInArchive: 'trivy',
        binary: 'trivy',
        checksumFormat: 'sha256sum',
        name: 'trivy_0.74.0_Linux-64bit.tar.gz',
      },
      'linux/arm64': {
        url: `${GH}/aquasecurity/trivy/releases/download/v0.74.0/trivy_0.74.0_Linux-ARM64.tar.gz`,
        checksumUrl: `${GH}/aquasecurity/trivy/releases/download/v0.74.0/trivy_0.74.0_checksums.txt`,
        format: 'tar.gz',
        binaryInArchive: 'trivy',
        binary: 'trivy',
        checksumFormat: 'sha256sum',
        name: 'trivy_0.74.0_Linux-ARM64.tar.gz',
      },
      'darwin/x64': {
        url: `${GH}/aquasecurity/trivy/releases/download/v0.74.0/trivy_0.74.0_macOS-64bit.tar.gz`,
        checksumUrl: `${GH}/aquasecurity/trivy/releases/download/v0.74.0/trivy_0.74.0_checksums.txt`,
        format: 'tar.gz',
        binaryInArchive: 'trivy',
        binary: 'trivy',
        checksumFormat: 'sha256sum',
        name: 'trivy_0.74.0_macOS-64bit.tar.gz',
      },
      'darwin/arm64': {
        url: `${GH}/aquasecurity/trivy/releases/download/v0.74.0/trivy_0.74.0_macOS-ARM64.tar.gz`,
        checksumUrl: `${GH}/aquasecurity/trivy/releases/download/v0.74.0/trivy_0.74.0_checksums.txt`,
        format: 'tar.gz',
        binaryInArchive: 'trivy',
        binary: 'trivy',
        checksumFormat: 'sha256sum',
        name: 'trivy_0.74.0_macOS-ARM64.tar.gz',
      },
      'windows/x64': {
        url: `${GH}/aquasecurity/trivy/releases/download/v0.74.0/trivy_0.74.0_windows-64bit.zip`,
        checksumUrl: `${GH}/aquasecurity/trivy/releases/download/v0.74.0/trivy_0.74.0_checksums.txt`,
        format: 'zip',
        binaryInArchive: 'trivy.exe',
        binary: 'trivy.exe',
        checksumFormat: 'sha256sum',
        name: 'trivy_0.74.0_windows-64bit.zip',
      },
    },
  },
  terraform: {
    version: '1.15.9',
    rows: {
      'linux/x64': {
        url: 'https://releases.hashicorp.com/terraform/1.15.9/terraform_1.15.9_linux_amd64.zip',
        checksumUrl: 'https://releases.hashicorp.com/terraform/1.15.9/terraform_1.15.9_SHA256SUMS',
        format: 'zip',
        binaryInArchive: 'terraform',
        binary: 'terraform',
        checksumFormat: 'sha256sum',
        name: 'terraform_1.15.9_linux_amd64.zip',
      },
      'linux/arm64': {
        url: 'https://releases.hashicorp.com/terraform/1.15.9/terraform_1.15.9_linux_arm64.zip',
        checksumUrl: 'https://releases.hashicorp.com/terraform/1.15.9/terraform_1.15.9_SHA256SUMS',
        format: 'zip',
        binaryInArchive: 'terraform',
        binary: 'terraform',
        checksumFormat: 'sha256sum',
        name: 'terraform_1.15.9_linux_arm64.zip',
      },
      'darwin/x64': {
        url: 'https://releases.hashicorp.com/terraform/1.15.9/terraform_1.15.9_darwin_amd64.zip',
        checksumUrl: 'https://releases.hashicorp.com/terraform/1.15.9/terraform_1.15.9_SHA256SUMS',
        format: 'zip',
        binaryInArchive: 'terraform',
        binary: 'terraform',
        checksumFormat: 'sha256sum',
        name: 'terraform_1.15.9_darwin_amd64.zip',
      },
      'darwin/arm64': {
        url: 'https://releases.hashicorp.com/terraform/1.15.9/terraform_1.15.9_darwin_arm64.zip',
        checksumUrl: 'https://releases.hashicorp.com/terraform/1.15.9/terraform_1.15.9_SHA256SUMS',
        format: 'zip',
        binaryInArchive: 'terraform',
        binary: 'terraform',
        checksumFormat: 'sha256sum',
        name: 'terraform_1.15.9_darwin_arm64.zip',
      },
      'windows/x64': {
        url: 'https://releases.hashicorp.com/terraform/1.15.9/terraform_1.15.9_windows_amd64.zip',
        checksumUrl: 'https://releases.hashicorp.com/terraform/1.15.9/terraform_1.15.9_SHA256SUMS',
        format: 'zip',
        binaryInArchive: 'terraform.exe',
        binary: 'terraform.exe',
        checksumFormat: 'sha256sum',
        name: 'terraform_1.15.9_windows_amd64.zip',
      },
    },
  },
  kubectl: {
    version: '1.36.3',
    rows: {
      'linux/x64': {
        url: 'https://dl.k8s.io/release/v1.36.3/bin/linux/amd64/kubectl',
        checksumUrl: 'https://dl.k8s.io/release/v1.36.3/bin/linux/amd64/kubectl.sha256',
        format: 'binary',
        binaryInArchive: 'kubectl',
        binary: 'kubectl',
        checksumFormat: 'hex',
        name: 'kubectl',
      },
      'linux/arm64': {
        url: 'https://dl.k8s.io/release/v1.36.3/bin/linux/arm64/kubectl',
        checksumUrl: 'https://dl.k8s.io/release/v1.36.3/bin/linux/arm64/kubectl.sha256',
        format: 'binary',
        binaryInArchive: 'kubectl',
        binary: 'kubectl',
        checksumFormat: 'hex',
        name: 'kubectl',
      },
      'darwin/x64': {
        url: 'https://dl.k8s.io/release/v1.36.3/bin/darwin/amd64/kubectl',
        checksumUrl: 'https://dl.k8s.io/release/v1.36.3/bin/darwin/amd64/kubectl.sha256',
        format: 'binary',
        binaryInArchive: 'kubectl',
        binary: 'kubectl',
        checksumFormat: 'hex',
        name: 'kubectl',
      },
      'darwin/arm64': {
        url: 'https://dl.k8s.io/release/v1.36.3/bin/darwin/arm64/kubectl',
        checksumUrl: 'https://dl.k8s.io/release/v1.36.3/bin/darwin/arm64/kubectl.sha256',
        format: 'binary',
        binaryInArchive: 'kubectl',
        binary: 'kubectl',
        checksumFormat: 'hex',
        name: 'kubectl',
      },
      'windows/x64': {
        url: 'https://dl.k8s.io/release/v1.36.3/bin/windows/amd64/kubectl.exe',
        checksumUrl: 'https://dl.k8s.io/release/v1.36.3/bin/windows/amd64/kubectl.exe.sha256',
        format: 'binary',
        binaryInArchive: 'kubectl.exe',
        binary: 'kubectl.exe',
        checksumFormat: 'hex',
        name: 'kubectl.exe',
      },
    },
  },
  helm: {
    version: '4.2.4',
    rows: {
      'linux/x64': {
        url: 'https://get.helm.sh/helm-v4.2.4-linux-amd64.tar.gz',
        checksumUrl: 'https://get.helm.sh/helm-v4.2.4-linux-amd64.tar.gz.sha256',
        format: 'tar.gz',
        binaryInArchive: 'linux-amd64/helm',
        binary: 'helm',
        checksumFormat: 'hex',
        name: 'helm-v4.2.4-linux-amd64.tar.gz',
      },
      'linux/arm64': {
        url: 'https://get.helm.sh/helm-v4.2.4-linux-arm64.tar.gz',
        checksumUrl: 'https://get.helm.sh/helm-v4.2.4-linux-arm64.tar.gz.sha256',
        format: 'tar.gz',
        binaryInArchive: 'linux-arm64/helm',
        binary: 'helm',
        checksumFormat: 'hex',
        name: 'helm-v4.2.4-linux-arm64.tar.gz',
      },
      'darwin/x64': {
        url: 'https://get.helm.sh/helm-v4.2.4-darwin-amd64.tar.gz',
        checksumUrl: 'https://get.helm.sh/helm-v4.2.4-darwin-amd64.tar.gz.sha256',
        format: 'tar.gz',
        binaryInArchive: 'darwin-amd64/helm',
        binary: 'helm',
        checksumFormat: 'hex',
        name: 'helm-v4.2.4-darwin-amd64.tar.gz',
      },
      'darwin/arm64': {
        url: 'https://get.helm.sh/helm-v4.2.4-darwin-arm64.tar.gz',
        checksumUrl: 'https://get.helm.sh/helm-v4.2.4-darwin-arm64.tar.gz.sha256',
        format: 'tar.gz',
        binaryInArchive: 'darwin-arm64/helm',
        binary: 'helm',
        checksumFormat: 'hex',
        name: 'helm-v4.2.4-darwin-arm64.tar.gz',
      },
      'windows/x64': {
        url: 'https://get.helm.sh/helm-v4.2.4-windows-amd64.zip',
        checksumUrl: 'https://get.helm.sh/helm-v4.2.4-windows-amd64.zip.sha256',
        format: 'zip',
        binaryInArchive: 'windows-amd64/helm.exe',
        binary: 'helm.exe',
        checksumFormat: 'hex',
        name: 'helm-v4.2.4-windows-amd64.zip',
      },
    },
  },
  kyverno: {
    version: '1.19.0',
    rows: {
      'linux/x64': {
        url: `${GH}/kyverno/kyverno/releases/download/v1.19.0/kyverno-cli_v1.19.0_linux_x86_64.tar.gz`,
        checksumUrl: `${GH}/kyverno/kyverno/releases/download/v1.19.0/checksums.txt`,
        format: 'tar.gz',
        binaryInArchive: 'kyverno',
        binary: 'kyverno',
        checksumFormat: 'sha256sum',
        name: 'kyverno-cli_v1.19.0_linux_x86_64.tar.gz',
      },
      'linux/arm64': {
        url: `${GH}/kyverno/kyverno/releases/download/v1.19.0/kyverno-cli_v1.19.0_linux_arm64.tar.gz`,
        checksumUrl: `${GH}/kyverno/kyverno/releases/download/v1.19.0/checksums.txt`,
        format: 'tar.gz',
        binaryInArchive: 'kyverno',
        binary: 'kyverno',
        checksumFormat: 'sha256sum',
        name: 'kyverno-cli_v1.19.0_linux_arm64.tar.gz',
      },
      'darwin/x64': {
        url: `${GH}/kyverno/kyverno/releases/download/v1.19.0/kyverno-cli_v1.19.0_darwin_x86_64.tar.gz`,
        checksumUrl: `${GH}/kyverno/kyverno/releases/download/v1.19.0/checksums.txt`,
        format: 'tar.gz',
        binaryInArchive: 'kyverno',
        binary: 'kyverno',
        checksumFormat: 'sha256sum',
        name: 'kyverno-cli_v1.19.0_darwin_x86_64.tar.gz',
      },
      'darwin/arm64': {
        url: `${GH}/kyverno/kyverno/releases/download/v1.19.0/kyverno-cli_v1.19.0_darwin_arm64.tar.gz`,
        checksumUrl: `${GH}/kyverno/kyverno/releases/download/v1.19.0/checksums.txt`,
        format: 'tar.gz',
        binaryInArchive: 'kyverno',
        binary: 'kyverno',
        checksumFormat: 'sha256sum',
        name: 'kyverno-cli_v1.19.0_darwin_arm64.tar.gz',
      },
      'windows/x64': {
        url: `${GH}/kyverno/kyverno/releases/download/v1.19.0/kyverno-cli_v1.19.0_windows_x86_64.zip`,
        checksumUrl: `${GH}/kyverno/kyverno/releases/download/v1.19.0/checksums.txt`,
        format: 'zip',
        binaryInArchive: 'kyverno.exe',
        binary: 'kyverno.exe',
        checksumFormat: 'sha256sum',
        name: 'kyverno-cli_v1.19.0_windows_x86_64.zip',
      },
    },
  },
};

const key = (p: Platform) => `${p.os}/${p.arch}` as Key;
const cases = TOOL_NAMES.flatMap((t) => PLATFORMS.map((p) => ({ t, p, k: key(p) })));

describe('catalog', () => {
  it('covers exactly the seven tools and the five platforms', () => {
    expect([...TOOL_NAMES].sort()).toEqual(Object.keys(facts).sort());
    expect(PLATFORMS.map(key)).toEqual(['linux/x64', 'linux/arm64', 'darwin/x64', 'darwin/arm64', 'windows/x64']);
  });

  it('defaults are the newest stable releases in TOOL-RELEASES.md', () => {
    for (const t of TOOL_NAMES) expect(`${t}@${TOOLS[t].defaultVersion}`).toBe(`${t}@${facts[t].version}`);
  });

  it.each(cases)('$t on $k: vendor asset, format, binary path, checksum file', ({ t, p, k }) => {
    const f = facts[t].rows[k];
    const got = plan(t, facts[t].version, p);
    expect({
      url: got.url,
      checksumUrl: got.checksumUrl,
      format: got.format,
      binaryInArchive: got.binaryInArchive,
      binary: got.binary,
      checksumFormat: got.checksumFormat,
      name: got.name,
    }).toEqual(f);
  });

  it.each(cases)('$t on $k from a mirror: <mirror>/<tool>/<version>/<vendor path>', ({ t, p, k }) => {
    const f = facts[t].rows[k];
    const v = facts[t].version;
    const got = plan(t, v, p, 'https://mirror.example/tools/');
    // The vendor path below its release directory: the file name, except kubectl's bin/<os>/<arch>/.
    const tail = (u: string) => (t === 'kubectl' ? u.slice(u.indexOf('/bin/') + 1) : (u.split('/').pop() as string));
    expect(got.url).toBe(`https://mirror.example/tools/${t}/${v}/${tail(f.url)}`);
    expect(got.checksumUrl).toBe(`https://mirror.example/tools/${t}/${v}/${tail(f.checksumUrl)}`);
  });

  it('the v in names: syft/trivy drop it, helm/kyverno keep it, terraform has none, the tag always has it (GitHub)', () => {
    const lx: Platform = { os: 'linux', arch: 'x64' };
    expect(plan('syft', '1.50.0', lx).url).toBe(`${GH}/anchore/syft/releases/download/v1.50.0/syft_1.50.0_linux_amd64.tar.gz`);
    expect(plan('trivy', '0.69.3', lx).url).toBe(`${GH}/aquasecurity/trivy/releases/download/v0.69.3/trivy_0.69.3_Linux-64bit.tar.gz`);
    expect(plan('helm', '3.21.4', lx).url).toBe('https://get.helm.sh/helm-v3.21.4-linux-amd64.tar.gz');
    expect(plan('kyverno', '1.18.2', lx).url).toBe(
      `${GH}/kyverno/kyverno/releases/download/v1.18.2/kyverno-cli_v1.18.2_linux_x86_64.tar.gz`,
    );
    expect(plan('terraform', '1.16.0-rc2', lx).url).toBe(
      'https://releases.hashicorp.com/terraform/1.16.0-rc2/terraform_1.16.0-rc2_linux_amd64.zip',
    );
    expect(plan('cosign', '2.6.4', lx).url).toBe(`${GH}/sigstore/cosign/releases/download/v2.6.4/cosign-linux-amd64`);
    expect(plan('kubectl', '1.35.7', lx).url).toBe('https://dl.k8s.io/release/v1.35.7/bin/linux/amd64/kubectl');
  });

  it('trivy refuses the deleted v0.27.0–v0.69.1 releases and the malicious v0.69.4, nothing else', () => {
    const refuse = TOOLS.trivy.refuse;
    for (const v of ['0.27.0', '0.50.1', '0.69.1', '0.69.4']) expect(refuse(v)).toMatch(/aquasecurity\/trivy#10345/);
    expect(refuse('0.69.4')).toMatch(/malicious/);
    for (const v of ['0.26.9', '0.69.2', '0.69.3', '0.70.0', '0.74.0']) expect(refuse(v)).toBeUndefined();
  });

  it('terraform has no darwin/arm64 build before 1.0.2', () => {
    const m1: Platform = { os: 'darwin', arch: 'arm64' };
    expect(TOOLS.terraform.unsupported('1.0.1', m1)).toMatch(/no darwin\/arm64 build before 1\.0\.2/);
    expect(TOOLS.terraform.unsupported('1.0.2', m1)).toBeUndefined();
    expect(TOOLS.terraform.unsupported('1.0.1', { os: 'darwin', arch: 'x64' })).toBeUndefined();
  });

  it('maps Node platforms; windows/arm64, linux/ia32, freebsd have no entry', () => {
    expect(platformOf('linux', 'x64')).toEqual({ os: 'linux', arch: 'x64' });
    expect(platformOf('darwin', 'arm64')).toEqual({ os: 'darwin', arch: 'arm64' });
    expect(platformOf('win32', 'x64')).toEqual({ os: 'windows', arch: 'x64' });
    expect(platformOf('win32', 'arm64')).toBeUndefined();
    expect(platformOf('linux', 'ia32')).toBeUndefined();
    expect(platformOf('freebsd', 'x64')).toBeUndefined();
  });

  it('compares versions numerically, prereleases before releases', () => {
    expect(compareVersions('0.69.10', '0.69.9')).toBe(1);
    expect(compareVersions('1.16.0-rc2', '1.16.0')).toBe(-1);
    expect(compareVersions('1.15.9', '1.15.9')).toBe(0);
    expect(compareVersions('0.27.0-rc1', '0.27.0')).toBe(-1);
  });
});
