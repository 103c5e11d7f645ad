import type { MqttClient } from "mqtt";
import { useEffect, useRef, useState } from "preact/hooks";
import { api, ok } from "../api/client.js";
import type { components } from "../api/schema.js";
import { currentToken } from "../auth/credentials.js";
import { useMe } from "../auth/me.js";
import { useDraft } from "../ui/draft.js";
import { Notice } from "../ui/notice.js";
import { REFRESH_MS, useRefreshing } from "../ui/refreshing.js";

type ConnectedClient = components["schemas"]["ConnectedClient"];

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
 * The broker: its connected clients (root only: `GET /x/broker/clients`, refreshed every 5 s),
 * and a topic viewer that subscribes live over `/x/broker.ws` (MQTT over WebSocket) as the
 * signed-in user, so it sees only topics the broker's ACL lets that user read.
 */
export function BrokerView() {
  const me = useMe();
  const [clients, setClients] = useState<ConnectedClient[]>();
  const [clientsError, setClientsError] = useState<unknown>();
  const load = () =>
    ok(api.GET("/x/broker/clients")).then((a) => {
      setClients(a.clients);
      setClientsError(undefined);
    }, setClientsError);
  useRefreshing(load);

  return (
    <section>
      <h1>Broker</h1>
      <h2>Connected clients</h2>
      <div class="toolbar">
        <button type="button" onClick={load}>
          Refresh
        </button>
        <span class="hint">refreshed every {REFRESH_MS / 1000} s</span>
      </div>
      <Notice error={clientsError} />
      {clients ? (
        <div class="scroll">
          <table class="list" aria-label="Connected clients">
            <thead>
              <tr>
                <th scope="col">Client id</th>
                <th scope="col">User</th>
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
                  <td>
                    <time dateTime={c.since}>{new Date(c.since).toLocaleTimeString()}</time>
                  </td>
                  <td>
                    {c.subscriptions.map((s) => (
                      <code key={s} class="chip">
                        {s}
                      </code>
                    ))}
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
      // Loaded on first use: the MQTT client is most of the console's code otherwise.
      const { default: mqtt } = await import("mqtt");
      const url = `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/x/broker.ws`;
      const open = await mqtt.connectAsync(url, {
        protocolVersion: 4,
        clean: true,
        reconnectPeriod: 0,
        clientId: `amp-console-${crypto.randomUUID().slice(0, 8)}`,
        username: props.user,
        password: `Bearer ${currentToken() ?? ""}`,
      });
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
