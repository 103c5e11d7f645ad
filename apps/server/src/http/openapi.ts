import type { OpenAPIHono } from "@hono/zod-openapi";

/** Where the server describes its HTTP API. */
export const OPENAPI_PATH = "/x/openapi.json";

type Document = ReturnType<OpenAPIHono["getOpenAPI31Document"]>;
type Operation = {
  operationId?: string;
  responses?: Record<string, unknown>;
  summary?: string;
  description?: string;
  security?: Array<Record<string, string[]>>;
};

/** Routes anyone may call without a token: probes, discovery, token issuance and logins. */
const OPEN_PATHS = [/^\/x\/health\//, /^\/x\/serverinfo$/, /^\/x\/jwks\.json$/, /^\/x\/openapi\.json$/];

const UNAUTHENTICATED = {
  description: "The token is invalid, expired or revoked (no token at all is an anonymous caller)",
  content: { "application/json": { schema: { $ref: "#/components/schemas/Error" } } },
};

const METHODS = ["get", "put", "post", "delete", "options", "head", "patch", "trace"] as const;

/**
 * What the generated description needs beyond the routes' own schemas so that a client
 * generator (and `redocly lint`) can use it: the bearer JWT scheme (also accepted as `?token=`,
 * which browsers need for WebSockets), optional on most routes because anonymous callers get
 * an `anon-*` identity and the ACL decides; an `operationId` on every operation, derived from
 * its method and path where the route names none; and a summary where it has none.
 */
export function describeApi(doc: Document): Document {
  doc.info.license = { name: "MIT", identifier: "MIT" };
  doc.components = {
    ...doc.components,
    securitySchemes: {
      ...doc.components?.securitySchemes,
      bearer: {
        type: "http",
        scheme: "bearer",
        bearerFormat: "JWT",
        description: "An amp or central-issuer JWT",
      },
      tokenQuery: {
        type: "apiKey",
        in: "query",
        name: "token",
        description: "The same JWT as a query parameter (WebSockets from browsers)",
      },
    },
  };
  doc.security = [{ bearer: [] }, { tokenQuery: [] }, {}];
  const taken = new Set<string>();
  for (const [path, item] of Object.entries(doc.paths ?? {})) {
    for (const method of METHODS) {
      const operation = (item as Record<string, Operation | undefined>)[method];
      if (!operation) continue;
      operation.operationId ??= uniqueId(operationIdOf(method, path), taken);
      taken.add(operation.operationId);
      operation.summary ??= firstSentence(operation.description) ?? `${method.toUpperCase()} ${path}`;
      if (OPEN_PATHS.some((open) => open.test(path))) operation.security = [];
      // The identity middleware answers a bad token with 401 on every other route.
      else operation.responses = { 401: UNAUTHENTICATED, ...operation.responses };
    }
  }
  return doc;
}

/** `get /{app}/files/{name}` → `getAppFilesName`. */
function operationIdOf(method: string, path: string): string {
  const words = path
    .split(/[^A-Za-z0-9]+/)
    .filter(Boolean)
    .map((word) => word[0]!.toUpperCase() + word.slice(1));
  return `${method}${words.join("")}`;
}

function uniqueId(id: string, taken: Set<string>): string {
  let candidate = id;
  for (let n = 2; taken.has(candidate); n++) candidate = `${id}${n}`;
  return candidate;
}

function firstSentence(text: string | undefined): string | undefined {
  const sentence = text
    ?.split(/(?<=\.)\s/)[0]
    ?.replace(/\.$/, "")
    .trim();
  return sentence ? sentence.slice(0, 120) : undefined;
}
