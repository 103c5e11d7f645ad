import { createHash, createHmac, randomBytes, randomUUID, timingSafeEqual, webcrypto } from "node:crypto";
import { isBinary, isToken, MixCase, type MixValue } from "@amp/codec";
import { type FfiHandler, standardHooks } from "@amp/machine";
import type { TrackSecrets, TrackTokens } from "../ports.js";
import { numberOf, type SessionLookup, sessionOf, stringArg } from "./args.js";
import { REFUSED_FFIS, type RefusedFfi, refusedFfis } from "./refused.js";

const HASHES = new Set(["sha1", "sha256", "sha384", "sha512", "md5"]);

function bytesOf(v: MixValue, ffi: string): Uint8Array | string {
  if (typeof v === "string" || isBinary(v)) return v;
  throw new Error(`${ffi}: data must be a string or binary`);
}

function algorithm(v: MixValue, ffi: string): string {
  if (typeof v !== "string" || !HASHES.has(v.toLowerCase())) {
    throw new Error(`${ffi}: algorithm must be one of ${[...HASHES].join(", ")}`);
  }
  return v.toLowerCase();
}

/** Hooks, `get_env` and `$vm_memstats`. `$outputWithVersion`, `$outputError`, `$log`, `$isSyncEnabled` and `$mqtt_available` are answered by the machine itself. */
export function vmFfis(
  env: Readonly<Record<string, string>>,
  find: SessionLookup,
): Record<string, FfiHandler> {
  return {
    ...standardHooks(),
    get_env: (args, ctx) => {
      const name = stringArg(args, 0, ctx.name, "name");
      return Object.hasOwn(env, name) ? env[name]! : null;
    },
    $vm_memstats: (_args, ctx) => {
      const session = sessionOf(find, ctx);
      const mem = process.memoryUsage();
      return {
        backend: session.machine.backend,
        rss: mem.rss,
        heapUsed: mem.heapUsed,
        external: mem.external,
      };
    },
  };
}

/** `$crypto_*`: hashes, HMACs, random bytes, UUIDs and constant-time comparison. */
export function cryptoFfis(): Record<string, FfiHandler> {
  return {
    $crypto_hash: (args, ctx) =>
      createHash(algorithm(args[0], ctx.name)).update(bytesOf(args[1], ctx.name)).digest("hex"),
    $crypto_hmac: (args, ctx) =>
      createHmac(algorithm(args[0], ctx.name), bytesOf(args[1], ctx.name))
        .update(bytesOf(args[2], ctx.name))
        .digest("hex"),
    $crypto_randomBytes: (args, ctx) => {
      const n = numberOf(args[0]);
      if (n === undefined || !Number.isInteger(n) || n < 0 || n > 1024) {
        throw new Error(`${ctx.name}: the count must be an integer from 0 to 1024`);
      }
      return new Uint8Array(randomBytes(n));
    },
    $crypto_uuid: () => randomUUID(),
    $crypto_timingSafeEqual: (args, ctx) => {
      const a = Buffer.from(bytesOf(args[0], ctx.name));
      const b = Buffer.from(bytesOf(args[1], ctx.name));
      return a.length === b.length && timingSafeEqual(a, b);
    },
  };
}

/** `$secret_get(name)` → the app's secret as a string, or null. Only the VM ever sees values. */
export function secretFfis(
  secrets: TrackSecrets | undefined,
  find: SessionLookup,
): Record<string, FfiHandler> {
  return {
    $secret_get: async (args, ctx) => {
      const name = stringArg(args, 0, ctx.name, "secret name");
      const session = sessionOf(find, ctx);
      if (!secrets) throw new Error(`${ctx.name}: this server keeps no secrets`);
      return (await secrets.revealString(session.app, name)) ?? null;
    },
  };
}

/**
 * `$token_user()` → `{id, anonymous, root}` of the session's user, and
 * `$token_verify(token)` → the same for another token (a string or a Token value), or null when invalid.
 */
export function tokenFfis(tokens: TrackTokens | undefined, find: SessionLookup): Record<string, FfiHandler> {
  return {
    $token_user: (_args, ctx) => {
      const { user } = sessionOf(find, ctx);
      return { id: user.id, anonymous: user.anonymous, root: user.root };
    },
    $token_verify: async (args, ctx) => {
      sessionOf(find, ctx);
      const v = args[0];
      const text = isToken(v) ? new TextDecoder().decode(v.data) : v;
      if (typeof text !== "string" || text.length === 0 || text.length > 8192) {
        throw new Error(`${ctx.name}: the token must be a string or a Token value`);
      }
      if (!tokens) throw new Error(`${ctx.name}: this server cannot verify tokens`);
      try {
        const user = await tokens.verify(text);
        return { id: user.id, anonymous: user.anonymous, root: user.root };
      } catch {
        return null;
      }
    },
  };
}

