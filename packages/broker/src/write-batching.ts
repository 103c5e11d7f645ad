import type { Writable } from "node:stream";

/**
 * Coalesces a client's outgoing packets into one syscall per event-loop turn. aedes delivers each
 * message from its own setImmediate, and mqtt-packet uncorks on the next tick, so a burst of N
 * deliveries costs N writev calls; deferring the uncork to the next check phase sends the whole
 * burst at once. Backpressure is unchanged: write() still reports a full buffer. aedes destroys the
 * socket right after a refusing CONNACK, so destroy flushes first.
 */
export function batchWrites(socket: Writable): void {
  const uncork = socket.uncork.bind(socket);
  let scheduled = false;
  const flush = () => {
    scheduled = false;
    while (socket.writableCorked > 0) uncork();
  };
  socket.uncork = () => {
    if (scheduled) return;
    scheduled = true;
    setImmediate(flush);
  };
  const destroy = socket.destroy.bind(socket);
  socket.destroy = (error?: Error) => {
    flush();
    return destroy(error);
  };
}
