/** Short values as chips (a warm agent's sessions, a client's subscriptions), each whole in its title. */
export function Chips({
  values,
  shown = (v) => v,
}: {
  values: readonly string[];
  shown?: (value: string) => string;
}) {
  return (
    <>
      {values.map((value) => (
        <code key={value} class="chip" title={value}>
          {shown(value)}
        </code>
      ))}
    </>
  );
}
