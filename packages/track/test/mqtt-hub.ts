import { randomBytes } from "node:crypto";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { attachBrokerWebSocket, Broker, BrokerClient, VmOwners } from "@amp/broker";
import { sessionCreate } from "@amp/test-support";
import { MqttTrack, type MqttTrackLimits, type TrackResponse } from "../src/index.js";
import { logger, type Stack } from "./helpers.js";

/** One MQTT message as Remix's hub worker hands it on: header fields and the decoded body. */
export interface HubMessage {
  topic: string;
  type: string;
  encoding: string;
  sender: string;
  body: unknown;
}

/**
 * What `hub-worker.js` does with a payload (our own reading of it): the first line is the header,
 * `k=v` pairs split on `,`; a message whose `_rmx_route` holds our client id is dropped; json and
 * text bodies are decoded as UTF-8 (json then parsed, as the runtime does), binary kept as bytes;
 * anything without a header line or with another encoding is dropped.
 */
const utf8 = new TextDecoder();
let echoes = 0;

export function parseHubPayload(
  topic: string,
  payload: Uint8Array,
  ownClientId: string,
): HubMessage | undefined {
  const lf = payload.indexOf(10);
  if (lf < 0) return undefined;
  const header: Record<string, string> = {};
  for (const prop of utf8.decode(payload.subarray(0, lf)).split(",")) {
    const eq = prop.indexOf("=");
    if (eq < 0) continue;
    const key = prop.slice(0, eq);
    const value = prop.slice(eq + 1);
    if (key === "_rmx_route" && value.split(";").includes(ownClientId)) return undefined;
    header[key] = value;
  }
  const rest = payload.subarray(lf + 1);
  let body: unknown;
  switch (header._rmx_encoding) {
    case "json":
      body = JSON.parse(utf8.decode(rest));
      break;
    case "text":
      body = utf8.decode(rest);
      break;
    case "binary":
      body = rest.slice();
      break;
    default:
      return undefined;
  }
  return {
    topic,
    type: header._rmx_type ?? "",
    encoding: header._rmx_encoding!,
    sender: header._rmx_sender ?? "",
    body,
  };
}

/**
 * A client that speaks to a server VM as Remix's runtime does through its hub worker: MQTT 3.1.1
 * over `/x/broker.ws` (or TCP), `Bearer <token>` as password, subscribed to `…/vm/<machine>/output`,
 * publishing to `…/vm/<machine>/initiate` with a header line naming its client id in the route,
 * and answering `$keepAlive` cells on the session's control topic.
 */
export class MqttHub {
  readonly received: HubMessage[] = [];
  #waiters: Array<() => void> = [];
  keepAlives = 0;
  answerKeepAlives = true;

  private constructor(
    readonly client: BrokerClient,
    readonly vm: string,
  ) {}

