import { connect } from "node:net";

/**
 * Raw HTTP on one connection: writes each piece (150 ms apart, e.g. a request head, its body,
 * a second request) and resolves with everything the server answered once the connection
 * closes (or after `timeoutMs`). For keep-alive and parser-level cases `fetch` cannot express.
 */
export function rawExchange(port: number, writes: (string | Buffer)[], timeoutMs = 5000): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect(port, "127.0.0.1");
    let out = "";
    const timer = setTimeout(() => socket.destroy(), timeoutMs);
    socket.on("data", (d) => {
      out += d.toString("latin1");
    });
    socket.on("close", () => {
      clearTimeout(timer);
      resolve(out);
    });
    socket.on("error", () => undefined);
    for (const [i, w] of writes.entries()) setTimeout(() => socket.write(w), i * 150);
  });
}

/** The JSON body of a raw HTTP answer. */
export function rawJsonBody(raw: string): unknown {
  return JSON.parse(raw.slice(raw.indexOf("\r\n\r\n") + 4)) as unknown;
}
