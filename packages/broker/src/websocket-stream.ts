import { Duplex } from "node:stream";
import type { WebSocket } from "ws";

/**
 * A WebSocket as the byte stream aedes reads and writes. Unlike `ws`'s createWebSocketStream it
 * implements writev: packets queued while a send is in flight go out together in one binary
 * message, which MQTT over WebSocket allows (packets need not align with frames).
 */
export function webSocketStream(ws: WebSocket): Duplex {
  const send = (data: Buffer, callback: (error?: Error | null) => void) => {
    if (ws.readyState !== ws.OPEN) {
      callback(new Error("WebSocket is closed"));
      return;
    }
    ws.send(data, { binary: true }, callback);
  };
  const stream = new Duplex({
    write(chunk: Buffer, _encoding, callback) {
      send(chunk, callback);
    },
    writev(chunks, callback) {
      send(Buffer.concat(chunks.map((c) => c.chunk as Buffer)), callback);
    },
    read() {
      ws.resume();
    },
    final(callback) {
      ws.close();
      callback();
    },
    destroy(error, callback) {
      ws.terminate();
      callback(error);
    },
  });
  ws.on("message", (data: Buffer | ArrayBuffer | Buffer[]) => {
    const bytes = Buffer.isBuffer(data)
      ? data
      : Array.isArray(data)
        ? Buffer.concat(data)
        : Buffer.from(data);
    if (!stream.push(bytes)) ws.pause();
  });
  ws.once("close", () => stream.push(null));
  ws.once("error", (error) => stream.destroy(error));
  return stream;
}
