import type { ServerConfigInput } from "./schema.js";

/** Where a setting comes from on the command line and in the environment, and its help line. */
export interface SettingSource {
  /** Long flag name without dashes; a boolean flag when `value` is absent. */
  readonly flag?: string;
  readonly env?: string;
  /** Placeholder shown in help for a flag that takes a value. */
  readonly value?: string;
  /** A boolean flag that turns the setting off ("--no-compiler"). */
  readonly negated?: boolean;
  /** Never echo its value (in errors or help). */
  readonly secret?: boolean;
  readonly help: string;
}

/**
 * Every setting of the server, in help order. Flags win over the environment,
 * the environment over the defaults in the schema.
 */
export const SETTINGS: { readonly [K in keyof ServerConfigInput]-?: SettingSource } = {
  org: { env: "RMX_ORG", help: 'organisation this server hosts (default "local")' },
  workspace: { env: "RMX_WORKSPACE", help: 'workspace this server hosts (default "default")' },
  baseURL: { env: "RMX_BASE_URL", help: "public URL of the server (default http://localhost:<port>)" },
  rootUser: { env: "RMX_ROOT_USER", help: "user id that holds the root role" },
  sessionTimeoutMs: {
    env: "RMX_SESSION_TIMEOUT",
    help: 'idle time before a VM session ends, e.g. "300s", "5m" (default 5m)',
  },
  groovebox: {
    flag: "groovebox",
    env: "RMX_GROOVEBOX",
    value: "file",
    help: "path of the Groovebox VM build (machine-wasm-code.wasm)",
  },
  grooveboxBuild: {
    flag: "groovebox-build",
    env: "RMX_GROOVEBOX_BUILD",
    value: "n",
    help: "build number of that Groovebox; newer apps are refused (default 867)",
  },
  masterKey: {
    env: "RMX_MASTER_KEY",
    secret: true,
    help: "key (32+ chars) sealing the local keyring of secrets and signing keys",
  },
  serverUsers: {
    env: "RMX_SERVER_USERS",
    help: "users (comma-separated) that act for the server on the broker, e.g. compiler services",
  },
  httpAllow: {
    flag: "http-allow",
    env: "RMX_HTTP_ALLOW",
    value: "hosts",
    help: 'hosts VMs may call over HTTP, comma-separated ("*", "*.example.com"; default "*")',
  },
  httpAllowPrivate: {
    flag: "http-allow-private",
    env: "RMX_HTTP_ALLOW_PRIVATE",
    value: "hosts",
    help: "hosts VMs may call although they resolve to loopback/private addresses (default none)",
  },
  host: { flag: "host", value: "host", help: "interface of the public HTTP port (default all)" },
  port: { flag: "port", value: "n", help: "public HTTP port; 0 picks a free one (default 8000)" },
  adminHost: { flag: "admin-host", value: "host", help: "interface of the admin port (default 127.0.0.1)" },
  adminPort: { flag: "admin-port", value: "n", help: "admin port: metrics and debug (default 8001)" },
  brokerPort: { flag: "broker-port", value: "n", help: "MQTT broker TCP port (default 8002)" },
  solo: { flag: "solo", help: "solo mode: also serve the static folders below" },
  staticBuilder: { flag: "static-builder", value: "dir", help: "solo: folder served at /e/ (builder)" },
  staticRuntime: { flag: "static-runtime", value: "dir", help: "solo: folder served at /r/ (runtime)" },
  staticGroovebox: { flag: "static-groovebox", value: "dir", help: "solo: folder served at /g/ (groovebox)" },
  staticRcm: { flag: "static-rcm", value: "dir", help: "solo: folder served at /x/rcm/" },
  compiler: { flag: "no-compiler", negated: true, help: "do not bridge to an external compiler" },
  databaseDir: { flag: "database-dir", value: "dir", help: "where the databases live (default ./data)" },
  databaseUrl: {
    flag: "database-url",
    env: "RMX_DATABASE_URL",
    value: "url",
    secret: true,
    help: "postgres://[user:password@]host[:port]/database shared by several amp nodes: apps, ACLs, documents, indexes, files, blobs, and the records of secrets and auth (default none: all in LMDB under --database-dir)",
  },
  logLevel: {
    flag: "log-level",
    env: "RMX_LOG_LEVEL",
    value: "level",
    help: "trace, debug, info, warn, error, fatal or silent (default info)",
  },
  shutdownGraceMs: {
    flag: "shutdown-grace",
    value: "duration",
    help: 'time in-flight requests get to finish on SIGTERM, e.g. "10s" (default 10s)',
  },
  bodyLimitBytes: {
    flag: "body-limit",
    value: "bytes",
    help: "largest request body of a route that declares no limit of its own (default 16777216); routes with their own (file uploads, .remix import, JSON bodies) keep theirs",
  },
  adminToken: {
    env: "RMX_ADMIN_TOKEN",
    secret: true,
    help: "bearer credential (16+ chars) for /x/debug/* on the admin port; unset = debug routes closed",
  },
  corsOrigins: {
    flag: "cors-origins",
    env: "RMX_CORS_ORIGINS",
    value: "origins",
    help: 'origins (comma-separated, e.g. https://app.example.com) whose pages may call the API and open its WebSockets; "*" = any, never with credentials (default: same origin only)',
  },
  centralIssuer: {
    flag: "central-issuer",
    env: "RMX_CENTRAL_ISSUER",
    value: "url",
    help: "a central Remix issuer (its iss) whose tokens are accepted, verified through its JWKS",
  },
  centralJwks: {
    flag: "central-jwks",
    env: "RMX_CENTRAL_JWKS",
    value: "url",
    help: "JWKS of the central issuer (default <central-issuer>/x/jwks.json)",
  },
  centralAudience: {
    env: "RMX_CENTRAL_AUDIENCE",
    help: "aud the central issuer's tokens carry for this server (default this server's own audience)",
  },
  kmsKey: {
    flag: "kms-key",
    env: "RMX_KMS_KEY",
    value: "key",
    help: "GCP KMS CryptoKey (projects/…/cryptoKeys/…) wrapping secrets and signing keys instead of the local keyring",
  },
  kmsCredentials: {
    flag: "kms-credentials",
    env: "RMX_KMS_CREDENTIALS",
    value: "file",
    help: "service-account JSON key file used to call KMS (required with --kms-key)",
  },
  kmsEndpoint: {
    env: "RMX_KMS_ENDPOINT",
    help: "KMS API root (default https://cloudkms.googleapis.com; http only on loopback)",
  },
  proxyRemotes: {
    flag: "proxy-remotes",
    env: "RMX_PROXY_REMOTES",
    value: "name=url,…",
    help: "remotes of /{app}/proxy/{remote}/{path}, e.g. api=https://api.example.com (default none)",
  },
  redisUrl: {
    flag: "redis-url",
    env: "RMX_REDIS_URL",
    value: "url",
    secret: true,
    help: "redis://[user:password@]host[:port][/db] (rediss://… for TLS; trusts Node's CAs and NODE_EXTRA_CA_CERTS) shared by several amp nodes: broker state and messages, pending logins, passkey challenges, login codes, rate limits; requires --database-url (default none: all in this process)",
  },
  nodeId: {
    flag: "node-id",
    env: "RMX_NODE_ID",
    value: "id",
    help: "this node's id among several (the broker's id in Redis; default <hostname>:<port>)",
  },
};

/** How a setting is named to the user: the flag if it has one, else its variable. */
export function settingName(source: SettingSource): string {
  return source.flag ? `--${source.flag}` : source.env!;
}
