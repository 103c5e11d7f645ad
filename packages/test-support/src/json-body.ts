// Every package's HTTP tests read the one error envelope and typed JSON bodies the same way.

/** The `{error: {code, message}}` body every failing route answers. */
export interface ErrorBody {
  error: { code: string; message: string };
}

/** A response's JSON body as the shape the route documents; the tests then assert its content. */
export async function jsonBody<T>(res: Response): Promise<T> {
  return (await res.json()) as T;
}

/** The stable error code a failing route answers with. */
export async function errorCode(res: Response): Promise<string> {
  return (await jsonBody<ErrorBody>(res)).error.code;
}
