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

/** POSTs `body` as JSON to a node (a process or an in-process server) and reads its JSON answer. */
export async function postJson<T = Record<string, unknown>>(
  node: { url(path: string): string },
  path: string,
  body: unknown,
  token?: string,
): Promise<{ status: number; body: T }> {
  const response = await fetch(node.url(path), {
    method: "POST",
    headers: { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json()) as T };
}
