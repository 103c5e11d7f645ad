import { readFileSync } from "node:fs";
import { join } from "node:path";
import { BrokerClient } from "@amp/broker";
import { GrooveboxPool } from "@amp/machine";
import { remixArtifactsFor, viewInvoke, viewLoad } from "@amp/test-support";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type TrackResponse, viewTexts } from "../src/index.js";
import { buildRemix, firstTap, root, type Stack, startStack, TrackClient } from "./helpers.js";
import { createOverHttp, MqttHub, type MqttSide, startMqttSide, VmOwners } from "./mqtt-hub.js";

const artifacts = remixArtifactsFor("track MQTT mode (Groovebox)");
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const cellsOf = (responses: TrackResponse[]) => responses.flatMap((r) => r.cellMessages);

/** Load home, check its cells came one per msg_response in the hub's format, tap "Click me". */
async function loadAndTap(hub: MqttHub, session: string, side: MqttSide) {
  const load = await hub.request(viewLoad(session, "home"));
  expect(load.response.errors).toBeUndefined();
  expect(load.response).toMatchObject({ _rmx_type: "msg_response", responseTo: "msg_view_load", session });
  for (const m of load.messages) {
    expect(m).toMatchObject({ type: "msg_response", encoding: "json", sender: side.broker.clientId });
  }
  // Each cell pushed as the VM produced it, in its own msg_response, before the answer.
  expect(load.pushed.length).toBeGreaterThan(0);
  for (const p of load.pushed) expect(p.cellMessages).toHaveLength(1);
  const cells = cellsOf(load.pushed);
  expect(cells.map((c) => c.name)).toEqual(
    expect.arrayContaining(["$location", "home.view", "$nextActions"]),
  );
  const view = cells.filter((c) => c.name === "home.view").at(-1)!.value;
  expect(viewTexts(view)).toEqual(expect.arrayContaining(["Hello there!", "Click me"]));
  const ontap = firstTap(view);
  const tap = await hub.request(viewInvoke(session, ontap));
  expect(tap.response.errors).toBeUndefined();
  expect(cellsOf(tap.pushed).find((c) => c.name === "$nextActions")?.value).toEqual([
    { _rmx_type: "msg_open_link", url: "https://www.remixlabs.com", target: "_blank" },
  ]);
}

