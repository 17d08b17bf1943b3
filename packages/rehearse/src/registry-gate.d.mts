import type { TokenBook } from './engine.mjs';
export function startRegistryGate(opts: { upstream: string; auth?: { username: string; password: string }; book: TokenBook }): Promise<{
  url: string;
  host: string;
  seen: { job?: string; method?: string; path: string; status?: number }[];
  close(): Promise<void>;
}>;
