import { randomBytes } from "node:crypto";
import { openAesGcm, sealAesGcm } from "./aes-gcm.js";
import type { KeyProvider } from "./key-provider.js";

/** What a ciphertext is bound to: moving it to another app or name makes it fail to decrypt. */
export interface SecretContext {
  app: string;
  name: string;
}

/** One stored secret: the value sealed by a fresh data key, the data key wrapped by a KEK version. */
export interface Envelope {
  v: 1;
  provider: string;
  /** The KEK version that wrapped `wrappedKey`. */
  version: string;
  wrappedKey: Uint8Array;
  /** iv | ciphertext | tag of the value under the data key. */
  sealed: Uint8Array;
  updatedAt: number;
}

// JSON arrays are unambiguous where plain concatenation ("a"+"bc" = "ab"+"c") would not be.
function wrapAad(provider: string, ctx: SecretContext): Uint8Array {
  return Buffer.from(JSON.stringify(["amp-secret-key/1", provider, ctx.app, ctx.name]));
}

// The value's aad also carries the KEK version, so relabelling an envelope's version fails too.
function valueAad(provider: string, ctx: SecretContext, version: string): Uint8Array {
  return Buffer.from(JSON.stringify(["amp-secret/1", provider, ctx.app, ctx.name, version]));
}

export async function sealEnvelope(
  provider: KeyProvider,
  ctx: SecretContext,
  plaintext: Uint8Array,
  now = Date.now(),
): Promise<Envelope> {
  const dataKey = randomBytes(32);
  try {
    const { version, wrapped } = await provider.wrap(dataKey, wrapAad(provider.name, ctx));
    const sealed = sealAesGcm(dataKey, plaintext, valueAad(provider.name, ctx, version));
    return { v: 1, provider: provider.name, version, wrappedKey: wrapped, sealed, updatedAt: now };
  } finally {
    dataKey.fill(0);
  }
}

export async function openEnvelope(
  provider: KeyProvider,
  ctx: SecretContext,
  env: Envelope,
): Promise<Buffer> {
  const dataKey = await provider.unwrap(env.wrappedKey, env.version, wrapAad(env.provider, ctx));
  try {
    return openAesGcm(dataKey, env.sealed, valueAad(env.provider, ctx, env.version));
  } finally {
    dataKey.fill(0);
  }
}
