import type { PostgresDatabase } from "@amp/records/postgres";
import type { Logger } from "pino";
import type { ServerConfig } from "../config/schema.js";
import type { Component } from "../lifecycle/component.js";
import { connectDatabase } from "./shared-records.js";

/**
 * The node's PostgreSQL database with --database-url (none without): opened first and closed
 * last, so the apps engine and the records (secrets, signing keys, auth) share its one pool and
 * one LISTEN connection.
 */
export class DatabaseComponent implements Component {
  readonly name = "database";
  #database: PostgresDatabase | undefined;

  constructor(
    private readonly config: ServerConfig,
    private readonly logger: Logger,
  ) {}

  /** The open database; undefined without --database-url (LMDB under --database-dir). */
  get database(): PostgresDatabase | undefined {
    return this.#database;
  }

  async start(): Promise<void> {
    if (this.config.databaseUrl) this.#database = await connectDatabase(this.config.databaseUrl, this.logger);
  }

  async stop(): Promise<void> {
    await this.#database?.close();
    this.#database = undefined;
  }
}
