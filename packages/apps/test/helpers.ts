import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pino } from "pino";
import type { ActingUser } from "../src/index.js";

export const silentLogger = pino({ level: "silent" });

export function tempDir(prefix = "amp-apps-"): { path: string; remove: () => void } {
  const path = mkdtempSync(join(tmpdir(), prefix));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}

export const root: ActingUser = { id: "root", anonymous: false, root: true };
export function user(id: string): ActingUser {
  return { id, anonymous: false, root: false };
}
export function anon(id = "anon-1"): ActingUser {
  return { id, anonymous: true, root: false };
}