/** Names of `REFUSED_FFIS` (kept for callers of the earlier list). */
export const UNSUPPORTED_FFIS: readonly string[] = Object.keys(REFUSED_FFIS);

/** FFIs an embedder configured as unsupported: each aborts naming it. */
export function unsupportedFfis(names: readonly string[]): Record<string, FfiHandler> {
  return refusedFfis(
    Object.fromEntries(
      names.map((name) => [
        name,
        (REFUSED_FFIS as Record<string, RefusedFfi>)[name] ?? {
          answer: "abort" as const,
          reason: "configured as unsupported on this server",
        },
      ]),
    ),
  );
}

const AES_NONCE_BYTES = 12;
const MAX_AES_BYTES = 16 * 1024 * 1024;

function aesBytes(v: MixValue, ffi: string): Uint8Array<ArrayBuffer> {
  if (typeof v === "string") return new TextEncoder().encode(v);
  if (isBinary(v)) return new Uint8Array(v);
  if (isToken(v)) {
    // The reference host asks the VM whether the token may serve as a key; amp cannot ask.
    throw new Error(`${ffi}: token values as keys or data are not supported on the server`);
  }
  throw new Error(`${ffi}: parameter is neither string nor binary nor token`);
}

/**
 * `$crypto_AESGCMEncrypt(key, authData?, message)` → `ok(nonce ‖ ciphertext ‖ tag)` with a random
 * 96-bit nonce, and `$crypto_AESGCMDecrypt(key, authData?, sealed)` → `ok(plaintext)`; a failure
 * (bad key length, wrong tag) is `error(message)`; an undefined key or message answers undefined
 * — all as the reference host (WebCrypto AES-GCM). Inputs over 16 MiB are refused.
 */
export function aesFfis(): Record<string, FfiHandler> {
  const parts = (args: MixValue[], ffi: string) => {
    const key = aesBytes(args[0], ffi);
    const data = args[1] === undefined || args[1] === null ? undefined : aesBytes(args[1], ffi);
    const message = aesBytes(args[2], ffi);
    if (message.byteLength > MAX_AES_BYTES || (data?.byteLength ?? 0) > MAX_AES_BYTES) {
      throw new Error(`${ffi}: Track-tooLarge: inputs over ${MAX_AES_BYTES} bytes`);
    }
    return { key, data, message };
  };
  const params = (iv: Uint8Array<ArrayBuffer>, data: Uint8Array<ArrayBuffer> | undefined): AesGcmParams =>
    data === undefined ? { name: "AES-GCM", iv } : { name: "AES-GCM", iv, additionalData: data };
  return {
    $crypto_AESGCMEncrypt: async (args, ctx) => {
      if (args[0] === undefined || args[2] === undefined) return undefined;
      const { key, data, message } = parts(args, ctx.name);
      try {
        const nonce = new Uint8Array(randomBytes(AES_NONCE_BYTES));
        const k = await webcrypto.subtle.importKey("raw", key, "AES-GCM", false, ["encrypt"]);
        const sealed = new Uint8Array(await webcrypto.subtle.encrypt(params(nonce, data), k, message));
        const out = new Uint8Array(AES_NONCE_BYTES + sealed.byteLength);
        out.set(nonce);
        out.set(sealed, AES_NONCE_BYTES);
        return new MixCase("ok", out);
      } catch (e) {
        return new MixCase("error", (e as Error).message);
      }
    },
    $crypto_AESGCMDecrypt: async (args, ctx) => {
      if (args[0] === undefined || args[2] === undefined) return undefined;
      const { key, data, message } = parts(args, ctx.name);
      if (message.byteLength < AES_NONCE_BYTES) return new MixCase("error", "message too short");
      try {
        const k = await webcrypto.subtle.importKey("raw", key, "AES-GCM", false, ["decrypt"]);
        const plain = await webcrypto.subtle.decrypt(
          params(message.slice(0, AES_NONCE_BYTES), data),
          k,
          message.slice(AES_NONCE_BYTES),
        );
        return new MixCase("ok", new Uint8Array(plain));
      } catch (e) {
        return new MixCase("error", (e as Error).message || "decryption failed");
      }
    },
  };
}
