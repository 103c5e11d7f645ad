import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

describe("the README usage example", () => {
  it("runs and prints what the README says", () => {
    const script = fileURLToPath(new URL("../examples/usage.ts", import.meta.url));
    const out = execFileSync(process.execPath, ["--import", "tsx/esm", script], { encoding: "utf8" });
    expect(out).toContain("RmxCodec: 368 bytes, round trip: true");
    expect(out).toContain(
      'tagged JSON: {"_rmx_rev":{"_rmx_type":"{tag}case:db.ref","_rmx_value":"nmc1QF603y6B"},' +
        '"status":{"_rmx_type":"{tag}case:order.shipped","_rmx_value":{"carrier":"dhl"}},"total":12.5,"lines":[1,2,3]}',
    );
    expect(out).toContain("msgpack: ");
    expect(out).toContain("bad input: truncated at byte 4");
    expect(out.match(/round trip: true/g)).toHaveLength(3);
  });
});
