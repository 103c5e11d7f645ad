import { lookup as dnsLookup, type LookupAddress } from "node:dns";
import { request as httpRequest, type IncomingHttpHeaders } from "node:http";
import { request as httpsRequest } from "node:https";
import { isIP, type LookupFunction } from "node:net";
import { TrackError } from "../errors.js";
import { isPrivateAddress } from "./addresses.js";

export interface OutboundOptions {
  /**
   * Hosts the VM may reach: exact names (`api.example.com`), subdomain patterns (`*.example.com`)
   * or `*` for any public host. Default `["*"]`.
   */
  allowedHosts?: readonly string[];
  /**
   * Hosts allowed to resolve to loopback or private addresses (e.g. `127.0.0.1`, `localhost`,
   * `*.internal`). Private, loopback and link-local addresses are denied for every other host,
   * checked on the resolved address at connect time (so DNS cannot smuggle one in).
   */
  privateHosts?: readonly string[];
  /** Whole-request deadline, redirects included. Default 10 s. */
  timeoutMs?: number;
  /** Largest response body; past it the request fails. Default 10 MiB. */
  maxResponseBytes?: number;
  /** Largest request body. Default 10 MiB. */
  maxRequestBytes?: number;
  /** Redirects followed, each re-checked against the rules. Default 5. */
  maxRedirects?: number;
}

export interface OutboundRequest {
  method?: string;
  url: string;
  headers?: Record<string, string>;
  body?: Uint8Array | string;
}

export interface OutboundResponse {
  status: number;
  headers: Record<string, string>;
  /** The URL that answered, after redirects. */
  url: string;
  body: Uint8Array;
}

const HOP_BY_HOP = new Set([
  "connection",
  "keep-alive",
  "proxy-authenticate",
  "proxy-authorization",
  "te",
  "trailer",
  "transfer-encoding",
  "upgrade",
  "host",
  "content-length",
]);

function hostMatches(patterns: readonly string[], host: string): boolean {
  const h = host.toLowerCase().replace(/^\[|\]$/g, "");
  return patterns.some((p) => {
    const pattern = p.toLowerCase();
    if (pattern === "*") return true;
    if (pattern.startsWith("*.")) return h.endsWith(pattern.slice(1)) && h.length > pattern.length - 1;
    return h === pattern;
  });
}

/**
 * Outbound HTTP for the VM (`$http_do`) and the proxy route: allowed hosts only, no private or
 * loopback addresses unless configured, a deadline, a response size cap, and redirects
 * followed by hand so that every hop is checked again.
 */
export class OutboundHttp {
  readonly #allowed: readonly string[];
  readonly #private: readonly string[];
  readonly timeoutMs: number;
  readonly maxResponseBytes: number;
  readonly maxRequestBytes: number;
  readonly #maxRedirects: number;

  constructor(options: OutboundOptions = {}) {
    this.#allowed = options.allowedHosts ?? ["*"];
    this.#private = options.privateHosts ?? [];
    this.timeoutMs = options.timeoutMs ?? 10_000;
    this.maxResponseBytes = options.maxResponseBytes ?? 10 * 1024 * 1024;
    this.maxRequestBytes = options.maxRequestBytes ?? 10 * 1024 * 1024;
    this.#maxRedirects = options.maxRedirects ?? 5;
  }

