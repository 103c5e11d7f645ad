import { randomUUID } from "node:crypto";
import type { Role } from "@amp/apps";
import type { AmpUser } from "@amp/auth";
import type { MixValue } from "@amp/codec";
import {
  type AppCode,
  type FfiRegistry,
  type GrooveboxPool,
  type Interaction,
  type Machine,
  MachineError,
  type MachineOptions,
  NativeMachine,
  type NativeModule,
} from "@amp/machine";
import type { Logger } from "pino";
import { InProcessDirectory, type SessionDirectory } from "../cluster/directory.js";
import {
  EXECUTION_TIMED_OUT,
  errorMessage,
  NO_SUCH_SESSION,
  SESSION_TIMED_OUT,
  TrackError,
} from "../errors.js";
import { type TrackFfiOptions, trackFfis } from "../ffi/index.js";
import type { TrackApps, TrackVmOwners } from "../ports.js";
import { emptyResponse, errorObject, type ResponseError } from "../protocol/response.js";
import { appSessionTimeoutMs, appsError, findExecutable } from "./app-code.js";
import { type CachedCode, CodeCache } from "./code-cache.js";
import { Session, type SessionSink } from "./session.js";

export interface SessionManagerOptions {
  apps: TrackApps;
  logger: Logger;
  /** The server's org, workspace and base URL (the VM's init env and every response). */
  org: string;
  workspace: string;
  baseURL: string;
  /** The Groovebox backend: sessions of apps whose executable is Wasm run here. */
  pool?: GrooveboxPool;
  /** The native backend: an executable whose bytes are not Wasm names one of these modules. */
  nativeModules?: readonly NativeModule[];
  /** Collaborators and rules of the FFIs every session's VM gets (see `trackFfis`). */
  ffi?: TrackFfiOptions;
  /** Idle timeout when the app has no `session-timeout` setting (`RMX_SESSION_TIMEOUT`). Default 300 s. */
  sessionTimeoutMs?: number;
  /** How often an attached client is sent a `$keepAlive` cell. Default a third of the session timeout. */
  keepAliveMs?: number;
  /** A session whose connection went away is destroyed after this long unless re-attached. Default 30 s. */
  disconnectGraceMs?: number;
  /** Sessions in the process. Default 5000. */
  maxSessions?: number;
  /** Sessions per user. Default 50 (root is exempt). */
  maxSessionsPerUser?: number;
  /** Limits for every VM (interaction timeout, hard timeout, memory). */
  machine?: Pick<MachineOptions, "timeoutMs" | "hardTimeoutMs" | "memoryLimitBytes">;
  /** Bytes of executables kept in the code cache. Default 256 MiB. */
  codeCacheBytes?: number;
  /** Keep pre-initialized spare VMs for apps once they ran (Groovebox pool only). Default true. */
  warm?: boolean;
  /** Spare VMs per worker for each app that ran (≈1.6 MiB each). Default 1. */
  warmSpares?: number;
  /**
   * The broker's VM → owner registry (`broker.vmOwners`): each session's VM is registered to its
   * user while the session lives, so only that user (and the server) may use the VM's topics
   * `/org/<org>/ws/<ws>/vm/<machine>/…`.
   */
  vmOwners?: TrackVmOwners;
  /** Timer granularity of idle/keepAlive/grace checks. Default 1000 ms. */
  sweepIntervalMs?: number;
  /**
   * Where sessions are recorded as this node's (`TrackCluster.directory` among several nodes).
   * Default an in-process directory: one node, as before.
   */
  directory?: SessionDirectory;
}

export interface CreateSessionOptions {
  user: AmpUser;
  /** The caller's token, handed to the VM as its `token` (empty for anonymous callers). */
  token: string;
  app: string;
  /** The role the caller needs. Default `allowed_run`; agents use `allowed_agents`. */
  role?: Role;
  variant?: "WASM" | "BYTECODE";
  clientVars?: Record<string, MixValue>;
  sink?: SessionSink;
  isAgent?: boolean;
}

export interface SessionInfo {
  id: string;
  app: string;
  user: string;
  machine: string;
  backend: "groovebox" | "native";
  createdAt: string;
  lastActive: string;
  attached: boolean;
}

/** A session began (its VM initialized) or ended; see `SessionManager.onChange`. */
export type SessionChange = "created" | "ended";

const WASM_MAGIC = [0x00, 0x61, 0x73, 0x6d];
const EXPIRED_MEMORY = 10_000;

/**
 * Sessions: one VM per session, created through the Groovebox pool (Wasm executables) or
 * as a native machine, with idle timeout, keepAlive, disconnect grace and limits.
 */
