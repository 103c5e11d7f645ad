import { createHash } from "node:crypto";
import { z } from "zod";

/**
 * The compiler protocol over MQTT. Under a prefix (default `/amp/compiler`):
 * - `<prefix>/instances/<id>`: each compiler's retained announcement, refreshed every heartbeat
 *   and cleared (empty retained payload) when it stops;
 * - `<prefix>/instances/<id>/request`: `msg_compile_build` requests, json body, with the reply
 *   topic and correlation id in the payload header;
 * - `<prefix>/instances/<id>/cancel`: `msg_compile_cancel` naming a correlation id.
 * Replies are `msg_compile_result` ({code, details, errors, artifacts}) or `msg_compile_error`.
 */
export const DEFAULT_PREFIX = "/amp/compiler";

export const topics = {
  announcements: (prefix: string) => `${prefix}/instances/+`,
  announcement: (prefix: string, id: string) => `${prefix}/instances/${id}`,
  request: (prefix: string, id: string) => `${prefix}/instances/${id}/request`,
  cancel: (prefix: string, id: string) => `${prefix}/instances/${id}/cancel`,
};

export const messageTypes = {
  build: "msg_compile_build",
  cancel: "msg_compile_cancel",
  result: "msg_compile_result",
  error: "msg_compile_error",
  announce: "msg_compiler_announce",
} as const;

/** Limits on what a request may carry. */
const MAX_SOURCE_CHARS = 4 * 1024 * 1024;
const MAX_SOURCES = 1000;
const name = z.string().min(1).max(256);

export const compileRequestSchema = z.object({
  /** The app being built. */
  app: name,
  /** The module to build (default: the app's entry). */
  module: name.optional(),
  /** Source language, for compilers that speak several. */
  language: z.string().max(64).optional(),
  sources: z
    .array(z.object({ name, text: z.string().max(MAX_SOURCE_CHARS) }))
    .min(1)
    .max(MAX_SOURCES),
  options: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])).optional(),
});
export type CompileRequest = z.infer<typeof compileRequestSchema>;

/** One diagnostic, in the shape Remix clients show (`errors[]` of a compile reply). */
export const compileDiagnosticSchema = z.object({
  code: z.string().max(256),
  message: z.string().max(64 * 1024),
  loc_file: z.string().max(1024).optional(),
  loc_start_line: z.number().int().nonnegative().optional(),
  loc_start_col: z.number().int().nonnegative().optional(),
  loc_end_line: z.number().int().nonnegative().optional(),
  loc_end_col: z.number().int().nonnegative().optional(),
  name_module: z.string().max(256).optional(),
});
export type CompileDiagnostic = z.infer<typeof compileDiagnosticSchema>;

const sha256Hex = z.string().regex(/^[0-9a-f]{64}$/);

/** The reply on the wire: artifacts travel base64-encoded with their SHA-256. */
export const compileReplySchema = z.object({
  /** 0 when the build succeeded. */
  code: z.number().int(),
  details: z.string().max(1024 * 1024),
  errors: z.array(compileDiagnosticSchema).max(10_000),
  warnings: z.array(compileDiagnosticSchema).max(10_000).default([]),
  artifacts: z.array(z.object({ name, sha256: sha256Hex, data: z.string() })).max(1000),
  /** The instance that answered. */
  instance: z.string().max(256),
});
export type CompileReply = z.infer<typeof compileReplySchema>;

export const errorReplySchema = z.object({
  error: z.object({ code: z.string().max(64), message: z.string().max(64 * 1024) }),
});

export const announcementSchema = z.object({
  id: name,
  languages: z.array(z.string().max(64)).max(100).default([]),
  /** Heartbeat period; an announcement older than three periods is stale. */
  heartbeatMs: z.number().int().positive(),
  at: z.number(),
});
export type Announcement = z.infer<typeof announcementSchema>;

export const cancelSchema = z.object({ correlationId: z.string().min(1).max(128) });

/** A compiled artifact: its bytes and their content hash (SHA-256, hex). */
export interface Artifact {
  readonly name: string;
  readonly bytes: Uint8Array;
  readonly sha256: string;
}

/** What a compile gives back. `code` 0 is success; errors carry locations. */
export interface CompileResult {
  readonly code: number;
  readonly details: string;
  readonly errors: readonly CompileDiagnostic[];
  readonly warnings: readonly CompileDiagnostic[];
  readonly artifacts: readonly Artifact[];
  readonly instance: string;
}

export function contentHash(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}
