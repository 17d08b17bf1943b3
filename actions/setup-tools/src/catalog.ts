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
  /**
   * How the vendor signs this version (undefined: it publishes no signature for it, and
   * setup-tools falls back to the checksum with a warning). `asset` is this version's asset on
   * the platform, for schemes that sign each asset.
   */
  signature?(version: string, asset: Asset): Signature | undefined;
}

/**
 * Who must have signed, pinned here and never read from the release: a Sigstore/Fulcio identity
 * (certificate SAN + OIDC issuer), or one of a set of OpenPGP keys shipped with setup-tools.
 */
export type Signer =
  | { kind: 'sigstore'; san: string; issuer: string }
  | { kind: 'pgp'; keyring: 'hashicorp' | 'helm'; description: string };

/**
 * A vendor signature scheme for one version.
 * - `sigstore-bundle`: a Sigstore bundle (`.sigstore.json`: certificate, signature, Rekor entry
 *   and/or RFC 3161 timestamp), checked against the pinned Sigstore trusted root.
 * - `keyless-pair`: the legacy cosign `sign-blob` output: a base64 signature and a Fulcio
 *   certificate (PEM, or base64 of the PEM) in two files, without any transparency-log proof.
 * - `pgp`: a detached OpenPGP signature (binary or armored) checked with the pinned keys.
 * `covers` says what the signature is over: the checksum file (which then vouches for the asset)
 * or the asset itself. File paths are below the signature's base (`signatureBase`, else the
 * release directory; on a mirror always `<mirror>/<tool>/<version>/`).
 */
export type Signature =
  | {
      scheme: 'sigstore-bundle';
      covers: 'checksum' | 'asset';
      bundlePath: string;
      signer: Extract<Signer, { kind: 'sigstore' }>;
      signatureBase?: string;
    }
  | {
      scheme: 'keyless-pair';
      covers: 'checksum' | 'asset';
      sigPath: string;
      certPath: string;
      signer: Extract<Signer, { kind: 'sigstore' }>;
      signatureBase?: string;
    }
  | {
      scheme: 'pgp';
      covers: 'checksum' | 'asset';
      sigPath: string;
      armored: boolean;
      signer: Extract<Signer, { kind: 'pgp' }>;
      signatureBase?: string;
    };

