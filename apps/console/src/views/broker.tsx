import type { MqttClient } from "mqtt";
import { useEffect, useRef, useState } from "preact/hooks";
import { BROKER_CLIENTS_TOPIC, connectBroker } from "../api/broker.js";
import { api, ok } from "../api/client.js";
import type { components } from "../api/schema.js";
import { useMe } from "../auth/me.js";
import { Chips } from "../ui/chips.js";
import { useDraft } from "../ui/draft.js";
import { useLiveList } from "../ui/live-list.js";
import { Notice } from "../ui/notice.js";

type ConnectedClient = components["schemas"]["ConnectedClient"];

/** What the server publishes on `$amp/broker/clients`. */
interface ClientEvent {
  type: "connected" | "disconnected" | "subscribed" | "unsubscribed";
  client: ConnectedClient;
}

function applyClientEvent(list: ConnectedClient[], event: ClientEvent): ConnectedClient[] {
  const others = list.filter((c) => c.clientId !== event.client.clientId);
  return event.type === "disconnected" ? others : [...others, event.client];
}

const KEPT_MESSAGES = 200;
const SHOWN_BYTES = 2000;

interface Received {
  n: number;
  topic: string;
  at: string;
  bytes: number;
  text: string;
}

/** A payload as text when it is mostly text (Remix messages put a small binary header first). */
function shown(payload: Uint8Array): string {
  const text = new TextDecoder().decode(payload.subarray(0, SHOWN_BYTES));
  const printable = text.replace(/[^\P{C}\n\t]/gu, "·");
  return payload.length > SHOWN_BYTES ? `${printable}…` : printable;
}

/**
 * The broker: its connected clients (root only: `GET /x/broker/clients`, kept current by the
 * server's events on `$amp/broker/clients`), and a topic viewer that subscribes live over `/x/broker.ws` (MQTT over WebSocket) as the
 * signed-in user, so it sees only topics the broker's ACL lets that user read.
 */
export function BrokerView() {
  const me = useMe();
  // Only root may read the clients' topic; others see the API's refusal of the list.
  const live = useLiveList<ConnectedClient, ClientEvent>({
    user: me.id,
    filter: me.root ? BROKER_CLIENTS_TOPIC : undefined,
    load: () => ok(api.GET("/x/broker/clients")).then((a) => a.clients),
    apply: applyClientEvent,
  });
  const clients = live.items;

  return (
    <section>
      <h1>Broker</h1>
      <h2>Connected clients</h2>
      <div class="toolbar">
        <button type="button" onClick={live.refresh}>
          Refresh
        </button>
        <span class="hint">{live.live ? "live: clients show as they come and go" : "not live"}</span>
      </div>
      <Notice error={live.error} />
      {clients ? (
        <div class="scroll">
          <table class="list" aria-label="Connected clients">
            <thead>
              <tr>
                <th scope="col">Client id</th>
                <th scope="col">User</th>
                <th scope="col" class="wide-only">
                  Node
                </th>
                <th scope="col">Since</th>
                <th scope="col">Subscriptions</th>
              </tr>
            </thead>
            <tbody>
              {clients.map((c) => (
                <tr key={c.clientId}>
                  <td>
                    <code>{c.clientId}</code>
                  </td>
                  <td>{c.user ?? "(connecting)"}</td>
                  <td class="wide-only">{c.node}</td>
                  <td>
                    <time dateTime={c.since}>{new Date(c.since).toLocaleTimeString()}</time>
                  </td>
                  <td>
                    <Chips values={c.subscriptions} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
      <TopicViewer user={me.id} />
    </section>
  );
}

function TopicViewer(props: { user: string }) {
  const [filter, setFilter] = useDraft("broker.filter", "");
  const [subscribed, setSubscribed] = useState<string>();
  const [messages, setMessages] = useState<Received[]>([]);
  const [error, setError] = useState<unknown>();
  const [busy, setBusy] = useState(false);
  const client = useRef<MqttClient>(undefined);
  const count = useRef(0);

  const stop = async () => {
    const open = client.current;
    client.current = undefined;
    setSubscribed(undefined);
    await open?.endAsync(true).catch(() => {});
  };
  useEffect(() => () => void stop(), []);

  const start = async (topic: string) => {
    setError(undefined);
    setBusy(true);
    await stop();
    try {
      const open = await connectBroker(props.user);
      client.current = open;
      open.on("message", (t, payload) => {
        count.current += 1;
        const received = {
          n: count.current,
          topic: t,
          at: new Date().toLocaleTimeString(),
          bytes: payload.length,
          text: shown(payload),
        };
        setMessages((list) => [received, ...list].slice(0, KEPT_MESSAGES));
      });
      open.on("close", () => {
        if (client.current === open) {
          client.current = undefined;
          setSubscribed(undefined);
          setError(new Error("The broker closed the connection (an expired token ends it too)."));
        }
      });
      const granted = await open.subscribeAsync(topic, { qos: 0 });
      if (granted.some((g) => g.qos === 128)) {
        await stop();
        throw new Error(`The broker refused the subscription: you may not read ${topic}.`);
      }
      setSubscribed(topic);
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };

  return (
    <>
      <h2>Topic viewer</h2>
      <form
        class="query"
        onSubmit={(event) => {
          event.preventDefault();
          if (filter.trim()) void start(filter.trim());
        }}
      >
        <label for="topic-filter">Topic filter (e.g. /org/&lt;org&gt;/ws/&lt;ws&gt;/app/&lt;app&gt;/#)</label>
        <input
          id="topic-filter"
          maxLength={1024}
          spellcheck={false}
          value={filter}
          onInput={(e) => setFilter(e.currentTarget.value)}
        />
        <div class="toolbar">
          <button type="submit" disabled={busy}>
            Subscribe
          </button>
          {subscribed ? (
            <button type="button" onClick={stop}>
              Unsubscribe
            </button>
          ) : null}
          <button type="button" onClick={() => setMessages([])} disabled={messages.length === 0}>
            Clear
          </button>
        </div>
      </form>
      <Notice error={error} info={subscribed ? `Live: subscribed to ${subscribed}` : undefined} />
      <ol class="messages" aria-label="Messages" aria-live="polite">
        {messages.map((m) => (
          <li key={m.n}>
            <p>
              <time>{m.at}</time> <code>{m.topic}</code> <span class="hint">{m.bytes} B</span>
            </p>
            <pre>{m.text}</pre>
          </li>
        ))}
      </ol>
    </>
  );
}
