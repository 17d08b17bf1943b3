/**
 * The tool catalog: the one place a maintainer bumps a default version or follows a vendor's
 * change of asset naming. Facts from ../shared/TOOL-RELEASES.md (vendor goreleaser configs,
 * install scripts and docs); each tool's comment names what to check when bumping.
 *
 * Pure data and pure functions: no I/O, no process.env.
 */

export type Os = 'linux' | 'darwin' | 'windows';
export type Arch = 'x64' | 'arm64';
export type ArchiveFormat = 'tar.gz' | 'zip' | 'binary';
/**
 * `sha256sum`: one file listing many assets, lines `<64 hex>  <file name>` (goreleaser, HashiCorp SHA256SUMS).
 * `hex`: one file per asset holding only the hash (kubectl `.sha256`, helm `.sha256`).
 */
export type ChecksumFormat = 'sha256sum' | 'hex';

export interface Platform {
  os: Os;
  arch: Arch;
}

/** The five targets setup-tools installs on (every catalog tool ships all of them). */
export const PLATFORMS: readonly Platform[] = [
  { os: 'linux', arch: 'x64' },
  { os: 'linux', arch: 'arm64' },
  { os: 'darwin', arch: 'x64' },
  { os: 'darwin', arch: 'arm64' },
  { os: 'windows', arch: 'x64' },
];

export const platformName = (p: Platform): string => `${p.os}/${p.arch}`;

/** What a tool's vendor publishes for one version on one platform. */
export interface Asset {
  /** The vendor's file name, e.g. `trivy_0.74.0_Linux-64bit.tar.gz`. */
  name: string;
  /**
   * The asset's path below the vendor's release directory. Equal to `name` for every vendor but
   * kubectl, whose binary is always called `kubectl` and is told apart by `bin/<os>/<arch>/`.
   * A mirror holds the asset at `<mirror>/<tool>/<version>/<path>`.
   */
  path: string;
  format: ArchiveFormat;
  /** Where the executable sits inside the archive (for `binary`: the asset itself). */
  binaryInArchive: string;
  /** The executable's name once installed: `cosign`, `cosign.exe`. */
  binary: string;
  /** The vendor checksum file, as a path below the release directory (like `path`). */
  checksumPath: string;
  checksumFormat: ChecksumFormat;
}

export interface ToolDef {
  name: string;
  /** Newest stable release: bump here (and only here). */
  defaultVersion: string;
  homepage: string;
  /** The vendor's release directory for a version (no trailing slash). */
  releaseUrl(version: string): string;
  asset(version: string, p: Platform): Asset;
  /** Versions that must never be installed, with the reason shown to the user. */
  refuse?(version: string): string | undefined;
  /** Platform limits tied to a version (e.g. no darwin/arm64 build before some release). */
  unsupported?(version: string, p: Platform): string | undefined;
}

const gh = (repo: string, version: string) => `https://github.com/${repo}/releases/download/v${version}`;
const exe = (p: Platform, name: string) => (p.os === 'windows' ? `${name}.exe` : name);
/** Go's GOARCH, which most vendors put in their names. */
const goArch = (p: Platform) => (p.arch === 'x64' ? 'amd64' : 'arm64');
const same = (name: string) => ({ name, path: name });

/** Compares two versions `X.Y.Z[-pre]` (a prerelease sorts before its release). */
export function compareVersions(a: string, b: string): number {
  const split = (v: string) => {
    const [core = '', pre] = v.split('-', 2);
    return { nums: core.split('.').map(Number), pre };
  };
  const x = split(a);
  const y = split(b);
  for (let i = 0; i < 3; i++) {
    const d = (x.nums[i] ?? 0) - (y.nums[i] ?? 0);
    if (d !== 0) return Math.sign(d);
  }
  if (x.pre === y.pre) return 0;
  if (x.pre === undefined) return 1;
  if (y.pre === undefined) return -1;
  return x.pre < y.pre ? -1 : 1;
}

