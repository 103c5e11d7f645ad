import { randomBytes } from "node:crypto";
import type { Role } from "@amp/apps";
import type { AmpUser } from "@amp/auth";
import { isMixMap, type MixMap, type MixValue } from "@amp/codec";
import type { Logger } from "pino";
import { EXECUTION_TIMED_OUT, errorMessage, TrackError } from "./errors.js";
import type { TrackApps } from "./ports.js";
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
  /** The module to load (for webhooks: the module the webhook id is registered to). */
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

/** An agent that ran and the sessions kept warm for its next call. */
export interface WarmAgent {
  app: string;
  module: string;
  user: string;
  sessions: string[];
}

export interface TransformsOptions {
  sessions: SessionManager;
  /** The app registry: where each app's webhook ids are kept. */
  apps: TrackApps;
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
  /** The apps' webhook ids (`/{app}/webhooks/{id}` → module). */
  readonly webhooks: WebhookRegistry;

  constructor(private readonly options: TransformsOptions) {
    this.webhooks = new WebhookRegistry(options.apps);
  }

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
      if (interaction.timedOut) throw new TrackError("Track-executionTimedOut", EXECUTION_TIMED_OUT);
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

  /** The agents that ran, per (app, module, user), with the ids of their warm sessions. */
  warmAgents(): WarmAgent[] {
    return [...this.#idle].map(([key, list]) => {
      const [app = "", module = "", user = ""] = key.split("\u0000");
      return { app, module, user, sessions: list.filter((s) => !s.destroyed).map((s) => s.id) };
    });
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

/** One registered webhook of an app: `/{app}/webhooks/{id}` runs `module`. */
export interface Webhook {
  readonly id: string;
  readonly module: string;
  readonly description?: string;
  readonly createdAt: string;
  readonly createdBy: string;
}

/** Where the registry lives in the app's store: metadata, so it needs `allowed_build` to change and is not a document. */
const WEBHOOKS_META = "track:webhooks";
export const WEBHOOK_ID = /^[A-Za-z0-9_-]{1,128}$/;
export const MODULE_NAME = /^[A-Za-z0-9_.$-]{1,200}$/;

/**
 * The webhooks an app has registered, kept with the app (its store's metadata). Managing them
 * needs `allowed_build` on the app; calling one needs the webhook role (`allowed_run`). An id is
 * 22 random base62 characters (about 131 bits) unless the builder chooses one.
 */
export class WebhookRegistry {
  #writes = new Map<string, Promise<unknown>>();

  constructor(private readonly apps: TrackApps) {}

  async list(user: AmpUser, app: string): Promise<Webhook[]> {
    return Object.values(await this.read(user, app, ["allowed_build"]));
  }

  /** The webhook `id` of `app`, for a caller holding the webhook role; `Track-noWebhook` when unknown. */
  async resolve(user: AmpUser, app: string, id: string): Promise<Webhook> {
    if (!this.apps.can(user, app, TRANSFORM_ROLES.webhook))
      throw new TrackError("Track-noApp", "no such app");
    const hooks = await this.read(user, app, [TRANSFORM_ROLES.webhook]);
    const hook = WEBHOOK_ID.test(id) && Object.hasOwn(hooks, id) ? hooks[id] : undefined;
    if (!hook) throw new TrackError("Track-noWebhook", "no such webhook");
    return hook;
  }

  async register(
    user: AmpUser,
    app: string,
    spec: { module: string; id?: string; description?: string },
  ): Promise<Webhook> {
    if (!MODULE_NAME.test(spec.module)) throw new TrackError("Track-badMessage", "bad module name");
    if (spec.id !== undefined && !WEBHOOK_ID.test(spec.id))
      throw new TrackError("Track-badMessage", "a webhook id is 1-128 letters, digits, '_' or '-'");
    return this.change(user, app, (hooks) => {
      const id = spec.id ?? randomId();
      if (Object.hasOwn(hooks, id)) throw new TrackError("Track-conflict", `webhook ${id} exists`);
      const hook: Webhook = {
        id,
        module: spec.module,
        ...(spec.description ? { description: spec.description } : {}),
        createdAt: new Date().toISOString(),
        createdBy: user.id,
      };
      return [{ ...hooks, [id]: hook }, hook];
    });
  }

  async remove(user: AmpUser, app: string, id: string): Promise<void> {
    await this.change(user, app, (hooks) => {
      if (!Object.hasOwn(hooks, id)) throw new TrackError("Track-noWebhook", "no such webhook");
      const { [id]: _gone, ...rest } = hooks;
      return [rest, undefined];
    });
  }

  private async read(user: AmpUser, app: string, roles: Role[]): Promise<Record<string, Webhook>> {
    const store = await this.storeOf(user, app, roles);
    return { ...((await store.getMeta<Record<string, Webhook>>(WEBHOOKS_META)) ?? {}) };
  }

  private async storeOf(user: AmpUser, app: string, roles: Role[]) {
    try {
      return await this.apps.store(user, app, roles);
    } catch (e) {
      const code = (e as { code?: string }).code;
      if (code === "forbidden")
        throw new TrackError("Track-forbidden", "you may not manage this app's webhooks");
      if (code === "not_found" || code === "invalid_name") throw new TrackError("Track-noApp", "no such app");
      throw e;
    }
  }

  /** Read-modify-write of one app's registry, one at a time per app. */
  private async change<T>(
    user: AmpUser,
    app: string,
    edit: (hooks: Record<string, Webhook>) => [Record<string, Webhook>, T],
  ): Promise<T> {
    const store = await this.storeOf(user, app, ["allowed_build"]);
    const previous = this.#writes.get(app) ?? Promise.resolve();
    const run = previous
      .catch(() => undefined)
      .then(async () => {
        const [next, result] = edit({
          ...((await store.getMeta<Record<string, Webhook>>(WEBHOOKS_META)) ?? {}),
        });
        await store.setMeta(WEBHOOKS_META, next);
        return result;
      });
    this.#writes.set(app, run);
    try {
      return await run;
    } finally {
      if (this.#writes.get(app) === run) this.#writes.delete(app);
    }
  }
}

const BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/** 22 base62 characters from 22 random bytes (rejection-free: 248 = 62 × 4, bytes ≥ 248 redrawn). */
function randomId(): string {
  let out = "";
  while (out.length < 22) {
    for (const b of randomBytes(32)) {
      if (b < 248 && out.length < 22) out += BASE62[b % 62];
    }
  }
  return out;
}
