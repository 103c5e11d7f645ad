/** The error envelope and typed JSON bodies, as every package's HTTP tests read them. */
export { type ErrorBody, errorCode, jsonBody } from "@amp/test-support";

/** The parts of `/x/openapi.json` the tests read. */
export interface OpenApiDocument {
  openapi: string;
  servers: Array<{ url: string }>;
  paths: Record<string, Record<string, { parameters: unknown[] }>>;
  components: { schemas: Record<string, { required?: string[] }> };
}

/** A V8 CPU profile, as `/x/debug/profile` answers it (times in microseconds). */
export interface CpuProfile {
  nodes: unknown[];
  startTime: number;
  endTime: number;
}

/** A V8 heap snapshot, as `/x/debug/heap` answers it. */
export interface HeapSnapshot {
  snapshot: { meta: { node_fields: string[] } };
  nodes: number[];
}
