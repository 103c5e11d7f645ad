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
  set(vmID: string, userId: string): void {
    this.#owners.set(vmID, userId);
  }
  delete(vmID: string): void {
    this.#owners.delete(vmID);
  }
  get(vmID: string): string | undefined {
    return this.#owners.get(vmID);
  }
}
