#!/usr/bin/env node
// Installs the real peers the test suite runs against (Debian packages), when
// they are missing and we are allowed to: as root with apt-get. Otherwise it
// prints what is missing; the tests that need a missing peer fail loudly.
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, readdirSync } from "node:fs";

/** Debian's PostgreSQL puts its server programs in /usr/lib/postgresql/<version>/bin, off PATH. */
const hasPostgres = () =>
  spawnSync("sh", ["-c", "command -v initdb"]).status === 0 ||
  (existsSync("/usr/lib/postgresql") &&
    readdirSync("/usr/lib/postgresql").some((v) => existsSync(`/usr/lib/postgresql/${v}/bin/initdb`)));

const peers = [
  { present: () => existsSync("/usr/bin/chromium"), pkg: "chromium" },
  { present: () => existsSync("/usr/bin/redis-server"), pkg: "redis-server" },
  { present: () => existsSync("/usr/sbin/mosquitto"), pkg: "mosquitto" },
  { present: () => existsSync("/usr/bin/mosquitto_pub"), pkg: "mosquitto-clients" },
  { present: hasPostgres, pkg: "postgresql" },
];

const missing = peers.filter((p) => !p.present()).map((p) => p.pkg);
if (missing.length === 0) {
  console.log("peers: all present");
  process.exit(0);
}
const isRoot = process.getuid?.() === 0;
const hasApt = spawnSync("sh", ["-c", "command -v apt-get"]).status === 0;
if (!isRoot || !hasApt) {
  console.warn(
    `peers: missing ${missing.join(", ")}; install them with apt-get (tests that need them will fail)`,
  );
  process.exit(0);
}
console.log(`peers: installing ${missing.join(", ")} with apt-get`);
const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
execFileSync("apt-get", ["update", "-qq"], { stdio: "inherit", env });
execFileSync("apt-get", ["install", "-y", "-qq", "--no-install-recommends", ...missing], {
  stdio: "inherit",
  env,
});
