import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { renderSchema, SCHEMA_FILE, serverDescription } from "../scripts/api-schema.js";

describe("the typed API client", () => {
  it("src/api/schema.d.ts is what the built server's description generates (else run `npm run gen:api`)", async () => {
    const fresh = await renderSchema(await serverDescription());
    expect(
      readFileSync(SCHEMA_FILE, "utf8") === fresh,
      "src/api/schema.d.ts is stale: run `npm run gen:api`",
    ).toBe(true);
  }, 60_000);
});
