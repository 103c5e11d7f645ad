import { encode } from "@msgpack/msgpack";
import { strToU8, zipSync } from "fflate";

/** A small `.remix` archive built the way the real ones are laid out (see remix-reference.md). */
export function buildRemix(app = "demo", extra: Record<string, Uint8Array> = {}): Uint8Array {
  const png = new Uint8Array(300).map((_, i) => (i * 13) & 255);
  const wasm = new Uint8Array([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0, ...new Array(2000).fill(7)]);
  return zipSync({
    "manifest.json": strToU8(
      JSON.stringify({ apps: { [app]: true }, records: {}, setup: "_rmx_home", metadata: { projects: [] } }),
    ),
    "records.mp": encode({
      [app]: [
        { _rmx_id: "r1", _rmx_type: "thing", name: "one", link: "{ref}r2" },
        { _rmx_id: "r2", _rmx_type: "thing", name: "two" },
      ],
    }),
    [`apps/${app}.mp`]: encode([
      {
        _rmx_type: "app",
        name: app,
        display_name: "Demo App",
        _rmx_rev: "{ref}abc",
        settings: { "start-screen": "home" },
        last_published_at: 1679924565450,
      },
    ]),
    [`apps/${app}/resources.json`]: strToU8(
      JSON.stringify({ "logo.png": { public: true, identifier: "deadbeef.png", bundled: false } }),
    ),
    [`apps/${app}/public/deadbeef.png`]: png,
    [`apps/${app}/runtime.json`]: strToU8(
      JSON.stringify({ dbName: app, appName: "Demo App", settings: {}, styles: {} }),
    ),
    [`apps/${app}/libraries/executable_cross.WASM`]: wasm,
    ...extra,
  });
}
