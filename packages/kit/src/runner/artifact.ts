/**
 * A workflow artifact upload through @actions/artifact, loaded only on the path that uploads.
 * `overwrite` does what actions/upload-artifact's `overwrite: true` does: this run's artifact of
 * that name is deleted first, so a re-run attempt (or a later job of the same run) replaces it
 * instead of the service answering 409.
 */
export interface UploadOptions {
  retentionDays?: number;
  compressionLevel?: number;
  overwrite?: boolean;
}

export async function uploadArtifact(
  name: string,
  files: string[],
  root: string,
  opts: UploadOptions = {},
): Promise<{ id?: number; size?: number; digest?: string; replaced: boolean }> {
  const { DefaultArtifactClient, ArtifactNotFoundError } = await import('@actions/artifact');
  const client = new DefaultArtifactClient();
  let replaced = false;
  if (opts.overwrite) {
    try {
      await client.deleteArtifact(name);
      replaced = true;
    } catch (e) {
      const notFound =
        e instanceof ArtifactNotFoundError || (e instanceof Error && (e.name === 'ArtifactNotFoundError' || /not found/i.test(e.message)));
      if (!notFound) throw e;
    }
  }
  const { retentionDays, compressionLevel } = opts;
  const up = await client.uploadArtifact(name, files, root, {
    ...(retentionDays !== undefined ? { retentionDays } : {}),
    ...(compressionLevel !== undefined ? { compressionLevel } : {}),
  });
  return { ...up, replaced };
}
