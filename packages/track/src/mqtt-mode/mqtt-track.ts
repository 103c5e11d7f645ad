import type { MessageBus, Unsubscribe } from "@amp/broker";
import type { Logger } from "pino";
import { errorMessage, NO_SUCH_SESSION, TrackError } from "../errors.js";
import type { TrackVmOwners } from "../ports.js";
import type { ServerMachineSinks, TrackConnection, TrackProtocol } from "../protocol/dispatch.js";
import { emptyResponse, responseError, type TrackResponse } from "../protocol/response.js";
import type { Session, SessionSink } from "../session/session.js";
import { clip, type InboundMessage, parseTrackPayload, ResponseEncoder } from "./payload.js";

export interface MqttTrackLimits {
  /** Largest payload on `…/initiate` (header + body). Default 1 MiB, as a track WebSocket frame. */
  maxMessageBytes: number;
  /** Messages of one session waiting or running. Default 64, as a track WebSocket. */
  maxInFlight: number;
  /** Largest payload on a session's `…/control` topic. Default 16 KiB. */
  maxControlBytes: number;
}

export const DEFAULT_MQTT_TRACK_LIMITS: MqttTrackLimits = {
  maxMessageBytes: 1024 * 1024,
  maxInFlight: 64,
  maxControlBytes: 16 * 1024,
};

export interface MqttTrackOptions {
  protocol: TrackProtocol;
  /** The in-process bus: `@amp/broker`'s `Broker` (its ACL keeps a VM's topics to its owner). */
  bus: MessageBus;
  logger: Logger;
  /**
   * The broker's session → owner registry (`broker.sessionOwners`): each session driven over MQTT is
   * registered to its user while it lives, so only that user may use its control topic (which ends it).
   */
  sessionOwners?: TrackVmOwners;
  limits?: Partial<MqttTrackLimits>;
}

/** Messages that make or list sessions have no place on one VM's topic. */
const NOT_ON_A_VM = new Set(["msg_session_create", "msg_machine_create", "msg_session_list"]);

interface Driven {
  session: Session;
  sink: SessionSink;
  output: string;
  inFlight: number;
  /** Set when the client asked for the end (`msg_session_destroy`): no "session timed out" notice then. */
  ending: boolean;
}

/**
 * The track protocol over MQTT, as Remix's web runtime speaks it in `vm-init="server:mqtt"` and
 * `"server:groovebox"`: the runtime creates its session with `POST /{app}/track/msg_session_create`
 * (`machine: "server"` / `"server_g"`), then, through its hub worker, publishes track messages to
 * `/org/<org>/ws/<ws>/vm/<machine>/initiate` and reads every `msg_response` — each cell pushed as
 * the VM produces it, the answer, keepAlives — on `…/vm/<machine>/output`. It answers a `$keepAlive`
 * cell and ends the session on `/org/<org>/ws/<ws>/app/<app>/session/<session>/control`.
 *
 * The broker's ACL lets only the VM's owner (and the server) publish to or subscribe to its topics,
 * so a message on `…/initiate` acts as the session's user. Every message goes through the same
 * {@link TrackProtocol} as the WebSocket.
 */
export class MqttTrack implements ServerMachineSinks {
  readonly limits: MqttTrackLimits;
  readonly #protocol: TrackProtocol;
  readonly #bus: MessageBus;
  readonly #log: Logger;
  readonly #encoder: ResponseEncoder;
  readonly #prefix: string;
  readonly #byMachine = new Map<string, Driven>();
  readonly #bySession = new Map<string, Driven>();
  readonly #unsubscribe: Unsubscribe[] = [];
  readonly #sessionOwners: TrackVmOwners | undefined;

  constructor(options: MqttTrackOptions) {
    this.limits = { ...DEFAULT_MQTT_TRACK_LIMITS, ...options.limits };
    this.#protocol = options.protocol;
    this.#bus = options.bus;
    this.#log = options.logger.child({ component: "track-mqtt" });
    this.#encoder = new ResponseEncoder(options.bus.clientId);
    this.#sessionOwners = options.sessionOwners;
    const { org, workspace } = options.protocol.sessions;
    this.#prefix = `/org/${org}/ws/${workspace}/`;
  }

