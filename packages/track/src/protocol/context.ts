import type { AmpUser } from "@amp/auth";
import type { MixValue } from "@amp/codec";
import type { Compiler } from "@amp/compiler";
import { type Cell, type GrooveboxPool, type Interaction, MachineError } from "@amp/machine";
import type { Logger } from "pino";
import type { SessionRelay } from "../cluster/relay.js";
import { EXECUTION_TIMED_OUT, NO_SUCH_SESSION, TrackError } from "../errors.js";
import type { TrackApps } from "../ports.js";
import type { SessionManager } from "../session/manager.js";
import type { Session, SessionSink } from "../session/session.js";
import type { MessageOf, MessageType } from "./messages.js";
import {
  cellMessage,
  emptyResponse,
  errorObject,
  outputErrorObject,
  type ResponseError,
  responseError,
  type TrackResponse,
} from "./response.js";

/** Who is talking, over which connection. */
export interface TrackConnection {
  user: AmpUser;
  /** The caller's token (the VM's `token`); empty for anonymous callers. */
  token: string;
  /** The app named in the URL (`/{app}/track…`). */
  app: string;
  /** Set for a WebSocket: cells are pushed as the VM produces them, not collected. */
  sink?: SessionSink;
  /** Sessions opened on this connection (detached when it closes). */
  sessions?: Set<string>;
  /** Set for a message another node relayed here: it is answered here, never relayed on. */
  relayed?: boolean;
}

/** What the protocol works with: its ports, each passed in by whoever composes it. */
export interface TrackProtocolOptions {
  /** Sessions: create, look up (with the user's rights), attach, destroy, list (`SessionManager`). */
  sessions: SessionManager;
  /**
   * The app registry (`@amp/apps` `Apps`): `allowed_build` for compile messages, and the app
   * record's modules for `msg_introspect_entries`.
   */
  apps: TrackApps;
  /** The Groovebox pool, for its stats in `msg_introspect_memstats`; absent on a native-only server. */
  pool?: Pick<GrooveboxPool, "stats">;
  /** `@amp/compiler`'s `CompilerClient` (or `DisabledCompiler`); without one, "compiler unavailable". */
  compiler?: Compiler;
  logger: Logger;
  /**
   * Among several nodes (`TrackCluster.relay`): a message naming a session another node holds
   * is relayed there, and messages other nodes relay are run here.
   */
  relay?: SessionRelay;
}

/**
 * Where the pushes of a session go when its client drives it from outside this connection: Remix's
 * runtime in `vm-init="server:mqtt"` / `"server:groovebox"` creates the session over HTTP with
 * `machine: "server"` / `"server_g"`, then talks to the VM over MQTT (see `MqttTrack`).
 */
export interface ServerMachineSinks {
  /** The sink for a session just created for such a client (called once per session). */
  sinkFor(session: Session): SessionSink;
}

/** One message family's answer to one message type; a thrown `TrackError` becomes the answer's `errors`. */
export type Handler<T extends MessageType> = (
  m: MessageOf<T>,
  conn: TrackConnection,
  ctx: ProtocolContext,
) => TrackResponse | Promise<TrackResponse>;

/** The fields every message may carry that shape its answer. */
interface Answerable {
  _rmx_type: string;
  _rmx_echo?: string;
  /** Seconds after which the client wants an "execution timed out" answer. */
  timeout?: number;
}

/**
 * What every handler shares: the protocol's ports, and the steps of an answer — find the
 * connection's session, run one VM entry with the cells streamed or collected, and build the
 * `msg_response`.
 */
export class ProtocolContext {
  readonly sessions: SessionManager;
  readonly apps: TrackApps;
  readonly pool: Pick<GrooveboxPool, "stats"> | undefined;
  readonly compiler: Compiler | undefined;
  readonly log: Logger;
  /** Set by `MqttTrack` while it runs: sessions created with `machine: "server"|"server_g"` push there. */
  serverMachines: ServerMachineSinks | undefined;

  constructor(options: TrackProtocolOptions) {
    this.sessions = options.sessions;
    this.apps = options.apps;
    this.pool = options.pool;
    this.compiler = options.compiler;
    this.log = options.logger.child({ component: "track" });
  }

  /**
   * The session `id` of the connection's user and app ("no such session" otherwise). A client
   * that reconnected picks its session up again on the new connection; the idle timer restarts.
   */
  session(id: string, conn: TrackConnection): Session {
    const session = this.sessions.get(id, conn.user);
    if (session.app !== conn.app) throw new TrackError("Track-noSession", NO_SUCH_SESSION);
    if (conn.sink && session.sink !== conn.sink) {
      this.sessions.attach(session, conn.sink);
      conn.sessions?.add(session.id);
    }
    session.touch();
    return session;
  }

