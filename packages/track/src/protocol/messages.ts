import { z } from "@hono/zod-openapi";

/**
 * zod schemas of every track message a client may send. Values inside messages (view args,
 * input values, invoke args) are tagged JSON when the message's `*EscEnabled` flag is set and
 * plain JSON otherwise; they are validated for size and depth when converted, not here.
 */

const id = z.string().min(1).max(200);
const anyValue = z.unknown();

/** Fields every message may carry. */
const common = {
  _rmx_version: z.string().max(20).optional(),
  /** Echoed back (in `_rmx_echo`) on the response that ends the interaction. */
  _rmx_echo: z.string().max(200).optional(),
  /** Seconds after which the client wants an "execution timed out" answer. */
  timeout: z.number().positive().max(3600).optional(),
};

const withSession = { ...common, session: id };

const create = {
  ...common,
  searchExe: z.boolean().optional(),
  searchVariant: z.enum(["WASM", "BYTECODE"]).optional(),
  clientVars: z.record(z.string().max(100), anyValue).optional(),
  machine: z.string().max(200).optional(),
};

const module = z.string().min(1).max(500);

/** Compile messages: sources are `{name, text}` (`@amp/compiler` checks the sizes again). */
const source = z.object({ name: z.string().min(1).max(256), text: z.string().max(4 * 1024 * 1024) });
const compile = {
  ...common,
  session: id.optional(),
  module: z.string().min(1).max(256).optional(),
  language: z.string().max(64).optional(),
  options: z.record(z.string().max(100), z.union([z.string(), z.number(), z.boolean()])).optional(),
};

export const MESSAGE_SCHEMAS = {
  msg_session_create: z.object({ _rmx_type: z.literal("msg_session_create"), ...create }),
  msg_machine_create: z.object({ _rmx_type: z.literal("msg_machine_create"), ...create }),
  msg_session_destroy: z.object({ _rmx_type: z.literal("msg_session_destroy"), ...withSession }),
  msg_session_keepAlive: z.object({ _rmx_type: z.literal("msg_session_keepAlive"), ...withSession }),
  msg_session_list: z.object({ _rmx_type: z.literal("msg_session_list"), ...common }),

  msg_view_load: z.object({
    _rmx_type: z.literal("msg_view_load"),
    ...withSession,
    module,
    args: z.array(anyValue).max(16).optional(),
    argsEscEnabled: z.boolean().optional(),
  }),
  msg_view_push: z.object({
    _rmx_type: z.literal("msg_view_push"),
    ...withSession,
    module,
    args: z.array(anyValue).max(16).optional(),
    argsEscEnabled: z.boolean().optional(),
  }),
  msg_view_invoke: z.object({
    _rmx_type: z.literal("msg_view_invoke"),
    ...withSession,
    name: z.string().min(1).max(500),
    env: anyValue.optional(),
    arg: anyValue.optional(),
    argEscEnabled: z.boolean().optional(),
    nextActions: z.array(anyValue).max(1000).optional(),
    options: z.record(z.string(), anyValue).optional(),
  }),
  msg_view_input: z.object({
    _rmx_type: z.literal("msg_view_input"),
    ...withSession,
    name: z.string().min(1).max(500),
    value: anyValue.optional(),
    valueEscEnabled: z.boolean().optional(),
  }),
  msg_view_pop: z.object({ _rmx_type: z.literal("msg_view_pop"), ...withSession }),
  msg_view_reset: z.object({ _rmx_type: z.literal("msg_view_reset"), ...withSession }),
  msg_view_refresh: z.object({ _rmx_type: z.literal("msg_view_refresh"), ...withSession }),
  msg_view_poll: z.object({ _rmx_type: z.literal("msg_view_poll"), ...withSession }),

  msg_compile_build: z.object({
    _rmx_type: z.literal("msg_compile_build"),
    ...compile,
    sources: z.array(source).max(1000).optional(),
    modules: z.array(source).max(1000).optional(),
  }),
  msg_compile_phrases: z.object({
    _rmx_type: z.literal("msg_compile_phrases"),
    ...compile,
    phrases: z
      .array(z.union([z.string().max(4 * 1024 * 1024), source]))
      .max(1000)
      .optional(),
  }),
  msg_compile_modules: z.object({
    _rmx_type: z.literal("msg_compile_modules"),
    ...compile,
    modules: z.array(source).max(1000).optional(),
  }),

  msg_introspect_entries: z.object({ _rmx_type: z.literal("msg_introspect_entries"), ...withSession }),
  msg_introspect_state: z.object({ _rmx_type: z.literal("msg_introspect_state"), ...withSession }),
  msg_introspect_memstats: z.object({ _rmx_type: z.literal("msg_introspect_memstats"), ...withSession }),
  msg_introspect_loglevel: z.object({
    _rmx_type: z.literal("msg_introspect_loglevel"),
    ...withSession,
    level: z.enum(["trace", "debug", "info", "warn", "error", "silent"]).optional(),
  }),
  msg_introspect_debug: z.object({
    _rmx_type: z.literal("msg_introspect_debug"),
    ...withSession,
    command: anyValue.optional(),
  }),
  msg_introspect_spreadsheet: z.object({
    _rmx_type: z.literal("msg_introspect_spreadsheet"),
    ...withSession,
    filter: anyValue.optional(),
  }),

  msg_vm_configure: z.object({
    _rmx_type: z.literal("msg_vm_configure"),
    ...common,
    session: id.optional(),
    /** `{screen, params}`: load a screen once configured. */
    load: z.object({ screen: module, params: z.array(anyValue).max(16) }).optional(),
    config: z.record(z.string(), anyValue).optional(),
    clientVars: z.record(z.string().max(100), anyValue).optional(),
  }),
  msg_vm_logMask: z.object({
    _rmx_type: z.literal("msg_vm_logMask"),
    ...withSession,
    mask: z.number().int().min(0).max(0xffff_ffff).optional(),
  }),

  /** Answers to client-side FFIs; amp runs every FFI on the server, so these are refused. */
  msg_ffi_return: z.object({ _rmx_type: z.literal("msg_ffi_return"), ...common, session: id.optional() }),
  msg_ffi_error: z.object({ _rmx_type: z.literal("msg_ffi_error"), ...common, session: id.optional() }),
  msg_ffi_later: z.object({ _rmx_type: z.literal("msg_ffi_later"), ...common, session: id.optional() }),
} as const;

export type MessageType = keyof typeof MESSAGE_SCHEMAS;
export type TrackMessage = { [K in MessageType]: z.infer<(typeof MESSAGE_SCHEMAS)[K]> }[MessageType];
export type MessageOf<K extends MessageType> = z.infer<(typeof MESSAGE_SCHEMAS)[K]>;

export const MESSAGE_TYPES = Object.keys(MESSAGE_SCHEMAS) as MessageType[];

export function isMessageType(type: unknown): type is MessageType {
  return typeof type === "string" && Object.hasOwn(MESSAGE_SCHEMAS, type);
}

/** Any message: what a batch or the WebSocket accepts before dispatch on `_rmx_type`. */
export const AnyMessageSchema = z
  .object({ _rmx_type: z.string().max(100) })
  .passthrough()
  .openapi("TrackMessage");

/** Messages that address a session (and so must carry `session`). */
export function sessionOf(message: TrackMessage): string | undefined {
  return "session" in message ? message.session : undefined;
}
