/**
 * The trust anchors setup-tools checks vendor signatures against, all shipped inside the action
 * (never fetched from where the artifacts come from): the Sigstore public-good trusted root and
 * the vendors' OpenPGP keys. Each loads only when a signature of its kind is checked.
 */
export interface Trust {
  /** A Sigstore trusted root (trusted_root.json, as JSON). */
  sigstoreTrustedRoot(): Promise<unknown>;
  /** Armored public key blocks of a pinned keyring. */
  pgpKeys(keyring: 'hashicorp' | 'helm'): Promise<readonly string[]>;
}

export const pinnedTrust: Trust = {
  sigstoreTrustedRoot: async () => (await import('./sigstore-public-good.js')).PUBLIC_GOOD_TRUSTED_ROOT,
  pgpKeys: async (keyring) => (keyring === 'hashicorp' ? [(await import('./hashicorp.js')).HASHICORP_PUBLIC_KEY] : (await import('./helm-keys.js')).HELM_KEYS),
};
