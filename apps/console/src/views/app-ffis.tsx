import type { AppDetail } from "../auth/app-roles.js";

/**
 * The FFIs the app's code names that this server does not answer, from the report kept since
 * its import (the qcode of its Wasm libraries): calls to them abort in a session.
 */
export function AppFfis(props: { report: AppDetail["ffiReport"] }) {
  const { report } = props;
  return (
    <>
      <h2>FFIs this server does not answer</h2>
      {report === null ? (
        <p>No report: this app has no compiled code.</p>
      ) : report.unansweredFfis === undefined ? (
        <p>This server did not check them ({report.ffis.length} named by the app's code).</p>
      ) : report.unansweredFfis.length === 0 ? (
        <p class="ffis-none">None: the server answers all {report.ffis.length} FFIs the app's code names.</p>
      ) : (
        <>
          <p>
            {report.unansweredFfis.length} of the {report.ffis.length} FFIs the app's code names; calls to
            them fail in a session:
          </p>
          <ul class="ffis" aria-label="Unanswered FFIs">
            {report.unansweredFfis.map((name) => (
              <li key={name}>
                <code>{name}</code>
              </li>
            ))}
          </ul>
        </>
      )}
      {report?.unreadable ? (
        <p class="hint">
          Code not read:{" "}
          {Object.entries(report.unreadable)
            .map(([file, why]) => `${file} (${why})`)
            .join("; ")}
        </p>
      ) : null}
    </>
  );
}
