import type { AmpUser } from "@amp/auth";

/** Checks a token and names its user (`@amp/auth`'s verifier fits). Rejects for a bad token. */
export interface TokenVerifier {
  verify(token: string): Promise<AmpUser>;
}

/** A role on an app, as `@amp/apps` grants them. */
export type AppRole = "read" | "run" | "build" | "admin";

/** Answers whether a user holds a role on an app (`@amp/apps`' role registry fits). */
export interface AppRoles {
  can(user: AmpUser, app: string, role: AppRole): boolean | Promise<boolean>;
}

/**
 * Who owns each running VM: the server sets the session owner when it creates a VM
 * (`vmOwners.set(vmID, userId)`) and deletes it when the VM goes. Only that user (and the
 * server) may use the VM's topics. Local to one process: in a cluster each process registers
 * the VMs it runs, and a client must connect to the process that owns its VM.
 */
export class VmOwners {
  readonly #owners = new Map<string, string>();
  readonly #onDelete: Array<(vmID: string) => void> = [];
  set(vmID: string, userId: string): void {
    this.#owners.set(vmID, userId);
  }
  /** The grant ends: the broker also drops the subscriptions made under it. */
  delete(vmID: string): void {
    if (!this.#owners.delete(vmID)) return;
    for (const listener of this.#onDelete) listener(vmID);
  }
  /** Calls `listener` with each id whose grant ends. */
  onDelete(listener: (vmID: string) => void): void {
    this.#onDelete.push(listener);
  }
  get(vmID: string): string | undefined {
    return this.#owners.get(vmID);
  }
}
