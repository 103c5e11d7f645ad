import type { Hono, MiddlewareHandler } from "hono";
import type { Logger } from "pino";
import type { Registry } from "prom-client";
import type { ServerConfig } from "../config/schema.js";

/** A Hono app (an OpenAPIHono to appear in /x/openapi.json) mounted at `path`. */
export interface RouteMount {
  /** Mount point, e.g. "/" or "/x/apps". */
  readonly path: string;
  // Sub-apps declare their own Env (e.g. typed Variables from auth middleware) and route
  // schema; Hono's generics are invariant, so any instantiation must be accepted here.
  // biome-ignore lint/suspicious/noExplicitAny: see above
  readonly app: Hono<any, any, any>;
}

export interface ComponentContext {
  readonly config: ServerConfig;
  /** A child of the server's logger, tagged with the component's name. */
  readonly logger: Logger;
  /** The public URL: config.baseURL, or http://localhost:<bound port>. */
  readonly baseURL: string;
  readonly addresses: ServerAddresses;
  /** The server's Prometheus registry (served at /metrics): register component metrics here. */
  readonly metrics: Registry;
}

export interface ListenAddress {
  readonly host: string;
  readonly port: number;
}

export interface ServerAddresses {
  readonly http: ListenAddress;
  readonly admin: ListenAddress;
}

/**
 * One part of the server (a database, the broker, the session manager...). The ports bind
 * first; then the components start in the order given, each with the real addresses and base
 * URL, and open what they need; then their middleware and routes are mounted and the server
 * reports ready (until then every route but health answers 503). They stop in reverse order
 * after in-flight requests have drained. This is the only lifecycle: nothing opens earlier.
 */
export interface Component {
  readonly name: string;
  start?(context: ComponentContext): Promise<void>;
  stop?(): Promise<void>;
  /** Public-port middleware run before every component's routes (e.g. authentication); read after start. */
  readonly middleware?: readonly MiddlewareHandler[];
  /** Routes on the public port; read after start. */
  readonly routes?: readonly RouteMount[];
  /** Routes on the admin port (loopback by default); read after start. */
  readonly adminRoutes?: readonly RouteMount[];
}
