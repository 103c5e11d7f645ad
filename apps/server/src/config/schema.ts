import { readFileSync, statSync } from "node:fs";
import { resolve } from "node:path";
import { parseDuration } from "@amp/auth";
import { z } from "zod";

// Values arrive as strings from flags and the environment, or typed from an embedding
// program; each schema accepts both and yields one typed value.

const integer = (min: number, max: number) =>
  z
    .union([z.number(), z.string().trim().regex(/^\d+$/, "expected a whole number").transform(Number)])
    .pipe(
      z
        .number()
        .int("expected a whole number")
        .min(min, `expected at least ${min}`)
        .max(max, `expected at most ${max}`),
    );

const port = (fallback: number) => integer(0, 65_535).default(fallback);

/** Milliseconds; text is a Go-style duration ("90s", "5m", "1h30m") or plain seconds. */
const duration = (min: number, max: number) =>
  z
    .union([
      z.number(),
      z.string().transform((text, ctx) => {
        const ms = parseDuration(text);
        if (ms === undefined) {
          ctx.addIssue({ code: "custom", message: 'expected a duration such as "30s", "5m" or "1h30m"' });
          return z.NEVER;
        }
        return ms;
      }),
    ])
    .pipe(
      z
        .number()
        .min(min, `expected at least ${min / 1000}s`)
        .max(max, `expected at most ${max / 1000}s`),
    );

const host = z
  .string()
  .trim()
  .regex(/^[A-Za-z0-9.:%[\]-]+$/, "expected a host name or IP address");

const name = z
  .string()
  .trim()
  .regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/, "expected 1-63 letters, digits, '.', '_' or '-'");

const absolutePath = z
  .string()
  .trim()
  .min(1, "expected a path")
  .transform((p) => resolve(p));

const existing = (kind: "file" | "directory") =>
  absolutePath.refine(
    (p) => {
      const stats = statSync(p, { throwIfNoEntry: false });
      return kind === "file" ? stats?.isFile() === true : stats?.isDirectory() === true;
    },
    { message: `expected an existing ${kind}` },
  );

const baseURL = z
  .url({ protocol: /^https?$/, error: "expected an http(s) URL such as https://amp.example.com" })
  .transform((url) => url.replace(/\/+$/, ""));

/** A comma-separated list (or an array from an embedding program) of `item`s. */
const commaList = (item: z.ZodString, max: number) =>
  z
    .union([z.array(z.string()), z.string().transform((text) => text.split(","))])
    .transform((items) => items.map((i) => i.trim()).filter((i) => i.length > 0))
    .pipe(z.array(item).max(max));

const hostList = commaList(
  z.string().regex(/^(\*|(\*\.)?[A-Za-z0-9.-]+|\[[0-9a-fA-F:]+\])$/, "expected host names or patterns"),
  1000,
);

/**
 * An exact web origin (`https://app.example.com`, `http://localhost:5173`): a scheme, a host and
 * an optional port, nothing else. Case and a trailing "/" are normalised away.
 */
const origin = z.string().transform((text, ctx) => {
  const trimmed = text.replace(/\/$/, "");
  let parsed: URL | undefined;
  try {
    parsed = new URL(trimmed);
  } catch {
    parsed = undefined;
  }
  if (
    !parsed ||
    !/^https?:$/.test(parsed.protocol) ||
    parsed.origin.toLowerCase() !== trimmed.toLowerCase()
  ) {
    ctx.addIssue({
      code: "custom",
      message: `expected exact origins such as https://app.example.com (scheme, host, optional port; no path), got "${text}"`,
    });
    return z.NEVER;
  }
  return parsed.origin;
});

/** `--cors-origins`: "*" alone (any origin, never with credentials) or a list of exact origins. */
const corsOrigins = z
  .union([z.array(z.string()), z.string().transform((text) => text.split(","))])
  .transform((items) => items.map((i) => i.trim()).filter((i) => i.length > 0))
  .pipe(
    z.union([
      z.tuple([z.literal("*")]),
      z
        .array(
          z
            .string()
            .refine((i) => i !== "*", '"*" must stand alone')
            .pipe(origin),
        )
        .max(100, "expected at most 100 origins"),
    ]),
  )
  .transform((list): string[] => [...new Set(list)]);

