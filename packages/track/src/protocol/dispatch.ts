import type { AmpUser } from "@amp/auth";
import type { MixValue } from "@amp/codec";
import type { Compiler } from "@amp/compiler";
import { type Cell, type Interaction, MachineError } from "@amp/machine";
import type { Logger } from "pino";
import { EXECUTION_TIMED_OUT, errorMessage, NO_SUCH_SESSION, TrackError } from "../errors.js";
import { appModules } from "../session/app-code.js";
import type { SessionManager } from "../session/manager.js";
import type { Session, SessionSink } from "../session/session.js";
import {
  type CompileMessage,
  compileFailure,
  compileRequest,
  compileResult,
  compilerError,
  compilerUnavailable,
} from "./compile.js";
import { isMessageType, MESSAGE_SCHEMAS, type MessageOf, type TrackMessage } from "./messages.js";
import {
  cellMessage,
  emptyResponse,
  errorObject,
  outputErrorObject,
  type ResponseError,
  responseError,
  type TrackResponse,
} from "./response.js";
import { messageValue } from "./values.js";

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
}

export interface TrackProtocolOptions {
  sessions: SessionManager;
  logger: Logger;
  /** `@amp/compiler`'s `CompilerClient` (or `DisabledCompiler`); without one, "compiler unavailable". */
  compiler?: Compiler;
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

/** The `machine` values of `msg_session_create` that ask for a server VM driven over MQTT. */
export const SERVER_MACHINES: ReadonlySet<string> = new Set(["server", "server_g"]);

/** The entry tag of each view message (see the reference's entry tags table). */
const VIEW_TAGS = {
  msg_view_load: "load",
  msg_view_push: "push",
  msg_view_invoke: "invoke3",
  msg_view_input: "input",
  msg_view_pop: "pop",
  msg_view_reset: "reset",
  msg_view_refresh: "refresh",
  msg_introspect_debug: "debugCommand_out",
  msg_introspect_spreadsheet: "spreadsheet_out",
} as const;

const ENTRY_TAGS = ["load", "push", "invoke3", "input", "pop", "reset", "refresh"];

/**
 * The track protocol: validates a client message, runs it against its session and answers
 * with a `msg_response`. It never throws: an unknown or invalid message, a lost session or a
 * VM panic become an error response, so a connection is never dropped for a bad message.
 */
export class TrackProtocol {
  readonly #log: Logger;
  #serverMachines: ServerMachineSinks | undefined;

  constructor(private readonly options: TrackProtocolOptions) {
    this.#log = options.logger.child({ component: "track" });
  }

  get sessions(): SessionManager {
    return this.options.sessions;
  }

  /**
   * Sessions created over HTTP with `machine: "server"` or `"server_g"` push to these sinks from
   * then on (the MQTT mode); without it they are plain HTTP sessions.
   */
  useServerMachines(sinks: ServerMachineSinks | undefined): void {
    this.#serverMachines = sinks;
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
      return await this.dispatch(parsed.data as TrackMessage, conn);
    } catch (e) {
      if (!(e instanceof TrackError)) this.#log.error({ err: errorMessage(e), type }, "track message failed");
      const response = this.response(sessionId, "", type, echo);
      response.errors = responseError(e);
      return response;
    }
  }

