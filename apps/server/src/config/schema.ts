import { statSync } from "node:fs";
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
    logLevel: z.enum(LOG_LEVELS, `expected one of ${LOG_LEVELS.join(", ")}`).default("info"),
    shutdownGraceMs: duration(0, 3_600_000).default(10_000),
    bodyLimitBytes: integer(1, 1 << 30).default(16 * 1024 * 1024),
    /** Bearer credential for the admin debug routes until root tokens exist. */
    adminToken: z.string().min(16, "expected at least 16 characters").max(512).optional(),
  })
  .superRefine((config, ctx) => {
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
