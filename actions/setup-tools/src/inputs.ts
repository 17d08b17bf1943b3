/**
 * Turns the `tools` input into a list of tool versions to install, and the `mirror` input into
 * a base URL. Pure: every problem is an InputError naming the input and what is accepted.
 */
import { InputError, shown as quoted, UserError } from '@hallmark/kit';
import { platformName, PLATFORMS, TOOL_NAMES, isToolName, tool, type Platform, type ToolName } from './catalog.js';

export interface Wanted {
  tool: ToolName;
  /** Without `v`. */
  version: string;
  /** True when the caller named the version (`name@version`), false for the catalog default. */
  pinned: boolean;
}

const NAME = /^[A-Za-z][A-Za-z0-9_-]*$/;
const VERSION = /^v?(\d+\.\d+\.\d+(?:-[0-9A-Za-z][0-9A-Za-z.-]*)?)$/;
const ACCEPTED = `${TOOL_NAMES.join(', ')}, each as name or name@X.Y.Z (e.g. trivy@0.74.0)`;

/** `"abc"`: quoted, one line, short (the value came from the workflow file), with URL credentials hidden. */
const shown = (v: string): string => quoted(v, 60);

/**
 * Parses `cosign, trivy@0.74.0` (already split into items). A bare name takes the catalog default;
 * the same tool named twice keeps the explicit version (so `cosign, cosign@2.6.4` means 2.6.4, as
 * reusable workflows append overrides), and two different explicit versions are an error.
 */
export function parseTools(items: readonly string[], inputName = 'tools'): Wanted[] {
  if (items.length === 0) throw new InputError(inputName, `is required: a comma- or newline-separated list of ${ACCEPTED}`);
  const out = new Map<ToolName, Wanted>();
  for (const item of items) {
    const at = item.indexOf('@');
    const name = (at < 0 ? item : item.slice(0, at)).trim();
    const ver = at < 0 ? undefined : item.slice(at + 1).trim();
    if (!NAME.test(name) || !isToolName(name.toLowerCase())) {
      throw new InputError(inputName, `names an unknown tool ${shown(name || item)}: accepted are ${ACCEPTED}`);
    }
    const t = name.toLowerCase() as ToolName;
    let version = tool(t).defaultVersion;
    if (ver !== undefined) {
      const m = VERSION.exec(ver);
      if (!m)
        throw new InputError(
          inputName,
          `has a malformed version in ${shown(item)}: expected ${t}@X.Y.Z (an exact release such as ${t}@${tool(t).defaultVersion}; a leading v and a -prerelease suffix are allowed, ranges and "latest" are not)`,
        );
      version = m[1] as string;
      const refused = tool(t).refuse?.(version);
      if (refused) throw new InputError(inputName, `asks for ${t}@${version}: ${refused}`);
    }
    const before = out.get(t);
    const now: Wanted = { tool: t, version, pinned: ver !== undefined };
    if (!before || (!before.pinned && now.pinned)) out.set(t, now);
    else if (before.pinned && now.pinned && before.version !== now.version) {
      throw new InputError(
        inputName,
        `asks for ${t} twice with different versions (${before.version} and ${now.version}): name each tool once`,
      );
    }
  }
  return [...out.values()];
}

/** Checks every wanted tool has a build for this platform; the message lists what is supported. */
export function checkPlatform(wanted: readonly Wanted[], p: Platform | undefined, actual: string): void {
  const supported = PLATFORMS.map(platformName).join(', ');
  if (!p) throw new UserError(`this runner is ${actual}; setup-tools installs on ${supported}`, 'unsupported-platform');
  for (const w of wanted) {
    const why = tool(w.tool).unsupported?.(w.version, p);
    if (why) throw new UserError(`${why}; ${w.tool} installs on ${supported}`, 'unsupported-platform');
  }
}

/**
 * The `mirror` input: an http(s) base URL without credentials, query or fragment; '' when unset.
 * Returns the URL without a trailing slash, and whether it travels in the clear over the network.
 */
export function parseMirror(value: string, inputName = 'mirror'): { base: string; plainHttp: boolean } {
  if (!value) return { base: '', plainHttp: false };
  const expected =
    'an http(s) base URL such as https://mirror.example.com/tools (archives are fetched from <mirror>/<tool>/<version>/<asset>)';
  let u: URL;
  try {
    u = new URL(value);
  } catch {
    throw new InputError(inputName, `must be ${expected} (got ${shown(value)})`);
  }
  if (u.protocol !== 'https:' && u.protocol !== 'http:')
    throw new InputError(inputName, `must be ${expected} (got a ${u.protocol.replace(/:$/, '')} URL)`);
  if (u.username || u.password)
    throw new InputError(
      inputName,
      `must not carry credentials in the URL; serve the mirror to the runner without them (got a URL with a user name)`,
    );
  if (u.search || u.hash) throw new InputError(inputName, `must be ${expected}, without a query or fragment`);
  const loopback = ['localhost', '127.0.0.1', '[::1]'].includes(u.hostname);
  return { base: `${u.protocol}//${u.host}${u.pathname.replace(/\/+$/, '')}`, plainHttp: u.protocol === 'http:' && !loopback };
}

/**
 * The `verify` input: `signature` (default: the vendor's own signature, against the signer pinned
 * in the catalog, then the checksum; a version the vendor does not sign falls back to the
 * checksum with a warning) or `checksum` (the checksum file only).
 */
export function parseVerify(value: string, inputName = 'verify'): 'signature' | 'checksum' {
  const v = value.trim().toLowerCase();
  if (v === '' || v === 'signature') return 'signature';
  if (v === 'checksum') return 'checksum';
  throw new InputError(inputName, `must be signature or checksum (got ${shown(value)})`);
}