  private async dispatch(m: TrackMessage, conn: TrackConnection): Promise<TrackResponse> {
    switch (m._rmx_type) {
      case "msg_session_create":
      case "msg_machine_create":
        return this.create(m, conn);
      case "msg_session_destroy": {
        this.sessions.get(m.session, conn.user);
        await this.sessions.destroy(m.session);
        conn.sessions?.delete(m.session);
        return this.response(m.session, "", m._rmx_type, m._rmx_echo);
      }
      case "msg_session_keepAlive": {
        const session = this.session(m.session, conn);
        return this.response(session.id, session.machine.id, m._rmx_type, m._rmx_echo);
      }
      case "msg_session_list": {
        const r = this.response("", "", m._rmx_type, m._rmx_echo);
        r.result = this.sessions.list(conn.user).filter((s) => s.app === conn.app);
        return r;
      }
      case "msg_view_load":
      case "msg_view_push":
        return this.interact(m, conn, [m.module, messageValue(m.args ?? [], m.argsEscEnabled)]);
      case "msg_view_invoke":
        return this.interact(m, conn, [
          m.name,
          messageValue(m.env ?? null, false),
          messageValue(m.arg ?? null, m.argEscEnabled),
          messageValue(m.nextActions ?? [], true),
          messageValue(m.options ?? {}, false),
        ]);
      case "msg_view_input":
        return this.interact(m, conn, [m.name, messageValue(m.value ?? null, m.valueEscEnabled)]);
      case "msg_view_pop":
      case "msg_view_reset":
      case "msg_view_refresh":
        return this.interact(m, conn, []);
      case "msg_introspect_debug":
        return this.interact(m, conn, [messageValue(m.command ?? null, false)]);
      case "msg_introspect_spreadsheet":
        return this.interact(m, conn, [messageValue(m.filter ?? null, false)]);
      case "msg_view_poll": {
        // The VM pushes cells as it goes; a poll only waits until queued interactions are done.
        const session = this.session(m.session, conn);
        await session.run(async () => undefined);
        return this.response(session.id, session.machine.id, m._rmx_type, m._rmx_echo);
      }
      case "msg_vm_configure":
        return this.configure(m, conn);
      case "msg_vm_logMask":
      case "msg_introspect_loglevel":
      case "msg_introspect_entries":
      case "msg_introspect_state":
      case "msg_introspect_memstats":
        return this.introspect(m, conn);
      case "msg_compile_build":
      case "msg_compile_phrases":
      case "msg_compile_modules":
        return this.compile(m, conn);
      case "msg_ffi_return":
      case "msg_ffi_error":
      case "msg_ffi_later":
        throw new TrackError(
          "Track-unsupported",
          `${m._rmx_type}: amp answers every FFI on the server; client-side FFIs are not supported`,
        );
    }
  }