export const TOOLS = {
  // sigstore/cosign .goreleaser.yml: bare binaries, no version in any name, one cosign_checksums.txt.
  // Two maintained lines (v3.x and v2.6.x, released the same day): pin cosign@2.6.4 for v2.
  cosign: {
    name: 'cosign',
    defaultVersion: '3.1.2',
    homepage: 'https://github.com/sigstore/cosign',
    releaseUrl: (v) => gh('sigstore/cosign', v),
    asset: (_v, p) => ({
      ...same(exe(p, `cosign-${p.os}-${goArch(p)}`)),
      format: 'binary',
      binaryInArchive: exe(p, `cosign-${p.os}-${goArch(p)}`),
      binary: exe(p, 'cosign'),
      checksumPath: 'cosign_checksums.txt',
      checksumFormat: 'sha256sum',
    }),
  },
  // anchore/syft .goreleaser.yaml: names drop the tag's `v`; zip on windows; syft at the root.
  syft: {
    name: 'syft',
    defaultVersion: '1.51.0',
    homepage: 'https://github.com/anchore/syft',
    releaseUrl: (v) => gh('anchore/syft', v),
    asset: (v, p) => ({
      ...same(`syft_${v}_${p.os}_${goArch(p)}.${p.os === 'windows' ? 'zip' : 'tar.gz'}`),
      format: p.os === 'windows' ? 'zip' : 'tar.gz',
      binaryInArchive: exe(p, 'syft'),
      binary: exe(p, 'syft'),
      checksumPath: `syft_${v}_checksums.txt`,
      checksumFormat: 'sha256sum',
    }),
  },
  // aquasecurity/trivy goreleaser.yml: `Linux-64bit`, `Linux-ARM64`, `macOS-64bit`, `macOS-ARM64`,
  // lowercase `windows-64bit` (zip); names drop the `v`; trivy, README, LICENSE, contrib/ at the root.
  trivy: {
    name: 'trivy',
    defaultVersion: '0.74.0',
    homepage: 'https://github.com/aquasecurity/trivy',
    releaseUrl: (v) => gh('aquasecurity/trivy', v),
    asset: (v, p) => {
      const os = { linux: 'Linux', darwin: 'macOS', windows: 'windows' }[p.os];
      const arch = p.arch === 'x64' ? '64bit' : 'ARM64';
      const ext = p.os === 'windows' ? 'zip' : 'tar.gz';
      return {
        ...same(`trivy_${v}_${os}-${arch}.${ext}`),
        format: ext,
        binaryInArchive: exe(p, 'trivy'),
        binary: exe(p, 'trivy'),
        checksumPath: `trivy_${v}_checksums.txt`,
        checksumFormat: 'sha256sum',
      };
    },
    // The 2026-03 incident (aquasecurity/trivy#10345): releases v0.27.0–v0.69.1 were deleted and
    // v0.69.4 was malicious. Neither may be installed, from GitHub or from a mirror.
    refuse: (v) => {
      if (v.split('-')[0] === '0.69.4') return 'trivy 0.69.4 was a malicious release (aquasecurity/trivy#10345) and is refused; use 0.69.3 or 0.70.0 and later';
      if (compareVersions(v, '0.27.0') >= 0 && compareVersions(v, '0.69.1') <= 0) {
        return `trivy ${v} is refused: the releases v0.27.0–v0.69.1 were deleted after the 2026-03 supply-chain incident (aquasecurity/trivy#10345); use 0.69.3 or 0.70.0 and later`;
      }
      return undefined;
    },
  },
  // releases.hashicorp.com: a zip on every OS, no `v` anywhere, one terraform_<v>_SHA256SUMS.
  terraform: {
    name: 'terraform',
    defaultVersion: '1.15.9',
    homepage: 'https://releases.hashicorp.com/terraform',
    releaseUrl: (v) => `https://releases.hashicorp.com/terraform/${v}`,
    asset: (v, p) => ({
      ...same(`terraform_${v}_${p.os}_${goArch(p)}.zip`),
      format: 'zip',
      binaryInArchive: exe(p, 'terraform'),
      binary: exe(p, 'terraform'),
      checksumPath: `terraform_${v}_SHA256SUMS`,
      checksumFormat: 'sha256sum',
    }),
    unsupported: (v, p) =>
      p.os === 'darwin' && p.arch === 'arm64' && compareVersions(v, '1.0.2') < 0 ? `terraform has no darwin/arm64 build before 1.0.2 (asked for ${v})` : undefined,
  },
  // dl.k8s.io: bare binary at release/<tag>/bin/<os>/<arch>/kubectl(.exe); `<binary>.sha256` holds only the hex.
  kubectl: {
    name: 'kubectl',
    defaultVersion: '1.36.3',
    homepage: 'https://kubernetes.io/docs/tasks/tools/',
    releaseUrl: (v) => `https://dl.k8s.io/release/v${v}`,
    asset: (_v, p) => {
      const name = exe(p, 'kubectl');
      const path = `bin/${p.os}/${goArch(p)}/${name}`;
      return { name, path, format: 'binary', binaryInArchive: name, binary: name, checksumPath: `${path}.sha256`, checksumFormat: 'hex' };
    },
  },
  // get.helm.sh: helm-<tag>-<os>-<arch>.tar.gz (zip on windows), names keep the `v`; the binary
  // sits in <os>-<arch>/; `<archive>.sha256` holds only the hex. Helm 4 is the default line;
  // pin helm@3.21.4 to stay on Helm 3.
  helm: {
    name: 'helm',
    defaultVersion: '4.2.4',
    homepage: 'https://helm.sh',
    releaseUrl: () => 'https://get.helm.sh',
    asset: (v, p) => {
      const ext = p.os === 'windows' ? 'zip' : 'tar.gz';
      const name = `helm-v${v}-${p.os}-${goArch(p)}.${ext}`;
      return {
        ...same(name),
        format: ext,
        binaryInArchive: `${p.os}-${goArch(p)}/${exe(p, 'helm')}`,
        binary: exe(p, 'helm'),
        checksumPath: `${name}.sha256`,
        checksumFormat: 'hex',
      };
    },
  },
  // kyverno/kyverno .goreleaser.yml: kyverno-cli_<tag>_<os>_<arch>, names keep the `v`, x86_64
  // (not amd64), zip on windows, kyverno at the root, one bare checksums.txt.
  kyverno: {
    name: 'kyverno',
    defaultVersion: '1.19.0',
    homepage: 'https://kyverno.io/docs/kyverno-cli/',
    releaseUrl: (v) => gh('kyverno/kyverno', v),
    asset: (v, p) => {
      const ext = p.os === 'windows' ? 'zip' : 'tar.gz';
      return {
        ...same(`kyverno-cli_v${v}_${p.os}_${p.arch === 'x64' ? 'x86_64' : 'arm64'}.${ext}`),
        format: ext,
        binaryInArchive: exe(p, 'kyverno'),
        binary: exe(p, 'kyverno'),
        checksumPath: 'checksums.txt',
        checksumFormat: 'sha256sum',
      };
    },
  },
} satisfies Record<string, ToolDef>;

