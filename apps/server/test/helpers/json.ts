/** The `{error: {code, message}}` body every failing route answers. */
export interface ErrorBody {
  error: { code: string; message: string };
}

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

/** A response's JSON body as the shape the route documents; the tests then assert its content. */
export async function jsonBody<T>(res: Response): Promise<T> {
  return (await res.json()) as T;
}

/** The stable error code a failing route answers with. */
export async function errorCode(res: Response): Promise<string> {
  return (await jsonBody<ErrorBody>(res)).error.code;
}
