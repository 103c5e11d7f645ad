/**
 * Reading the views a Remix app outputs (`<screen>.view` cells: a tree of `dom_*` nodes in tagged
 * JSON), for agents, tests and tools that need what a screen shows without a browser.
 */

/** A node of a view tree: a map with a `_rmx_type` such as `dom_button`. */
export type ViewNode = Record<string, unknown>;

/** Every node of the tree (depth first, parents before children) for which `match` holds. */
export function findViewNodes(view: unknown, match: (node: ViewNode) => boolean): ViewNode[] {
  const found: ViewNode[] = [];
  const walk = (value: unknown) => {
    if (Array.isArray(value)) {
      for (const item of value) walk(item);
    } else if (value !== null && typeof value === "object") {
      if (match(value as ViewNode)) found.push(value as ViewNode);
      for (const child of Object.values(value)) walk(child);
    }
  };
  walk(view);
  return found;
}

/** The texts a view shows: the string `props.value` of every `dom_*` node, in tree order. */
export function viewTexts(view: unknown): string[] {
  return findViewNodes(
    view,
    (node) =>
      typeof node._rmx_type === "string" &&
      node._rmx_type.startsWith("dom_") &&
      typeof (node.props as ViewNode | undefined)?.value === "string",
  ).map((node) => (node.props as { value: string }).value);
}
