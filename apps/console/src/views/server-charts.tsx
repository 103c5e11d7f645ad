import { useEffect, useState } from "preact/hooks";
import { api, ok } from "../api/client.js";
import type { components } from "../api/schema.js";
import { Notice } from "../ui/notice.js";
import { Sparkline } from "./sparkline.js";

type Summary = components["schemas"]["MetricsSummary"];

/** One sample every 5 s; the ring keeps the last 5 minutes. */
const EVERY_MS = 5000;
const RING = 60;

const MIB = 1024 * 1024;

/** A counter since start, charted as its increase a second between two samples. */
const perSecond =
  (counter: "requests" | "brokerMessages") =>
  (s: Summary, before: Summary | undefined): number | null => {
    const now = s[counter];
    const then = before?.[counter];
    if (now === null || !before || then == null) return null;
    return (now - then) / ((Date.parse(s.at) - Date.parse(before.at)) / 1000 || 1);
  };
const rate = (v: number) => `${v.toFixed(1)}/s`;

const CHARTS: {
  title: string;
  figure: (s: Summary, before: Summary | undefined) => number | null;
  unit: (v: number) => string;
}[] = [
  { title: "Requests", figure: perSecond("requests"), unit: rate },
  { title: "Live sessions", figure: (s) => s.sessions, unit: (v) => String(v) },
  { title: "VM memory", figure: (s) => s.vmMemoryBytes, unit: (v) => `${(v / MIB).toFixed(1)} MiB` },
  {
    title: "Process memory",
    figure: (s) => s.processMemoryBytes,
    unit: (v) => `${(v / MIB).toFixed(0)} MiB`,
  },
  { title: "Broker clients", figure: (s) => s.brokerClients, unit: (v) => String(v) },
  { title: "Broker messages", figure: perSecond("brokerMessages"), unit: rate },
];

/**
 * Root's charts of a few Prometheus figures (`GET /x/metrics/summary`, the admin port's registry
 * on the API port), sampled every 5 s while the view is open into a ring of the last 60.
 */
export function ServerCharts() {
  const [samples, setSamples] = useState<Summary[]>([]);
  const [error, setError] = useState<unknown>();
  useEffect(() => {
    const sample = () =>
      ok(api.GET("/x/metrics/summary")).then((s) => {
        setError(undefined);
        setSamples((ring) => [...ring.slice(1 - RING), s]);
      }, setError);
    void sample();
    const timer = setInterval(sample, EVERY_MS);
    return () => clearInterval(timer);
  }, []);

  const latest = samples.at(-1);
  return (
    <>
      <Notice error={error} />
      {latest ? (
        <p class="hint charts-total">
          {latest.requests} requests answered since start; sampled every {EVERY_MS / 1000} s, last at{" "}
          {new Date(latest.at).toLocaleTimeString()}.
        </p>
      ) : null}
      <ul class="charts">
        {CHARTS.map((chart) => {
          const values = samples
            .map((s, i) => chart.figure(s, samples[i - 1]))
            .filter((v): v is number => v !== null);
          const now = values.at(-1);
          return (
            <li key={chart.title} class="chart">
              <strong>{chart.title}</strong>
              <span class="figure" data-figure={chart.title}>
                {now === undefined
                  ? samples.length < 2 && chart.unit === rate
                    ? "…"
                    : "n/a"
                  : chart.unit(now)}
              </span>
              <Sparkline values={values} label={`${chart.title} over the last ${values.length} samples`} />
            </li>
          );
        })}
      </ul>
    </>
  );
}