export class SessionManager {
  readonly codeCache: CodeCache;
  /** The FFI table shared by every session's VM. */
  readonly ffi: FfiRegistry;
  readonly #sessions = new Map<string, Session>();
  /**
   * Recently ended ids and why: a late message hears "session timed out", or "no such session"
   * with the reason its VM was lost, rather than a bare "no such session".
   */
  readonly #ended = new Map<string, { until: number; lost?: string }>();
  readonly #pendingPerUser = new Map<string, number>();
  #pending = 0;
  /** Code hash → the app its spares are pre-initialized for (null: code shared by several apps). */
  readonly #warmed = new Map<string, string | null>();
  readonly #sweep: ReturnType<typeof setInterval>;
  readonly #log: Logger;
  readonly #listeners = new Set<(change: SessionChange, session: Session) => void>();
  readonly directory: SessionDirectory;
  #closed = false;
  readonly timeoutMs: number;
  readonly graceMs: number;
  readonly maxSessions: number;
  readonly maxPerUser: number;

  constructor(readonly options: SessionManagerOptions) {
    this.#log = options.logger.child({ component: "track" });
    this.codeCache = new CodeCache(options.codeCacheBytes);
    this.ffi = trackFfis(options.apps, (id) => this.find(id), options.ffi);
    this.timeoutMs = options.sessionTimeoutMs ?? 300_000;
    this.graceMs = options.disconnectGraceMs ?? 30_000;
    this.maxSessions = options.maxSessions ?? 5000;
    this.maxPerUser = options.maxSessionsPerUser ?? 50;
    this.directory = options.directory ?? new InProcessDirectory();
    this.#sweep = setInterval(() => this.sweep(), options.sweepIntervalMs ?? 1000);
    this.#sweep.unref();
  }

  get org(): string {
    return this.options.org;
  }
  get workspace(): string {
    return this.options.workspace;
  }
  get size(): number {
    return this.#sessions.size;
  }

