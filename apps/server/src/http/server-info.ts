import { createRoute, OpenAPIHono, z } from "@hono/zod-openapi";

export const ServerInfoSchema = z
  .object({
    org: z.string(),
    workspace: z.string(),
    baseURL: z.string().openapi({ example: "https://amp.example.com" }),
    build: z.string().openapi({ description: "server version", example: "0.1.0" }),
    SHA1: z.string().openapi({ description: "git commit of the build, or unknown" }),
    stdlibID: z.string().openapi({ description: "the Mix standard library the server provides" }),
  })
  .openapi("ServerInfo");

export type ServerInfo = z.infer<typeof ServerInfoSchema>;

const serverInfoRoute = createRoute({
  method: "get",
  path: "/x/serverinfo",
  summary: "Who this server is: org, workspace, public URL and build",
  tags: ["server"],
  responses: {
    200: { description: "server identity", content: { "application/json": { schema: ServerInfoSchema } } },
  },
});

export function serverInfoRoutes(info: () => ServerInfo) {
  return new OpenAPIHono().openapi(serverInfoRoute, (c) => c.json(info(), 200));
}