  /** Subscribes to the VMs' `initiate` and the sessions' `control` topics, and takes over server-machine sessions. */
  async start(): Promise<void> {
    this.#unsubscribe.push(
      await this.#bus.subscribe(`${this.#prefix}vm/+/initiate`, (topic, payload, info) => {
        if (!info.retain) this.initiate(topic, payload);
      }),
      await this.#bus.subscribe(`${this.#prefix}app/+/session/+/control`, (topic, payload, info) => {
        if (!info.retain) this.control(topic, payload);
      }),
    );
    this.#protocol.useServerMachines(this);
  }

  async close(): Promise<void> {
    this.#protocol.useServerMachines(undefined);
    for (const stop of this.#unsubscribe.splice(0)) await stop().catch(() => undefined);
  }

  /** Sessions driven over MQTT now. */
  get size(): number {
    return this.#byMachine.size;
  }

  /** The output topic of a VM. */
  outputTopic(machine: string): string {
    return `${this.#prefix}vm/${machine}/output`;
  }

  sinkFor(session: Session): SessionSink {
    const output = this.outputTopic(session.machine.id);
    const sink: SessionSink = { send: (response) => this.publish(output, response) };
    const driven: Driven = { session, sink, output, inFlight: 0, ending: false };
    this.#byMachine.set(session.machine.id, driven);
    this.#bySession.set(session.id, driven);
    this.#sessionOwners?.set(session.id, session.user.id);
    session.onDestroy(() => this.ended(driven));
    return sink;
  }

  /** A message on `…/vm/<machine>/initiate`. Never throws; answers on that VM's output only. */
  private initiate(topic: string, payload: Buffer): void {
    const machine = topic.slice(this.#prefix.length + 3, -"/initiate".length);
    const driven = this.#byMachine.get(machine);
    if (!driven || driven.session.destroyed) {
      this.#log.debug(
        { machine: clip(machine), bytes: payload.length },
        "initiate for no MQTT session; dropped",
      );
      return;
    }
    const { session } = driven;
    let message: InboundMessage | undefined;
    try {
      message = parseTrackPayload(payload, this.limits.maxMessageBytes);
      if (message.header.route.includes(this.#bus.clientId)) return; // our own echo
      this.check(message, driven);
    } catch (e) {
      this.#log.debug({ session: session.id, err: errorMessage(e) }, "bad initiate message");
      this.answerError(driven, e, message?.type ?? safeType(payload), message?.body);
      return;
    }
    if (driven.inFlight >= this.limits.maxInFlight) {
      const busy = new TrackError("Track-busy", `at most ${this.limits.maxInFlight} messages in flight`);
      this.answerError(driven, busy, message.type, message.body);
      return;
    }
    if (message.type === "msg_session_destroy") driven.ending = true;
    driven.inFlight++;
    // Called synchronously, so messages reach the session's queue in the order they arrived.
    this.#protocol
      .handle({ ...message.body, _rmx_type: message.type }, this.connection(driven))
      .then(
        (response) => this.publish(driven.output, response),
        (e) => this.answerError(driven, e, message.type, message.body),
      )
      .finally(() => driven.inFlight--);
  }

  /** The message must name the session this VM runs, and be one a VM's topic may carry. */
  private check(message: InboundMessage, driven: Driven): void {
    if (NOT_ON_A_VM.has(message.type)) {
      throw new TrackError("Track-badMessage", `${message.type} is not sent to a VM's initiate topic`);
    }
    const named = message.body.session;
    if (typeof named !== "string") {
      throw new TrackError("Track-badMessage", "a message on a VM's initiate topic names its session");
    }
    if (named !== driven.session.id) {
      throw new TrackError("Track-noSession", NO_SUCH_SESSION, {
        reason: `session ${clip(named, 200)} does not run on machine ${driven.session.machine.id}`,
      });
    }
  }

  /**
   * A message on `…/app/<app>/session/<session>/control`: the runtime's answer to a `$keepAlive`
   * cell and its `msg_session_destroy` when it goes away. Only these two act, and only on a session
   * of that app driven over MQTT; with `sessionOwners` the broker lets only its owner publish there
   * (without it, anyone with the app's run role could).
   */
  private control(topic: string, payload: Buffer): void {
    const [app, , sessionId] = topic.slice(this.#prefix.length + 4, -"/control".length).split("/");
    const driven = sessionId === undefined ? undefined : this.#bySession.get(sessionId);
    if (!driven || driven.session.destroyed || driven.session.app !== app) {
      this.#log.debug({ session: clip(sessionId ?? "") }, "control message for no MQTT session; dropped");
      return;
    }
    let message: InboundMessage;
    try {
      message = parseTrackPayload(payload, this.limits.maxControlBytes);
      if (message.body.session !== undefined && message.body.session !== driven.session.id) {
        throw new TrackError("Track-badMessage", "the message names another session than its topic");
      }
    } catch (e) {
      this.#log.debug({ session: driven.session.id, err: errorMessage(e) }, "bad control message; dropped");
      return;
    }
    switch (message.type) {
      case "msg_session_keepAlive":
        driven.session.touch();
        return;
      case "msg_session_destroy":
        driven.ending = true;
        void this.#protocol
          .handle(
            { ...message.body, _rmx_type: message.type, session: driven.session.id },
            this.connection(driven),
          )
          .then((response) => this.publish(driven.output, response));
        return;
      default:
        this.#log.debug(
          { session: driven.session.id, type: clip(message.type) },
          "control message of another type; dropped",
        );
    }
  }

  private connection(driven: Driven): TrackConnection {
    const { session } = driven;
    return { user: session.user, token: session.token, app: session.app, sink: driven.sink };
  }

  private answerError(
    driven: Driven,
    e: unknown,
    type: string | undefined,
    body?: Record<string, unknown>,
  ): void {
    const { session } = driven;
    const { org, workspace } = this.#protocol.sessions;
    const named = typeof body?.session === "string" ? clip(body.session, 200) : session.id;
    const r = emptyResponse({ session: named, machine: session.machine.id, org, workspace });
    if (type !== undefined && type !== "") r.responseTo = clip(type);
    if (typeof body?._rmx_echo === "string") r._rmx_echo = clip(body._rmx_echo, 200);
    r.errors = responseError(e);
    this.publish(driven.output, r);
  }

  /**
   * The session ended. Unless its client asked for that, it is told on its output topic: once the
   * VM is gone its topics are nobody's, so its next message could not be answered ("session timed
   * out" where the WebSocket answers the next message). A lost VM was already announced.
   */
  private ended(driven: Driven): void {
    const { session } = driven;
    this.#byMachine.delete(session.machine.id);
    this.#bySession.delete(session.id);
    this.#sessionOwners?.delete(session.id);
    if (driven.ending) return;
    try {
      this.#protocol.sessions.get(session.id);
    } catch (e) {
      if (e instanceof TrackError && e.code === "Track-sessionTimedOut") {
        const { org, workspace } = this.#protocol.sessions;
        const r = emptyResponse({ session: session.id, machine: session.machine.id, org, workspace });
        r.errors = responseError(e);
        this.publish(driven.output, r);
      }
    }
  }

  private publish(topic: string, response: TrackResponse): void {
    let payload: Buffer;
    try {
      payload = this.#encoder.encode(response);
    } catch (e) {
      this.#log.error({ err: errorMessage(e), session: response.session }, "response not encodable");
      return;
    }
    this.#bus.publish(topic, payload).catch((e) => {
      this.#log.debug({ err: errorMessage(e), topic }, "publishing a response failed");
    });
  }
}

/** The header's `_rmx_type` of a payload, when it has a readable one (for `responseTo` of an error). */
function safeType(payload: Buffer): string | undefined {
  const lf = payload.subarray(0, 4096).indexOf(10);
  if (lf < 0) return undefined;
  const match = /(?:^|,)_rmx_type=([^,\n]{1,100})/.exec(payload.subarray(0, lf).toString("utf8"));
  return match?.[1];
}
