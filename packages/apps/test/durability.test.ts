import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { LmdbDocumentStore } from "../src/index.js";
import { silentLogger, tempDir } from "./helpers.js";

const WRITER = fileURLToPath(new URL("./fixtures/durable-writer.ts", import.meta.url));
const ROUNDS = 5;

/** Runs the writer until a random moment, SIGKILLs it, and returns the acknowledged numbers. */
function runAndKill(path: string, start: number): Promise<number[]> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ["--conditions=@amp/source", "--import", "tsx", WRITER, path, String(start)],
      {
        stdio: ["ignore", "pipe", "inherit"],
      },
    );
    const acked: number[] = [];
    let buffered = "";
    child.stdout.on("data", (chunk: Buffer) => {
      buffered += chunk.toString();
      const lines = buffered.split("\n");
      buffered = lines.pop()!;
      for (const line of lines) {
        if (line === "ready") setTimeout(() => child.kill("SIGKILL"), 150 + Math.random() * 600);
        else if (line.startsWith("ack ")) acked.push(Number(line.slice(4)));
      }
    });
    child.on("error", reject);
    child.on("exit", (_code, signal) =>
      signal === "SIGKILL" ? resolve(acked) : reject(new Error(`writer exited ${signal}`)),
    );
  });
}

describe("durability: SIGKILL during acknowledged writes", () => {
  it(`keeps every acknowledged write and stays consistent (${ROUNDS} rounds)`, async () => {
    const dir = tempDir();
    let start = 0;
    let total = 0;
    try {
      for (let round = 0; round < ROUNDS; round++) {
        const acked = await runAndKill(dir.path, start);
        expect(acked.length).toBeGreaterThan(0);
        const store = new LmdbDocumentStore({
          path: dir.path,
          app: "durable",
          logger: silentLogger,
          indexedFields: ["n"],
        });
        try {
          for (const n of acked) expect(store.reader.get(`d${n}`)?.n, `acknowledged d${n}`).toBe(n);
          const docs = [...store.reader.allDocuments()].filter((d) => d._rmx_type === "t");
          // Each batch wrote one `d` doc and bumped the sequence once: both or neither survived.
          expect(store.seq).toBe(docs.length);
          // The indexes match the documents exactly.
          expect([...store.indexSet.ids("_rmx_type")].sort()).toEqual(
            [...store.reader.allDocuments()].map((d) => d._rmx_id as string).sort(),
          );
          expect(new Set([...store.indexSet.ids("n")]).size).toBe(docs.length + 1);
          total = docs.length;
          start = Math.max(start, ...docs.map((d) => d.n as number)) + 1;
        } finally {
          await store.close();
        }
      }
      console.log(
        `durability: ${ROUNDS} kills, ${total} documents survived, all acknowledged writes present`,
      );
    } finally {
      dir.remove();
    }
  }, 60_000);
});
