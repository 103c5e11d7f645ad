/** A small inline SVG line of `values` (oldest first), scaled to their own range; no chart library. */
export function Sparkline(props: {
  values: readonly number[];
  label: string;
  width?: number;
  height?: number;
}) {
  const { values, label, width = 160, height = 36 } = props;
  const max = Math.max(...values, 0);
  const min = Math.min(...values, max);
  const span = max - min || 1;
  const step = values.length > 1 ? width / (values.length - 1) : 0;
  const x = (i: number) => (i * step).toFixed(1);
  const y = (v: number) => (height - 2 - ((v - min) / span) * (height - 4)).toFixed(1);
  const last = values.length - 1;
  return (
    <svg
      class="sparkline"
      width={width}
      height={height}
      viewBox={`0 0 ${width} ${height}`}
      role="img"
      aria-label={label}
    >
      {last > 0 ? (
        <polyline
          points={values.map((v, i) => `${x(i)},${y(v)}`).join(" ")}
          fill="none"
          stroke="currentColor"
          stroke-width="1.5"
        />
      ) : null}
      {last >= 0 ? <circle cx={x(last)} cy={y(values[last]!)} r="2" fill="currentColor" /> : null}
    </svg>
  );
}
