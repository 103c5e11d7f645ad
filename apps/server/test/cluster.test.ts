import { join } from "node:path";
import {
  remixArtifactsFor,
  sessionCreate,
  startPostgres,
  startRedis,
  type TestPostgres,
  type TestRedis,
  TrackClient,
  viewInvoke,
  viewLoad,
} from "@amp/test-support";
import { startOidcProvider, type TestOidcProvider } from "@amp/test-support/oidc-provider";
import type { TrackResponse } from "@amp/track";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { brokerOverWebSocket, publishUntilReceived, receivedOn } from "./helpers/broker.js";
import { type AmpNodes, importRemix, startAmpNodes } from "./helpers/cluster.js";
import { firstButtonTap, homeView } from "./helpers/home-tap.js";
import { postJson } from "./helpers/json.js";
import type { ServerProcess } from "./helpers/server-process.js";
import { SoftwarePasskey } from "./helpers/software-passkey.js";

/**
 * Three amp processes on loopback sharing one real redis-server (--redis-url) and one real
 * PostgreSQL (--database-url), as behind a load balancer: the app is imported once, through A;
 * apps, documents, signing keys and revocations are in PostgreSQL. Each node keeps its own folder
 * with the same keyring (copies of the folder a first start made, as an operator would copy it).
 */
const artifacts = remixArtifactsFor("three-node cluster with the real Groovebox");
const APP = "tim-wasm";
const baseEnv = { RMX_ROOT_USER: "root", RMX_BASE_URL: "http://amp.test" };
const OIDC_SECRET = "a-client-secret-of-the-test-provider";

