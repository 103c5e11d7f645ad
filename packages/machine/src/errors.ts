/** Stable codes for every way a machine operation can fail. */
export type MachineErrorCode =
  /** The operation is not allowed in the machine's current state. */
  | "illegal_state"
  /** The bytes are not a valid WebAssembly module. */
  | "bad_wasm"
  /** The module is valid Wasm but not a Groovebox build / not compiled Mix app code. */
  | "not_groovebox"
  /** The app needs a newer Groovebox build than the loaded one. */
  | "build_too_new"
  /** A codeID that was never sent, or sent twice. */
  | "unknown_code"
  /** The VM has no entry with this tag (or the native module no such function). */
  | "no_such_entry"
  /** Arguments that cannot cross the boundary (not a Mix value, too large, wrong envelope). */
  | "bad_args"
  /** Bad options or init environment. */
  | "bad_options"
  /** The VM's memory grew past the configured limit; the VM was ended. */
  | "memory_limit"
  /** The VM ran past the hard wall-clock limit without yielding; it was ended. */
  | "timeout"
  /** The VM trapped (a WebAssembly runtime error); it was ended. */
  | "vm_trap"
  /** The worker thread hosting the VM died (another VM on it ran away); the VM is gone. */
  | "worker_lost"
  /** The machine was destroyed. */
  | "destroyed";

/** Thrown (or used to reject) by every Machine operation; never a bare Error. */
export class MachineError extends Error {
  override readonly name = "MachineError";
  constructor(
    readonly code: MachineErrorCode,
    message: string,
  ) {
    super(message);
  }
}

/** Turns anything thrown into a MachineError, keeping a MachineError as is. */
export function asMachineError(e: unknown, code: MachineErrorCode): MachineError {
  if (e instanceof MachineError) return e;
  return new MachineError(code, e instanceof Error ? e.message : String(e));
}