export type ToolName = keyof typeof TOOLS;
export const TOOL_NAMES = Object.keys(TOOLS).sort() as ToolName[];

export function isToolName(name: string): name is ToolName {
  return Object.prototype.hasOwnProperty.call(TOOLS, name);
}

export function tool(name: ToolName): ToolDef {
  return TOOLS[name];
}

/** Everything needed to fetch and install one tool version on one platform. */
export interface Plan extends Asset {
  tool: ToolName;
  version: string;
  platform: Platform;
  url: string;
  checksumUrl: string;
  /** The checksum file's name (last path segment), for messages. */
  checksumName: string;
}

/**
 * Where a tool version comes from: the vendor, or `<mirror>/<tool>/<version>/<asset path>`
 * (archive and checksum file alike). `version` is without `v`.
 */
export function plan(name: ToolName, version: string, p: Platform, mirror?: string): Plan {
  const def = tool(name);
  const a = def.asset(version, p);
  const base = mirror ? `${mirror.replace(/\/+$/, '')}/${name}/${version}` : def.releaseUrl(version);
  return {
    ...a,
    tool: name,
    version,
    platform: p,
    url: `${base}/${a.path}`,
    checksumUrl: `${base}/${a.checksumPath}`,
    checksumName: a.checksumPath.split('/').pop() as string,
  };
}

/** Maps Node's process.platform/process.arch to a catalog platform, or undefined when none fits. */
export function platformOf(nodePlatform: string, nodeArch: string): Platform | undefined {
  const os = ({ linux: 'linux', darwin: 'darwin', win32: 'windows' } as Record<string, Os>)[nodePlatform];
  const arch = ({ x64: 'x64', arm64: 'arm64' } as Record<string, Arch>)[nodeArch];
  if (!os || !arch) return undefined;
  return PLATFORMS.find((x) => x.os === os && x.arch === arch);
}