  /** Creates the session's VM, loads the app's code and runs init. */
  async create(options: CreateSessionOptions): Promise<{ session: Session; init: Interaction }> {
    if (this.#closed) throw new TrackError("Track-internal", "the session manager is closed");
    const { user, app } = options;
    const role = options.role ?? "allowed_run";
    try {
      this.options.apps.authorize(user, app, [role]);
    } catch (e) {
      appsError(e);
    }
    this.reserve(user);
    let machine: Machine | undefined;
    let created: Session | undefined;
    try {
      const code = await this.code(user, app, options.variant ?? "WASM");
      const id = randomUUID();
      machine = await this.machine(id, app, code);
      const timeoutMs = (await appSessionTimeoutMs(this.options.apps, user, app)) ?? this.timeoutMs;
      const session = new Session(id, app, user, options.token, machine, timeoutMs);
      session.sink = options.sink;
      machine.on("fatal", (error) => this.vmLost(session, error));
      // Registered before init, so FFIs called while initializing find their session.
      this.#sessions.set(id, session);
      this.options.vmOwners?.set(machine.id, user.id);
      created = session;
      // Recorded while the VM initializes; known to every node before the client hears of it.
      // An agent's session is never addressed by a client: it stays this node's alone.
      const claimed = options.isAgent ? undefined : this.directory.claim(id);
      claimed?.catch(() => undefined);
      const init = await machine.init({
        org: this.options.org,
        workspace: this.options.workspace,
        app,
        user: user.id,
        token: options.token,
        baseURL: this.options.baseURL,
        session: id,
        isAgent: options.isAgent ?? false,
        isMQTTEnabled: this.options.ffi?.mqtt !== undefined,
        userIsVerified: !user.anonymous,
        client: clientVars(options.clientVars),
      });
      await claimed;
      this.#log.info({ session: id, app, user: user.id, backend: machine.backend }, "session created");
      this.#changed("created", session);
      return { session, init };
    } catch (e) {
      if (created) await this.destroy(created.id).catch(() => {});
      else await machine?.destroy().catch(() => {});
      if (e instanceof MachineError && e.code === "timeout")
        throw new TrackError("Track-executionTimedOut", EXECUTION_TIMED_OUT, { reason: e.message });
      if (e instanceof MachineError)
        throw new TrackError("Track-machine", e.message, { machineError: e.code });
      throw e;
    } finally {
      this.release(user);
    }
  }

  /** The session `id` for `user`; a session of another user is "no such session" to them. */
  get(id: string, user?: AmpUser): Session {
    const session = this.#sessions.get(id);
    if (session === undefined || session.destroyed || (user && session.user.id !== user.id && !user.root)) {
      const ended = this.#ended.get(id);
      if (ended?.lost !== undefined)
        throw new TrackError("Track-noSession", NO_SUCH_SESSION, lostDetails(ended.lost));
      if (ended) throw new TrackError("Track-sessionTimedOut", SESSION_TIMED_OUT);
      throw new TrackError("Track-noSession", NO_SUCH_SESSION);
    }
    return session;
  }

  /** Looks a session up without access checks (FFI handlers: the VM asks about itself). */
  find(id: string | undefined): Session | undefined {
    return id === undefined ? undefined : this.#sessions.get(id);
  }

  list(user?: AmpUser): SessionInfo[] {
    return [...this.#sessions.values()]
      .filter((s) => !user || user.root || s.user.id === user.id)
      .map((s) => this.describe(s));
  }

  describe(s: Session): SessionInfo {
    return {
      id: s.id,
      app: s.app,
      user: s.user.id,
      machine: s.machine.id,
      backend: s.machine.backend,
      createdAt: new Date(s.createdAt).toISOString(),
      lastActive: new Date(s.lastActive).toISOString(),
      attached: s.sink !== undefined,
    };
  }

  /** Calls `listener` when a session is created or ended (the console's live feed); returns its removal. */
  onChange(listener: (change: SessionChange, session: Session) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  #changed(change: SessionChange, session: Session): void {
    for (const listener of this.#listeners) listener(change, session);
  }

  async destroy(id: string): Promise<boolean> {
    const session = this.#sessions.get(id);
    if (session === undefined) return false;
    this.#sessions.delete(id);
    this.#changed("ended", session);
    this.options.vmOwners?.delete(session.machine.id);
    // Not awaited: a message that still reaches this node hears why the session ended.
    this.directory
      .release(id)
      .catch((e) => this.#log.warn({ session: id, err: errorMessage(e) }, "directory release failed"));
    await session.destroy();
    this.#log.debug({ session: id }, "session destroyed");
    return true;
  }

  /** The connection went away: pushes stop, and the session ends after the grace period. */
  detach(session: Session): void {
    session.sink = undefined;
    session.detachedAt = Date.now();
  }

  attach(session: Session, sink: SessionSink): void {
    session.sink = sink;
    session.detachedAt = undefined;
    session.touch();
  }

  async close(): Promise<void> {
    this.#closed = true;
    clearInterval(this.#sweep);
    await Promise.all([...this.#sessions.keys()].map((id) => this.destroy(id)));
  }

  /** Idle timeouts, disconnect grace and keepAlives; runs on a timer. */
  sweep(now = Date.now()): void {
    for (const [id, { until }] of this.#ended) if (until < now) this.#ended.delete(id);
    for (const session of this.#sessions.values()) {
      if (session.busy > 0) continue;
      if (session.detachedAt !== undefined && now - session.detachedAt >= this.graceMs) {
        this.#log.info({ session: session.id }, "client gone; destroying the session");
        void this.destroy(session.id);
      } else if (now - session.lastActive >= session.timeoutMs) {
        this.#log.info({ session: session.id }, "session timed out");
        this.remember(session.id, now, undefined);
        void this.destroy(session.id);
      } else if (session.sink !== undefined) {
        const every = this.options.keepAliveMs ?? session.timeoutMs / 3;
        if (now - session.lastKeepAlive >= every) {
          session.lastKeepAlive = now;
          session.sink.send(this.keepAlive(session));
        }
      }
    }
  }

  /**
   * Why the session `id` ended with its VM (a runaway neighbour took the VM's worker, a memory
   * limit, a trap), as the error object its client gets; undefined when its VM was not lost.
   */
  lostError(id: string): ResponseError | undefined {
    const lost = this.#ended.get(id)?.lost;
    return lost === undefined
      ? undefined
      : errorObject("Track-noSession", NO_SUCH_SESSION, lostDetails(lost));
  }

  /**
   * The session's VM ended on its own: the session is destroyed (its state is gone with the VM),
   * an attached client that is not waiting for an answer is told at once, and later messages
   * naming the session hear "no such session" with the reason, so the client starts a new one.
   */
  private vmLost(session: Session, error: MachineError): void {
    this.#log.warn(
      { session: session.id, app: session.app, code: error.code },
      "session VM lost; destroying the session",
    );
    this.remember(session.id, Date.now(), error.message);
    if (session.sink !== undefined && session.busy === 0) {
      const r = emptyResponse(this.address(session));
      r.errors = this.lostError(session.id);
      session.sink.send(r);
    }
    void this.destroy(session.id);
  }

  private address(session: Session) {
    return {
      session: session.id,
      machine: session.machine.id,
      org: this.options.org,
      workspace: this.options.workspace,
    };
  }

  private keepAlive(session: Session) {
    return {
      _rmx_type: "msg_response" as const,
      _rmx_version: "0.0" as const,
      session: session.id,
      machine: session.machine.id,
      org: this.options.org,
      workspace: this.options.workspace,
      app: session.app,
      cellMessages: [{ name: "$keepAlive", version: String(session.lastKeepAlive), value: true }],
      logMessages: [],
      warnings: [],
    };
  }

  private remember(id: string, now: number, lost: string | undefined): void {
    if (this.#ended.size >= EXPIRED_MEMORY) {
      const oldest = this.#ended.keys().next().value;
      if (oldest !== undefined) this.#ended.delete(oldest);
    }
    this.#ended.set(id, { until: now + 24 * 3600_000, lost });
  }

  private reserve(user: AmpUser): void {
    if (this.#sessions.size + this.#pending >= this.maxSessions) {
      throw new TrackError(
        "Track-tooManySessions",
        `the server holds its maximum of ${this.maxSessions} sessions`,
      );
    }
    if (!user.root) {
      let mine = this.#pendingPerUser.get(user.id) ?? 0;
      for (const s of this.#sessions.values()) if (s.user.id === user.id) mine++;
      if (mine >= this.maxPerUser) {
        throw new TrackError("Track-tooManySessions", `at most ${this.maxPerUser} sessions per user`);
      }
    }
    this.#pending++;
    this.#pendingPerUser.set(user.id, (this.#pendingPerUser.get(user.id) ?? 0) + 1);
  }

  private release(user: AmpUser): void {
    this.#pending--;
    const n = (this.#pendingPerUser.get(user.id) ?? 1) - 1;
    if (n <= 0) this.#pendingPerUser.delete(user.id);
    else this.#pendingPerUser.set(user.id, n);
  }

  /** The app's executable, from the code cache or read once from the app's blobs. */
  private async code(user: AmpUser, app: string, variant: string): Promise<CachedCode> {
    const exe = await findExecutable(this.options.apps, user, app, variant);
    const cached = this.codeCache.get(exe.hash, app, 0);
    if (cached) return cached;
    const code = { hash: exe.hash, bytes: await exe.read() };
    this.codeCache.put(app, 0, code);
    return code;
  }

  private async machine(session: string, app: string, code: CachedCode): Promise<Machine> {
    const common = { ...this.options.machine, ffi: this.ffi, session, logger: this.#log };
    if (isWasm(code.bytes)) {
      const pool = this.options.pool;
      if (!pool) throw new TrackError("Track-machine", "this server has no Groovebox configured");
      const appCode = [{ codeID: 0, bytes: code.bytes }];
      const machine = await pool.createMachine({ ...common, code: appCode });
      // Warm only once the code has linked: an app that loops while linking must not take every worker with it.
      if (this.options.warm ?? true) this.warm(pool, appCode, code.hash, app);
      return machine;
    }
    const machine = new NativeMachine({ ...common, modules: this.options.nativeModules ?? [] });
    await machine.sendCode(0, code.bytes);
    await machine.linkCode(0);
    return machine;
  }

  /**
   * Keeps one spare VM per worker for an app that ran, pre-initialized with a neutral env (the
   * app's org, workspace, app and baseURL; never a user or token), so a session's `init` is a
   * ≈0.1 ms re-init. Spares are keyed by code: when two apps share byte-identical code, a spare
   * pre-initialized for one must not serve the other (library init keeps warm-time values), so
   * such code gets linked-only spares.
   */
  private warm(pool: GrooveboxPool, appCode: AppCode[], hash: string, app: string): void {
    const warmedFor = this.#warmed.get(hash);
    if (warmedFor === app || warmedFor === null) return;
    const shared = warmedFor !== undefined;
    this.#warmed.set(hash, shared ? null : app);
    const initEnv = shared
      ? undefined
      : {
          org: this.options.org,
          workspace: this.options.workspace,
          app,
          user: "",
          token: "",
          baseURL: this.options.baseURL,
          isMQTTEnabled: this.options.ffi?.mqtt !== undefined,
        };
    void pool
      .warm(appCode, this.options.warmSpares ?? 1, { initEnv })
      .catch((e) => this.#log.warn({ app, err: errorMessage(e) }, "warming failed"));
  }
}

function lostDetails(reason: string): { reason: string } {
  return { reason: `the session's VM was lost: ${reason}` };
}

function isWasm(bytes: Uint8Array): boolean {
  return WASM_MAGIC.every((b, i) => bytes[i] === b);
}

/** The client's variables without their `client_` prefix, which the init env adds back. */
function clientVars(vars: Record<string, MixValue> | undefined): Record<string, MixValue> | undefined {
  if (!vars) return undefined;
  const out: Record<string, MixValue> = {};
  for (const [k, v] of Object.entries(vars)) out[k.startsWith("client_") ? k.slice(7) : k] = v;
  return out;
}
