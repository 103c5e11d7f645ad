import { useState } from "preact/hooks";
import { api, ok } from "../api/client.js";
import type { components } from "../api/schema.js";
import { useMe } from "../auth/me.js";
import { ConfirmButton } from "../ui/confirm.js";
import { Notice } from "../ui/notice.js";
import { REFRESH_MS, useRefreshing } from "../ui/refreshing.js";

type SessionInfo = components["schemas"]["SessionInfo"];

/** The list refreshes this often while the view is open, and on the Refresh button. */

const age = (since: string, now: number) => {
  const s = Math.max(0, Math.round((now - Date.parse(since)) / 1000));
  return s < 60 ? `${s} s` : s < 3600 ? `${Math.floor(s / 60)} min` : `${Math.floor(s / 3600)} h`;
};

/**
 * Live VM sessions (`GET /x/sessions`: all of them for root, one's own for others) and ending
 * one. The server has no push feed of sessions, so this view refreshes every 5 s and on demand.
 */
export function SessionsView() {
  const me = useMe();
  const [sessions, setSessions] = useState<SessionInfo[]>();
  const [loadedAt, setLoadedAt] = useState(Date.now());
  const [error, setError] = useState<unknown>();
  const [info, setInfo] = useState<string>();

  const load = () =>
    ok(api.GET("/x/sessions")).then(
      (answer) => {
        setSessions(answer.sessions);
        setLoadedAt(Date.now());
        setError(undefined);
      },
      (e) => setError(e),
    );

  useRefreshing(load);

  return (
    <section>
      <h1>Sessions</h1>
      <p class="hint">
        {me.root ? "Every live VM session on this node" : "Your live VM sessions"}; refreshed every{" "}
        {REFRESH_MS / 1000} s, last at <time>{new Date(loadedAt).toLocaleTimeString()}</time>.
      </p>
      <div class="toolbar">
        <button type="button" onClick={load}>
          Refresh
        </button>
      </div>
      <Notice error={error} info={info} />
      {sessions === undefined ? null : sessions.length === 0 ? (
        <p>No live sessions.</p>
      ) : (
        <div class="scroll">
          <table class="list" aria-label="Sessions">
            <thead>
              <tr>
                <th scope="col">Session</th>
                <th scope="col">App</th>
                <th scope="col">User</th>
                <th scope="col" class="wide-only">
                  VM
                </th>
                <th scope="col">Age</th>
                <th scope="col">Last active</th>
                <th scope="col">Client</th>
                <th scope="col">Actions</th>
              </tr>
            </thead>
            <tbody>
              {sessions.map((s) => (
                <tr key={s.id}>
                  <td>
                    <code title={s.id}>{s.id.slice(0, 8)}</code>
                  </td>
                  <td>{s.app}</td>
                  <td>{s.user}</td>
                  <td class="wide-only">
                    {s.backend} <code>{s.machine.slice(0, 8)}</code>
                  </td>
                  <td>{age(s.createdAt, loadedAt)}</td>
                  <td>{age(s.lastActive, loadedAt)} ago</td>
                  <td>{s.attached ? "connected" : "away"}</td>
                  <td>
                    <ConfirmButton
                      label="End"
                      question={`End session ${s.id.slice(0, 8)}?`}
                      onConfirm={async () => {
                        try {
                          await ok(api.DELETE("/x/sessions/{id}", { params: { path: { id: s.id } } }));
                          setInfo(`Ended session ${s.id}.`);
                          await load();
                        } catch (e) {
                          setError(e);
                        }
                      }}
                    />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}
