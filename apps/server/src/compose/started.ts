/** What a component opened, or a clear error when something asks for it before the component started. */
export function started<T>(open: T | undefined, component: string): T {
  if (open === undefined) throw new Error(`component ${component} has not started`);
  return open;
}
