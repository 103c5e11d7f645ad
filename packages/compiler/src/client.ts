import {
  BrokerError,
  decodeMessage,
  type MessageBus,
  publishMessage,
  type RemixMessage,
  Requester,
  type Unsubscribe,
} from "@amp/broker";
import type { Logger } from "pino";
import type { CompileOptions, Compiler } from "./compiler.js";
import { CompilerError } from "./errors.js";
import {
  type Announcement,
  announcementSchema,
  type CompileRequest,
  type CompileResult,
  compileReplySchema,
  compileRequestSchema,
  contentHash,
  DEFAULT_PREFIX,
  errorReplySchema,
  messageTypes,
  topics,
} from "./protocol.js";

export interface CompilerClientOptions {
  /** The broker to reach compilers through: the in-process `Broker` or a `BrokerClient`. */
  bus: MessageBus;
  /** Topic prefix shared with the compilers (default `/amp/compiler`). */
  prefix?: string;
  /** Where replies come back; default `<prefix>/replies/<bus.clientId>`. */
  inbox?: string;
  /** Default per-request timeout (60 s). */
  timeoutMs?: number;
  logger?: Logger;
}

interface Instance {
  announcement: Announcement;
  seenAt: number;
  outstanding: number;
}

/**
 * The compiler bridge: keeps track of the compiler instances that announce themselves, sends each
 * request to the least busy one (round robin among equals), and turns replies into results.
 */
export class CompilerClient implements Compiler {
  readonly #bus: MessageBus;
  readonly #prefix: string;
  readonly #timeoutMs: number;
  readonly #log: Logger | undefined;
  readonly #requester: Requester;
  readonly #instances = new Map<string, Instance>();
  #next = 0;
  #unsubscribe: Unsubscribe | undefined;

  private constructor(options: CompilerClientOptions) {
    this.#bus = options.bus;
    this.#prefix = options.prefix ?? DEFAULT_PREFIX;
    this.#timeoutMs = options.timeoutMs ?? 60_000;
    this.#log = options.logger;
    this.#requester = new Requester(
      options.bus,
      options.inbox ?? `${this.#prefix}/replies/${options.bus.clientId}`,
      {
        logger: options.logger,
      },
    );
  }

  /** Starts listening for compiler announcements. */
  static async start(options: CompilerClientOptions): Promise<CompilerClient> {
    const client = new CompilerClient(options);
    client.#unsubscribe = await options.bus.subscribe(
      topics.announcements(client.#prefix),
      (topic, payload) => client.#onAnnouncement(topic, payload),
      { qos: 1 },
    );
    return client;
  }

  #onAnnouncement(topic: string, payload: Buffer): void {
    const id = topic.slice(topic.lastIndexOf("/") + 1);
    if (payload.length === 0) {
      this.#instances.delete(id); // cleared: the instance stopped
      return;
    }
    let announcement: Announcement;
    try {
      const message = decodeMessage(payload);
      announcement = announcementSchema.parse(message.body);
    } catch (error) {
      this.#log?.warn({ topic, err: (error as Error).message }, "ignoring a malformed compiler announcement");
      return;
    }
    if (announcement.id !== id) return;
    const known = this.#instances.get(id);
    this.#instances.set(id, { announcement, seenAt: Date.now(), outstanding: known?.outstanding ?? 0 });
  }

  /** The instances currently announced and fresh. */
  get instances(): string[] {
    return this.#live().map(([id]) => id);
  }

  #live(): Array<[string, Instance]> {
    const now = Date.now();
    return [...this.#instances].filter(([, i]) => now - i.seenAt <= 3 * i.announcement.heartbeatMs);
  }

  #choose(): [string, Instance] {
    const live = this.#live();
    if (live.length === 0)
      throw new CompilerError(
        "COMPILER_UNAVAILABLE",
        "compiler unavailable: no compiler has announced itself",
      );
    const least = Math.min(...live.map(([, i]) => i.outstanding));
    const candidates = live.filter(([, i]) => i.outstanding === least);
    return candidates[this.#next++ % candidates.length]!;
  }

  async compile(request: CompileRequest, options: CompileOptions = {}): Promise<CompileResult> {
    const parsed = compileRequestSchema.safeParse(request);
    if (!parsed.success) throw new CompilerError("COMPILER_BAD_REQUEST", parsed.error.message);
    if (options.signal?.aborted) throw new CompilerError("COMPILER_CANCELLED", "compile cancelled");
    const [id, instance] = this.#choose();
    const correlationId = crypto.randomUUID();
    const onAbort = () => {
      const cancel = { type: messageTypes.cancel, encoding: "json" as const, body: { correlationId } };
      // best effort: the caller has stopped waiting either way
      publishMessage(this.#bus, topics.cancel(this.#prefix, id), cancel, { qos: 1 }).catch(() => {});
    };
    options.signal?.addEventListener("abort", onAbort, { once: true });
    instance.outstanding++;
    let reply: RemixMessage;
    try {
      reply = await this.#requester.request(
        topics.request(this.#prefix, id),
        { type: messageTypes.build, encoding: "json", body: parsed.data as never },
        { timeoutMs: options.timeoutMs ?? this.#timeoutMs, signal: options.signal, correlationId, qos: 1 },
      );
    } catch (error) {
      if (error instanceof BrokerError && error.code === "BROKER_TIMEOUT") {
        throw new CompilerError("COMPILER_TIMEOUT", `compiler ${id} did not answer in time`);
      }
      if (error instanceof BrokerError && error.code === "BROKER_CANCELLED") {
        throw new CompilerError("COMPILER_CANCELLED", "compile cancelled");
      }
      throw error;
    } finally {
      instance.outstanding--;
      options.signal?.removeEventListener("abort", onAbort);
    }
    return toResult(reply);
  }

  async close(): Promise<void> {
    await this.#requester.close();
    await this.#unsubscribe?.();
  }
}

/** Validates a reply and checks each artifact against its content hash. */
export function toResult(reply: RemixMessage): CompileResult {
  if (reply.encoding !== "json")
    throw new CompilerError("COMPILER_BAD_REPLY", `reply has ${reply.encoding} encoding`);
  if (reply.type === messageTypes.error) {
    const parsed = errorReplySchema.safeParse(reply.body);
    if (!parsed.success) throw new CompilerError("COMPILER_BAD_REPLY", "malformed error reply");
    const { code, message } = parsed.data.error;
    const known =
      code === "COMPILER_UNAVAILABLE" || code === "COMPILER_BAD_REQUEST" ? code : "COMPILER_FAILED";
    throw new CompilerError(known, message);
  }
  const parsed = compileReplySchema.safeParse(reply.body);
  if (reply.type !== messageTypes.result || !parsed.success) {
    throw new CompilerError(
      "COMPILER_BAD_REPLY",
      parsed.success ? `unexpected ${reply.type}` : parsed.error.message,
    );
  }
  const artifacts = parsed.data.artifacts.map((a) => {
    const bytes = new Uint8Array(Buffer.from(a.data, "base64"));
    if (contentHash(bytes) !== a.sha256) {
      throw new CompilerError("COMPILER_BAD_REPLY", `artifact ${a.name} does not match its content hash`);
    }
    return { name: a.name, bytes, sha256: a.sha256 };
  });
  return { ...parsed.data, artifacts };
}
