/** More entries than any app's resources.json holds: a bigger answer is refused, not drawn. */
export const MAX_RESOURCES = 10_000;
/** Longest resource name or stored identifier the console shows. */
export const MAX_RESOURCE_NAME = 1024;

/** An app's resources.json that the console cannot read as names of stored files. */
export class ResourcesError extends Error {
  readonly code = "console_bad_resources";
  constructor(message: string) {
    super(`resources.json: ${message}; files are listed by their stored names`);
    this.name = "ResourcesError";
  }
}

const isMap = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);

/**
 * An imported app's resources (`GET /{app}/resources`: name → `{public, identifier, bundled}`) as
 * the names of each stored file: the import stores a resource as a public file named by its
 * identifier (a content hash), so several names can share one file. An entry without a string
 * identifier names nothing, as the import stores no file for it.
 */
export function resourceNames(answer: unknown): Map<string, string[]> {
  if (!isMap(answer)) throw new ResourcesError("not a map of names to resources");
  const entries = Object.entries(answer);
  if (entries.length > MAX_RESOURCES)
    throw new ResourcesError(`${entries.length} entries, more than ${MAX_RESOURCES}`);
  const names = new Map<string, string[]>();
  for (const [name, resource] of entries) {
    const identifier = isMap(resource) ? resource.identifier : undefined;
    if (typeof identifier !== "string") continue;
    if (name.length > MAX_RESOURCE_NAME || identifier.length > MAX_RESOURCE_NAME)
      throw new ResourcesError(`a name or identifier longer than ${MAX_RESOURCE_NAME} characters`);
    names.set(identifier, [...(names.get(identifier) ?? []), name]);
  }
  return names;
}