  static async open(options: {
    url: string;
    user: string;
    token: string;
    org: string;
    workspace: string;
    machine: string;
  }): Promise<MqttHub> {
    const client = await BrokerClient.connect({
      url: options.url,
      username: options.user,
      token: options.token,
      clientId: `hub${randomBytes(8).toString("hex")}`,
    });
    const hub = new MqttHub(client, `/org/${options.org}/ws/${options.workspace}/vm/${options.machine}`);
    try {
      await client.subscribe(`${hub.vm}/output`, (topic, payload) => hub.#receive(topic, payload));
    } catch (e) {
      await client.close();
      throw e;
    }
    return hub;
  }

  #receive(topic: string, payload: Uint8Array): void {
    const m = parseHubPayload(topic, payload, this.client.clientId);
    if (!m) return;
    const r = m.body as TrackResponse;
    if (m.type === "msg_response" && r.cellMessages?.[0]?.name === "$keepAlive") {
      this.keepAlives++;
      if (this.answerKeepAlives) {
        const control = `/org/${r.org}/ws/${r.workspace}/app/${(r as { app?: string }).app}/session/${r.session}/control`;
        void this.publishRaw(control, this.payload("msg_session_keepAlive", { session: r.session }));
      }
    }
    this.received.push(m);
    for (const w of this.#waiters.splice(0)) w();
  }

  /** The payload the hub worker publishes for a JSON message. */
  payload(type: string, body: unknown): Uint8Array {
    return Buffer.from(
      `_rmx_type=${type},_rmx_encoding=json,_rmx_sender=user-agent,_rmx_route=${this.client.clientId}\n${JSON.stringify(body)}`,
    );
  }

  publishRaw(topic: string, payload: Uint8Array): Promise<void> {
    return this.client.publish(topic, payload);
  }

  /** Publishes a message to the VM's initiate topic. */
  send(message: Record<string, unknown>): Promise<void> {
    return this.publishRaw(`${this.vm}/initiate`, this.payload(String(message._rmx_type), message));
  }

  /** Sends a message and resolves with the answer carrying its echo, and the responses pushed before it. */
  async request(
    message: Record<string, unknown>,
  ): Promise<{ response: TrackResponse; pushed: TrackResponse[]; messages: HubMessage[] }> {
    const echo = `m${++echoes}`;
    const start = this.received.length;
    await this.send({ ...message, _rmx_echo: echo });
    const m = await this.next((x) => (x.body as TrackResponse)?._rmx_echo === echo, start);
    const messages = this.received.slice(start, this.received.indexOf(m) + 1);
    return {
      response: m.body as TrackResponse,
      pushed: messages.slice(0, -1).map((x) => x.body as TrackResponse),
      messages,
    };
  }

  /** The first message from index `from` on that matches, waiting up to `timeoutMs`. */
  async next(match: (m: HubMessage) => boolean, from = 0, timeoutMs = 10_000): Promise<HubMessage> {
    const deadline = Date.now() + timeoutMs;
    for (let seen = from; ; ) {
      for (; seen < this.received.length; seen++)
        if (match(this.received[seen]!)) return this.received[seen]!;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error("no matching MQTT message in time");
      await new Promise<void>((r) => {
        const t = setTimeout(r, left);
        this.#waiters.push(() => {
          clearTimeout(t);
          r();
        });
      });
    }
  }

  close(): Promise<void> {
    return this.client.close();
  }
}

/** A real broker (TCP and `/x/broker.ws`) beside a track stack, and the MQTT mode on it. */
export interface MqttSide {
  broker: Broker;
  mqtt: MqttTrack;
  wsUrl: string;
  tcpUrl: string;
  close(): Promise<void>;
}

/**
 * Starts the broker with the stack's tokens and app roles, sharing `vmOwners` with the stack's
 * session manager (pass the same registry as `manager.vmOwners`), and the MQTT mode on it.
 */
export async function startMqttSide(
  stack: Stack,
  vmOwners: VmOwners,
  limits?: Partial<MqttTrackLimits>,
): Promise<MqttSide> {
  const roles = {
    read: "allowed_read",
    run: "allowed_run",
    build: "allowed_build",
    admin: "allowed_build",
  } as const;
  const broker = new Broker({
    logger,
    port: 0,
    host: "127.0.0.1",
    vmOwners,
    verifier: { verify: (token) => stack.tokens.verify(token) },
    appRoles: { can: (user, app, role) => stack.apps.can(user, app, roles[role]) },
  });
  const { port } = await broker.start();
  const http: Server = createServer((_req, res) => res.writeHead(404).end());
  const detach = attachBrokerWebSocket(http, broker);
  await new Promise<void>((r) => http.listen(0, "127.0.0.1", r));
  const mqtt = new MqttTrack({
    protocol: stack.protocol,
    bus: broker,
    logger,
    sessionOwners: broker.sessionOwners,
    ...(limits ? { limits } : {}),
  });
  await mqtt.start();
  return {
    broker,
    mqtt,
    wsUrl: `ws://127.0.0.1:${(http.address() as AddressInfo).port}/x/broker.ws`,
    tcpUrl: `mqtt://127.0.0.1:${port}`,
    async close() {
      await mqtt.close();
      detach();
      http.closeAllConnections();
      await new Promise((r) => http.close(r));
      await broker.close();
    },
  };
}

export { VmOwners };

/** `POST /{app}/track/msg_session_create` with `machine`, as Remix's runtime starts its MQTT modes. */
export async function createOverHttp(
  stack: Stack,
  app: string,
  token: string,
  machine: string,
): Promise<TrackResponse> {
  const res = await fetch(`${stack.url}/${app}/track/msg_session_create`, {
    method: "POST",
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    body: JSON.stringify(
      sessionCreate({ machine, clientVars: { surface: "app", platform: "web", width: 800, height: 600 } }),
    ),
  });
  if (res.status !== 200) throw new Error(`msg_session_create answered ${res.status}`);
  return (await res.json()) as TrackResponse;
}