/** GitHub Actions' OIDC issuer (the Fulcio issuer of every release workflow below). */
export const GITHUB_ACTIONS_ISSUER = 'https://token.actions.githubusercontent.com';
/** Google accounts: the issuer of the Google service accounts cosign and Kubernetes sign with. */
export const GOOGLE_ISSUER = 'https://accounts.google.com';
const COSIGN_SIGNER = { kind: 'sigstore', san: 'keyless@projectsigstore.iam.gserviceaccount.com', issuer: GOOGLE_ISSUER } as const;

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
    // Signed per asset by the Google service account keyless@projectsigstore (issuer
    // accounts.google.com): from v3.0.1 a Sigstore bundle `<asset>.sigstore.json`; v2.x up to
    // v3.0.0 the legacy `<asset>-keyless.sig` + `-keyless.pem` pair (base64). The KMS-key
    // signatures (`<asset>.sig`, `-kms.sigstore.json`) are not used.
    signature: (v, a) =>
      compareVersions(v, '3.0.1') >= 0
        ? { scheme: 'sigstore-bundle', covers: 'asset', bundlePath: `${a.path}.sigstore.json`, signer: COSIGN_SIGNER }
        : compareVersions(v, '2.0.0') >= 0
          ? {
              scheme: 'keyless-pair',
              covers: 'asset',
              sigPath: `${a.path}-keyless.sig`,
              certPath: `${a.path}-keyless.pem`,
              signer: COSIGN_SIGNER,
            }
          : undefined,
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
    // Only the checksums file is signed, keyless, in the legacy pair `….txt.sig` + `….txt.pem`
    // (the .pem is base64 of a PEM, anchore/syft#2884), since v0.104.0, by the release workflow
    // on main.
    signature: (v) =>
      compareVersions(v, '0.104.0') >= 0
        ? {
            scheme: 'keyless-pair',
            covers: 'checksum',
            sigPath: `syft_${v}_checksums.txt.sig`,
            certPath: `syft_${v}_checksums.txt.pem`,
            signer: {
              kind: 'sigstore',
              san: 'https://github.com/anchore/syft/.github/workflows/release.yaml@refs/heads/main',
              issuer: GITHUB_ACTIONS_ISSUER,
            },
          }
        : undefined,
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
    // Since v0.68.1 every asset and the checksums file has a Sigstore bundle `<file>.sigstore.json`,
    // made by the reusable release workflow at the release tag; before that, nothing we check.
    signature: (v) =>
      compareVersions(v, '0.68.1') >= 0
        ? {
            scheme: 'sigstore-bundle',
            covers: 'checksum',
            bundlePath: `trivy_${v}_checksums.txt.sigstore.json`,
            signer: {
              kind: 'sigstore',
              san: `https://github.com/aquasecurity/trivy/.github/workflows/reusable-release.yaml@refs/tags/v${v}`,
              issuer: GITHUB_ACTIONS_ISSUER,
            },
          }
        : undefined,
    // The 2026-03 incident (aquasecurity/trivy#10345): releases v0.27.0–v0.69.1 were deleted and
    // v0.69.4 was malicious. Neither may be installed, from GitHub or from a mirror.
    refuse: (v) => {
      if (v.split('-')[0] === '0.69.4')
        return 'trivy 0.69.4 was a malicious release (aquasecurity/trivy#10345) and is refused; use 0.69.3 or 0.70.0 and later';
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
    // SHA256SUMS carries a detached binary OpenPGP signature by HashiCorp's key 72D7468F; the file
    // named after the key ID (as hashicorp/js-releases picks it) survives a future key rotation.
    signature: (v) => ({
      scheme: 'pgp',
      covers: 'checksum',
      sigPath: `terraform_${v}_SHA256SUMS.72D7468F.sig`,
      armored: false,
      signer: {
        kind: 'pgp',
        keyring: 'hashicorp',
        description: 'HashiCorp Security <security@hashicorp.com>, key C874 011F 0AB4 0511 0D02 1055 3436 5D94 72D7 468F',
      },
    }),
    unsupported: (v, p) =>
      p.os === 'darwin' && p.arch === 'arm64' && compareVersions(v, '1.0.2') < 0
        ? `terraform has no darwin/arm64 build before 1.0.2 (asked for ${v})`
        : undefined,
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
    // `kubectl.sig` + `kubectl.cert` next to the binary: cosign keyless, not a bundle, by the
    // release service account (kubernetes.io/docs/tasks/administer-cluster/verify-signed-artifacts/,
    // "FEATURE STATE: Kubernetes v1.26 [beta]"). Older versions install on the checksum, with a warning.
    signature: (v, a) =>
      compareVersions(v, '1.26.0') >= 0
        ? {
            scheme: 'keyless-pair',
            covers: 'asset',
            sigPath: `${a.path}.sig`,
            certPath: `${a.path}.cert`,
            signer: { kind: 'sigstore', san: 'krel-staging@k8s-releng-prod.iam.gserviceaccount.com', issuer: GOOGLE_ISSUER },
          }
        : undefined,
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
    // `make sign` (helm/helm Makefile) writes an armored detached `<archive>.asc` with the release
    // manager's key; they are published on the GitHub release, not on get.helm.sh.
    signature: (v, a) =>
      compareVersions(v, '3.0.0') >= 0
        ? {
            scheme: 'pgp',
            covers: 'asset',
            sigPath: `${a.path}.asc`,
            armored: true,
            signer: { kind: 'pgp', keyring: 'helm', description: 'a Helm release manager key from KEYS (helm/helm)' },
            signatureBase: gh('helm/helm', v),
          }
        : undefined,
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
    // The release workflow at the tag signs every artifact: Sigstore bundles
    // (`checksums.txt.sigstore.json`) in v1.16.4, v1.17.2 and v1.18.0+, the legacy `.sig` + `.pem`
    // pair before that (≤v1.16.3, ≤v1.17.1, v1.15.x).
    signature: (v) => {
      const signer = {
        kind: 'sigstore',
        san: `https://github.com/kyverno/kyverno/.github/workflows/release.yaml@refs/tags/v${v}`,
        issuer: GITHUB_ACTIONS_ISSUER,
      } as const;
      const [, minor = 0, patch = 0] = v.split('-')[0]!.split('.').map(Number);
      const bundles = compareVersions(v, '1.18.0') >= 0 || (minor === 17 && patch >= 2) || (minor === 16 && patch >= 4);
      if (bundles) return { scheme: 'sigstore-bundle', covers: 'checksum', bundlePath: 'checksums.txt.sigstore.json', signer };
      if (compareVersions(v, '1.15.0') >= 0)
        return { scheme: 'keyless-pair', covers: 'checksum', sigPath: 'checksums.txt.sig', certPath: 'checksums.txt.pem', signer };
      return undefined;
    },
  },
} satisfies Record<string, ToolDef>;

export type ToolName = keyof typeof TOOLS;
export const TOOL_NAMES = Object.keys(TOOLS).sort() as ToolName[];

export function isToolName(name: string): name is ToolName {
  return Object.hasOwn(TOOLS, name);
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
  /** The vendor's signature for this version, if it publishes one; `base` is where its files are. */
  signature?: Signature & { base: string };
}

/**
 * Where a tool version comes from: the vendor, or `<mirror>/<tool>/<version>/<asset path>`
 * (archive and checksum file alike). `version` is without `v`.
 */
export function plan(name: ToolName, version: string, p: Platform, mirror?: string): Plan {
  const def = tool(name);
  const a = def.asset(version, p);
  const base = mirror ? `${mirror.replace(/\/+$/, '')}/${name}/${version}` : def.releaseUrl(version);
  const sig = (def as ToolDef).signature?.(version, a);
  return {
    ...a,
    tool: name,
    version,
    platform: p,
    url: `${base}/${a.path}`,
    checksumUrl: `${base}/${a.checksumPath}`,
    checksumName: a.checksumPath.split('/').pop() as string,
    ...(sig ? { signature: { ...sig, base: mirror ? base : (sig.signatureBase ?? base) } } : {}),
  };
}

/** Maps Node's process.platform/process.arch to a catalog platform, or undefined when none fits. */
export function platformOf(nodePlatform: string, nodeArch: string): Platform | undefined {
  const os = ({ linux: 'linux', darwin: 'darwin', win32: 'windows' } as Record<string, Os>)[nodePlatform];
  const arch = ({ x64: 'x64', arm64: 'arm64' } as Record<string, Arch>)[nodeArch];
  if (!os || !arch) return undefined;
  return PLATFORMS.find((x) => x.os === os && x.arch === arch);
}
