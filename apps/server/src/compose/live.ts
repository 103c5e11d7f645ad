import { LiveFeed, logsTopic } from "@amp/broker";
import { LiveSessions } from "@amp/track";
import type { Logger } from "pino";
import { logsRoutes } from "../http/logs.js";
import type { Component, RouteMount } from "../lifecycle/component.js";
import { recentLogLines } from "../logging/recent-lines.js";
import type { MessagingComponent } from "./messaging.js";
import type { SessionsComponent } from "./sessions.js";

/**
 * The console's live views: the `$amp/…` feed on the embedded broker (sessions per user, the
 * broker's clients, log lines), each published only while someone watches, and the log backlog
 * (`GET /x/logs`). Started after the sessions, stopped before them.
 */
export class LiveComponent implements Component {
  readonly name = "live";
  #stop: (() => void) | undefined;

  constructor(
    private readonly logger: Logger,
    private readonly messaging: MessagingComponent,
    private readonly sessions: SessionsComponent,
  ) {}

  get routes(): readonly RouteMount[] {
    return [{ path: "/", app: logsRoutes(recentLogLines, this.logger.child({ component: "logs" })) }];
  }

  async start(): Promise<void> {
    const feed = new LiveFeed(this.messaging.broker, { node: this.sessions.nodeId });
    const sessions = new LiveSessions(this.sessions.manager, feed);
    const stopLogs = recentLogLines.onLine((line) => feed.publish(logsTopic(line.level), line));
    this.#stop = () => {
      stopLogs();
      sessions.close();
      feed.close();
    };
  }

  async stop(): Promise<void> {
    this.#stop?.();
  }
}
