export function vendorLayout(tool: string, version: string): { asset: string; checksum: string; pack: 'binary' | 'tar.gz' | 'zip'; inside?: string; format: 'list' | 'hex' } | undefined;
export function startToolMirror(opts: { realTools: () => Promise<{ tools: Record<string, { version: string; path: string }>; missing: string[] }>; path: string; cacheDir?: string }): Promise<{
  url: string;
  served: Map<string, { entry: string; version: string; path: string; note?: string }>;
  misses: string[];
  close(): Promise<void>;
}>;
