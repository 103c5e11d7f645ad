import { HttpError } from "@amp/http-edge";

/**
 * Every failure of this package is a `SecretsError` with a stable `code` and an HTTP
 * status. Messages name the app, the secret name and the key version at most, never a
 * value or key material.
 */
export class SecretsError extends HttpError {
  constructor(
    code: string,
    message: string,
    status: 400 | 401 | 403 | 404 | 413 | 500 | 502 = 500,
    options?: ErrorOptions,
  ) {
    super(status, code, message, options);
  }
}

/** The ciphertext, its associated data or the wrapped data key was altered, or the wrong key was used. */
export class SecretDecryptError extends SecretsError {
  constructor(message = "secret could not be decrypted: tampered ciphertext or wrong key") {
    super("secret_decrypt_failed", message, 500);
  }
}

/** A ciphertext names a key version the provider does not hold. */
export class UnknownKeyVersionError extends SecretsError {
  constructor(version: string) {
    super("secret_key_unknown", `key version ${JSON.stringify(version)} is not in the keyring`, 500);
  }
}

/** The key provider (a keyring file, a KMS) failed or is misconfigured. */
export class KeyProviderError extends SecretsError {
  constructor(message: string, options?: ErrorOptions) {
    super("key_provider_failed", message, 502, options);
  }
}

/** A secret name, app name or value failed validation. */
export class InvalidSecretError extends SecretsError {
  constructor(message: string, status: 400 | 413 = 400) {
    super(status === 413 ? "secret_too_large" : "invalid_secret", message, status);
  }
}

export class SecretNotFoundError extends SecretsError {
  constructor(app: string, name: string) {
    super("secret_not_found", `no secret ${JSON.stringify(name)} in app ${JSON.stringify(app)}`, 404);
  }
}
