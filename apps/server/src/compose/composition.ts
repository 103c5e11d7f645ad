import type { AdminAuthorizer } from "../admin/authorize.js";
import type { Component } from "../lifecycle/component.js";

/** What `composeAmp` hands to `createServer`: the parts, in start order, and the admin rule. */
export interface Composition {
  readonly components: readonly Component[];
  readonly authorizeAdmin: AdminAuthorizer;
}
