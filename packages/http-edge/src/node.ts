import type { Server } from "node:http";
import { STATUS_CODES } from "node:http";
import type { Duplex } from "node:stream";
import { codeForStatus, errorBody } from "./errors.js";

const MESSAGES: Record<number, string> = {
  400: "malformed HTTP request",
  408: "the request took too long to arrive",
  413: "request too large",
  431: "request headers too large",
};

function statusOf(code: string | undefined): number {
  switch (code) {
    case "HPE_HEADER_OVERFLOW":
      return 431;
    case "ERR_HTTP_REQUEST_TIMEOUT":
    case "HPE_REQUEST_TIMEOUT":
      return 408;
    default:
      return 400;
  }
}

/**
 * The raw HTTP answer, in the edge's envelope, to a request Node's own parser refused
 * (headers too large, a malformed request line, a request that timed out): written to the
 * socket, which is then closed.
 */
export function clientErrorResponse(errorCode: string | undefined): string {
  const status = statusOf(errorCode);
  const body = JSON.stringify(errorBody(codeForStatus(status), MESSAGES[status] ?? "bad request"));
  return (
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? "Bad Request"}\r\n` +
    "Content-Type: application/json\r\n" +
    `Content-Length: ${Buffer.byteLength(body)}\r\n` +
    "Connection: close\r\n\r\n" +
    body
  );
}

/**
 * Makes a Node HTTP server answer its parser's refusals (431, 400, 408) in the JSON envelope
 * instead of Node's empty bodies. Where Node cannot answer (the socket is gone, or a response
 * has started on it) the socket is only closed, as Node does.
 */
export function answerClientErrors(server: Server): void {
  server.on("clientError", (error: NodeJS.ErrnoException, socket: Duplex) => {
    const net = socket as Duplex & { bytesWritten?: number };
    if (error.code === "ECONNRESET" || !socket.writable || (net.bytesWritten ?? 0) > 0) {
      socket.destroy();
      return;
    }
    socket.end(clientErrorResponse(error.code));
  });
}
