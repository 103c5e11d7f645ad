/** What the API answered instead of what was asked: its status and `{error: {code, message}}`. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = "ApiError";
  }

  /** The API's envelope, or a generic one for an answer without it (a proxy's 502, a network error). */
  static from(status: number, body: unknown): ApiError {
    const error = (body as { error?: { code?: unknown; message?: unknown } } | undefined)?.error;
    if (typeof error?.code === "string" && typeof error.message === "string")
      return new ApiError(status, error.code, error.message);
    return new ApiError(status, "http_error", `the server answered ${status}`);
  }
}

/** A line and column the API named in a message ("… at line 2, column 3 …"). */
export function errorPlace(message: string): { line: number; column: number } | undefined {
  const found = /at line (\d+), column (\d+)/.exec(message);
  return found ? { line: Number(found[1]), column: Number(found[2]) } : undefined;
}

export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