function isSecureUrl(text: string): boolean {
  try {
    const u = new URL(text);
    return (
      u.protocol === "https:" ||
      (u.protocol === "http:" && ["127.0.0.1", "localhost", "[::1]"].includes(u.hostname))
    );
  } catch {
    return false;
  }
}

/** An https URL, or http on a loopback host (a local stand-in, an emulator). */
const secureUrl = (what: string, keepAsGiven = false) =>
  z
    .url({ protocol: /^https?$/, error: `expected the ${what} URL (https, or http on loopback)` })
    .refine(isSecureUrl, {
      message: `expected the ${what} URL to be https (plain http only on loopback)`,
    })
    .transform((url) => (keepAsGiven ? url : url.replace(/\/+$/, "")));

/** `--proxy-remotes name=https://base,…`: the remotes `/{app}/proxy/{remote}/…` may reach. */
const proxyRemotes = z
  .union([
    z.record(z.string(), z.string()),
    z.string().transform((text, ctx) => {
      const out: Record<string, string> = {};
      for (const item of text
        .split(",")
        .map((i) => i.trim())
        .filter(Boolean)) {
        const eq = item.indexOf("=");
        if (eq <= 0) {
          ctx.addIssue({ code: "custom", message: `expected name=https://base, got "${item}"` });
          return z.NEVER;
        }
        const name = item.slice(0, eq).trim();
        if (Object.hasOwn(out, name)) {
          ctx.addIssue({ code: "custom", message: `remote "${name}" is named twice` });
          return z.NEVER;
        }
        out[name] = item.slice(eq + 1).trim();
      }
      return out;
    }),
  ])
  .superRefine((remotes, ctx) => {
    const entries = Object.entries(remotes);
    if (entries.length > 100) ctx.addIssue({ code: "custom", message: "expected at most 100 remotes" });
    for (const [name, base] of entries) {
      if (!/^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/.test(name)) {
        ctx.addIssue({
          code: "custom",
          message: `bad remote name "${name}": expected letters, digits, '.', '_', '-'`,
        });
        continue;
      }
      let url: URL | undefined;
      try {
        url = new URL(base);
      } catch {
        url = undefined;
      }
      if (!url || !/^https?:$/.test(url.protocol) || url.search || url.hash || url.username || url.password) {
        ctx.addIssue({
          code: "custom",
          message: `remote "${name}": expected an http(s) base URL without query, fragment or credentials, got "${base}"`,
        });
      }
    }
  });

const KMS_KEY = /^projects\/[^/\s]+\/locations\/[^/\s]+\/keyRings\/[^/\s]+\/cryptoKeys\/[^/\s]+$/;

/** A GCP service-account JSON key file: read and checked at config load, kept as its fields. */
const serviceAccountFile = absolutePath.transform((path, ctx) => {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, "utf8"));
  } catch (error) {
    const why = (error as NodeJS.ErrnoException).code ?? "not JSON";
    ctx.addIssue({ code: "custom", message: `expected a readable service-account JSON key file (${why})` });
    return z.NEVER;
  }
  const fields = parsed as Record<string, unknown> | null;
  if (
    typeof fields !== "object" ||
    fields === null ||
    typeof fields.client_email !== "string" ||
    typeof fields.private_key !== "string" ||
    (fields.token_uri !== undefined && typeof fields.token_uri !== "string")
  ) {
    ctx.addIssue({
      code: "custom",
      message: "expected a service-account JSON key file with client_email and private_key",
    });
    return z.NEVER;
  }
  if (typeof fields.token_uri === "string" && !isSecureUrl(fields.token_uri)) {
    ctx.addIssue({ code: "custom", message: "its token_uri must be https (plain http only on loopback)" });
    return z.NEVER;
  }
  return {
    path,
    client_email: fields.client_email,
    private_key: fields.private_key,
    ...(typeof fields.token_uri === "string" ? { token_uri: fields.token_uri } : {}),
  };
});

/**
 * A URL setting that may carry a password: every message is fixed text, never the URL. `problem`
 * gets the parsed URL (undefined when it is not one, or past 4 KiB) and answers what is wrong with
 * it, or nothing; user and password must be percent-encoded too.
 */
