import { findViewNodes, type TrackResponse } from "@amp/track";

/** The last `home.view` cell of an answer (tim-wasm's home screen). */
export function homeView(response: TrackResponse): unknown {
  return response.cellMessages.filter((c) => c.name === "home.view").at(-1)?.value;
}

/** The `ontap` action of the view's first button: what `msg_view_invoke` taps. */
export function firstButtonTap(view: unknown): { name: string; env: unknown } {
  const [button] = findViewNodes(view, (n) => n._rmx_type === "dom_button");
  if (!button) throw new Error("the view has no button");
  return (button.events as { ontap: Array<{ name: string; env: unknown }> }).ontap[0]!;
}