describe("MQTT mode (native backend, real broker, real MQTT clients)", () => {
  const vmOwners = new VmOwners();
  let stack: Stack;
  let side: MqttSide;
  let alice: string;
  const hubs: MqttHub[] = [];

  const hubFor = async (created: TrackResponse, user = "alice", url = side.wsUrl) => {
    const hub = await MqttHub.open({
      url,
      user,
      token: user === "alice" ? alice : await stack.token(user),
      org: "testorg",
      workspace: "testws",
      machine: created.machine,
    });
    hubs.push(hub);
    return hub;
  };

  beforeAll(async () => {
    stack = await startStack({
      remix: [
        buildRemix("tim-native", new TextEncoder().encode("tim-native")),
        buildRemix("short-native", new TextEncoder().encode("tim-native"), 1),
      ],
      manager: { vmOwners, sweepIntervalMs: 50 },
    });
    for (const app of ["tim-native", "short-native"]) {
      await stack.apps.setRules(root, app, { allowed_run: ["alice", "bob"], allowed_read: ["alice", "bob"] });
    }
    side = await startMqttSide(stack, vmOwners, { maxMessageBytes: 64 * 1024 });
    alice = await stack.token("alice");
  });
  afterAll(async () => {
    for (const h of hubs) await h.close().catch(() => undefined);
    await side?.close();
    await stack?.close();
  });

  for (const [machine, transport] of [
    ["server", "WebSocket /x/broker.ws"],
    ["server_g", "TCP"],
  ] as const) {
    it(`machine "${machine}": created over HTTP, then load and tap over MQTT (${transport})`, async () => {
      const created = await createOverHttp(stack, "tim-native", alice, machine);
      expect(created.errors).toBeUndefined();
      expect(created).toMatchObject({
        responseTo: "msg_session_create",
        org: "testorg",
        workspace: "testws",
      });
      expect(created.machine).not.toBe("");
      expect(vmOwners.get(created.machine)).toBe("alice");
      const hub = await hubFor(created, "alice", transport === "TCP" ? side.tcpUrl : side.wsUrl);
      await loadAndTap(hub, created.session, side);
      // Driven over MQTT: listed as attached; the HTTP route still answers for it (cells collected).
      expect(stack.sessions.list().find((s) => s.id === created.session)?.attached).toBe(true);
      await hub.close();
    });
  }

  it("a WebSocket-mode session publishes nothing on MQTT, and its initiate topic is not served", async () => {
    const ws = await TrackClient.open(stack.url, "tim-native", alice);
    try {
      const { response } = await ws.request({
        _rmx_type: "msg_session_create",
        machine: "server",
        searchExe: true,
      });
      expect(response.errors).toBeUndefined();
      const hub = await hubFor(response);
      const load = await ws.request(viewLoad(response.session, "home"));
      expect(cellsOf(load.pushed).map((c) => c.name)).toContain("home.view");
      await hub.send({ _rmx_type: "msg_view_load", session: response.session, module: "home" });
      await sleep(200);
      expect(hub.received).toEqual([]);
      // and an HTTP session without machine "server" is not an MQTT one either
      const plain = await createOverHttp(stack, "tim-native", alice, "");
      const hub2 = await hubFor(plain);
      await hub2.send({ _rmx_type: "msg_view_load", session: plain.session, module: "home" });
      await sleep(200);
      expect(hub2.received).toEqual([]);
    } finally {
      ws.close();
    }
  });

  it("bad initiate payloads get a typed error on that VM's output; the session goes on", async () => {
    const created = await createOverHttp(stack, "tim-native", alice, "server");
    const other = await createOverHttp(stack, "tim-native", alice, "server");
    const hub = await hubFor(created);
    const otherHub = await hubFor(other);
    const initiate = `${hub.vm}/initiate`;
    const errorAfter = async (payload: Uint8Array) => {
      const from = hub.received.length;
      await hub.publishRaw(initiate, payload);
      return (await hub.next((m) => (m.body as TrackResponse).errors !== undefined, from))
        .body as TrackResponse;
    };
    const enc = (s: string) => Buffer.from(s);
    const head = (type: string, encoding = "json") =>
      `_rmx_type=${type},_rmx_encoding=${encoding},_rmx_sender=user-agent,_rmx_route=${hub.client.clientId}\n`;

    const noHeader = await errorAfter(
      enc(JSON.stringify({ _rmx_type: "msg_view_load", session: created.session })),
    );
    expect(noHeader.errors).toMatchObject({
      code: "Track-badMessage",
      message: expect.stringContaining("header"),
    });
    expect(noHeader).toMatchObject({ session: created.session, machine: created.machine });

    const badJson = await errorAfter(enc(`${head("msg_view_load")}{"_rmx_type":"msg_view_load",`));
    expect(badJson.errors).toMatchObject({ code: "Track-badMessage", message: "the body is not JSON text" });
    expect(badJson.responseTo).toBe("msg_view_load");

    const notObject = await errorAfter(enc(`${head("msg_view_load")}[1,2]`));
    expect(notObject.errors?.code).toBe("Track-badMessage");

    const text = await errorAfter(enc(`${head("msg_view_load", "text")}hello`));
    expect(text.errors?.code).toBe("Track-badMessage");

    const badEncoding = await errorAfter(enc(`${head("msg_view_load", "yaml")}{}`));
    expect(badEncoding.errors?.code).toBe("Track-badMessage");

    const unknown = await errorAfter(
      hub.payload("msg_nope", { _rmx_type: "msg_nope", session: created.session }),
    );
    expect(unknown.errors).toMatchObject({ code: "Track-unknownMessage" });
    expect(unknown.responseTo).toBe("msg_nope");

    const mismatch = await errorAfter(
      hub.payload("msg_view_pop", { _rmx_type: "msg_view_load", session: created.session }),
    );
    expect(mismatch.errors?.code).toBe("Track-badMessage");

    const invalid = await errorAfter(
      hub.payload("msg_view_load", { _rmx_type: "msg_view_load", session: created.session, module: 7 }),
    );
    expect(invalid.errors).toMatchObject({
      code: "Track-badMessage",
      message: expect.stringContaining("module"),
    });

    const noSessionField = await errorAfter(
      hub.payload("msg_view_load", { _rmx_type: "msg_view_load", module: "home" }),
    );
    expect(noSessionField.errors?.code).toBe("Track-badMessage");

    const create = await errorAfter(hub.payload("msg_session_create", { _rmx_type: "msg_session_create" }));
    expect(create.errors?.code).toBe("Track-badMessage");

    // A session that is not on this machine (even one of the same user on another VM).
    const wrong = await errorAfter(
      hub.payload("msg_view_load", {
        _rmx_type: "msg_view_load",
        session: other.session,
        module: "home",
        _rmx_echo: "w",
      }),
    );
    expect(wrong.errors).toMatchObject({ code: "Track-noSession", message: "no such session" });
    expect(wrong).toMatchObject({ session: other.session, machine: created.machine, _rmx_echo: "w" });

    const oversize = await errorAfter(
      hub.payload("msg_view_load", {
        _rmx_type: "msg_view_load",
        session: created.session,
        module: "x".repeat(70_000),
      }),
    );
    expect(oversize.errors).toMatchObject({ code: "Track-tooLarge" });

    // Nothing reached the other session's output, and both sessions still work.
    expect(otherHub.received).toEqual([]);
    await loadAndTap(hub, created.session, side);
    await loadAndTap(otherHub, other.session, side);
  });

  it("another user can neither subscribe to nor publish on someone's VM topics (broker ACL)", async () => {
    const created = await createOverHttp(stack, "tim-native", alice, "server");
    const hub = await hubFor(created);
    // bob may run the app himself, yet alice's VM is not his.
    await expect(hubFor(created, "bob")).rejects.toMatchObject({ code: "BROKER_DENIED" });
    const bob = await BrokerClient.connect({
      url: side.wsUrl,
      username: "bob",
      token: await stack.token("bob"),
    });
    try {
      await expect(bob.subscribe(`${hub.vm}/#`, () => {})).rejects.toMatchObject({ code: "BROKER_DENIED" });
      await expect(bob.subscribe("/org/testorg/ws/testws/vm/+/output", () => {})).rejects.toMatchObject({
        code: "BROKER_DENIED",
      });
      const before = stack.sessions.find(created.session)!.lastActive;
      await sleep(5);
      await bob.publish(
        `${hub.vm}/initiate`,
        Buffer.from(
          `_rmx_type=msg_view_load,_rmx_encoding=json,_rmx_sender=user-agent,_rmx_route=x\n${JSON.stringify({
            _rmx_type: "msg_view_load",
            session: created.session,
            module: "home",
          })}`,
        ),
      );
      await sleep(200);
      expect(hub.received).toEqual([]);
      expect(stack.sessions.find(created.session)!.lastActive).toBe(before);
      // An anonymous client neither.
      const anon = await BrokerClient.connect({ url: side.wsUrl });
      await expect(anon.subscribe(`${hub.vm}/output`, () => {})).rejects.toMatchObject({
        code: "BROKER_DENIED",
      });
      await anon.close();
    } finally {
      await bob.close();
    }
    // alice's session is untouched.
    await loadAndTap(hub, created.session, side);
  });

  it("keepAlive cells go out on output and are answered on the control topic; destroy there ends it", async () => {
    const created = await createOverHttp(stack, "tim-native", alice, "server");
    const hub = await hubFor(created);
    const session = stack.sessions.find(created.session)!;
    session.lastKeepAlive = 0; // due at the next sweep
    const ka = await hub.next((m) => (m.body as TrackResponse).cellMessages?.[0]?.name === "$keepAlive");
    expect(ka.body).toMatchObject({ session: created.session, app: "tim-native", machine: created.machine });
    const touchedBefore = session.lastActive;
    for (let i = 0; i < 100 && session.lastActive === touchedBefore; i++) await sleep(10);
    expect(session.lastActive).toBeGreaterThan(touchedBefore);

    // bob holds the run role on the app, yet cannot end alice's session on its control topic (the
    // broker's ACL drops his publish), nor listen there; a control message naming another session
    // or sent under another app is ignored.
    const control = `/org/testorg/ws/testws/app/tim-native/session/${created.session}/control`;
    const bob = await BrokerClient.connect({
      url: side.tcpUrl,
      username: "bob",
      token: await stack.token("bob"),
    });
    try {
      await expect(bob.subscribe(control, () => {})).rejects.toMatchObject({ code: "BROKER_DENIED" });
      await bob.publish(
        control,
        hub.payload("msg_session_destroy", { _rmx_type: "msg_session_destroy", session: created.session }),
      );
    } finally {
      await bob.close();
    }
    await hub.publishRaw(
      control,
      hub.payload("msg_session_destroy", { _rmx_type: "msg_session_destroy", session: "x" }),
    );
    await hub.publishRaw(
      `/org/testorg/ws/testws/app/short-native/session/${created.session}/control`,
      hub.payload("msg_session_destroy", { _rmx_type: "msg_session_destroy", session: created.session }),
    );
    await sleep(150);
    expect(stack.sessions.find(created.session)).toBeDefined();

    const from = hub.received.length;
    await hub.publishRaw(
      control,
      hub.payload("msg_session_destroy", {
        _rmx_type: "msg_session_destroy",
        session: created.session,
        _rmx_echo: "runtime_destroy",
      }),
    );
    const bye = await hub.next((m) => (m.body as TrackResponse).responseTo === "msg_session_destroy", from);
    expect(bye.body).toMatchObject({ _rmx_echo: "runtime_destroy" });
    expect((bye.body as TrackResponse).errors).toBeUndefined();
    expect(stack.sessions.find(created.session)).toBeUndefined();
    expect(vmOwners.get(created.machine)).toBeUndefined();
    expect(side.broker.sessionOwners.get(created.session)).toBeUndefined();
  });

  it("a session that times out says so on its output (its topics close with it)", async () => {
    const created = await createOverHttp(stack, "short-native", alice, "server_g");
    const hub = await hubFor(created);
    hub.answerKeepAlives = false;
    const gone = await hub.next((m) => (m.body as TrackResponse).errors !== undefined, 0, 5000);
    expect((gone.body as TrackResponse).errors).toMatchObject({
      code: "Track-sessionTimedOut",
      message: "session timed out",
    });
    expect(vmOwners.get(created.machine)).toBeUndefined();
  });

  it("messages on initiate run in order, and a flood beyond the in-flight limit is refused, not queued", async () => {
    const created = await createOverHttp(stack, "tim-native", alice, "server");
    const hub = await hubFor(created);
    const n = side.mqtt.limits.maxInFlight + 16;
    for (let i = 0; i < n; i++) {
      void hub.send({ _rmx_type: "msg_view_poll", session: created.session, _rmx_echo: `p${i}` });
    }
    await hub.next((m) => (m.body as TrackResponse)._rmx_echo === `p${n - 1}`);
    const answers = hub.received.map((m) => m.body as TrackResponse);
    const ok = answers.filter((r) => r.errors === undefined).map((r) => Number(r._rmx_echo!.slice(1)));
    expect(ok).toEqual([...ok].sort((a, b) => a - b));
    expect(answers.length).toBe(n);
    for (const r of answers.filter((x) => x.errors)) expect(r.errors?.code).toBe("Track-busy");
    await loadAndTap(hub, created.session, side);
  });
});

