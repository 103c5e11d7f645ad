import { useEffect, useRef, useState } from "preact/hooks";
import { connectBroker } from "../api/broker.js";

export interface LiveListOptions<T, E> {
  /** The signed-in user (the broker connection's username). */
  user: string;
  /** The `$amp/…` filter whose events change the list; undefined: no live feed, only `load`. */
  filter: string | undefined;
  /** Reads the whole list (the API's GET). */
  load: () => Promise<T[]>;
  /** The list after one event (a JSON payload). */
  apply: (items: T[], event: E, topic: string) => T[];
}

export interface LiveList<T> {
  items: T[] | undefined;
  error: unknown;
  /** Whether events arrive: false until subscribed, and once the connection is gone. */
  live: boolean;
  refresh: () => Promise<void>;
}

/** A broker that cannot be reached is tried again this often (a restarted server, a network blip). */
const RECONNECT_MS = 3000;

/**
 * A list read once with `load` and then kept current by the server's events on the broker
 * (`$amp/…`), not by polling. On each (re)connection it subscribes first and then loads, and the
 * events that arrive while the load is under way are applied to its answer, so none is lost.
 */
export function useLiveList<T, E>(options: LiveListOptions<T, E>): LiveList<T> {
  const [items, setItems] = useState<T[]>();
  const [error, setError] = useState<unknown>();
  const [live, setLive] = useState(false);
  const latest = useRef(options);
  latest.current = options;
  /** Events that came during a load, in order; undefined when no load is under way. */
  const waiting = useRef<Array<[E, string]> | undefined>(undefined);

  const refresh = async () => {
    waiting.current ??= [];
    try {
      const loaded = await latest.current.load();
      const queued = waiting.current ?? [];
      waiting.current = undefined;
      setItems(queued.reduce((list, [event, topic]) => latest.current.apply(list, event, topic), loaded));
      setError(undefined);
    } catch (e) {
      waiting.current = undefined;
      setError(e);
    }
  };

  useEffect(() => {
    const { filter, user } = options;
    if (!filter) {
      void refresh();
      return;
    }
    let closed = false;
    let client: Awaited<ReturnType<typeof connectBroker>> | undefined;
    const subscribe = async () => {
      await client?.subscribeAsync(filter, { qos: 0 });
      setLive(true);
      await refresh();
    };
    void (async () => {
      try {
        client = await connectBroker(user, { reconnectPeriod: RECONNECT_MS });
      } catch {
        // No feed (the broker refused or is unreachable): the list still loads, Refresh updates it.
        await refresh();
        return;
      }
      if (closed) {
        void client.endAsync(true);
        return;
      }
      client.on("message", (topic, payload) => {
        let event: E;
        try {
          event = JSON.parse(new TextDecoder().decode(payload)) as E;
        } catch {
          return;
        }
        if (waiting.current) waiting.current.push([event, topic]);
        else setItems((list) => list && latest.current.apply(list, event, topic));
      });
      // A clean session forgets subscriptions: subscribe again (and reload) on every reconnection.
      client.on("connect", () => void subscribe().catch(setError));
      client.on("close", () => setLive(false));
      // A refused CONNECT (an expired or revoked token) would be retried forever: stop, say why.
      client.on("error", (e) => {
        setError(new Error(`Live updates stopped: ${e.message}. Refresh reads the list.`));
        void client?.endAsync(true);
      });
      await subscribe().catch(async (e) => {
        setError(e);
        await refresh();
      });
    })();
    return () => {
      closed = true;
      setLive(false);
      void client?.endAsync(true);
    };
  }, [options.filter, options.user]);

  return { items, error, live, refresh };
}
