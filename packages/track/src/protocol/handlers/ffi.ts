import { TrackError } from "../../errors.js";
import type { Handler } from "../context.js";

/**
 * `msg_ffi_return|error|later`: Remix's runtime answers FFIs it runs in the browser with these.
 * amp answers every FFI on the server (the VM never asks the client), so they are refused.
 */
export const refuseClientFfi: Handler<"msg_ffi_return" | "msg_ffi_error" | "msg_ffi_later"> = (m) => {
  throw new TrackError(
    "Track-unsupported",
    `${m._rmx_type}: amp answers every FFI on the server; client-side FFIs are not supported`,
  );
};
