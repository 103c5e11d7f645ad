import { rmSync } from "node:fs";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { Apps, importRemix } from "@amp/apps";
import { type AmpUser, AUTH_VAULT_APP, authMiddleware, TokenService } from "@amp/auth";
import { isMixMap, type MixValue } from "@amp/codec";
import type { Compiler } from "@amp/compiler";
import type { GrooveboxPool, NativeModule } from "@amp/machine";
import { Secrets } from "@amp/secrets";
import { TrackClient as SharedTrackClient, tempDir as sharedTempDir } from "@amp/test-support";
import { createAdaptorServer, type WebSocketServerLike } from "@hono/node-server";
import { encode } from "@msgpack/msgpack";
import { strToU8, zipSync } from "fflate";
import { Hono } from "hono";
import { pino } from "pino";
import { WebSocketServer } from "ws";
import { trackRoutes } from "../src/http.js";
import {
  findViewNodes,
  SessionManager,
  type SessionManagerOptions,
  type SessionRelay,
  TrackProtocol,
  type TrackResponse,
  Transforms,
} from "../src/index.js";

export const logger = pino({ level: "silent" });

export function tempDir(): string {
  return sharedTempDir("amp-track-").path;
}

/** A `.remix` archive laid out as the real ones, with `exe` as its executable. */
export function buildRemix(
  app: string,
  exe: Uint8Array,
  sessionTimeout = 300,
  extra: {
    libraries?: Record<string, Uint8Array>;
    record?: Record<string, unknown>;
    /** Public files: `resources.json` name → stored identifier and bytes (`apps/<app>/public/<identifier>`). */
    resources?: Record<string, { identifier: string; bytes: Uint8Array }>;
  } = {},
): Uint8Array {
  const libraries = Object.fromEntries(
    Object.entries(extra.libraries ?? {}).map(([file, bytes]) => [`apps/${app}/libraries/${file}`, bytes]),
  );
  const resources = Object.entries(extra.resources ?? {});
  const files: Record<string, Uint8Array> = Object.fromEntries(
    resources.map(([, r]) => [`apps/${app}/public/${r.identifier}`, r.bytes]),
  );
  if (resources.length > 0) {
    files[`apps/${app}/resources.json`] = strToU8(
      JSON.stringify(
        Object.fromEntries(
          resources.map(([name, r]) => [name, { public: true, identifier: r.identifier, bundled: false }]),
        ),
      ),
    );
  }
  return zipSync({
    "manifest.json": strToU8(JSON.stringify({ apps: { [app]: true }, records: {}, setup: "", metadata: {} })),
    [`apps/${app}.mp`]: encode([
      {
        _rmx_type: "app",
        name: app,
        settings: { "start-screen": "home", "session-timeout": sessionTimeout },
        ...extra.record,
      },
    ]),
    [`apps/${app}/libraries/executable_cross.WASM`]: exe,
    ...libraries,
    ...files,
  });
}

async function* once(bytes: Uint8Array) {
  yield bytes;
}

/** A native app that behaves like tim-wasm (home + tap) and my_records_public (data_url). */
export const nativeApp: NativeModule = {
  name: "tim-native",
  entries: {
    async load(args, ctx) {
      const [module, [params]] = args as [string, [Record<string, MixValue>]];
      ctx.output("$location", "1", { screen: module });
      if (module === "home") {
        ctx.output("home.view", "1", {
          _rmx_type: "dom_column",
          children: [
            { _rmx_type: "dom_text", props: { value: "Hello there!" } },
            {
              _rmx_type: "dom_button",
              props: { value: "Click me" },
              events: {
                ontap: [{ _rmx_type: "msg_view_invoke", name: "home.$closure_1", env: "$cloenv_1" }],
              },
            },
          ],
        });
        ctx.output("$nextActions", "1", []);
      } else if (module === "collection") {
        const res = await ctx.ffi("$http_do", [
          { method: "GET", url: params.data_url!, mediaTypes: ["application/json"] },
        ]);
        const data = JSON.parse((res as { body: string }).body) as unknown;
        if (!isMixMap(data as MixValue)) throw new Error("ERR_EXPECTED_MAP");
        const { title, items } = data as { title: string; items: { name: string }[] };
        ctx.output("collection.view", "1", {
          _rmx_type: "dom_column",
          children: [title, ...items.map((i) => i.name)].map((t) => ({
            _rmx_type: "dom_text",
            props: { value: t },
          })),
        });
      } else if (module === "slow") {
        await new Promise((r) => setTimeout(r, Number(params.ms ?? 300)));
        ctx.output("slow.view", "1", "done");
      } else if (module === "spin") {
        const until = Date.now() + Number(params.ms ?? 1000);
        while (Date.now() < until && !ctx.signal.aborted) await new Promise((r) => setImmediate(r));
      } else if (module === "panic") {
        throw new Error("boom");
      } else if (module === "db") {
        const saved = await ctx.ffi("$db_save_one", [
          { _rmx_id: "n1", _rmx_type: "note", text: params.text! },
        ]);
        const found = await ctx.ffi("$db_get_a", ['_rmx_type == "note"']);
        ctx.output("db.view", "1", { saved, found });
      } else if (module === "echo") {
        const request = (params as { request: Record<string, MixValue> }).request;
        ctx.output("$response", "1", {
          status: 201,
          headers: { "x-agent": "yes" },
          body: { echo: request.body },
        });
      } else if (module === "call") {
        // Calls any FFI: params {ffi, args}; the answer (or the abort message) becomes a cell.
        try {
          ctx.output("call.result", "1", await ctx.ffi(params.ffi as string, params.args as MixValue[]));
        } catch (e) {
          ctx.output("call.error", "1", (e as Error).message);
        }
      }
      return undefined;
    },
    async invoke3(args, ctx) {
      const [name] = args as [string];
      if (name === "home.$closure_1") {
        ctx.output("$nextActions", "2", [
          { _rmx_type: "msg_open_link", url: "https://www.remixlabs.com", target: "_blank" },
        ]);
      }
      return undefined;
    },
  },
};