  private async create(
    m: MessageOf<"msg_session_create"> | MessageOf<"msg_machine_create">,
    conn: TrackConnection,
  ): Promise<TrackResponse> {
    const cells: Cell[] = [];
    const { session, init } = await this.sessions.create({
      user: conn.user,
      token: conn.token,
      app: conn.app,
      variant: m.searchVariant ?? "WASM",
      clientVars: m.clientVars as Record<string, MixValue> | undefined,
      sink: conn.sink,
    });
    conn.sessions?.add(session.id);
    if (!conn.sink && m.machine !== undefined && SERVER_MACHINES.has(m.machine) && this.#serverMachines) {
      // Init cells still answer this request; later pushes go to the client's MQTT topics.
      this.sessions.attach(session, this.#serverMachines.sinkFor(session));
    }
    if (!conn.sink) cells.push(...init.cells);
    else for (const cell of init.cells) conn.sink.send(this.cellResponse(session, cell));
    const r = this.finish(session, m._rmx_type, m._rmx_echo, init, cells);
    return r;
  }

  private async configure(m: MessageOf<"msg_vm_configure">, conn: TrackConnection): Promise<TrackResponse> {
    let session: Session;
    if (m.session === undefined) {
      ({ session } = await this.sessions.create({
        user: conn.user,
        token: conn.token,
        app: conn.app,
        clientVars: m.clientVars as Record<string, MixValue> | undefined,
        sink: conn.sink,
      }));
      conn.sessions?.add(session.id);
    } else {
      session = this.session(m.session, conn);
    }
    if (m.load === undefined) return this.response(session.id, session.machine.id, m._rmx_type, m._rmx_echo);
    return this.run(session, "load", [m.load.screen, messageValue(m.load.params, false)], m, conn);
  }

  private interact(
    m: Extract<TrackMessage, { _rmx_type: keyof typeof VIEW_TAGS }>,
    conn: TrackConnection,
    args: MixValue,
  ): Promise<TrackResponse> {
    const session = this.session(m.session, conn);
    return this.run(session, VIEW_TAGS[m._rmx_type], args, m, conn);
  }

  /** Runs one entry; cells are pushed as produced (WebSocket) or collected (HTTP). */
  private async run(
    session: Session,
    tag: string,
    args: MixValue,
    m: { _rmx_type: string; _rmx_echo?: string; timeout?: number },
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

  private introspect(
    m: Extract<
      TrackMessage,
      {
        _rmx_type:
          | "msg_vm_logMask"
          | "msg_introspect_loglevel"
          | "msg_introspect_entries"
          | "msg_introspect_state"
          | "msg_introspect_memstats";
      }
    >,
    conn: TrackConnection,
  ): TrackResponse {
    const session = this.session(m.session, conn);
    const r = this.response(session.id, session.machine.id, m._rmx_type, m._rmx_echo);
    switch (m._rmx_type) {
      case "msg_vm_logMask":
        if (m.mask !== undefined) session.logMask = m.mask;
        r.result = { mask: session.logMask };
        break;
      case "msg_introspect_loglevel":
        if (m.level !== undefined) session.logLevel = m.level;
        r.result = { level: session.logLevel };
        break;
      case "msg_introspect_entries": {
        // The Machine API cannot list a VM's entries; the app record lists the app's modules.
        const modules = appModules(this.sessions.options.apps, session.user, session.app);
        r.result = modules === undefined ? { entries: ENTRY_TAGS } : { entries: ENTRY_TAGS, modules };
        break;
      }
      case "msg_introspect_state":
        r.result = {
          state: session.machine.state,
          backend: session.machine.backend,
          busy: session.busy,
          createdAt: new Date(session.createdAt).toISOString(),
          lastActive: new Date(session.lastActive).toISOString(),
          timeoutMs: session.timeoutMs,
        };
        break;
      case "msg_introspect_memstats": {
        const mem = process.memoryUsage();
        r.result = {
          sessions: this.sessions.size,
          rss: mem.rss,
          heapUsed: mem.heapUsed,
          external: mem.external,
          pool: this.sessions.options.pool?.stats(),
        };
        break;
      }
    }
    return r;
  }

  /** Compiling is building: it needs `allowed_build` on the app; the compiler answers `{code, details}`. */
  private async compile(m: CompileMessage, conn: TrackConnection): Promise<TrackResponse> {
    const r = this.response(m.session ?? "", "", m._rmx_type, m._rmx_echo);
    const compiler = this.options.compiler;
    if (!compiler) {
      r.errors = compilerUnavailable();
      return r;
    }
    if (!this.sessions.options.apps.can(conn.user, conn.app, "allowed_build")) {
      throw new TrackError("Track-forbidden", "compiling needs allowed_build on the app");
    }
    const request = compileRequest(m, conn.app);
    try {
      const result = await compiler.compile(
        request,
        m.timeout === undefined ? undefined : { timeoutMs: m.timeout * 1000 },
      );
      r.result = compileResult(result);
      const failed = compileFailure(result);
      if (failed) r.errors = failed;
    } catch (e) {
      r.errors = compilerError(e);
    }
    return r;
  }

  private session(id: string, conn: TrackConnection): Session {
    const session = this.sessions.get(id, conn.user);
    if (session.app !== conn.app) throw new TrackError("Track-noSession", NO_SUCH_SESSION);
    if (conn.sink && session.sink !== conn.sink) {
      // A client that reconnected picks its session up again on the new connection.
      this.sessions.attach(session, conn.sink);
      conn.sessions?.add(session.id);
    }
    session.touch();
    return session;
  }

  private finish(
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

  private cellResponse(session: Session, cell: Cell): TrackResponse {
    const r = this.response(session.id, session.machine.id, undefined, undefined);
    r.cellMessages.push(cellMessage(cell));
    return r;
  }

  private response(
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
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === "object" && !Array.isArray(v);
}
