import type { MiddlewareHandler } from "hono";
import type { AdminAuthorizer } from "../admin/authorize.js";
import type { Component } from "../lifecycle/component.js";

/** What `composeAmp` hands to `createServer`: the parts, the auth middleware and the admin rule. */
export interface Composition {
  readonly components: readonly Component[];
  readonly middleware: readonly MiddlewareHandler[];
  readonly authorizeAdmin: AdminAuthorizer;
}
