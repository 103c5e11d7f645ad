import type { AmpUser } from "@amp/auth";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { InProcessDirectory, type RelayTopic, SessionRelay } from "../src/cluster/index.js";
import { logger, root } from "./helpers.js";
import { redisFixture } from "./redis-fixture.js";

const redis = redisFixture();
const PREFIX = "ask-all-test:";
const ASK_TIMEOUT_MS = 1_000;

interface Fruit {
  node: string;
  name: string;
}
const FRUIT: RelayTopic<Fruit> = {
  name: "fruit",
  items: z.object({ node: z.string(), name: z.string().max(20) }),
};
/** The same name with any items: what a node of a different version might answer. */
const LOOSE_FRUIT: RelayTopic<unknown> = { name: "fruit", items: z.unknown() };
const NOBODY_KNOWS: RelayTopic<string> = { name: "nobody-knows", items: z.string() };

const alice: AmpUser = { id: "alice", anonymous: false, root: false, claims: {} };

/** A bare relay on the shared Redis (no sessions): what `askAll` needs. */
async function relayNode(id: string, log = logger): Promise<SessionRelay> {
  return SessionRelay.start({
    directory: new InProcessDirectory(id),
    redis: redis.connection(),
    subscriber: redis.connection(),
    prefix: PREFIX,
    askTimeoutMs: ASK_TIMEOUT_MS,
    logger: log,
  });
}

/** Answers with the node's fruit for root only, and nothing for anyone else: the answering node's rule. */
function fruitOf(node: string, names: string[]) {
  return async (user: AmpUser): Promise<Fruit[]> => (user.root ? names.map((name) => ({ node, name })) : []);
}

/** How long `ask` took, and what it answered. */
async function timed<T>(ask: () => Promise<T>): Promise<{ answer: T; ms: number }> {
  const started = Date.now();
  const answer = await ask();
  return { answer, ms: Date.now() - started };
}

describe("SessionRelay.askAll: a named question to every other node (real Redis)", () => {
  let a: SessionRelay;
  let b: SessionRelay;
  let c: SessionRelay;
  /** What A's relay warns about. */
  const warnings: { msg: string; err?: string }[] = [];

  beforeAll(async () => {
    a = await relayNode(
      "node-a",
      pino({ level: "warn" }, { write: (l: string) => warnings.push(JSON.parse(l)) }),
    );
    b = await relayNode("node-b");
    c = await relayNode("node-c");
    // A answers too: its own question never reaches its answer.
    a.answerAll(FRUIT, fruitOf("node-a", ["apple"]));
    b.answerAll(FRUIT, fruitOf("node-b", ["banana", "blueberry"]));
    c.answerAll(FRUIT, fruitOf("node-c", ["cherry"]));
  }, 30_000);

  afterAll(async () => {
    for (const relay of [a, b, c]) await relay?.close();
  });

  it("merges every other node's answer at once, each node deciding for the user the asker verified", async () => {
    const { answer, ms } = await timed(() => a.askAll(FRUIT, root));
    expect(answer.unanswered).toBe(0);
    expect(answer.items.map((f) => `${f.node} ${f.name}`).sort()).toEqual([
      "node-b banana",
      "node-b blueberry",
      "node-c cherry",
    ]);
    // Every node answered: nothing waited for the timeout.
    expect(ms).toBeLessThan(ASK_TIMEOUT_MS);
    expect(await a.askAll(FRUIT, alice)).toEqual({ items: [], unanswered: 0 });

    // Questions at once from two nodes each get their own answers.
    const [fromB, fromC] = await Promise.all([b.askAll(FRUIT, root), c.askAll(FRUIT, root)]);
    expect(fromB.items.map((f) => f.name).sort()).toEqual(["apple", "cherry"]);
    expect(fromC.items.map((f) => f.name).sort()).toEqual(["apple", "banana", "blueberry"]);
  });

  it("a node whose answer hangs or fails is counted unanswered within the bound; the others' answers are kept", async () => {
    const d = await relayNode("node-d");
    let release: () => void = () => undefined;
    d.answerAll(FRUIT, () => new Promise((resolve) => (release = () => resolve([]))));
    try {
      const { answer, ms } = await timed(() => a.askAll(FRUIT, root));
      expect(answer.unanswered).toBe(1);
      expect(answer.items.map((f) => f.name).sort()).toEqual(["banana", "blueberry", "cherry"]);
      expect(ms).toBeGreaterThanOrEqual(ASK_TIMEOUT_MS - 50);
      expect(ms).toBeLessThan(ASK_TIMEOUT_MS + 1_500);

      // Its answer, late, changes nothing and breaks nothing.
      release();
      d.answerAll(FRUIT, async () => {
        throw new Error("the broker is closing");
      });
      expect((await a.askAll(FRUIT, root)).unanswered).toBe(1);
    } finally {
      await d.close();
    }
    // Gone, it is no longer waited for.
    expect((await timed(() => a.askAll(FRUIT, root))).ms).toBeLessThan(ASK_TIMEOUT_MS);
  });

  it("a topic nobody answers: every other node counted unanswered, nothing breaks", async () => {
    const { answer, ms } = await timed(() => a.askAll(NOBODY_KNOWS, root));
    expect(answer).toEqual({ items: [], unanswered: 2 });
    expect(ms).toBeGreaterThanOrEqual(ASK_TIMEOUT_MS - 50);
    // A node that stops answering a topic is silent about it from then on.
    const stop = c.answerAll(NOBODY_KNOWS, async () => ["c knows"]);
    expect(await a.askAll(NOBODY_KNOWS, root)).toEqual({ items: ["c knows"], unanswered: 1 });
    stop();
    expect(await a.askAll(NOBODY_KNOWS, root)).toEqual({ items: [], unanswered: 2 });
    expect((await a.askAll(FRUIT, root)).unanswered).toBe(0);
  });

  it("bad input: an answer whose items are not the topic's is dropped with a warning and its node counted unanswered", async () => {
    const e = await relayNode("node-e");
    e.answerAll(LOOSE_FRUIT, async () => [{ node: "node-e", name: "x".repeat(21) }]);
    const before = warnings.length;
    try {
      const answer = await a.askAll(FRUIT, root);
      expect(answer.unanswered).toBe(1);
      expect(answer.items.map((f) => f.node)).not.toContain("node-e");
      await expect
        .poll(() => warnings.slice(before).map((w) => w.msg))
        .toEqual(["bad relay message; dropped"]);
      expect(warnings[before]?.err).toMatch(/^fruit: /);
    } finally {
      await e.close();
    }
  });
});
