import type { FfiHandler } from "@amp/machine";

/** How amp answers an FFI that cannot make sense on a server. */
export interface RefusedFfi {
  /** `abort`: the call aborts with a message naming the FFI (the calling coroutine panics). */
  readonly answer: "abort";
  readonly reason: string;
}

/**
 * Every FFI named by Remix apps or the reference host that amp does not answer with a result, and
 * why. The README has the same table. `$extra_isFFI` answers false for these names.
 */
export const REFUSED_FFIS = {
  $binary_compress: {
    answer: "abort",
    reason: "not implemented by amp (the Go server does not answer it either)",
  },
  $binary_decompress: {
    answer: "abort",
    reason: "not implemented by amp (the Go server does not answer it either)",
  },
  $testing_controlRecording: {
    answer: "abort",
    reason:
      "a hook of Remix's test recorder; the reference host does not answer it either, and a server records no sessions",
  },
} as const satisfies Readonly<Record<string, RefusedFfi>>;

export type RefusedFfiName = keyof typeof REFUSED_FFIS;

/** Handlers that abort, each with a message naming the FFI and the reason. */
export function refusedFfis(
  table: Readonly<Record<string, RefusedFfi>> = REFUSED_FFIS,
): Record<string, FfiHandler> {
  return Object.fromEntries(
    Object.entries(table).map(([name, { reason }]) => [
      name,
      () => {
        throw new Error(`${name} is not supported by amp: ${reason}`);
      },
    ]),
  );
}
