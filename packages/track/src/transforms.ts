import type { Role } from "@amp/apps";
import type { AmpUser } from "@amp/auth";
import { isMixMap, type MixMap, type MixValue } from "@amp/codec";
import type { Logger } from "pino";
import { errorMessage, TrackError } from "./errors.js";
import { clientJson } from "./protocol/values.js";
import type { SessionManager } from "./session/manager.js";
import type { Session } from "./session/session.js";

export type TransformKind = "webhook" | "agent" | "lambda";

/** The role each transform needs on the app. */
export const TRANSFORM_ROLES: Record<TransformKind, Role> = {
  webhook: "allowed_run",
  lambda: "allowed_run",
  agent: "allowed_agents",
};

export interface TransformRequest {
  user: AmpUser;
  token: string;
  app: string;
  /** The module to load (for webhooks: the webhook id). */
  module: string;
  /** The HTTP request as the module sees it: `{method, path, query, headers, body}`. */
  input: MixMap;
}

export interface TransformResult {
  status: number;
  headers: Record<string, string>;
  /** JSON-able (tagged JSON) or text. */
  body: unknown;
}

export interface TransformsOptions {
  sessions: SessionManager;
  logger: Logger;
  /** Idle agent sessions kept warm per (app, module, user). Default 4. */
  warmAgents?: number;
}

/**
 * Webhooks, agents and lambdas: a session loads the module with the request as its input
 * (`load [module, [{request}, {type}]]`), and the module's `$response` cell (a map
 * `{status?, headers?, body}`) becomes the HTTP answer; without one, the cells are returned.
 * Webhook and lambda sessions are destroyed after the call; agent sessions are kept warm.
 */
export class Transforms {
  readonly #idle = new Map<string, Session[]>();

  constructor(private readonly options: TransformsOptions) {}

  async run(kind: TransformKind, req: TransformRequest): Promise<TransformResult> {
    const { sessions } = this.options;
    const key = `${req.app}\u0000${req.module}\u0000${req.user.id}`;
    let session = kind === "agent" ? this.takeIdle(key) : undefined;
    if (!session) {
      ({ session } = await sessions.create({
        user: req.user,
        token: req.token,
        app: req.app,
        role: TRANSFORM_ROLES[kind],
        isAgent: kind === "agent",
      }));
    }
    let keep = false;
    try {
      const interaction = await session.enter("load", [req.module, [{ request: req.input }, { type: kind }]]);
      const panic = interaction.panics[0];
      if (panic) throw new TrackError("Track-panic", panic.message);
      if (interaction.timedOut) throw new TrackError("Track-executionTimedOut", "execution timed out");
      keep = kind === "agent";
      const response = interaction.cells.filter((c) => c.name === "$response").at(-1);
      if (response) return httpAnswer(response.value);
      return {
        status: 200,
        headers: { "content-type": "application/json" },
        body: {
          cells: interaction.cells.map((c) => ({
            name: c.name,
            version: c.version,
            value: clientJson(c.value),
          })),
        },
      };
    } catch (e) {
      if (e instanceof TrackError) throw e;
      throw new TrackError("Track-machine", errorMessage(e));
    } finally {
      if (keep && !session.destroyed) this.putIdle(key, session);
      else await sessions.destroy(session.id);
    }
  }

  /** Destroys the warm agent sessions. */
  async close(): Promise<void> {
    const all = [...this.#idle.values()].flat();
    this.#idle.clear();
    await Promise.all(all.map((s) => this.options.sessions.destroy(s.id)));
  }

  private takeIdle(key: string): Session | undefined {
    const list = this.#idle.get(key);
    while (list && list.length > 0) {
      const s = list.pop()!;
      if (!s.destroyed) return s;
    }
    return undefined;
  }

  private putIdle(key: string, session: Session): void {
    const list = this.#idle.get(key) ?? [];
    if (list.length >= (this.options.warmAgents ?? 4)) {
      void this.options.sessions.destroy(session.id);
      return;
    }
    list.push(session);
    this.#idle.set(key, list);
  }
}

function httpAnswer(value: MixValue): TransformResult {
  if (!isMixMap(value) || !("body" in value || "status" in value)) {
    return { status: 200, headers: { "content-type": "application/json" }, body: clientJson(value) };
  }
  const status =
    typeof value.status === "number" && value.status >= 200 && value.status <= 599 ? value.status : 200;
  const headers: Record<string, string> = {};
  if (isMixMap(value.headers)) {
    for (const [k, v] of Object.entries(value.headers)) {
      if (typeof v === "string" && /^[A-Za-z0-9-]{1,100}$/.test(k) && !/[\r\n]/.test(v))
        headers[k.toLowerCase()] = v;
    }
  }
  if (typeof value.body === "string") {
    headers["content-type"] ??= "text/plain; charset=utf-8";
    return { status, headers, body: value.body };
  }
  headers["content-type"] ??= "application/json";
  return { status, headers, body: clientJson(value.body ?? null) };
}
