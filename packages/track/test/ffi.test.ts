import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { Broker, TopicAcl, VmOwners } from "@amp/broker";
import type { MixValue } from "@amp/codec";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isPrivateAddress, OutboundHttp } from "../src/index.js";
import { buildRemix, logger, root, type Stack, startStack } from "./helpers.js";

describe("isPrivateAddress", () => {
  it.each([
    ["127.0.0.1", true],
    ["10.1.2.3", true],
    ["172.16.0.1", true],
    ["172.32.0.1", false],
    ["192.168.1.1", true],
    ["169.254.169.254", true],
    ["100.64.0.1", true],
    ["8.8.8.8", false],
    ["::1", true],
    ["::", true],
    ["fe80::1", true],
    ["fd00::1", true],
    ["::ffff:127.0.0.1", true],
    ["::ffff:8.8.8.8", false],
    ["2606:4700::1111", false],
    ["not-an-ip", true],
  ])("%s → %s", (ip, expected) => {
    expect(isPrivateAddress(ip)).toBe(expected);
  });
});

describe("OutboundHttp (real loopback servers)", () => {
  let server: Server;
  let base = "";
  beforeAll(async () => {
    server = createServer((req, res) => {
      if (req.url === "/redirect-private") {
        res.writeHead(302, { location: "http://127.0.0.2:1/secret" }).end();
      } else if (req.url === "/redirect-ok") {
        res.writeHead(302, { location: "/ok" }).end();
      } else if (req.url === "/big") {
        res.end("x".repeat(5000));
      } else if (req.url === "/slow") {
        setTimeout(() => res.end("late"), 1000);
      } else {
        res.setHeader("content-type", "application/json");
        res.end(JSON.stringify({ path: req.url }));
      }
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise((r) => server.close(r)));

  it("denies loopback by default, allows it where configured", async () => {
    await expect(new OutboundHttp().request({ url: `${base}/ok` })).rejects.toMatchObject({
      code: "Track-outboundDenied",
    });
    await expect(
      new OutboundHttp({ allowedHosts: ["*"] }).request({ url: `http://localhost:${new URL(base).port}/ok` }),
    ).rejects.toMatchObject({ code: "Track-outboundDenied" });
    const ok = await new OutboundHttp({ privateHosts: ["127.0.0.1"] }).request({ url: `${base}/ok` });
    expect(ok.status).toBe(200);
    expect(JSON.parse(new TextDecoder().decode(ok.body))).toEqual({ path: "/ok" });
  });

  it("re-checks redirects, caps response size, enforces the deadline and the host allowlist", async () => {
    const http = new OutboundHttp({ privateHosts: ["127.0.0.1"], maxResponseBytes: 1000, timeoutMs: 300 });
    const followed = await http.request({ url: `${base}/redirect-ok` });
    expect(followed.url).toBe(`${base}/ok`);
    await expect(http.request({ url: `${base}/redirect-private` })).rejects.toMatchObject({
      code: "Track-outboundDenied",
    });
    await expect(http.request({ url: `${base}/big` })).rejects.toMatchObject({ code: "Track-tooLarge" });
    await expect(http.request({ url: `${base}/slow` })).rejects.toMatchObject({
      code: "Track-outboundFailed",
    });
    await expect(http.request({ url: "file:///etc/passwd" })).rejects.toMatchObject({
      code: "Track-outboundDenied",
    });
    const narrow = new OutboundHttp({ allowedHosts: ["api.example.com"] });
    await expect(narrow.request({ url: "https://evil.example.org/" })).rejects.toMatchObject({
      code: "Track-outboundDenied",
    });
  });
});

describe("FFIs with the session user's rights (real LMDB, broker, secrets)", () => {
  let stack: Stack;
  let broker: Broker;
  const alice = { id: "alice", anonymous: false, root: false, claims: {} };

  /** Runs one FFI inside a session of `user` (through the native `call` entry) and returns its cell. */
  async function call(user: typeof alice, ffi: string, args: MixValue[]) {
    const { session } = await stack.sessions.create({ user, token: "t", app: "ffiapp" });
    try {
      const r = await session.enter("load", ["call", [{ ffi, args }, {}]]);
      const cell = r.cells.find((c) => c.name === "call.result" || c.name === "call.error")!;
      return cell.name === "call.result" ? { ok: cell.value } : { error: cell.value as string };
    } finally {
      await stack.sessions.destroy(session.id);
    }
  }

  beforeAll(async () => {
    broker = new Broker({
      logger,
      port: null,
      verifier: { verify: async () => alice },
      appRoles: { can: () => false },
    });
    await broker.start();
    const acl = new TopicAcl({
      vmOwners: new VmOwners(),
      appRoles: {
        can: (user, app, role) => stack.apps.can(user, app, role === "read" ? "allowed_read" : "allowed_run"),
      },
    });
    stack = await startStack({
      remix: [buildRemix("ffiapp", new TextEncoder().encode("tim-native"))],
      manager: { ffi: { mqtt: { bus: broker, allows: (u, a, t) => acl.allows(u, a, t) } } },
    });
    await stack.apps.setRules(root, "ffiapp", { allowed_run: ["alice", "dave"], allowed_read: ["dave"] });
    await stack.secrets.set("ffiapp", "api-key", "s3cret");
  });
  afterAll(async () => {
    await stack?.close();
    await broker?.close();
  });

  it("$db_*: save, query, parse/print, delete, on the app's real store", async () => {
    const saved = await call(alice, "$db_save_one", [{ _rmx_id: "d1", _rmx_type: "note", n: 1 }]);
    expect(saved.ok).toMatchObject({ _rmx_id: "d1", n: 1 });
    const found = await call(alice, "$db_get_a", ['_rmx_type == "note" | { n }']);
    expect(found.ok).toEqual([{ n: 1 }]);
    const ast = await call(alice, "$db_parse", ['n >= 1 && _rmx_type == "note"']);
    const text = await call(alice, "$db_toString", [ast.ok!]);
    expect(typeof text.ok).toBe("string");
    const again = await call(alice, "$db_get_one", [ast.ok!]);
    expect(again.ok).toMatchObject({ _rmx_id: "d1" });
    const bad = await call(alice, "$db_get_a", ["n == "]);
    expect(bad.error).toBeDefined();
    const gone = await call(alice, "$db_delete_a", [["d1"]]);
    expect(gone.ok).toEqual([{ _rmx_id: "d1", deleted: true }]);
    const other = await call(alice, "$db_get_a", ["", { app: "nosuchapp" }]);
    expect(other.error).toMatch(/no such app/);
  });

  it("$mqtt_*: the broker's topic ACL applies to the session user", async () => {
    const topic = "/org/o/ws/w/app/ffiapp/events";
    expect((await call(alice, "$mqtt_brokerAvailable", [])).ok).toBe(true);
    expect((await call(alice, "$mqtt_isLegalSubTopic", [topic])).ok).toBe(false); // alice cannot read
    expect((await call(alice, "$mqtt_publish", [topic, { hello: 1 }])).ok).toBeNull();
    const denied = await call(alice, "$mqtt_publish", ["/org/o/ws/w/app/other/x", "hi"]);
    expect(denied.error).toMatch(/may not publish/);
    const received: Buffer[] = [];
    const stop = await broker.subscribe(topic, (_t, payload) => received.push(payload));
    await call(alice, "$mqtt_publish", [topic, "text body"]);
    await stop();
    expect(received.at(-1)?.toString()).toContain("text body");
  });

  it("secrets, crypto, tokens, get_env and unsupported FFIs", async () => {
    expect((await call(alice, "$secret_get", ["api-key"])).ok).toBe("s3cret");
    expect((await call(alice, "$secret_get", ["missing"])).ok).toBeNull();
    expect((await call(alice, "$crypto_hash", ["sha256", "abc"])).ok).toBe(
      "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
    );
    expect((await call(alice, "$token_user", [])).ok).toEqual({ id: "alice", anonymous: false, root: false });
    expect((await call(alice, "$token_verify", [await stack.token("dave")])).ok).toMatchObject({
      id: "dave",
    });
    expect((await call(alice, "$token_verify", ["garbage"])).ok).toBeNull();
    expect((await call(alice, "get_env", ["HOME"])).ok).toBeNull();
    expect((await call(alice, "$binary_compress", ["x"])).error).toMatch(
      /\$binary_compress is not supported by amp/,
    );
    expect((await call(alice, "$no_such_ffi", [])).error).toMatch(/unknown FFI: \$no_such_ffi/);
  });
});