describe.skipIf(!artifacts)("MQTT mode on the real Groovebox (tim-wasm)", () => {
  const vmOwners = new VmOwners();
  let stack: Stack;
  let side: MqttSide;
  let pool: GrooveboxPool;

  beforeAll(async () => {
    pool = await GrooveboxPool.open({ groovebox: artifacts!.groovebox, workers: 1 });
    stack = await startStack({
      pool,
      remix: [new Uint8Array(readFileSync(join(artifacts!.samples, "tim-wasm.remix")))],
      manager: { vmOwners },
    });
    await stack.apps.setRules(root, "tim-wasm", { allowed_run: ["alice"] });
    side = await startMqttSide(stack, vmOwners);
  });
  afterAll(async () => {
    await side?.close();
    await stack?.close();
    await pool?.close();
  });

  for (const machine of ["server", "server_g"]) {
    it(`machine "${machine}": home and a tap over MQTT`, async () => {
      const token = await stack.token("alice");
      const created = await createOverHttp(stack, "tim-wasm", token, machine);
      expect(created.errors).toBeUndefined();
      const hub = await MqttHub.open({
        url: side.wsUrl,
        user: "alice",
        token,
        org: "testorg",
        workspace: "testws",
        machine: created.machine,
      });
      try {
        await loadAndTap(hub, created.session, side);
      } finally {
        await hub.close();
      }
    });
  }
});
