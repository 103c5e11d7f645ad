#!/usr/bin/env node
// Installs the real peers the test suite runs against (Debian packages), when
// they are missing and we are allowed to: as root with apt-get. Otherwise it
// prints what is missing; the tests that need a missing peer fail loudly.
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync } from "node:fs";

const peers = [
  { bin: "/usr/bin/chromium", pkg: "chromium" },
  { bin: "/usr/bin/redis-server", pkg: "redis-server" },
  { bin: "/usr/sbin/mosquitto", pkg: "mosquitto" },
  { bin: "/usr/bin/mosquitto_pub", pkg: "mosquitto-clients" },
];

const missing = peers.filter((p) => !existsSync(p.bin)).map((p) => p.pkg);
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
