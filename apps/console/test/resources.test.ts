/** How the console reads an app's resources.json (`GET /{app}/resources`) as names of stored files. */
import { describe, expect, it } from "vitest";
import { MAX_RESOURCE_NAME, MAX_RESOURCES, ResourcesError, resourceNames } from "../src/api/resources.js";

const resource = (identifier: unknown) => ({ public: true, identifier, bundled: false });

describe("resourceNames", () => {
  it("names each stored file by its resources; several names may share one file", () => {
    const names = resourceNames({
      "download_app_store.png": resource("0cc25d.png"),
      "logo.png": resource("ab12.png"),
      "logo-copy.png": resource("ab12.png"),
    });
    expect([...names]).toEqual([
      ["0cc25d.png", ["download_app_store.png"]],
      ["ab12.png", ["logo.png", "logo-copy.png"]],
    ]);
    expect(resourceNames({}).size).toBe(0);
  });

  it("an entry without a string identifier names nothing, as the import stores no file for it", () => {
    const names = resourceNames({ a: 5, b: null, c: resource(7), d: ["x"], e: resource("e.png") });
    expect([...names]).toEqual([["e.png", ["e"]]]);
  });

  it("bad input: not a map, too many entries, or an over-long name is refused with a typed error", () => {
    const refusals: unknown[] = [
      [resource("x.png")],
      null,
      "resources",
      Object.fromEntries(Array.from({ length: MAX_RESOURCES + 1 }, (_, i) => [`r${i}`, resource(`${i}`)])),
      { ["n".repeat(MAX_RESOURCE_NAME + 1)]: resource("x.png") },
      { ok: resource("i".repeat(MAX_RESOURCE_NAME + 1)) },
    ];
    for (const answer of refusals) {
      const refused = (() => {
        try {
          resourceNames(answer);
        } catch (e) {
          return e;
        }
      })();
      expect(refused).toBeInstanceOf(ResourcesError);
      expect((refused as ResourcesError).code).toBe("console_bad_resources");
    }
    // At the limits it is read.
    const longest = "n".repeat(MAX_RESOURCE_NAME);
    expect(resourceNames({ [longest]: resource(longest) }).get(longest)).toEqual([longest]);
    const most = Object.fromEntries(
      Array.from({ length: MAX_RESOURCES }, (_, i) => [`r${i}`, resource(`${i}`)]),
    );
    expect(resourceNames(most).size).toBe(MAX_RESOURCES);
  });
});
