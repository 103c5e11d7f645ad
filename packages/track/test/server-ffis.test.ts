import { readFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { encodeRmx, MixCase, MixOpaque, type MixValue, readQcode } from "@amp/codec";
import { MACHINE_FFIS } from "@amp/machine";
import { leb, remixArtifactsFor } from "@amp/test-support";
import { unzipSync } from "fflate";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { WebSocketServer } from "ws";
import type { Session } from "../src/index.js";
import { REFUSED_FFIS, trackFfiCatalog } from "../src/index.js";
import { buildRemix, type Stack, startStack } from "./helpers.js";

const alice = { id: "alice", anonymous: false, root: false, claims: {} };
const bob = { id: "bob", anonymous: false, root: false, claims: {} };

/** FFIs the reference host (`machine-wasm-core.js`) answers that the sample apps do not name. */
const REFERENCE_HOST_FFIS = [
  "$websocket_create",
  "$websocket_write",
  "$websocket_read",
  "$websocket_close",
  "$websocket_error",
  "$wasm_shutdown",
  "$crypto_AESGCMEncrypt",
  "$crypto_AESGCMDecrypt",
];

/** The FFI names in the `mix_qcode` section of each app executable in a `.remix`. */
function qcodeFfis(remix: Uint8Array): string[] {
  const files = unzipSync(remix);
  const names = new Set<string>();
  for (const [path, bytes] of Object.entries(files)) {
    if (!path.endsWith("/libraries/executable_cross.WASM")) continue;
    const [section] = WebAssembly.Module.customSections(new WebAssembly.Module(bytes), "mix_qcode");
    for (const n of readQcode(new Uint8Array(section!)).ffis) names.add(n);
  }
  return [...names].sort();
}

// --- a user Wasm module, emitted byte by byte (`leb` is the shared encoder) ---

/** Signed LEB128, for `i32.const` immediates (non-negative values here). */
function sleb(n: number): number[] {
  const out = leb(n);
  if ((out[out.length - 1]! & 0x40) !== 0) {
    out[out.length - 1]! |= 0x80;
    out.push(0);
  }
  return out;
}
const vec = (items: number[][]) => [...leb(items.length), ...items.flat()];
const str = (s: string) => [...leb(s.length), ...new TextEncoder().encode(s)];
const section = (id: number, body: number[]) => [id, ...leb(body.length), ...body];

/** `[u32 length][bytes]`, as a Wasm FFI function returns its result. */
function framed(bytes: Uint8Array): number[] {
  return [...new Uint8Array(Uint32Array.of(bytes.length).buffer), ...bytes];
}

/**
 * A module with the reference host's calling convention: `memory`, `_rmx_allocate` (a bump
 * allocator), `_rmx_deallocate`, and `echo` (its arguments are its result), `answer` (→ ok("hi")),
 * `fail` (→ error("nope")), `spin` (never returns), `grow` (grows memory by 64 pages).
 * `withImport` adds an import the reference host would not give.
 */
function userModule(withImport = false): Uint8Array {
  const OK_AT = 16;
  const ERR_AT = 512;
  const i32 = 0x7f;
  const types = section(
    1,
    vec([
      [0x60, 1, i32, 1, i32], // 0: (i32) -> i32
      [0x60, 2, i32, i32, 0], // 1: (i32, i32) -> ()
      [0x60, 0, 0], // 2: () -> ()
    ]),
  );
  const imports = withImport ? section(2, vec([[...str("env"), ...str("f"), 0x00, 2]])) : [];
  const base = withImport ? 1 : 0;
  const bodies: Array<[string, number, number[]]> = [
    // global.get 0; global.get 0; local.get 0; i32.add; i32.const 7; i32.add; i32.const -8; i32.and; global.set 0
    ["_rmx_allocate", 0, [0x23, 0, 0x23, 0, 0x20, 0, 0x6a, 0x41, 7, 0x6a, 0x41, 0x78, 0x71, 0x24, 0]],
    ["_rmx_deallocate", 1, []],
    ["echo", 0, [0x20, 0]],
    ["answer", 0, [0x41, ...sleb(OK_AT)]],
    ["fail", 0, [0x41, ...sleb(ERR_AT)]],
    ["spin", 0, [0x03, 0x40, 0x0c, 0, 0x0b, 0x41, 0]],
    ["grow", 0, [0x41, ...sleb(64), 0x40, 0, 0x1a, 0x20, 0]],
  ];
  const functions = section(3, vec(bodies.map(([, t]) => [t])));
  const memory = section(5, vec([[0x00, 1]]));
  const global = section(6, vec([[i32, 1, 0x41, ...sleb(4096), 0x0b]]));
  const exports = section(
    7,
    vec([[...str("memory"), 0x02, 0], ...bodies.map(([name], i) => [...str(name), 0x00, ...leb(base + i)])]),
  );
  const code = section(
    10,
    vec(
      bodies.map(([, , instrs]) => {
        const body = [0, ...instrs, 0x0b];
        return [...leb(body.length), ...body];
      }),
    ),
  );
  const segment = (at: number, bytes: number[]) => [
    0,
    0x41,
    ...sleb(at),
    0x0b,
    ...leb(bytes.length),
    ...bytes,
  ];
  const data = section(
    11,
    vec([
      segment(OK_AT, framed(encodeRmx(new MixCase("ok", "hi")))),
      segment(ERR_AT, framed(encodeRmx(new MixCase("error", "nope")))),
    ]),
  );
  return new Uint8Array([
    0x00,
    0x61,
    0x73,
    0x6d,
    1,
    0,
    0,
    0,
    ...types,
    ...imports,
    ...functions,
    ...memory,
    ...global,
    ...exports,
    ...code,
    ...data,
  ]);
}

describe("server-side FFIs of the reference host (native backend, real stack)", () => {
  let stack: Stack;
  let http: Server;
  let httpBase = "";
  let wss: WebSocketServer;
  let wsPort = 0;
  const serverSockets = new Set<import("ws").WebSocket>();

  async function session(user = alice): Promise<Session> {
    return (await stack.sessions.create({ user, token: "t", app: "ffiapp" })).session;
  }
  /** Calls one FFI in `s` through the native `call` entry: its result, or the abort message. */
  async function call(s: Session, ffi: string, args: MixValue[]): Promise<{ ok?: MixValue; error?: string }> {
    const r = await s.enter("load", ["call", [{ ffi, args }, {}]]);
    const cell = r.cells.find((c) => c.name === "call.result" || c.name === "call.error")!;
    return cell.name === "call.result" ? { ok: cell.value } : { error: cell.value as string };
  }
  async function once(ffi: string, args: MixValue[], user = alice) {
    const s = await session(user);
    try {
      return await call(s, ffi, args);
    } finally {
      await stack.sessions.destroy(s.id);
    }
  }

  beforeAll(async () => {
    const remix = buildRemix("ffiapp", new TextEncoder().encode("tim-native"), 300, {
      resources: { "logo.txt": { identifier: "abc123.txt", bytes: new TextEncoder().encode("a logo") } },
    });
    stack = await startStack({
      remix: [remix],
      manager: {
        ffi: {
          outbound: { privateHosts: ["127.0.0.1"] },
          websocket: { maxFrameBytes: 1000, maxQueued: 5, maxSockets: 2 },
          wasm: {
            maxModuleBytes: 64 * 1024,
            maxMemoryBytes: 2 * 1024 * 1024,
            callTimeoutMs: 500,
            maxModules: 4,
          },
        },
      },
    });
    await stack.apps.setRules({ id: "root", anonymous: false, root: true }, "ffiapp", {
      allowed_run: ["alice", "bob"],
    });
    http = createServer((req, res) => {
      res.setHeader("content-type", "text/plain");
      res.end(`got ${req.url}`);
    });
    await new Promise<void>((r) => http.listen(0, "127.0.0.1", r));
    httpBase = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
    wss = new WebSocketServer({ host: "127.0.0.1", port: 0 });
    await new Promise<void>((r) => wss.once("listening", () => r()));
    wsPort = (wss.address() as AddressInfo).port;
    wss.on("connection", (ws) => {
      serverSockets.add(ws);
      ws.on("close", () => serverSockets.delete(ws));
      ws.on("message", (data, isBinary) => {
        const text = isBinary ? undefined : data.toString();
        if (text === "close-me") ws.close(4001, "bye");
        else if (text === "flood") for (let i = 0; i < 20; i++) ws.send(`m${i}`);
        else if (text === "big") ws.send("x".repeat(5000));
        else ws.send(data, { binary: isBinary });
      });
    });
  });

  afterAll(async () => {
    await stack?.close();
    await new Promise((r) => http?.close(r));
    await new Promise((r) => wss?.close(r));
  });

  it("every FFI the reference host answers is answered (or refused with a reason)", () => {
    const catalog = trackFfiCatalog();
    for (const name of REFERENCE_HOST_FFIS) {
      expect(catalog.answered, name).toContain(name);
      expect(stack.sessions.ffi.has(name), name).toBe(true);
    }
    expect(Object.keys(catalog.refused).sort()).toEqual(Object.keys(REFUSED_FFIS).sort());
  });

  it("$co_sleep: a deferred null, other sessions go on meanwhile; bad and oversize waits refused", async () => {
    const a = await session();
    const b = await session(bob);
    try {
      const started = Date.now();
      const sleeping = call(a, "$co_sleep", [0.4]);
      const other = await call(b, "$crypto_uuid", []);
      expect(Date.now() - started).toBeLessThan(300); // b was not held up by a's sleep
      expect(typeof other.ok).toBe("string");
      expect(await sleeping).toEqual({ ok: null });
      expect(Date.now() - started).toBeGreaterThanOrEqual(390);
      expect((await call(a, "$co_sleep", ["soon"])).error).toMatch(/\$co_sleep: seconds must be a number/);
      expect((await call(a, "$co_sleep", [3600])).error).toMatch(/at most 60 seconds/);
      expect(await call(a, "$co_sleep", [-1])).toEqual({ ok: null });
    } finally {
      await stack.sessions.destroy(a.id);
      await stack.sessions.destroy(b.id);
    }
  });

  it("$websocket_*: a real client with the reference host's shapes", async () => {
    const s = await session();
    try {
      const url = `ws://127.0.0.1:${wsPort}/chat`;
      const created = await call(s, "$websocket_create", [{ url, resourceTags: ["screen-1"] }]);
      expect(created.ok).toBeInstanceOf(MixOpaque);
      const h = created.ok!;
      expect(await call(s, "$websocket_write", [h, new MixCase("websocket.textMsg", "hello")])).toEqual({
        ok: null,
      });
      expect(await call(s, "$websocket_read", [h])).toEqual({
        ok: new MixCase("websocket.textMsg", "hello"),
      });
      await call(s, "$websocket_write", [h, new MixCase("websocket.binMsg", Uint8Array.of(1, 2, 3))]);
      expect(await call(s, "$websocket_read", [h])).toEqual({
        ok: new MixCase("websocket.binMsg", Uint8Array.of(1, 2, 3)),
      });
      expect(await call(s, "$websocket_write", [h, new MixCase("websocket.pingMsg")])).toEqual({ ok: null });
      expect(await call(s, "$websocket_error", [h])).toEqual({ ok: undefined });
      // oversize: a write over the frame limit is refused, an incoming frame over it is an error
      expect(
        (await call(s, "$websocket_write", [h, new MixCase("websocket.textMsg", "y".repeat(2000))])).error,
      ).toMatch(/over 1000 bytes/);
      expect((await call(s, "$websocket_write", [h, "not a case"])).error).toMatch(
        /websocket.write: bad message/,
      );
      await call(s, "$websocket_write", [h, new MixCase("websocket.textMsg", "big")]);
      expect((await call(s, "$websocket_read", [h])).error).toMatch(/Max payload size exceeded/i);
      expect((await call(s, "$websocket_error", [h])).ok).toMatch(/Max payload size exceeded/i);

      // the peer closes: closeMsg, on every later read too
      const h2 = (await call(s, "$websocket_create", [{ url, resourceTags: [] }])).ok!;
      await call(s, "$websocket_write", [h2, new MixCase("websocket.textMsg", "close-me")]);
      const closed = new MixCase("websocket.closeMsg", { code: 4001, text: "bye" });
      expect(await call(s, "$websocket_read", [h2])).toEqual({ ok: closed });
      expect(await call(s, "$websocket_read", [h2])).toEqual({ ok: closed });
      expect(await call(s, "$websocket_close", [h2])).toEqual({ ok: null });
      expect(await call(s, "$websocket_close", [h2])).toEqual({ ok: null }); // forgiving
      expect((await call(s, "$websocket_read", [h2])).error).toMatch(/websocket: bad handle/);
      expect(await call(s, "$websocket_error", [new MixOpaque(Uint32Array.of(999))])).toEqual({
        ok: "websocket: bad handle",
      });

      // the read queue is bounded: past it the socket is closed with an error
      const h3 = (await call(s, "$websocket_create", [{ url, resourceTags: [], readTimeout: 1 }])).ok!;
      await call(s, "$websocket_write", [h3, new MixCase("websocket.textMsg", "flood")]);
      await new Promise((r) => setTimeout(r, 200));
      for (let i = 0; i < 5; i++) {
        expect(await call(s, "$websocket_read", [h3])).toEqual({
          ok: new MixCase("websocket.textMsg", `m${i}`),
        });
      }
      expect((await call(s, "$websocket_read", [h3])).error).toMatch(/more than 5 unread messages/);
      await call(s, "$websocket_close", [h3]);

      // a read with readTimeout and nothing coming: "websocket timeout"
      const h4 = (await call(s, "$websocket_create", [{ url, resourceTags: [], readTimeout: 0.2 }])).ok!;
      expect((await call(s, "$websocket_read", [h4])).error).toMatch(/websocket timeout/);
      // per-session socket limit (2 open: h and h4)
      expect((await call(s, "$websocket_create", [{ url, resourceTags: [] }])).error).toMatch(
        /Track-tooLarge: at most 2 open WebSockets/,
      );
      // bad configs
      expect((await call(s, "$websocket_create", [{ url }])).error).toMatch(/resourceTags/);
      expect(
        (await call(s, "$websocket_create", [{ url: "https://x.example/", resourceTags: [] }])).error,
      ).toMatch(/restricted to ws\/wss/);
    } finally {
      expect(serverSockets.size).toBeGreaterThan(0);
      await stack.sessions.destroy(s.id);
      // the session's open sockets are closed with it
      for (let i = 0; i < 50 && serverSockets.size > 0; i++) await new Promise((r) => setTimeout(r, 20));
      expect(serverSockets.size).toBe(0);
    }
  });

  it("$websocket_create to loopback/private addresses without permission: a typed error to that session only", async () => {
    const a = await session();
    const b = await session(bob);
    try {
      const h = (await call(b, "$websocket_create", [{ url: `ws://127.0.0.1:${wsPort}/`, resourceTags: [] }]))
        .ok!;
      const viaName = await call(a, "$websocket_create", [
        { url: `ws://localhost:${wsPort}/`, resourceTags: [] },
      ]);
      expect(viaName.error).toMatch(/\$websocket_create: Track-outboundDenied: .*private address/);
      const literal = await call(a, "$websocket_create", [{ url: "ws://10.0.0.1/", resourceTags: [] }]);
      expect(literal.error).toMatch(/\$websocket_create: Track-outboundDenied: .*10\.0\.0\.1/);
      const meta = await call(a, "$websocket_create", [{ url: "wss://169.254.169.254/", resourceTags: [] }]);
      expect(meta.error).toMatch(/Track-outboundDenied/);
      // the session goes on, and the other session's socket is untouched
      expect(typeof (await call(a, "$crypto_uuid", [])).ok).toBe("string");
      await call(b, "$websocket_write", [h, new MixCase("websocket.textMsg", "still here")]);
      expect(await call(b, "$websocket_read", [h])).toEqual({
        ok: new MixCase("websocket.textMsg", "still here"),
      });
    } finally {
      await stack.sessions.destroy(a.id);
      await stack.sessions.destroy(b.id);
    }
  });

  it("$wasm_*: user modules in the session's own worker; bad bytes, imports, oversize and runaways are typed errors", async () => {
    const a = await session();
    const b = await session(bob);
    try {
      const index = await call(a, "$wasm_load", [userModule()]);
      expect(index).toEqual({ ok: 0 });
      expect(await call(a, "$wasm_fun", [0, "echo"])).toEqual({ ok: [0, 0] });
      expect(await call(a, "$wasm_fun", [0, "answer"])).toEqual({ ok: [0, 1] });
      expect(await call(a, "$wasm_fun", [0, "fail"])).toEqual({ ok: [0, 2] });
      const value = { list: [1, "two", true], bin: Uint8Array.of(9, 8) };
      expect(await call(a, "$wasm_call", [[0, 0], new MixCase("ok", value)])).toEqual({ ok: value });
      expect(await call(a, "$wasm_call", [[0, 1], []])).toEqual({ ok: "hi" });
      expect((await call(a, "$wasm_call", [[0, 2], []])).error).toMatch(/WASM FFI: Wasm call failed: nope/);
      expect((await call(a, "$wasm_call", [[0, 0], "not a case"])).error).toMatch(/must return a case/);
      expect((await call(a, "$wasm_fun", [0, "missing"])).error).toMatch(/function not found: missing/);
      expect((await call(a, "$wasm_fun", [7, "echo"])).error).toMatch(/invalid instance/);
      expect((await call(a, "$wasm_call", [[0, 9], []])).error).toMatch(/invalid function/);

      // another session's indexes are its own
      expect((await call(b, "$wasm_fun", [0, "echo"])).error).toMatch(/invalid instance/);

      // bad bytes, an import the reference host does not give, oversize
      const bad = await call(a, "$wasm_load", [Uint8Array.of(1, 2, 3, 4)]);
      expect(bad.error).toMatch(/\$wasm_load: WASM FFI: .*(magic|expected)/i);
      expect((await call(a, "$wasm_load", [userModule(true)])).error).toMatch(
        /\$wasm_load: WASM FFI: .*import/i,
      );
      expect((await call(a, "$wasm_load", [new Uint8Array(65 * 1024)])).error).toMatch(
        /Track-tooLarge: a module over 65536 bytes/,
      );
      expect((await call(a, "$wasm_load", ["text"])).error).toMatch(/must be binary/);

      // b loads its own module meanwhile and keeps it through a's runaway below
      expect(await call(b, "$wasm_load", [userModule()])).toEqual({ ok: 0 });
      expect(await call(b, "$wasm_fun", [0, "answer"])).toEqual({ ok: [0, 0] });

      // memory over the limit: the module is shut down
      const g = (await call(a, "$wasm_load", [userModule()])).ok as number;
      await call(a, "$wasm_fun", [g, "grow"]);
      expect((await call(a, "$wasm_call", [[g, 0], new MixCase("ok", 1)])).error).toMatch(/over the limit/);
      expect((await call(a, "$wasm_call", [[g, 0], new MixCase("ok", 1)])).error).toMatch(
        /FFI has been shutdown/,
      );

      // a call that never returns: the session's worker is ended, the session goes on
      expect((await call(a, "$wasm_fun", [0, "spin"])).ok).toEqual([0, 3]);
      const started = Date.now();
      expect((await call(a, "$wasm_call", [[0, 3], []])).error).toMatch(
        /Track-executionTimedOut: a Wasm call ran past 500 ms/,
      );
      expect(Date.now() - started).toBeLessThan(2000);
      expect((await call(a, "$wasm_call", [[0, 1], []])).error).toMatch(/FFI has been shutdown/);
      expect((await call(a, "$wasm_load", [userModule()])).error).toMatch(
        /Track-tooLarge: at most 4 modules/,
      );
      expect(await call(b, "$wasm_call", [[0, 0], []])).toEqual({ ok: "hi" });

      // shutdown
      expect(await call(b, "$wasm_shutdown", [0])).toEqual({ ok: undefined });
      expect((await call(b, "$wasm_call", [[0, 0], []])).error).toMatch(/FFI has been shutdown/);
    } finally {
      await stack.sessions.destroy(a.id);
      await stack.sessions.destroy(b.id);
    }
  });

  it("$load_resource: the app's own files as ok(bytes), anything else error(…)", async () => {
    const byName = await once("$load_resource", ["logo.txt"]);
    expect(byName.ok).toEqual(new MixCase("ok", new TextEncoder().encode("a logo")));
    expect((await once("$load_resource", ["abc123.txt"])).ok).toEqual(
      new MixCase("ok", new TextEncoder().encode("a logo")),
    );
    expect((await once("$load_resource", ["rmx_extra.wasm"])).ok).toEqual(
      new MixCase("error", "cannot fetch resource: rmx_extra.wasm"),
    );
    expect((await once("$load_resource", [42])).ok).toBeInstanceOf(MixCase);
  });

  it("$extra_isFFI / $extra_dispatch: the table's own FFIs only", async () => {
    expect((await once("$extra_isFFI", ["$crypto_hash"])).ok).toBe(true);
    expect((await once("$extra_isFFI", ["$no_such"])).ok).toBe(false);
    expect((await once("$extra_isFFI", ["$testing_controlRecording"])).ok).toBe(false);
    expect((await once("$extra_isFFI", ["$extra_dispatch"])).ok).toBe(false);
    expect((await once("$extra_isFFI", ["$outputWithVersion"])).ok).toBe(false);
    expect((await once("$extra_dispatch", ["$crypto_hash", ["sha256", "abc"]])).ok).toBe(
      "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
    );
    expect((await once("$extra_dispatch", ["$no_such", []])).error).toMatch(
      /\$no_such is not an FFI of this server/,
    );
    expect((await once("$extra_dispatch", ["$crypto_hash", "x"])).error).toMatch(/must be a list/);
  });

  it("$db_fromAST_result, $http_do_client, AES-GCM and the refused FFIs", async () => {
    const ast = (await once("$db_parse", ['_rmx_type == "note"'])).ok!;
    expect((await once("$db_fromAST_result", [ast])).ok).toEqual(new MixCase("ok", ast));
    const bad = (await once("$db_fromAST_result", [42])).ok as MixCase;
    expect(bad.name).toBe("error");
    expect(bad.arg).toMatch(/query must be a string or a query AST map/);

    const got = (await once("$http_do_client", [{ method: "GET", url: `${httpBase}/x` }])).ok as Record<
      string,
      MixValue
    >;
    expect(got).toMatchObject({ status: 200, body: "got /x", requested_url: `${httpBase}/x` });
    expect((await once("$http_do_client", [{ url: "http://10.1.1.1/" }])).error).toMatch(/not allowed/);

    const key = new Uint8Array(32).fill(7);
    const sealed = (await once("$crypto_AESGCMEncrypt", [key, "aad", "secret text"])).ok as MixCase;
    expect(sealed.name).toBe("ok");
    expect((sealed.arg as Uint8Array).length).toBe(12 + 11 + 16);
    expect((await once("$crypto_AESGCMDecrypt", [key, "aad", sealed.arg])).ok).toEqual(
      new MixCase("ok", new TextEncoder().encode("secret text")),
    );
    expect(((await once("$crypto_AESGCMDecrypt", [key, "other", sealed.arg])).ok as MixCase).name).toBe(
      "error",
    );
    expect(((await once("$crypto_AESGCMEncrypt", [Uint8Array.of(1), null, "x"])).ok as MixCase).name).toBe(
      "error",
    );
    expect((await once("$crypto_AESGCMDecrypt", [key, null, Uint8Array.of(1)])).ok).toEqual(
      new MixCase("error", "message too short"),
    );
    expect((await once("$crypto_AESGCMEncrypt", [undefined, null, "x"])).ok).toBeUndefined();
    expect((await once("$crypto_AESGCMEncrypt", [key, null, 42])).error).toMatch(/neither string nor binary/);

    for (const [name, { reason }] of Object.entries(REFUSED_FFIS)) {
      const r = await once(name, []);
      expect(r.error).toContain(`${name} is not supported by amp: ${reason}`);
    }
  });
});

const artifacts = remixArtifactsFor("track server FFIs (sample apps' qcode)");

describe.skipIf(!artifacts)("every FFI the sample apps name is answered on the server", () => {
  const samples = ["tim-wasm.remix", "collection.remix"];
  const catalog = trackFfiCatalog();
  const answered = new Set([...catalog.answered, ...MACHINE_FFIS]);

  it.each(samples)("%s: the qcode lists FFIs, each answered or refused with a reason", (file) => {
    const names = qcodeFfis(new Uint8Array(readFileSync(join(artifacts!.samples, file))));
    expect(names.length).toBeGreaterThan(30);
    const unanswered = names.filter((n) => !answered.has(n) && !(n in catalog.refused));
    expect(unanswered).toEqual([]);
    for (const n of names) {
      if (n in catalog.refused) expect(catalog.refused[n]!.length, n).toBeGreaterThan(10);
    }
  });
});