  /** Throws `Track-outboundDenied` unless the URL may be requested (before any DNS). */
  check(url: URL): void {
    if (url.protocol !== "http:" && url.protocol !== "https:") {
      throw new TrackError(
        "Track-outboundDenied",
        `outbound ${url.protocol} is not allowed (http and https only)`,
      );
    }
    if (url.username || url.password)
      throw new TrackError("Track-outboundDenied", "URLs with credentials are refused");
    const host = url.hostname.replace(/^\[|\]$/g, "");
    if (!hostMatches(this.#allowed, host) && !hostMatches(this.#private, host)) {
      throw new TrackError("Track-outboundDenied", `outbound HTTP to ${host} is not allowed`);
    }
    if (isIP(host) && isPrivateAddress(host) && !hostMatches(this.#private, host)) {
      throw new TrackError(
        "Track-outboundDenied",
        `outbound HTTP to the private address ${host} is not allowed`,
      );
    }
  }

  /**
   * A DNS lookup for connections to `host` that refuses loopback, private and link-local
   * addresses unless `host` is one of `privateHosts` (checked on the resolved addresses, so DNS
   * cannot smuggle one in). For any socket client that takes a `lookup` option (HTTP, WebSocket).
   */
  guardedLookup(host: string): LookupFunction {
    const allowPrivate = hostMatches(this.#private, host.replace(/^\[|\]$/g, ""));
    return (hostname, options, callback) => {
      dnsLookup(hostname, { ...options, all: true }, (err, addresses: LookupAddress[]) => {
        if (err) return callback(err, "", 4);
        const bad = addresses.find((a) => isPrivateAddress(a.address));
        if (bad && !allowPrivate) {
          return callback(
            new TrackError(
              "Track-outboundDenied",
              `${hostname} resolves to the private address ${bad.address}`,
            ),
            "",
            4,
          );
        }
        if ((options as { all?: boolean }).all)
          return (callback as unknown as (e: null, a: LookupAddress[]) => void)(null, addresses);
        const first = addresses[0]!;
        callback(null, first.address, first.family);
      });
    };
  }

  async request(req: OutboundRequest, signal?: AbortSignal): Promise<OutboundResponse> {
    let url = parseUrl(req.url);
    let method = (req.method ?? "GET").toUpperCase();
    if (!/^[A-Z]{1,16}$/.test(method)) throw new TrackError("Track-badMessage", `bad HTTP method ${method}`);
    let body = typeof req.body === "string" ? new TextEncoder().encode(req.body) : req.body;
    if (body && body.byteLength > this.maxRequestBytes) {
      throw new TrackError("Track-tooLarge", `request body over ${this.maxRequestBytes} bytes`);
    }
    let headers = cleanHeaders(req.headers);
    const deadline = AbortSignal.timeout(this.timeoutMs);
    const abort = signal ? AbortSignal.any([signal, deadline]) : deadline;
    for (let hop = 0; ; hop++) {
      this.check(url);
      const res = await this.once(url, method, headers, body, abort);
      const location = res.headers.location;
      if (res.status >= 300 && res.status < 400 && location && res.status !== 304) {
        if (hop >= this.#maxRedirects) throw new TrackError("Track-outboundFailed", "too many redirects");
        const next = parseUrl(new URL(location, url).toString());
        if (next.origin !== url.origin) {
          headers = Object.fromEntries(
            Object.entries(headers).filter(([k]) => k !== "authorization" && k !== "cookie"),
          );
        }
        if (res.status === 303 || ((res.status === 301 || res.status === 302) && method === "POST")) {
          method = "GET";
          body = undefined;
        }
        url = next;
        continue;
      }
      return { ...res, url: url.toString() };
    }
  }

  private once(
    url: URL,
    method: string,
    headers: Record<string, string>,
    body: Uint8Array | undefined,
    signal: AbortSignal,
  ): Promise<Omit<OutboundResponse, "url">> {
    const lookup = this.guardedLookup(url.hostname);
    const send = url.protocol === "https:" ? httpsRequest : httpRequest;
    return new Promise((resolve, reject) => {
      const req = send(url, { method, headers, lookup, signal }, (res) => {
        const declared = Number(res.headers["content-length"] ?? "0");
        if (declared > this.maxResponseBytes) {
          res.destroy();
          reject(new TrackError("Track-tooLarge", `response over ${this.maxResponseBytes} bytes`));
          return;
        }
        const parts: Buffer[] = [];
        let size = 0;
        res.on("data", (chunk: Buffer) => {
          size += chunk.byteLength;
          if (size > this.maxResponseBytes) {
            res.destroy();
            reject(new TrackError("Track-tooLarge", `response over ${this.maxResponseBytes} bytes`));
            return;
          }
          parts.push(chunk);
        });
        res.on("error", (e) => reject(outboundFailure(e)));
        res.on("end", () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: flatHeaders(res.headers),
            body: new Uint8Array(Buffer.concat(parts)),
          }),
        );
      });
      req.on("error", (e) => reject(outboundFailure(e)));
      if (body) req.end(body);
      else req.end();
    });
  }
}

function parseUrl(text: string): URL {
  try {
    return new URL(text);
  } catch {
    throw new TrackError("Track-outboundDenied", `not a URL: ${text.slice(0, 200)}`);
  }
}

function cleanHeaders(headers: Record<string, string> | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  let n = 0;
  for (const [k, v] of Object.entries(headers ?? {})) {
    const key = k.toLowerCase();
    if (HOP_BY_HOP.has(key) || typeof v !== "string") continue;
    if (++n > 100) throw new TrackError("Track-badMessage", "too many request headers");
    if (/[\r\n]/.test(v) || !/^[a-z0-9!#$%&'*+.^_`|~-]+$/.test(key)) {
      throw new TrackError("Track-badMessage", `bad request header ${key.slice(0, 100)}`);
    }
    out[key] = v;
  }
  return out;
}

function flatHeaders(headers: IncomingHttpHeaders): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers)) {
    if (v !== undefined) out[k] = Array.isArray(v) ? v.join(", ") : v;
  }
  return out;
}

function outboundFailure(e: unknown): Error {
  if (e instanceof TrackError) return e;
  const cause = (e as { cause?: unknown }).cause;
  if (cause instanceof TrackError) return cause;
  const name = (e as { name?: string }).name;
  if (name === "AbortError" || name === "TimeoutError") {
    return new TrackError("Track-outboundFailed", "outbound HTTP timed out");
  }
  return new TrackError("Track-outboundFailed", `outbound HTTP failed: ${(e as Error).message}`);
}