  /**
   * Runs one VM entry (`tag`, `args`) in the session's queue. Cells are pushed as produced when
   * the session is attached to this connection (WebSocket, MQTT), otherwise collected into the
   * answer (HTTP). A message `timeout` answers "execution timed out" while the VM goes on.
   */
  async run(
    session: Session,
    tag: string,
    args: MixValue,
    m: Answerable,
    conn: TrackConnection,
  ): Promise<TrackResponse> {
    const cells: Cell[] = [];
    const sink = conn.sink;
    const onCell = (cell: Cell) => {
      if (sink && session.sink === sink) sink.send(this.cellResponse(session, cell));
      else cells.push(cell);
    };
    const interaction = session.enter(tag, args, onCell);
    let timer: ReturnType<typeof setTimeout> | undefined;
    try {
      const outcome =
        m.timeout === undefined
          ? await interaction
          : await Promise.race([
              interaction,
              new Promise<"timeout">((resolve) => {
                timer = setTimeout(() => resolve("timeout"), m.timeout! * 1000);
              }),
            ]);
      if (outcome === "timeout") {
        interaction.catch(() => undefined);
        const r = this.response(session.id, session.machine.id, m._rmx_type, m._rmx_echo, cells);
        r.errors = errorObject("Track-executionTimedOut", EXECUTION_TIMED_OUT);
        return r;
      }
      return this.finish(session, m._rmx_type, m._rmx_echo, outcome, cells);
    } catch (e) {
      const r = this.response(session.id, session.machine.id, m._rmx_type, m._rmx_echo, cells);
      r.errors = this.machineFailure(session, e);
      return r;
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * The answer to a finished interaction: its cells, the log lines the session shows, and its
   * first panic, `$outputError` or timeout as `errors`.
   */
  finish(
    session: Session,
    type: string,
    echo: string | undefined,
    interaction: Interaction,
    cells: Cell[],
  ): TrackResponse {
    const r = this.response(session.id, session.machine.id, type, echo, cells);
    r.logMessages = interaction.logs.filter((l) => session.shows(l.severity));
    if (interaction.panics.length > 0) {
      const p = interaction.panics[0]!;
      r.errors = errorObject("Track-panic", p.message, {
        vmCode: p.code,
        backtrace: p.backtrace,
        location: p.location,
        goStack: [],
        mixStack: [],
      });
    } else if (interaction.errors.length > 0) {
      r.errors = outputErrorObject(interaction.errors[0]);
    } else if (interaction.timedOut) {
      r.errors = errorObject("Track-executionTimedOut", EXECUTION_TIMED_OUT);
    }
    return r;
  }

  /** One pushed cell, as its own `msg_response` (no `responseTo`: it answers nothing yet). */
  cellResponse(session: Session, cell: Cell): TrackResponse {
    const r = this.response(session.id, session.machine.id, undefined, undefined);
    r.cellMessages.push(cellMessage(cell));
    return r;
  }

  /** A `msg_response` addressed to a session and VM, answering `responseTo` with the client's `_rmx_echo`. */
  response(
    session: string,
    machine: string,
    responseTo: string | undefined,
    echo: string | undefined,
    cells: Cell[] = [],
  ): TrackResponse {
    const r = emptyResponse({ session, machine, org: this.sessions.org, workspace: this.sessions.workspace });
    r.cellMessages = cells.map(cellMessage);
    if (responseTo !== undefined) r.responseTo = responseTo;
    if (echo !== undefined) r._rmx_echo = echo;
    return r;
  }

  /**
   * A machine that failed an interaction. A VM that ended (hard timeout, its worker lost, memory
   * limit) took the session with it: "execution timed out" for a runaway, otherwise "no such
   * session" with the reason, which Remix clients answer by starting a new session. Other errors
   * leave the session usable.
   */
  private machineFailure(session: Session, e: unknown): ResponseError {
    if (!(e instanceof MachineError)) return responseError(e);
    const state = session.machine.state;
    if (state === "Destroyed" || state === "Timeout") {
      void this.sessions.destroy(session.id);
      if (e.code === "timeout") return errorObject("Track-executionTimedOut", EXECUTION_TIMED_OUT);
      return (
        this.sessions.lostError(session.id) ??
        errorObject("Track-noSession", NO_SUCH_SESSION, { reason: `the session's VM was lost: ${e.message}` })
      );
    }
    return errorObject("Track-machine", e.message, { machineError: e.code });
  }
}
