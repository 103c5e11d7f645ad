import { Hono } from "hono";
import { html } from "hono/html";
import { OPENAPI_PATH } from "./openapi.js";
import type { ServerInfo } from "./server-info.js";

/** Where a person or a client who opens the server's root goes next. */
export function welcomeRoutes(info: () => ServerInfo): Hono {
  const app = new Hono();
  app.get("/", (c) => {
    const { org, workspace, build, baseURL } = info();
    const links = { openapi: OPENAPI_PATH, health: "/x/health/ready", serverinfo: "/x/serverinfo" };
    if (!(c.req.header("accept") ?? "").includes("text/html")) {
      return c.json({ name: "amp", org, workspace, build, links });
    }
    return c.html(html`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>amp</title>
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:40rem;margin:4rem auto;padding:0 1rem;color:#222}code{background:#f3f3f3;padding:0 .3em}</style>
</head><body>
<h1>amp</h1>
<p>The Remix platform server for <code>${org}/${workspace}</code>, build <code>${build}</code>, at <code>${baseURL}</code>.</p>
<ul>
<li><a href="${links.openapi}">The HTTP API</a> (OpenAPI 3.1)</li>
<li><a href="${links.health}">Readiness</a> and <a href="${links.serverinfo}">server info</a></li>
</ul>
<p>Apps run at <code>/&lt;app&gt;/track.ws</code>; the MQTT broker is at <code>/x/broker.ws</code>.</p>
</body></html>`);
  });
  return app;
}
