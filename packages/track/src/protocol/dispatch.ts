import type { SessionRelay } from "../cluster/relay.js";
import { errorMessage, TrackError } from "../errors.js";
import type { TrackApps } from "../ports.js";
import type { SessionManager } from "../session/manager.js";
import {
  type Handler,
  ProtocolContext,
  type ServerMachineSinks,
  type TrackConnection,
  type TrackProtocolOptions,
} from "./context.js";
import { compile } from "./handlers/compile.js";
import { refuseClientFfi } from "./handlers/ffi.js";
import * as introspect from "./handlers/introspect.js";
import * as session from "./handlers/session.js";
import * as view from "./handlers/view.js";
import { isMessageType, MESSAGE_SCHEMAS, type MessageType, type TrackMessage } from "./messages.js";
import { responseError, type TrackResponse } from "./response.js";

export type { ServerMachineSinks, TrackConnection, TrackProtocolOptions } from "./context.js";
export { SERVER_MACHINES } from "./handlers/session.js";

/** Which handler answers each message type (one file per message family under `handlers/`). */
const HANDLERS: { readonly [T in MessageType]: Handler<T> } = {
  msg_session_create: session.create,
  msg_machine_create: session.create,
  msg_session_destroy: session.destroy,
  msg_session_keepAlive: session.keepAlive,
  msg_session_list: session.list,
  msg_vm_configure: session.configure,

  msg_view_load: view.loadOrPush,
  msg_view_push: view.loadOrPush,
  msg_view_invoke: view.invoke,
  msg_view_input: view.input,
  msg_view_pop: view.navigate,
  msg_view_reset: view.navigate,
  msg_view_refresh: view.navigate,
  msg_view_poll: view.poll,

  msg_introspect_entries: introspect.entries,
  msg_introspect_state: introspect.state,
  msg_introspect_memstats: introspect.memstats,
  msg_introspect_loglevel: introspect.logLevel,
  msg_introspect_debug: introspect.debug,
  msg_introspect_spreadsheet: introspect.spreadsheet,
  msg_vm_logMask: introspect.logMask,

  msg_compile_build: compile,
  msg_compile_phrases: compile,
  msg_compile_modules: compile,

  msg_ffi_return: refuseClientFfi,
  msg_ffi_error: refuseClientFfi,
  msg_ffi_later: refuseClientFfi,
};

/**
 * The track protocol: validates a client message, runs it against its session and answers
 * with a `msg_response`. It never throws: an unknown or invalid message, a lost session or a
 * VM panic become an error response, so a connection is never dropped for a bad message.
 * The WebSocket and HTTP routes (`http.ts`) and the MQTT mode (`mqtt-mode/`) all call `handle`.
 */
export class TrackProtocol {
  readonly #ctx: ProtocolContext;
  readonly #relay: SessionRelay | undefined;

  constructor(options: TrackProtocolOptions) {
    this.#ctx = new ProtocolContext(options);
    this.#relay = options.relay;
    this.#relay?.serve(this);
  }

  get sessions(): SessionManager {
    return this.#ctx.sessions;
  }

  /** The app registry the protocol checks roles with. */
  get apps(): TrackApps {
    return this.#ctx.apps;
  }

  /**
   * Sessions created over HTTP with `machine: "server"` or `"server_g"` push to these sinks from
   * then on (the MQTT mode); without it they are plain HTTP sessions.
   */
  useServerMachines(sinks: ServerMachineSinks | undefined): void {
    this.#ctx.serverMachines = sinks;
  }

  async handle(raw: unknown, conn: TrackConnection): Promise<TrackResponse> {
    const type = isRecord(raw) && typeof raw._rmx_type === "string" ? raw._rmx_type.slice(0, 100) : undefined;
    const echo = isRecord(raw) && typeof raw._rmx_echo === "string" ? raw._rmx_echo.slice(0, 200) : undefined;
    const sessionId = isRecord(raw) && typeof raw.session === "string" ? raw.session.slice(0, 200) : "";
    try {
      if (!isMessageType(type)) {
        throw new TrackError(
          "Track-unknownMessage",
          type === undefined ? "a message needs a string _rmx_type" : `unknown message type ${type}`,
        );
      }
      const parsed = MESSAGE_SCHEMAS[type].safeParse(raw);
      if (!parsed.success) {
        const issue = parsed.error.issues[0];
        const where = issue && issue.path.length > 0 ? `${issue.path.map(String).join(".")}: ` : "";
        throw new TrackError("Track-badMessage", `${type}: ${where}${issue?.message ?? "invalid message"}`);
      }
      const named = (parsed.data as { session?: unknown }).session;
      if (this.#relay && !conn.relayed && typeof named === "string" && !this.sessions.find(named)) {
        // Not held here: the node that holds it answers (undefined: no node does; answered here).
        const relayed = await this.#relay.route(named, raw, conn);
        if (relayed) return relayed;
      }
      const handler = HANDLERS[type] as Handler<MessageType>;
      return await handler(parsed.data as TrackMessage, conn, this.#ctx);
    } catch (e) {
      if (!(e instanceof TrackError))
        this.#ctx.log.error({ err: errorMessage(e), type }, "track message failed");
      const response = this.#ctx.response(sessionId, "", type, echo);
      response.errors = responseError(e);
      return response;
    }
  }

  /**
   * The connection closed: its sessions here start their disconnect grace, and so do those it
   * drove on other nodes.
   */
  disconnect(conn: TrackConnection): void {
    for (const id of conn.sessions ?? []) {
      const session = this.sessions.find(id);
      if (session && session.sink === conn.sink) this.sessions.detach(session);
    }
    this.#relay?.disconnect(conn);
  }
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === "object" && !Array.isArray(v);
}
