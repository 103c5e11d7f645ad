import { createHash, createHmac, randomBytes, randomUUID, timingSafeEqual } from "node:crypto";
import { isBinary, isToken, type MixValue } from "@amp/codec";
import { type FfiHandler, standardHooks } from "@amp/machine";
import type { TrackSecrets, TrackTokens } from "../ports.js";
import { numberOf, type SessionLookup, sessionOf, stringArg } from "./args.js";

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

/** FFIs amp does not implement: each aborts the call with a message naming it (as the Go server does). */
export const UNSUPPORTED_FFIS = ["$binary_compress", "$binary_decompress"] as const;

export function unsupportedFfis(names: readonly string[] = UNSUPPORTED_FFIS): Record<string, FfiHandler> {
  return Object.fromEntries(
    names.map((name) => [
      name,
      () => {
        throw new Error(`${name} is not supported by amp`);
      },
    ]),
  );
}
