import { useEffect, useState } from "preact/hooks";
import { api, ok } from "../api/client.js";
import { ApiError } from "../api/errors.js";
import { useMe } from "../auth/me.js";
import { Notice } from "../ui/notice.js";
import { ServerCharts } from "./server-charts.js";

type Health = { state: "ok" | "failing"; detail: string };

/**
 * Health, who the server is and, for root, charts of a few Prometheus figures (through the API
 * port's `/x/metrics/summary`: a page cannot reach the admin port's `/metrics`).
 */
export function ServerView() {
  const me = useMe();
  const [info, setInfo] = useState<unknown>();
  const [health, setHealth] = useState<Record<string, Health>>({});
  const [error, setError] = useState<unknown>();

  const check = async (name: string, call: Promise<{ error?: unknown; response: Response }>) => {
    const { response, error: refusal } = await call;
    const detail = response.ok ? "ok" : ApiError.from(response.status, refusal).message;
    setHealth((h) => ({ ...h, [name]: { state: response.ok ? "ok" : "failing", detail } }));
  };

  const load = () => {
    ok(api.GET("/x/serverinfo")).then(setInfo, setError);
    void check("live", api.GET("/x/health/live"));
    void check("ready", api.GET("/x/health/ready"));
  };
  useEffect(load, []);

  return (
    <section>
      <h1>Server</h1>
      <Notice error={error} />
      <div class="toolbar">
        <button type="button" onClick={load}>
          Refresh
        </button>
      </div>
      <h2>Health</h2>
      <ul class="health">
        {Object.entries(health).map(([name, h]) => (
          <li key={name} class={h.state}>
            <strong>{name}</strong>: {h.detail}
          </li>
        ))}
      </ul>
      <h2>Server info</h2>
      <pre class="json">{info === undefined ? "Loading…" : JSON.stringify(info, null, 2)}</pre>
      <h2>Metrics</h2>
      {me.root ? <ServerCharts /> : <p class="hint">The server's metrics are shown to root only.</p>}
    </section>
  );
}