describe.skipIf(!artifacts)("three amp processes on one Redis", () => {
  let redis: TestRedis;
  let postgres: TestPostgres;
  let idp: TestOidcProvider;
  let cluster: AmpNodes;
  const nodes: Record<"a" | "b" | "c", ServerProcess> = {} as Record<"a" | "b" | "c", ServerProcess>;
  let root = "";
  let tokens: Readonly<Record<string, string>> = {};

  const post = async (node: ServerProcess, type: string, body: Record<string, unknown>, token = root) => {
    const res = await fetch(node.url(`/${APP}/track/${type}`), {
      method: "POST",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      body: JSON.stringify(body),
    });
    expect(res.status).toBe(200);
    return (await res.json()) as TrackResponse;
  };

  beforeAll(async () => {
    redis = await startRedis();
    postgres = await startPostgres();
    idp = await startOidcProvider({
      clientId: "amp",
      clientSecret: OIDC_SECRET,
      redirectUris: [`${baseEnv.RMX_BASE_URL}/x/auth/oidc/callback`],
    });
    cluster = await startAmpNodes({
      count: 3,
      // The nodes trust the provider's certificate and may call it (login providers: https only).
      env: {
        ...baseEnv,
        RMX_DATABASE_URL: await postgres.createDatabase("cluster"),
        NODE_EXTRA_CA_CERTS: idp.caFile!,
      },
      args: (name) => [
        ...["--groovebox", artifacts!.groovebox, "--http-allow", "localhost"],
        ...["--redis-url", redis.url, "--node-id", `node-${name}`],
      ],
      users: ["alice", "bob", "carol"],
    });
    [nodes.a, nodes.b, nodes.c] = cluster.nodes as [ServerProcess, ServerProcess, ServerProcess];
    tokens = cluster.tokens;
    root = tokens.root!;
    // Imported once, through A; its ACL set through B (which learns of the app from PostgreSQL).
    await importRemix(nodes.a, root, join(artifacts!.samples, `${APP}.remix`));
    // Retried until B has heard of the app from PostgreSQL (milliseconds).
    let acl = 0;
    for (const until = Date.now() + 5_000; acl !== 204 && Date.now() < until; ) {
      if (acl) await new Promise((resolve) => setTimeout(resolve, 50));
      acl = (
        await fetch(nodes.b.url(`/x/apps/${APP}/acl`), {
          method: "PUT",
          headers: { authorization: `Bearer ${root}`, "content-type": "application/json" },
          body: JSON.stringify({ allowed_run: ["alice", "bob"] }),
        })
      ).status;
    }
    expect(acl).toBe(204);
  }, 120_000);

  afterAll(async () => {
    await cluster?.close();
    await idp?.close();
    await redis?.stop();
    await postgres?.stop();
  });

  it("an app imported through A is queried through B and C with the same answer and ETag", async () => {
    const query = (node: ServerProcess) =>
      fetch(node.url(`/${APP}/query.json?query=${encodeURIComponent('_rmx_type == "app"')}`), {
        headers: { authorization: `Bearer ${root}` },
      });
    const [a, b, c] = (await Promise.all([nodes.a, nodes.b, nodes.c].map(query))) as [
      Response,
      Response,
      Response,
    ];
    expect([a.status, b.status, c.status]).toEqual([200, 200, 200]);
    expect(a.headers.get("etag")).toBeTruthy();
    expect(b.headers.get("etag")).toBe(a.headers.get("etag"));
    expect(c.headers.get("etag")).toBe(a.headers.get("etag"));
    expect(await b.json()).toEqual(await a.json());
  });

  it("a session created through C is driven through A, over HTTP and over a WebSocket", async () => {
    const created = await post(nodes.c, "msg_session_create", sessionCreate());
    expect(created.errors).toBeUndefined();
    const session = created.session;

    const load = await post(nodes.a, "msg_view_load", viewLoad(session, "home"));
    expect(load.errors).toBeUndefined();
    const tap = await post(nodes.a, "msg_view_invoke", viewInvoke(session, firstButtonTap(homeView(load))));
    expect(tap.errors).toBeUndefined();
    expect(tap.cellMessages.find((c) => c.name === "$nextActions")?.value).toEqual([
      { _rmx_type: "msg_open_link", url: "https://www.remixlabs.com", target: "_blank" },
    ]);

    const ws = `${nodes.a.url(`/${APP}/track.ws`).replace("http", "ws")}?token=${encodeURIComponent(root)}`;
    const client = await TrackClient.connect(ws);
    try {
      const again = await client.request(viewLoad(session, "home"));
      expect(again.response.errors).toBeUndefined();
      // The VM's cells reach the socket on A as pushes from C, before the answer.
      expect(again.pushed.flatMap((m) => m.cellMessages).map((c) => c.name)).toContain("home.view");
    } finally {
      client.close();
    }
  });

  it("the sessions admin routes reach every node: a session created through C is listed through A with node C and ended through B", async () => {
    const created = await post(nodes.c, "msg_session_create", sessionCreate(), tokens.alice);
    expect(created.errors).toBeUndefined();
    const admin = (node: ServerProcess, method: "GET" | "DELETE", path: string, token: string) =>
      fetch(node.url(path), { method, headers: { authorization: `Bearer ${token}` } });
    const listed = async (token: string) => {
      const res = await admin(nodes.a, "GET", "/x/sessions", token);
      expect(res.status).toBe(200);
      return (await res.json()) as { sessions: { id: string; node: string }[]; unanswered?: number };
    };
    const all = await listed(root);
    expect(all.unanswered).toBe(0);
    expect(all.sessions.find((s) => s.id === created.session)).toMatchObject({
      user: "alice",
      node: "node-c",
    });
    expect((await listed(tokens.bob!)).sessions.map((s) => s.id)).not.toContain(created.session);

    const path = `/x/sessions/${created.session}`;
    expect((await admin(nodes.b, "DELETE", path, tokens.bob!)).status).toBe(404);
    expect((await admin(nodes.b, "DELETE", path, tokens.alice!)).status).toBe(204);
    const after = await post(nodes.a, "msg_session_keepAlive", { session: created.session }, tokens.alice);
    expect(after.errors).toMatchObject({ code: "Track-noSession", message: "no such session" });
  });

  it("GET /x/broker/clients through A lists an MQTT client of B with node node-b (every node answered); a non-root token is 403", async () => {
    const onB = await brokerOverWebSocket(nodes.b, "alice", tokens.alice!, "cluster-client-on-b");
    const clients = (token: string) =>
      fetch(nodes.a.url("/x/broker/clients"), { headers: { authorization: `Bearer ${token}` } });
    try {
      const res = await clients(root);
      expect(res.status).toBe(200);
      const listed = (await res.json()) as {
        clients: { clientId: string; user?: string; node: string }[];
        unanswered?: number;
      };
      expect(listed.unanswered).toBe(0);
      expect(listed.clients.filter((c) => c.clientId === onB.clientId)).toEqual([
        expect.objectContaining({ user: "alice", node: "node-b" }),
      ]);
      const refused = await clients(tokens.alice!);
      expect(refused.status).toBe(403);
      expect(await refused.json()).toMatchObject({ error: { code: "forbidden" } });
    } finally {
      await onB.close();
    }
  });

  it("a message published on A reaches a subscriber on B (QoS 0 and 1, retained)", async () => {
    const connect = (node: ServerProcess) => brokerOverWebSocket(node, "root", root);
    const [publisher, subscriber] = [await connect(nodes.a), await connect(nodes.b)];
    try {
      const got = await receivedOn(subscriber, "cluster/#");
      await publishUntilReceived(publisher, "cluster/q1", "one", got);
      await publisher.publish("cluster/q0", Buffer.from("zero"), { qos: 0 });
      await expect.poll(() => got, { timeout: 5_000 }).toContain("cluster/q0 zero");
      await publisher.publish("cluster/kept", Buffer.from("retained"), { qos: 1, retain: true });
      // A late subscriber on B gets it from the shared store (written just after A's PUBACK: polled).
      const retainedOnB = async () => {
        const late = await connect(nodes.b);
        try {
          return await new Promise<[string, boolean] | undefined>((resolve) => {
            setTimeout(() => resolve(undefined), 1_000);
            void late.subscribe("cluster/kept", (_t, payload, info) =>
              resolve([`${Buffer.from(payload)}`, info.retain]),
            );
          });
        } finally {
          await late.close();
        }
      };
      await expect.poll(retainedOnB, { timeout: 10_000, interval: 200 }).toEqual(["retained", true]);
    } finally {
      await publisher.close();
      await subscriber.close();
    }
  });

  it("an MQTT-mode session on C is driven by its user's client of A's broker: initiate reaches C once, its output comes back; another user is refused", async () => {
    const created = await post(
      nodes.c,
      "msg_session_create",
      sessionCreate({ machine: "server" }),
      tokens.alice,
    );
    expect(created.errors).toBeUndefined();
    const prefix = `/org/${created.org}/ws/${created.workspace}/vm/${created.machine}`;
    const brokerOf = (node: ServerProcess, user: string) => brokerOverWebSocket(node, user, tokens[user]!);
    // A's broker learnt from C (through Redis) that the VM is alice's: bob may not read its output.
    const bob = await brokerOf(nodes.a, "bob");
    try {
      await expect(bob.subscribe(`${prefix}/output`, () => {})).rejects.toMatchObject({
        code: "BROKER_DENIED",
      });
    } finally {
      await bob.close();
    }
    const hub = await brokerOf(nodes.a, "alice");
    try {
      const answers: TrackResponse[] = [];
      await hub.subscribe(`${prefix}/output`, (_topic, payload) => {
        const text = Buffer.from(payload).toString("utf8");
        answers.push(JSON.parse(text.slice(text.indexOf("\n") + 1)) as TrackResponse);
      });
      const message = { ...viewLoad(created.session, "home"), _rmx_echo: "mqtt-load" };
      const header =
        "_rmx_type=msg_view_load,_rmx_encoding=json,_rmx_sender=cluster-test,_rmx_route=cluster-test";
      // Retried until the output subscription has reached C through Redis.
      let sent = 0;
      await expect
        .poll(
          async () => {
            if (!answers.some((r) => r._rmx_echo === "mqtt-load")) {
              sent++;
              await hub.publish(`${prefix}/initiate`, Buffer.from(`${header}\n${JSON.stringify(message)}`));
            }
            return answers.filter((r) => r._rmx_echo === "mqtt-load").length;
          },
          { timeout: 10_000, interval: 300 },
        )
        .toBeGreaterThan(0);
      const answer = answers.find((r) => r._rmx_echo === "mqtt-load")!;
      expect(answer.errors).toBeUndefined();
      // Only C (which holds the VM) answered; A and B dropped the initiate: never two answers to one message.
      await new Promise((r) => setTimeout(r, 300));
      expect(answers.filter((r) => r._rmx_echo === "mqtt-load").length).toBeLessThanOrEqual(sent);
      expect(answers.filter((r) => r.responseTo === "msg_view_load").length).toBe(
        answers.filter((r) => r._rmx_echo === "mqtt-load").length,
      );
      expect(answers.flatMap((r) => r.cellMessages).map((c) => c.name)).toContain("home.view");
    } finally {
      await hub.close();
    }
  });

  it("a passkey login started on A finishes on B; its code becomes a token on C; neither is used twice", async () => {
    // Registration started on A and finished on C: its challenge is in Redis, the credential in PostgreSQL.
    const passkey = new SoftwarePasskey(baseEnv.RMX_BASE_URL);
    const options = await postJson(nodes.a, "/x/pubkey/register/options", {}, tokens.bob);
    expect(options.status).toBe(200);
    const registered = await postJson(
      nodes.c,
      "/x/pubkey/register/verify",
      { response: passkey.register(options.body as { challenge: string }) },
      tokens.bob,
    );
    expect(registered).toMatchObject({ status: 200, body: { user: "bob" } });

    // The login challenge is taken from A and answered to B.
    const challenge = await postJson(nodes.a, "/x/pubkey/challenge", { user: "bob" });
    expect(challenge.status).toBe(200);
    const assertion = passkey.authenticate(challenge.body as { challenge: string });
    const loggedIn = await postJson(nodes.b, "/x/pubkey/authenticate", { response: assertion });
    expect(loggedIn).toMatchObject({ status: 200, body: { user: "bob", code: expect.any(String) } });
    // The same answer again, to C or to B: the challenge was taken once, on B.
    for (const node of [nodes.c, nodes.b]) {
      expect(await postJson(node, "/x/pubkey/authenticate", { response: assertion })).toMatchObject({
        status: 400,
        body: { error: { code: "challenge_invalid" } },
      });
    }

    // B's login code becomes a token on C, which C and A accept; the code is spent.
    const grant = { grant_type: "authorization_code", code: loggedIn.body.code };
    const issued = await postJson(nodes.c, "/x/token", grant);
    expect(issued.status).toBe(200);
    for (const node of [nodes.a, nodes.b]) expect((await postJson(node, "/x/token", grant)).status).toBe(400);
    for (const node of [nodes.c, nodes.a]) {
      const profile = await fetch(node.url("/x/profile"), {
        headers: { authorization: `Bearer ${issued.body.access_token as string}` },
      });
      expect(profile.status).toBe(200);
      expect(await profile.json()).toMatchObject({ id: "bob", claims: { amr: ["passkey"] } });
    }
  });

  it("an OIDC login configured and started on A finishes on B; C accepts its token; its callback is refused a second time", async () => {
    // The plugin is configured through A: the configuration is in PostgreSQL, its secret sealed.
    const configured = await fetch(nodes.a.url("/x/authConfig/oidc"), {
      method: "PUT",
      headers: { "content-type": "application/json", authorization: `Bearer ${root}` },
      body: JSON.stringify({
        kind: "oidc",
        visibility: "confidential",
        issuer: idp.issuer,
        clientId: "amp",
        clientSecret: OIDC_SECRET,
        scopes: ["openid", "email"],
        returnUrls: [`${baseEnv.RMX_BASE_URL}/done`],
      }),
    });
    expect(configured.status, await configured.clone().text()).toBe(201);

    // Started on A: the pending login (state, nonce, PKCE verifier) goes to Redis, the browser gets its cookie.
    const returnTo = encodeURIComponent(`${baseEnv.RMX_BASE_URL}/done`);
    const start = await fetch(nodes.a.url(`/x/auth/oidc?return_to=${returnTo}`), { redirect: "manual" });
    expect(start.status, await start.clone().text()).toBe(302);
    const cookie = start.headers
      .getSetCookie()
      .map((c) => c.split(";")[0])
      .join("; ");
    const callback = new URL(await idp.login(start.headers.get("location")!, "dave"));
    expect(`${callback.origin}${callback.pathname}`).toBe(`${baseEnv.RMX_BASE_URL}/x/auth/oidc/callback`);

    // The provider's redirect reaches B, which takes the pending login and answers a login code.
    const finish = (node: ServerProcess) =>
      fetch(node.url(`${callback.pathname}${callback.search}`), { headers: { cookie }, redirect: "manual" });
    const finished = await finish(nodes.b);
    expect(finished.status, await finished.clone().text()).toBe(302);
    const landed = new URL(finished.headers.get("location")!);
    expect(`${landed.origin}${landed.pathname}`).toBe(`${baseEnv.RMX_BASE_URL}/done`);

    // The same callback again, on C: the pending login was taken once, on B.
    const again = await finish(nodes.c);
    expect(again.status).toBe(400);
    expect(await again.json()).toMatchObject({ error: { code: "state_mismatch" } });

    const issued = await fetch(nodes.c.url("/x/token"), {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ grant_type: "authorization_code", code: landed.searchParams.get("code") }),
    });
    expect(issued.status).toBe(200);
    const { access_token } = (await issued.json()) as { access_token: string };
    const profile = await fetch(nodes.c.url("/x/profile"), {
      headers: { authorization: `Bearer ${access_token}` },
    });
    expect(profile.status).toBe(200);
    expect(await profile.json()).toMatchObject({ id: "dave", claims: { amr: ["oidc"], amp_plugin: "oidc" } });
  });

  it("a token revoked on A is refused on B and C within a second", async () => {
    const profile = (node: ServerProcess) =>
      fetch(node.url("/x/profile"), { headers: { authorization: `Bearer ${tokens.carol}` } });
    for (const node of [nodes.b, nodes.c]) expect((await profile(node)).status).toBe(200);
    const revoked = await fetch(nodes.a.url("/x/token/revoke"), {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ token: tokens.carol }),
    });
    expect(revoked.status).toBe(200);
    const at = Date.now();
    // Stated bound: the Redis announcement arrives in milliseconds; a second allows for this loaded machine.
    for (const node of [nodes.b, nodes.c]) {
      await expect.poll(async () => (await profile(node)).status, { timeout: 1_000, interval: 20 }).toBe(401);
    }
    expect(Date.now() - at).toBeLessThan(1_000);
  });

  // Last: B does not come back.
  it("SIGKILL of B amid writes through all three: every acknowledged write is kept; B's sessions answer Track-noSession from A and C; new sessions work", async () => {
    const onB = await post(nodes.b, "msg_session_create", sessionCreate());
    expect(onB.errors).toBeUndefined();
    expect((await post(nodes.a, "msg_session_keepAlive", { session: onB.session })).errors).toBeUndefined();

    // Writers on each node until B is killed (and a little after, on A and C).
    const acknowledged: string[] = [];
    let writing = true;
    const writer = async (node: ServerProcess, name: string) => {
      for (let i = 0; writing; i++) {
        const id = `w-${name}-${i}`;
        const res = await fetch(node.url(`/${APP}`), {
          method: "POST",
          headers: { authorization: `Bearer ${root}`, "content-type": "application/json" },
          body: JSON.stringify({ _rmx_id: id, _rmx_type: "cluster_write", n: i }),
        }).catch(() => undefined);
        if (res?.status === 201) acknowledged.push(id);
        else if (name === "b") return; // B is gone
      }
    };
    const writers = [writer(nodes.a, "a"), writer(nodes.b, "b"), writer(nodes.c, "c")];
    await expect.poll(() => acknowledged.filter((id) => id.startsWith("w-b-")).length).toBeGreaterThan(5);
    nodes.b.signal("SIGKILL");
    await nodes.b.exited;
    await new Promise((resolve) => setTimeout(resolve, 300));
    writing = false;
    await Promise.all(writers);
    expect(acknowledged.length).toBeGreaterThan(20);
    // Each acknowledged document, read back through A and through C.
    const missing: string[] = [];
    for (const [i, id] of acknowledged.entries()) {
      const node = i % 2 ? nodes.a : nodes.c;
      const res = await fetch(node.url(`/${APP}/documents/${id}.json`), {
        headers: { authorization: `Bearer ${root}` },
      });
      if (res.status !== 200) missing.push(`${id}: ${res.status}`);
      await res.arrayBuffer();
    }
    expect(missing).toEqual([]);
    const fromA = await post(nodes.a, "msg_view_load", viewLoad(onB.session, "home"));
    expect(fromA.errors).toMatchObject({ code: "Track-noSession", message: "no such session" });
    const fromC = await post(nodes.c, "msg_session_keepAlive", { session: onB.session });
    expect(fromC.errors).toMatchObject({ code: "Track-noSession", message: "no such session" });

    for (const node of [nodes.a, nodes.c]) {
      const fresh = await post(node, "msg_session_create", sessionCreate());
      expect(fresh.errors).toBeUndefined();
      const load = await post(node, "msg_view_load", viewLoad(fresh.session, "home"));
      expect(load.errors).toBeUndefined();
    }
  });
});
