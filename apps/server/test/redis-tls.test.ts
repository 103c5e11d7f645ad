import { join } from "node:path";
import {
  remixArtifactsFor,
  sessionCreate,
  startPostgres,
  startRedis,
  type TestPostgres,
  type TestRedis,
  viewLoad,
} from "@amp/test-support";
import type { TrackResponse } from "@amp/track";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { brokerOverWebSocket, publishUntilReceived, receivedOn } from "./helpers/broker.js";
import { type AmpNodes, importRemix, startAmpNodes } from "./helpers/cluster.js";
import { postJson } from "./helpers/json.js";
import { ServerProcess } from "./helpers/server-process.js";
import { SoftwarePasskey } from "./helpers/software-passkey.js";

/**
 * amp on a Redis that speaks TLS only (`rediss://`, no plain port: a connection that skipped TLS
 * could not even PING it), as managed services do. Its certificate is self-signed, so the nodes
 * trust it through NODE_EXTRA_CA_CERTS, Node's convention; without it they refuse to start.
 * The Redis has a password, which must never be printed.
 */
const artifacts = remixArtifactsFor("two nodes on a TLS Redis with the real Groovebox");
const APP = "tim-wasm";
const PASSWORD = "pw-over-tls-7531";
const baseEnv = { RMX_ROOT_USER: "root", RMX_BASE_URL: "http://amp.test" };

let redis: TestRedis;
let postgres: TestPostgres;

beforeAll(async () => {
  [redis, postgres] = await Promise.all([startRedis({ tls: true, password: PASSWORD }), startPostgres()]);
}, 60_000);

afterAll(async () => {
  await redis?.stop();
  await postgres?.stop();
});

describe("two amp processes on one Redis over TLS", () => {
  let cluster: AmpNodes;
  let a: ServerProcess;
  let b: ServerProcess;
  let root = "";

  beforeAll(async () => {
    cluster = await startAmpNodes({
      count: 2,
      env: {
        ...baseEnv,
        RMX_DATABASE_URL: await postgres.createDatabase("redis_tls"),
        NODE_EXTRA_CA_CERTS: redis.caFile!,
      },
      args: (name) => [
        ...(artifacts ? ["--groovebox", artifacts.groovebox] : []),
        ...["--redis-url", redis.url, "--node-id", `node-${name}`],
      ],
      users: ["bob"],
    });
    [a, b] = cluster.nodes as [ServerProcess, ServerProcess];
    root = cluster.tokens.root!;
  }, 120_000);

  afterAll(async () => {
    await cluster?.close();
  });

  it("each node opens the broker's, the auth state's and the sessions' connections over TLS, and never prints the password", () => {
    expect(redis.url).toMatch(/^rediss:\/\/:.+@localhost:\d+$/);
    for (const node of [a, b]) {
      for (const message of [
        "auth: pending logins, passkey challenges, login codes and rate limits in Redis",
        "sessions: directory and relay in Redis",
      ])
        expect(node.logs.map((l) => l.message)).toContain(message);
      expect(node.logs.find((l) => l.message === "MQTT broker listening")).toMatchObject({ cluster: true });
      expect(node.stdout + node.stderr).not.toContain(PASSWORD);
    }
  });

  it("a message published on A reaches a subscriber on B", async () => {
    const connect = (node: ServerProcess) => brokerOverWebSocket(node, "root", root);
    const [publisher, subscriber] = [await connect(a), await connect(b)];
    try {
      const got = await receivedOn(subscriber, "tls/#");
      await publishUntilReceived(publisher, "tls/q1", "over-tls", got);
    } finally {
      await publisher.close();
      await subscriber.close();
    }
  });

  it("a passkey login started on A finishes on B, and its code is redeemed on A once", async () => {
    const post = (node: ServerProcess, path: string, body: unknown, token?: string) =>
      postJson<{ challenge: string; code?: string }>(node, path, body, token);
    const passkey = new SoftwarePasskey(baseEnv.RMX_BASE_URL);
    const bob = cluster.tokens.bob!;
    const options = await post(a, "/x/pubkey/register/options", {}, bob);
    expect(options.status).toBe(200);
    const registered = await post(
      b,
      "/x/pubkey/register/verify",
      { response: passkey.register(options.body) },
      bob,
    );
    expect(registered.status).toBe(200);

    // The challenge A made is in Redis; B takes it when the assertion arrives.
    const challenge = await post(a, "/x/pubkey/challenge", { user: "bob" });
    expect(challenge.status).toBe(200);
    const loggedIn = await post(b, "/x/pubkey/authenticate", {
      response: passkey.authenticate(challenge.body),
    });
    expect(loggedIn).toMatchObject({ status: 200, body: { code: expect.any(String) } });
    const grant = { grant_type: "authorization_code", code: loggedIn.body.code };
    expect((await post(a, "/x/token", grant)).status).toBe(200);
    expect((await post(b, "/x/token", grant)).status).toBe(400);
  });

  it.skipIf(!artifacts)("a session created through B is driven through A (the relay)", async () => {
    await importRemix(a, root, join(artifacts!.samples, `${APP}.remix`));
    const track = (node: ServerProcess, type: string, body: Record<string, unknown>) =>
      fetch(node.url(`/${APP}/track/${type}`), {
        method: "POST",
        headers: { authorization: `Bearer ${root}`, "content-type": "application/json" },
        body: JSON.stringify(body),
      });
    // Retried until B has heard of the app (imported through A) from PostgreSQL: milliseconds.
    let created = await track(b, "msg_session_create", sessionCreate());
    for (const until = Date.now() + 5_000; created.status !== 200 && Date.now() < until; ) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      created = await track(b, "msg_session_create", sessionCreate());
    }
    expect(created.status).toBe(200);
    const { session } = (await created.json()) as TrackResponse;

    const load = await track(a, "msg_view_load", viewLoad(session, "home"));
    expect(load.status).toBe(200);
    const answer = (await load.json()) as TrackResponse;
    expect(answer.errors).toBeUndefined();
    expect(answer.cellMessages.map((c) => c.name)).toContain("home.view");
  });
});

