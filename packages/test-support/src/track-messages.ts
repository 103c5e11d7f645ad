// The create → load → tap sequence is the same in every suite that drives an app, over the
// WebSocket or MQTT; these build its messages as Remix's runtime sends them.

/** `msg_session_create` as the runtime sends it; `fields` adds or overrides (e.g. `machine`, `searchVariant`). */
export function sessionCreate(fields: Record<string, unknown> = {}): Record<string, unknown> {
  return { _rmx_type: "msg_session_create", _rmx_version: "0.0", searchExe: true, clientVars: {}, ...fields };
}

/** `msg_view_load` of `module` as a start screen, with `params` as its screen parameters. */
export function viewLoad(
  session: string | undefined,
  module: string,
  params: Record<string, unknown> = {},
): Record<string, unknown> {
  return {
    _rmx_type: "msg_view_load",
    session,
    module,
    args: [params, { type: "start" }],
    argsEscEnabled: true,
  };
}

/** `msg_view_invoke` of an event handler from a view (e.g. a button's `ontap[0]`), with no argument. */
export function viewInvoke(
  session: string | undefined,
  handler: { name: string; env: unknown },
): Record<string, unknown> {
  return {
    _rmx_type: "msg_view_invoke",
    session,
    name: handler.name,
    env: handler.env,
    arg: null,
    nextActions: [],
    options: {},
  };
}
