import { randomUUID } from "node:crypto";
import {
  type MessageBus,
  type OutgoingMessage,
  publishMessage,
  serveRequests,
  subscribeMessages,
  type Unsubscribe,
} from "@amp/broker";
import type { Logger } from "pino";
import { CompilerError } from "./errors.js";
import {
  type CompileDiagnostic,
  type CompileReply,
  type CompileRequest,
  cancelSchema,
  compileRequestSchema,
  contentHash,
  DEFAULT_PREFIX,
  messageTypes,
  topics,
} from "./protocol.js";

/** What a compiler hands back; the harness hashes and encodes the artifacts. */
export interface CompileOutput {
  code: number;
  details: string;
  errors?: CompileDiagnostic[];
  warnings?: CompileDiagnostic[];
  artifacts?: Array<{ name: string; bytes: Uint8Array }>;
}

/** A compiler: throw `CompilerError` for a refusal (e.g. `COMPILER_UNAVAILABLE`); `signal` aborts on cancel. */
export type CompileHandler = (
  request: CompileRequest,
  context: { signal: AbortSignal },
) => Promise<CompileOutput>;

export interface ServeCompilerOptions {
  prefix?: string;
  /** Default `compiler-<random>`. */
  instanceId?: string;
  languages?: string[];
  /** How often the announcement is refreshed (default 10 s); clients drop it after three periods. */
  heartbeatMs?: number;
  logger?: Logger;
}

export interface CompilerService {
  readonly instanceId: string;
  /** Requests answered so far. */
  readonly served: number;
  /** Withdraws the announcement and stops answering. */
  close(): Promise<void>;
}

const errorReply = (code: string, message: string): OutgoingMessage => ({
  type: messageTypes.error,
  encoding: "json",
  body: { error: { code, message } },
});

/**
 * The harness a compiler process runs: announces the instance, answers `msg_compile_build`
 * requests with `handler` (validated in, hashed artifacts out) and honours cancellation.
 */
export async function serveCompiler(
  handler: CompileHandler,
  bus: MessageBus,
  options: ServeCompilerOptions = {},
): Promise<CompilerService> {
  const prefix = options.prefix ?? DEFAULT_PREFIX;
  const instanceId = options.instanceId ?? `compiler-${randomUUID()}`;
  const heartbeatMs = options.heartbeatMs ?? 10_000;
  const log = options.logger?.child({ component: "compiler-service", instanceId });
  const running = new Map<string, AbortController>();
  let served = 0;

  const stopCancels: Unsubscribe = await subscribeMessages(
    bus,
    topics.cancel(prefix, instanceId),
    (_topic, message) => {
      const parsed = cancelSchema.safeParse(message.body);
      if (parsed.success) running.get(parsed.data.correlationId)?.abort();
    },
    { qos: 1, logger: log, keepEchoes: true },
  );

  const stopRequests = await serveRequests(
    bus,
    topics.request(prefix, instanceId),
    async (request) => {
      served++;
      if (request.type !== messageTypes.build || request.encoding !== "json") {
        return errorReply("COMPILER_BAD_REQUEST", `expected a json ${messageTypes.build}`);
      }
      const parsed = compileRequestSchema.safeParse(request.body);
      if (!parsed.success) return errorReply("COMPILER_BAD_REQUEST", parsed.error.message);
      const controller = new AbortController();
      const id = request.correlationId!;
      running.set(id, controller);
      try {
        const output = await handler(parsed.data, { signal: controller.signal });
        const reply: CompileReply = {
          code: output.code,
          details: output.details,
          errors: output.errors ?? [],
          warnings: output.warnings ?? [],
          artifacts: (output.artifacts ?? []).map((a) => ({
            name: a.name,
            sha256: contentHash(a.bytes),
            data: Buffer.from(a.bytes).toString("base64"),
          })),
          instance: instanceId,
        };
        return { type: messageTypes.result, encoding: "json", body: reply as never };
      } catch (error) {
        if (error instanceof CompilerError) return errorReply(error.code, error.message);
        log?.error({ err: (error as Error).message }, "compiler handler failed");
        return errorReply("COMPILER_FAILED", `internal compiler error: ${(error as Error).message}`);
      } finally {
        running.delete(id);
      }
    },
    { logger: log },
  );

  const announce = () =>
    publishMessage(
      bus,
      topics.announcement(prefix, instanceId),
      {
        type: messageTypes.announce,
        encoding: "json",
        body: { id: instanceId, languages: options.languages ?? [], heartbeatMs, at: Date.now() },
      },
      { qos: 1, retain: true },
    );
  await announce();
  const heartbeat = setInterval(() => {
    announce().catch((error: Error) => log?.warn({ err: error.message }, "announcement failed"));
  }, heartbeatMs);
  heartbeat.unref();

  return {
    instanceId,
    get served() {
      return served;
    },
    async close() {
      clearInterval(heartbeat);
      for (const controller of running.values()) controller.abort();
      await bus.publish(topics.announcement(prefix, instanceId), new Uint8Array(), { qos: 1, retain: true });
      await stopRequests();
      await stopCancels();
    },
  };
}