/** A native module an app stores as a library (`$loader_loadLibrary` loads it by these bytes). */
export const nativeLibrary: NativeModule = {
  name: "lib-native",
  entries: {
    async greet(_args, ctx) {
      ctx.output("lib.greeting", "1", "hello from the library");
      return undefined;
    },
  },
};

export interface Stack {
  url: string;
  apps: Apps;
  tokens: TokenService;
  secrets: Secrets;
  sessions: SessionManager;
  protocol: TrackProtocol;
  transforms: Transforms;
  token(user: string): Promise<string>;
  close(): Promise<void>;
}

export const root: AmpUser = { id: "root", anonymous: false, root: true, claims: {} };

/**
 * The whole track stack on real parts: LMDB apps, @amp/secrets, @amp/auth tokens and middleware,
 * and an HTTP server with WebSockets on an ephemeral port.
 */
export async function startStack(
  options: {
    pool?: GrooveboxPool;
    remix?: Array<Uint8Array>;
    manager?: Partial<SessionManagerOptions>;
    compiler?: Compiler;
    /** Among several nodes: the protocol relays through this (see `relay.test.ts`). */
    relay?: SessionRelay;
  } = {},
): Promise<Stack> {
  const dir = tempDir();
  const secrets = new Secrets({ databaseDir: dir });
  const tokens = await TokenService.open({
    databaseDir: dir,
    vault: secrets.scoped(AUTH_VAULT_APP),
    rootUser: "root",
  });
  const apps = new Apps({ dir: join(dir, "db"), logger });
  for (const archive of options.remix ?? []) await importRemix(apps, root, once(archive));
  const sessions = new SessionManager({
    apps,
    logger,
    org: "testorg",
    workspace: "testws",
    baseURL: "http://127.0.0.1/",
    pool: options.pool,
    nativeModules: [nativeApp, nativeLibrary],
    ...options.manager,
    ffi: { outbound: { privateHosts: ["127.0.0.1"] }, secrets, tokens, ...options.manager?.ffi },
  });
  const protocol = new TrackProtocol({
    sessions,
    apps,
    pool: options.pool,
    logger,
    compiler: options.compiler,
    relay: options.relay,
  });
  const transforms = new Transforms({ sessions, apps, logger });
  const app = new Hono();
  app.use("*", authMiddleware({ tokens }));
  app.route("/", trackRoutes({ protocol, transforms, logger }));
  const wss = new WebSocketServer({ noServer: true });
  const server = createAdaptorServer({
    fetch: app.fetch,
    websocket: { server: wss as unknown as WebSocketServerLike },
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    apps,
    tokens,
    secrets,
    sessions,
    protocol,
    transforms,
    token: (user) => tokens.issue(user),
    async close() {
      for (const c of wss.clients) c.terminate();
      await new Promise((r) => server.close(r));
      await transforms.close();
      await sessions.close();
      await apps.close();
      await tokens.close();
      await secrets.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** The shared track client (`@amp/test-support`), reading this package's `TrackResponse`. */
export class TrackClient extends SharedTrackClient<TrackResponse> {}

/** The first button's `ontap` handler in a view: what a tap on it invokes. */
export function firstTap(view: unknown): { name: string; env: unknown } {
  const [button] = findViewNodes(view, (n) => n._rmx_type === "dom_button");
  return (button!.events as { ontap: Array<{ name: string; env: unknown }> }).ontap[0]!;
}

export async function importInto(apps: Apps, archive: Uint8Array): Promise<void> {
  await importRemix(apps, root, once(archive));
}
