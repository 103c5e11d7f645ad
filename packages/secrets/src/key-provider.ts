/**
 * A key-encryption key (KEK) holder. It wraps and unwraps 32-byte data keys; the KEK
 * itself never leaves it. Adding another cloud KMS means implementing these four
 * methods in one file.
 */
export interface KeyProvider {
  /** Stable name bound into every ciphertext's associated data ("local", "gcp-kms", ...). */
  readonly name: string;
  /** Wraps a data key with the current KEK version; `aad` must be given again to unwrap. */
  wrap(dataKey: Uint8Array, aad: Uint8Array): Promise<WrappedKey>;
  /** Unwraps a data key wrapped by `version`. Throws `SecretDecryptError` when it fails to authenticate. */
  unwrap(wrapped: Uint8Array, version: string, aad: Uint8Array): Promise<Uint8Array>;
  /** The version new wraps use. */
  currentVersion(): Promise<string>;
  /** Adds a KEK version and makes it current; older versions still unwrap. Returns the new version. */
  rotate(): Promise<string>;
}

export interface WrappedKey {
  /** The KEK version that wrapped it. */
  version: string;
  wrapped: Uint8Array;
}
