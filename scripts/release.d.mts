// Types for scripts/release.mjs (imported by the tests).
export const ROOT: string;
export const WORKFLOW_DIRS: string[];
export class ReleaseError extends Error {
  status?: number;
}
export function ownerRepoOf(pkg: unknown): string;
export function readPackage(root?: string): { version?: string; repository?: unknown; [k: string]: unknown };
export function readOwnerRepo(root?: string): string;
export function workflowFiles(root?: string): string[];
export function ownRefs(
  text: string,
  root?: string,
): { index: number; length: number; line: number; owner: string; path: string; ref: string }[];
export function rewriteRefs(text: string, ownerRepo: string, ref: string, root?: string): string;
export function refFindings(root: string, ref: string, ownerRepo?: string): string[];
export function changelogSection(text: string, version: string): string | undefined;
export function rollChangelog(text: string, version: string, date: string, ownerRepo: string): string;
export function distHashes(root?: string): Record<string, string>;
export function checksums(root?: string): string;
export function checkDist(root?: string): string[];
export function verifyRelease(root: string, tag: string): string[];
export function prepare(
  root: string,
  version: string,
  opts?: { date?: string; tag?: boolean; log?: (line: string) => void },
): { version: string; tag: string; releaseSha: string; mainSha: string; refs: number };
export function api(
  method: string,
  url: string,
  opts?: { token?: string; body?: unknown; headers?: Record<string, string>; attempts?: number; timeoutMs?: number; baseMs?: number },
): Promise<{ status: number; json: unknown }>;
export function githubMain(args: string[]): Promise<void>;