describe("a node that cannot speak TLS to Redis refuses to start, in bounded time", () => {
  /** Starts one node with `env`; answers how it exited, what it printed, and how long it took. */
  const refusedStart = async (env: Record<string, string>, redisUrl: string) => {
    const started = Date.now();
    const node = new ServerProcess(["--redis-url", redisUrl, "--node-id", "refused"], {
      ...baseEnv,
      RMX_DATABASE_URL: await postgres.createDatabase(`refused_${started}`),
      ...env,
    });
    let timer: NodeJS.Timeout | undefined;
    try {
      const exit = await Promise.race([
        node.exited,
        new Promise<undefined>((resolve) => {
          timer = setTimeout(() => resolve(undefined), 20_000);
        }),
      ]);
      return { exit, ms: Date.now() - started, output: node.stdout + node.stderr };
    } finally {
      clearTimeout(timer);
      await node.dispose();
    }
  };

  it("without the Redis CA in NODE_EXTRA_CA_CERTS: it names Redis and the certificate, not the password", async () => {
    const { exit, ms, output } = await refusedStart({}, redis.url);
    expect(exit?.code).toBeGreaterThan(0);
    expect(ms).toBeLessThan(20_000);
    expect(output).toMatch(
      /Redis at rediss:\/\/:\*\*\*@localhost:\d+ is unavailable: self-signed certificate[^(]* \(TLS: the server's certificate was not accepted for localhost; give Node its CA in NODE_EXTRA_CA_CERTS\)/,
    );
    expect(output).not.toContain(PASSWORD);
  }, 30_000);

  it("rediss:// to a plain Redis port: it says no TLS handshake came, within the connect timeout", async () => {
    const plain = await startRedis({ password: PASSWORD });
    try {
      const { exit, ms, output } = await refusedStart(
        { NODE_EXTRA_CA_CERTS: redis.caFile! },
        plain.url.replace(/^redis:/, "rediss:"),
      );
      expect(exit?.code).toBeGreaterThan(0);
      expect(ms).toBeLessThan(20_000);
      expect(output).toMatch(
        /Redis at rediss:\/\/:\*\*\*@127\.0\.0\.1:\d+ is unavailable: connect ETIMEDOUT \(TLS: no handshake within 5000 ms; is that port plain redis:\/\/ rather than rediss:\/\/\?\)/,
      );
      expect(output).not.toContain(PASSWORD);
    } finally {
      await plain.stop();
    }
  }, 30_000);
});
