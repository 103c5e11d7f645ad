import { Writable } from "node:stream";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createLogger } from "../src/index.js";
import { LOG_LEVELS, type LogLevelName, LogRing } from "../src/logging/recent-lines.js";
import { type ComposedAmp, startComposed } from "./helpers/composed.js";
import { errorCode } from "./helpers/json.js";

interface Lines {
  lines: { seq: number; level: string; line: string; truncated: boolean }[];
}

describe("GET /x/logs: the recent log lines, redacted, for root", () => {
  let amp: ComposedAmp;
  let root: string;
  let alice: string;
  const logs = (query: string, token?: string) =>
    fetch(amp.url(`/x/logs${query}`), { headers: token ? { authorization: `Bearer ${token}` } : {} });

  beforeAll(async () => {
    const discard = new Writable({ write: (_chunk, _encoding, done) => done() });
    amp = await startComposed({}, { logger: createLogger({ level: "info", destination: discard }) });
    root = await amp.token("root");
    alice = await amp.token("alice");
  });
  afterAll(() => amp?.close());

  it("holds each request's line, with neither the bearer token nor a token in the URL", async () => {
    const secret = "s3cr3t-url-token-0123456789";
    const asked = await fetch(amp.url(`/x/serverinfo?token=${secret}&keep=1`), {
      headers: { authorization: `Bearer ${root}` },
    });
    expect(asked.status).toBe(200);
    const res = await logs("?level=info&limit=1000", root);
    expect(res.status).toBe(200);
    expect(res.headers.get("cache-control")).toBe("no-store");
    const { lines } = (await res.json()) as Lines;
    const request = lines.find((l) => l.line.includes("/x/serverinfo"));
    expect(JSON.parse(request?.line ?? "{}")).toMatchObject({ message: "request", status: 200 });
    expect(request?.line).toContain("keep=1");
    const all = JSON.stringify(lines);
    for (const token of [secret, root, alice]) expect(all).not.toContain(token);
    expect(lines.every((l) => ["info", "warn", "error", "fatal"].includes(l.level))).toBe(true);
    // oldest first, and the limit keeps the newest
    const seqs = lines.map((l) => l.seq);
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    const last = (await (await logs("?limit=1", root)).json()) as Lines;
    expect(last.lines).toHaveLength(1);
    expect(last.lines[0]?.seq).toBeGreaterThanOrEqual(seqs.at(-1) ?? 0);
  });

  it("refuses others (403), no token (401) and bad queries (400)", async () => {
    expect((await logs("", alice)).status).toBe(403);
    expect(await errorCode(await logs(""))).toBe("unauthenticated");
    for (const query of ["?level=loud", "?limit=0", "?limit=1001", "?limit=ten"])
      expect((await logs(query, root)).status, query).toBe(400);
  });
});

describe("LogRing", () => {
  it("keeps the last `capacity` lines, cuts a long one at `maxLineBytes` bytes, and filters by level", () => {
    const ring = new LogRing(3, 16);
    const seen: string[] = [];
    ring.onLine((l) => seen.push(l.level));
    for (const level of [10, 30, 40, 50, 60]) ring.push(`{"level":${level}}\n`);
    expect(ring.recent().map((l) => l.level)).toEqual(["warn", "error", "fatal"]);
    expect(ring.recent({ level: "error" }).map((l) => l.level)).toEqual(["error", "fatal"]);
    expect(ring.recent({ limit: 1 }).map((l) => l.level)).toEqual(["fatal"]);
    expect(seen).toEqual(["trace", "info", "warn", "error", "fatal"]);
    ring.push(`{"level":30,"m":"${"é".repeat(20)}"}`);
    const long = ring.recent({ limit: 1 })[0];
    expect(long?.truncated).toBe(true);
    expect(long?.line).toBe('{"level":30,"m":');
    ring.push(`{"ll":"${"é".repeat(20)}"}`);
    expect(ring.recent({ limit: 1 })[0]?.line).toBe('{"ll":"éééé'); // 15 bytes: a fifth "é" would be split
    expect(ring.push("unchanged\n")).toBe("unchanged\n");
  });

  it("answers what a list of every line would: the last `capacity`, filtered by level, the last `limit` of them", () => {
    const levelName = fc.constantFrom(...(Object.keys(LOG_LEVELS) as LogLevelName[]));
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 8 }),
        fc.array(levelName, { maxLength: 30 }),
        fc.option(levelName, { nil: undefined }),
        fc.option(fc.integer({ min: 0, max: 10 }), { nil: undefined }),
        (capacity, written, level, limit) => {
          const ring = new LogRing(capacity);
          for (const name of written) ring.push(`{"level":${LOG_LEVELS[name]}}`);
          const kept = written.map((name, i) => ({ seq: i + 1, level: name })).slice(-capacity);
          const matching = kept.filter((l) => LOG_LEVELS[l.level] >= LOG_LEVELS[level ?? "trace"]);
          const expected = matching.slice(Math.max(0, matching.length - (limit ?? capacity)));
          const answer = ring.recent({
            ...(level ? { level } : {}),
            ...(limit === undefined ? {} : { limit }),
          });
          expect(answer.map((l) => ({ seq: l.seq, level: l.level }))).toEqual(expected);
        },
      ),
    );
  });
});
