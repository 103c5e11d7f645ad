import { tempDir } from "@amp/test-support";
import { describe, expect, it } from "vitest";
import { LmdbRecords } from "../src/index.js";

describe("LmdbRecords.close", () => {
  it("a watcher that reloads when the last write lands does not read the closing environment", async () => {
    const dir = tempDir("amp-records-close-");
    const records = new LmdbRecords(dir.path);
    const store = records.open<number>("n");
    const reads: string[] = [];
    store.watch((key) => {
      store.get(key ?? "").then(
        (value) => reads.push(`read ${value}`),
        (error: Error) => reads.push(error.message),
      );
    });
    await store.put("warm", 0); // a read transaction exists, as in a running server
    reads.length = 0;
    const pending = store.put("k", 1);
    await records.close(); // waits for the pending write, whose watcher would then read
    await pending;
    // lmdb resets a read transaction on a timer: an unsafe read would throw there, uncaught.
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(reads).toEqual([]);
    await expect(store.get("k")).rejects.toThrow(/closed/);
    dir.remove();
  });
});
