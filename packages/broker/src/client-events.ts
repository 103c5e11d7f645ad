import type { Aedes, Client } from "aedes";

/** What happened to a connected client. */
export type ClientChange = "connected" | "disconnected" | "subscribed" | "unsubscribed";

/** Calls `listener` when an authenticated client connects, goes, subscribes or unsubscribes. */
export function watchClients(aedes: Aedes, listener: (change: ClientChange, client: Client) => void): void {
  aedes.on("client", (client) => listener("connected", client));
  aedes.on("clientDisconnect", (client) => listener("disconnected", client));
  aedes.on("subscribe", (_subscriptions, client) => listener("subscribed", client));
  // aedes also unsubscribes a clean client's filters once it has gone: that client is no news.
  aedes.on("unsubscribe", (_filters, client) => {
    if (!client.closed) listener("unsubscribed", client);
  });
}
