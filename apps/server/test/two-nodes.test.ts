import { copyFileSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { KEYRING_FILE } from "@amp/secrets";
import { startPostgres, startRedis, type TestPostgres, type TestRedis } from "@amp/test-support";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { brokerOverWebSocket, publishUntilReceived, receivedOn } from "./helpers/broker.js";
import { type ComposedAmp, startComposed } from "./helpers/composed.js";
import { postJson } from "./helpers/json.js";
import { SoftwarePasskey } from "./helpers/software-passkey.js";

/**
 * Two amp nodes (two whole compositions in this process, each with its own --database-dir holding
 * the same keyring) sharing one real redis-server (--redis-url) and one real PostgreSQL
 * (--database-url, which --redis-url requires), as behind a load balancer: both have the same
 * public URL, so a passkey's origin is the same whichever node answers.
 *
 * Redis carries the short-lived auth state (passkey challenges, login codes, pending logins,
 * rate-limit counts) and the broker; PostgreSQL the signing keys and passkey credentials.
 */
const PUBLIC_URL = "http://amp.test";

let redis: TestRedis;
let postgres: TestPostgres;
let a: ComposedAmp;
let b: ComposedAmp;

beforeAll(async () => {
  [redis, postgres] = await Promise.all([startRedis(), startPostgres()]);
  const shared = {
    baseURL: PUBLIC_URL,
    redisUrl: redis.url,
    databaseUrl: await postgres.createDatabase("two"),
  };
  a = await startComposed({ ...shared, nodeId: "node-a" });
  // B's folder holds a copy of A's keyring (it opens the shared secrets); B's close() removes it.
  const dirB = mkdtempSync(join(tmpdir(), "amp-node-b-"));
  copyFileSync(join(a.dataDir, KEYRING_FILE), join(dirB, KEYRING_FILE));
  b = await startComposed({ ...shared, nodeId: "node-b", databaseDir: dirB });
}, 60_000);

afterAll(async () => {
  await a?.close();
  await b?.close();
  await redis?.stop();
  await postgres?.stop();
});

/** The fields these routes answer with (options, code, token, error). */
interface Reply {
  challenge: string;
  code: string;
  access_token: string;
  user: string;
  error?: { code: string };
}

const post = (node: ComposedAmp, path: string, body: unknown, token?: string) =>
  postJson<Reply>(node, path, body, token);

describe("two nodes on one Redis", () => {
  it("a passkey login started on A finishes on B, and B's login code is redeemed on A, each once", async () => {
    // Registration on B, with a token B signed.
    const passkey = new SoftwarePasskey(PUBLIC_URL);
    const bobOnB = await b.token("bob");
    const regOptions = await post(b, "/x/pubkey/register/options", {}, bobOnB);
    expect(regOptions.status).toBe(200);
    const registered = await post(
      b,
      "/x/pubkey/register/verify",
      { response: passkey.register(regOptions.body) },
      bobOnB,
    );
    expect(registered).toMatchObject({ status: 200, body: { user: "bob" } });

    // The challenge is made by A and kept in Redis; B takes it when the assertion arrives.
    const challenge = await post(a, "/x/pubkey/challenge", { user: "bob" });
    expect(challenge.status).toBe(200);
    const assertion = passkey.authenticate(challenge.body);
    const loggedIn = await post(b, "/x/pubkey/authenticate", { response: assertion });
    expect(loggedIn).toMatchObject({ status: 200, body: { user: "bob", code: expect.any(String) } });

    // Taken once across nodes: the same assertion is refused by A and by B.
    for (const node of [a, b]) {
      const replay = await post(node, "/x/pubkey/authenticate", { response: assertion });
      expect(replay).toMatchObject({ status: 400, body: { error: { code: "challenge_invalid" } } });
    }

    // B's login code is redeemed by A (into a token A signs), and only once.
    const grant = { grant_type: "authorization_code", code: loggedIn.body.code };
    const tokenFromA = await post(a, "/x/token", grant);
    expect(tokenFromA.status).toBe(200);
    const accessToken = tokenFromA.body.access_token;
    expect(accessToken).toEqual(expect.any(String));
    expect((await post(b, "/x/token", grant)).status).toBe(400);
    expect((await post(a, "/x/token", grant)).status).toBe(400);

    const profile = (node: ComposedAmp) =>
      fetch(node.url("/x/profile"), { headers: { authorization: `Bearer ${accessToken}` } });
    const onA = await profile(a);
    expect(onA.status).toBe(200);
    expect(await onA.json()).toMatchObject({ id: "bob", claims: { amr: ["passkey"], iss: PUBLIC_URL } });
    // B verifies it with the signing keys both nodes share through PostgreSQL.
    expect((await profile(b)).status).toBe(200);
  });

  it("a challenge that was never made, or made for a different passkey ceremony, is refused on either node", async () => {
    const passkey = new SoftwarePasskey(PUBLIC_URL);
    const forged = passkey.authenticate({ challenge: "bm90LWEtY2hhbGxlbmdl" });
    for (const node of [a, b]) {
      expect(await post(node, "/x/pubkey/authenticate", { response: forged })).toMatchObject({
        status: 400,
        body: { error: { code: "challenge_invalid" } },
      });
    }
    // A registration challenge from A is not a login challenge on B.
    const regOptions = await post(a, "/x/pubkey/register/options", {}, await a.token("carol"));
    const crossed = passkey.authenticate(regOptions.body);
    expect(await post(b, "/x/pubkey/authenticate", { response: crossed })).toMatchObject({
      status: 400,
      body: { error: { code: "challenge_invalid" } },
    });
  });

  it("a message published by an MQTT client on A reaches a subscriber on B (QoS 0 and 1, retained)", async () => {
    const client = async (node: ComposedAmp) => brokerOverWebSocket(node, "root", await node.token("root"));
    const [publisher, subscriber] = [await client(a), await client(b)];
    try {
      const got = await receivedOn(subscriber, "cluster/#");
      await publishUntilReceived(publisher, "cluster/q1", "from-a", got);
      await publisher.publish("cluster/q0", Buffer.from("zero"), { qos: 0 });
      await expect.poll(() => got, { timeout: 5_000 }).toContain("cluster/q0 zero");

      await publisher.publish("cluster/kept", Buffer.from("retained-on-a"), { qos: 1, retain: true });
      const late = await client(b);
      try {
        const retained = new Promise<[string, boolean]>((resolve) =>
          late.subscribe("cluster/kept", (_t, payload, info) =>
            resolve([`${Buffer.from(payload)}`, info.retain]),
          ),
        );
        await expect(retained).resolves.toEqual(["retained-on-a", true]);
      } finally {
        await late.close();
      }
    } finally {
      await publisher.close();
      await subscriber.close();
    }
  });

  // Last: it spends this client's /x/token allowance on both nodes.
  it("counts /x/token requests against one limit across both nodes (30 a minute per client)", async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 40; i++) {
      const node = i % 2 ? b : a;
      statuses.push(
        (await post(node, "/x/token", { grant_type: "authorization_code", code: `bad-${i}` })).status,
      );
    }
    // Alone, each node would let all 20 of its requests through; shared, at most 30 pass in all.
    expect(statuses.filter((s) => s !== 429).length).toBeLessThanOrEqual(30);
    expect(statuses.slice(-10)).toEqual(Array(10).fill(429));
  });
});
