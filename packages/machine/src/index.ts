export { MachineError, type MachineErrorCode } from "./errors.js";
export { MACHINE_FFIS, standardHooks } from "./ffi/hooks.js";
export { type FfiContext, type FfiHandler, FfiRegistry } from "./ffi/registry.js";
export { GrooveboxMachine } from "./groovebox/machine.js";
export {
  type AppCode,
  DEFAULT_GROOVEBOX_BUILD,
  type GrooveboxMachineOptions,
  GrooveboxPool,
  type GrooveboxPoolOptions,
  type PoolStats,
  type WarmOptions,
} from "./groovebox/pool.js";
export type { WorkerMemory } from "./groovebox/protocol.js";
export { initEnvValue } from "./init-env.js";
export {
  FfiAbortError,
  type NativeContext,
  type NativeEntry,
  NativeMachine,
  type NativeMachineOptions,
  type NativeModule,
} from "./native/machine.js";
export type {
  Cell,
  FfiCall,
  InitEnv,
  Interaction,
  LogMessage,
  Machine,
  MachineEvents,
  MachineOptions,
  MachineState,
  MachineUser,
  PanicInfo,
} from "./types.js";
