import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  EXECUTION_TIMED_OUT,
  MESSAGE_TYPES,
  NO_SUCH_SESSION,
  type TrackConnection,
  type TrackResponse,
  TrackResponseSchema,
} from "../src/index.js";
import { buildRemix, root, type Stack, startStack } from "./helpers.js";

const exe = new TextEncoder().encode("tim-native");
const alice = { id: "alice", anonymous: false, root: false, claims: {} };

/** `TrackProtocol.handle` on its own (no socket): every type reaches a handler, every answer is a `msg_response`. */
describe("TrackProtocol.handle (native backend, real LMDB)", () => {
  let stack: Stack;

  beforeAll(async () => {
    stack = await startStack({ remix: [buildRemix("app1", exe)] });
    await stack.apps.setRules(root, "app1", { allowed_run: ["alice"] });
  });
  afterAll(() => stack?.close());

  const expectResponse = (r: TrackResponse) => {
    const parsed = TrackResponseSchema.safeParse(r);
    expect(parsed.success, JSON.stringify(parsed.error?.issues)).toBe(true);
    return r;
  };

  it("follows a tap: cells pushed to the connection's sink as produced, then the answer", async () => {
    const pushed: TrackResponse[] = [];
    const conn: TrackConnection = {
      user: alice,
      token: "",
      app: "app1",
      sink: { send: (r) => pushed.push(r) },
      sessions: new Set(),
    };
    const created = expectResponse(
      await stack.protocol.handle({ _rmx_type: "msg_session_create", searchExe: true }, conn),
    );
    expect(created.errors).toBeUndefined();
    const session = created.session;
    expect(conn.sessions?.has(session)).toBe(true);

    const loaded = await stack.protocol.handle(
      { _rmx_type: "msg_view_load", session, module: "home", args: [{}], _rmx_echo: "e1" },
      conn,
    );
    expect(expectResponse(loaded)).toMatchObject({ responseTo: "msg_view_load", _rmx_echo: "e1" });
    expect(pushed.flatMap((r) => r.cellMessages.map((c) => c.name))).toContain("home.view");

    pushed.length = 0;
    const tapped = await stack.protocol.handle(
      { _rmx_type: "msg_view_invoke", session, name: "home.$closure_1", env: "$cloenv_1", arg: null },
      conn,
    );
    expect(expectResponse(tapped)).toMatchObject({
      session,
      responseTo: "msg_view_invoke",
      cellMessages: [],
    });
    expect(tapped.errors).toBeUndefined();
    expect(pushed.map((r) => expectResponse(r).cellMessages[0]?.name)).toEqual(["$nextActions"]);
    expect(pushed[0]?.responseTo).toBeUndefined();

    expectResponse(await stack.protocol.handle({ _rmx_type: "msg_session_destroy", session }, conn));
    const late = expectResponse(await stack.protocol.handle({ _rmx_type: "msg_view_pop", session }, conn));
    expect(late.errors).toMatchObject({ code: "Track-noSession", message: NO_SUCH_SESSION });
  });

  it("over HTTP (no sink) the answer carries the cells", async () => {
    const conn: TrackConnection = { user: alice, token: "", app: "app1" };
    const { session } = await stack.protocol.handle({ _rmx_type: "msg_session_create" }, conn);
    const loaded = expectResponse(
      await stack.protocol.handle({ _rmx_type: "msg_view_load", session, module: "home", args: [{}] }, conn),
    );
    expect(loaded.cellMessages.map((c) => c.name)).toContain("home.view");
    await stack.sessions.destroy(session);
  });

  it("answers every message type through its handler, never with an internal error", async () => {
    const conn: TrackConnection = { user: alice, token: "", app: "app1" };
    for (const type of MESSAGE_TYPES) {
      const r = expectResponse(await stack.protocol.handle({ _rmx_type: type, session: "nope" }, conn));
      expect(r.errors?.code, type).not.toBe("Track-internal");
      expect(r.errors?.code, type).not.toBe("Track-unknownMessage");
      if (r.session !== "nope" && r.session !== "") await stack.sessions.destroy(r.session);
    }
    const unknown = expectResponse(await stack.protocol.handle({ _rmx_type: "msg_nope" }, conn));
    expect(unknown.errors?.code).toBe("Track-unknownMessage");
    const notAnObject = expectResponse(await stack.protocol.handle("hello", conn));
    expect(notAnObject.errors?.code).toBe("Track-unknownMessage");
  });

  it("a message timeout answers with the constant the client matches on", async () => {
    const conn: TrackConnection = { user: alice, token: "", app: "app1" };
    const { session } = await stack.protocol.handle({ _rmx_type: "msg_session_create" }, conn);
    const slow = stack.sessions.get(session).run(() => new Promise((r) => setTimeout(r, 300)));
    const r = expectResponse(
      await stack.protocol.handle({ _rmx_type: "msg_view_refresh", session, timeout: 0.05 }, conn),
    );
    expect(r.errors).toEqual({ code: "Track-executionTimedOut", message: EXECUTION_TIMED_OUT });
    await slow;
    await stack.sessions.destroy(session);
  });
});