function secretUrl(problem: (url: URL | undefined) => string | undefined) {
  return z.string().transform((text, ctx) => {
    let url: URL | undefined;
    try {
      url = text.length <= 4096 ? new URL(text.trim()) : undefined;
    } catch {
      url = undefined;
    }
    let message = problem(url);
    if (message === undefined && url) {
      try {
        decodeURIComponent(url.username);
        decodeURIComponent(url.password);
      } catch {
        message = "expected user and password percent-encoded";
      }
    }
    if (message !== undefined || !url) {
      ctx.addIssue({ code: "custom", message: message ?? "expected a URL" });
      return z.NEVER;
    }
    return url.href;
  });
}

/** `redis://[user:password@]host[:port][/db]`, or `rediss://…` for TLS. */
const redisUrl = secretUrl((url) => {
  const shape = "expected a URL such as redis://[user:password@]host[:port][/db] (rediss://… for TLS)";
  if (!url || (url.protocol !== "redis:" && url.protocol !== "rediss:")) return shape;
  if (!url.hostname) return "expected a host: redis://host[:port]";
  if (url.search || url.hash)
    return "expected no query or fragment: redis://[user:password@]host[:port][/db]";
  const db = url.pathname.replace(/^\//, "");
  if (db !== "" && !/^\d{1,5}$/.test(db))
    return "expected a database number after the host, e.g. redis://host:6379/0";
  return undefined;
});

/** `postgres://[user:password@]host[:port]/database`. */
const databaseUrl = secretUrl((url) => {
  if (!url || (url.protocol !== "postgres:" && url.protocol !== "postgresql:"))
    return "expected a URL such as postgres://[user:password@]host[:port]/database";
  if (!url.hostname) return "expected a host: postgres://host[:port]/database";
  if (url.hash) return "expected no fragment";
  return undefined;
});

const flag = z.union([z.boolean(), z.enum(["true", "false"]).transform((v) => v === "true")]);

export const LOG_LEVELS = ["trace", "debug", "info", "warn", "error", "fatal", "silent"] as const;

/** Folders served in solo mode, keyed by their URL prefix. */
export const STATIC_MOUNTS = {
  staticBuilder: "/e/",
  staticRuntime: "/r/",
  staticGroovebox: "/g/",
  staticRcm: "/x/rcm/",
} as const;
export type StaticMountSetting = keyof typeof STATIC_MOUNTS;

export const serverConfigSchema = z
  .object({
    org: name.default("local"),
    workspace: name.default("default"),
    /** The public URL; when unset, http://localhost:<bound port>. */
    baseURL: baseURL.optional(),
    rootUser: z.string().trim().min(1, "expected a user id").max(320).optional(),
    sessionTimeoutMs: duration(1_000, 7 * 24 * 3_600_000).default(300_000),
    groovebox: existing("file").optional(),
    /** The Groovebox build number (the .wasm does not carry it); apps needing a newer one are refused. */
    grooveboxBuild: integer(1, 1_000_000).default(867),
    /** Seals the local keyring (secrets and signing keys); without it the keyring file is the key. */
    masterKey: z.string().min(32, "expected at least 32 characters").max(4096).optional(),
    /** Hosts the VMs' outbound HTTP may reach ("*" any public host, "*.example.com"). */
    httpAllow: hostList.default(["*"]),
    /** Users who act for the server on the broker (external compiler services, remote VM hosts). */
    serverUsers: commaList(z.string().max(320), 100).default([]),
    /** Hosts the VMs may reach although they resolve to loopback or private addresses. */
    httpAllowPrivate: hostList.default([]),

    host: host.optional(),
    port: port(8000),
    adminHost: host.default("127.0.0.1"),
    adminPort: port(8001),
    brokerPort: port(8002),

    solo: flag.default(false),
    staticBuilder: existing("directory").optional(),
    staticRuntime: existing("directory").optional(),
    staticGroovebox: existing("directory").optional(),
    staticRcm: existing("directory").optional(),

    compiler: flag.default(true),
    databaseDir: absolutePath.default(resolve("data")),
    /**
     * PostgreSQL shared by several amp nodes: the app registry, ACLs, documents, indexes, change
     * sequences, files and blobs (and, through @amp/records, secrets and auth state). Without it
     * everything stays in LMDB under `databaseDir`.
     */
    databaseUrl: databaseUrl.optional(),
    logLevel: z.enum(LOG_LEVELS, `expected one of ${LOG_LEVELS.join(", ")}`).default("info"),
    shutdownGraceMs: duration(0, 3_600_000).default(10_000),
    bodyLimitBytes: integer(1, 1 << 30).default(16 * 1024 * 1024),
    /** Bearer credential for the admin debug routes until root tokens exist. */
    adminToken: z.string().min(16, "expected at least 16 characters").max(512).optional(),

    /** Origins (besides the server's own) whose pages may call the API and open its WebSockets. */
    corsOrigins: corsOrigins.default([]),
    /** A central Remix issuer whose tokens are accepted (its `iss`). */
    centralIssuer: secureUrl("central issuer", true).optional(),
    /** Its JWKS; default `<centralIssuer>/x/jwks.json`. */
    centralJwks: secureUrl("central JWKS").optional(),
    /** The `aud` its tokens carry for this server; default this server's own audience. */
    centralAudience: z.string().trim().min(1).max(512).optional(),
    /** A GCP KMS CryptoKey wrapping the secrets' data keys instead of the local keyring. */
    kmsKey: z
      .string()
      .trim()
      .regex(KMS_KEY, "expected projects/<p>/locations/<l>/keyRings/<r>/cryptoKeys/<k>")
      .optional(),
    kmsCredentials: serviceAccountFile.optional(),
    /** The KMS API root (default https://cloudkms.googleapis.com); for emulators and tests. */
    kmsEndpoint: secureUrl("KMS endpoint").optional(),
    /** Remotes of `/{app}/proxy/{remote}/{path}`: name → base URL. */
    proxyRemotes: proxyRemotes.default({}),
    /**
     * Redis shared by several amp nodes: the broker's state and messages, and the short-lived
     * auth state (pending logins, passkey challenges, login codes, rate-limit counts). Only
     * with `databaseUrl` (the nodes' shared apps, documents and keys).
     */
    redisUrl: redisUrl.optional(),
    /** This process among several nodes (the broker's id); default `<hostname>:<port>`. */
    nodeId: z
      .string()
      .trim()
      .regex(/^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$/, "expected 1-128 letters, digits, '.', '_', ':' or '-'")
      .optional(),
  })
  .superRefine((config, ctx) => {
    if (config.centralJwks !== undefined && config.centralIssuer === undefined) {
      ctx.addIssue({ code: "custom", path: ["centralJwks"], message: "only used with --central-issuer" });
    }
    if (config.centralAudience !== undefined && config.centralIssuer === undefined) {
      ctx.addIssue({ code: "custom", path: ["centralAudience"], message: "only used with --central-issuer" });
    }
    if (config.kmsKey !== undefined && config.kmsCredentials === undefined) {
      ctx.addIssue({
        code: "custom",
        path: ["kmsCredentials"],
        message: "required with --kms-key: the service-account JSON key file",
      });
    }
    for (const key of ["kmsCredentials", "kmsEndpoint"] as const) {
      if (config[key] !== undefined && config.kmsKey === undefined) {
        ctx.addIssue({ code: "custom", path: [key], message: "only used with --kms-key" });
      }
    }
    if (config.kmsKey !== undefined && config.masterKey !== undefined) {
      ctx.addIssue({
        code: "custom",
        path: ["masterKey"],
        message: "seals the local keyring, which --kms-key replaces: set one of them",
      });
    }
    // Redis alone would give nodes a shared broker and shared logins over separate apps,
    // documents, signing keys and revocations: behind one load balancer they would disagree.
    if (config.redisUrl !== undefined && config.databaseUrl === undefined) {
      ctx.addIssue({
        code: "custom",
        path: ["databaseUrl"],
        message:
          "required with --redis-url: without a shared PostgreSQL each node keeps its own apps, documents, signing keys and revocations, so nodes behind one load balancer disagree; give every node the same postgres://… URL (--database-url or RMX_DATABASE_URL), or drop --redis-url to run a single node",
      });
    }
    if (config.solo) return;
    for (const key of Object.keys(STATIC_MOUNTS) as StaticMountSetting[]) {
      if (config[key] !== undefined) {
        ctx.addIssue({ code: "custom", path: [key], message: "only used with --solo" });
      }
    }
  });

/** What an embedding program may pass: every field optional, strings or typed values. */
export type ServerConfigInput = z.input<typeof serverConfigSchema>;
/** The validated configuration every part of the server reads. */
export type ServerConfig = z.output<typeof serverConfigSchema>;
