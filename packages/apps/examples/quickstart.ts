import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pino } from "pino";
import { Apps } from "../src/index.js";

const apps = new Apps({ dir: mkdtempSync(join(tmpdir(), "amp-apps-")), logger: pino() });
const root = { id: "root", anonymous: false, root: true }; // an AmpUser from @amp/auth

await apps.setRules(root, "*", { allowed_create: ["_rmx_all_users"] }); // who may create apps
await apps.create(root, "notes", { indexedFields: ["due"] });
await apps.setRules(root, "notes", {
  allowed_read: ["anon-*"],
  allowed_create: ["alice"],
  allowed_build: ["root"],
});

const alice = { id: "alice", anonymous: false, root: false };
const store = await apps.store(alice, "notes", ["allowed_create"]); // throws not_found / forbidden
const off = await apps.subscribe(root, "notes", (e) => console.log("change", e.seq, e.changes.length));
await store.write(
  [
    { op: "insert", doc: { _rmx_type: "note", due: 3, text: "hello" } },
    { op: "insert", doc: { _rmx_type: "note", due: 9, text: "later" } },
  ],
  alice.id,
); // all or nothing; resolves once durable
const anon = { id: "anon-1", anonymous: true, root: false };
console.log((await apps.query(anon, "notes", '_rmx_type == "note" && due < 5 | { text }')).documents); // [ { text: 'hello' } ]
console.log(apps.can(anon, "notes", "allowed_create")); // false
off();
await apps.close();
