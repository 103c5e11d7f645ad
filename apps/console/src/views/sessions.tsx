import { useEffect, useState } from "preact/hooks";
import { sessionEventsTopic } from "../api/broker.js";
import { api, ok } from "../api/client.js";
import type { components } from "../api/schema.js";
import { useMe } from "../auth/me.js";
import { Chips } from "../ui/chips.js";
import { useNow } from "../ui/clock.js";
import { ConfirmButton } from "../ui/confirm.js";
import { age, bytes } from "../ui/format.js";
import { useLiveList } from "../ui/live-list.js";
import { Notice } from "../ui/notice.js";

type SessionInfo = components["schemas"]["SessionInfo"];
type WarmAgent = components["schemas"]["WarmAgent"];

/** What the server publishes on `$amp/sessions/<user>`. */
interface SessionEvent {
  type: "created" | "activity" | "ended";
  session: SessionInfo;
}

function applySessionEvent(list: SessionInfo[], event: SessionEvent): SessionInfo[] {
  const others = list.filter((s) => s.id !== event.session.id);
  if (event.type === "ended") return others;
  const known = list.find((s) => s.id === event.session.id);
  // An activity event without memory (a busy VM) keeps the last known figure.
  return [...others, { ...known, ...event.session }].sort((a, b) => a.createdAt.localeCompare(b.createdAt));
}

/**
 * Live VM sessions (`GET /x/sessions`: all of them for root, one's own for others), kept current
 * by the server's events on `$amp/sessions/…` (created, activity with memory, ended), and ending
 * one; for root also the agents that ran and their warm sessions (`GET /x/agents`).
 */
export function SessionsView() {
  const me = useMe();
  const now = useNow();
  const [info, setInfo] = useState<string>();
  const [endError, setEndError] = useState<unknown>();
  const sessions = useLiveList<SessionInfo, SessionEvent>({
    user: me.id,
    filter: me.root ? "$amp/sessions/+" : sessionEventsTopic(me.id),
    load: () => ok(api.GET("/x/sessions")).then((a) => a.sessions),
    apply: applySessionEvent,
  });
  const list = sessions.items;

  return (
    <section>
      <h1>Sessions</h1>
      <p class="hint">
        {me.root ? "Every live VM session" : "Your live VM sessions"};{" "}
        {sessions.live ? (
          <span role="status">live: changes show as they happen</span>
        ) : (
          "not live: Refresh to update"
        )}
        .
      </p>
      <div class="toolbar">
        <button type="button" onClick={sessions.refresh}>
          Refresh
        </button>
      </div>
      <Notice error={endError ?? sessions.error} info={info} />
      {list === undefined ? null : list.length === 0 ? (
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
                <th scope="col" class="wide-only">
                  Node
                </th>
                <th scope="col">Age</th>
                <th scope="col">Memory</th>
                <th scope="col">Last active</th>
                <th scope="col">Client</th>
                <th scope="col">Actions</th>
              </tr>
            </thead>
            <tbody>
              {list.map((s) => (
                <tr key={s.id}>
                  <td>
                    <code title={s.id}>{s.id.slice(0, 8)}</code>
                  </td>
                  <td>{s.app}</td>
                  <td>{s.user}</td>
                  <td class="wide-only">
                    {s.backend} <code>{s.machine.slice(0, 8)}</code>
                  </td>
                  <td class="wide-only">{s.node}</td>
                  <td>{age(s.createdAt, now)}</td>
                  <td>{s.memoryBytes === undefined ? "–" : bytes(s.memoryBytes)}</td>
                  <td>{age(s.lastActive, now)} ago</td>
                  <td>{s.attached ? "connected" : "away"}</td>
                  <td>
                    <ConfirmButton
                      label="End"
                      question={`End session ${s.id.slice(0, 8)}?`}
                      onConfirm={async () => {
                        try {
                          await ok(api.DELETE("/x/sessions/{id}", { params: { path: { id: s.id } } }));
                          setInfo(`Ended session ${s.id}.`);
                          setEndError(undefined);
                        } catch (e) {
                          setEndError(e);
                        }
                        if (!sessions.live) await sessions.refresh();
                      }}
                    />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {me.root ? <Agents sessionIds={list?.map((s) => s.id).join(" ") ?? ""} /> : null}
    </section>
  );
}

/** Agents that ran and their warm sessions; read again when the set of sessions changes (an agent's session starts or ends). */
function Agents(props: { sessionIds: string }) {
  const [agents, setAgents] = useState<WarmAgent[]>();
  const [error, setError] = useState<unknown>();
  useEffect(() => {
    ok(api.GET("/x/agents")).then((a) => {
      setAgents(a.agents);
      setError(undefined);
    }, setError);
  }, [props.sessionIds]);
  return (
    <>
      <h2>Agents</h2>
      <Notice error={error} />
      {agents === undefined ? null : agents.length === 0 ? (
        <p>No agent has run on this node since it started.</p>
      ) : (
        <div class="scroll">
          <table class="list" aria-label="Agents">
            <thead>
              <tr>
                <th scope="col">App</th>
                <th scope="col">Agent</th>
                <th scope="col">For user</th>
                <th scope="col">Warm sessions</th>
              </tr>
            </thead>
            <tbody>
              {agents.map((a) => (
                <tr key={`${a.app}/${a.module}/${a.user}`}>
                  <td>{a.app}</td>
                  <td>{a.module}</td>
                  <td>{a.user}</td>
                  <td>
                    {a.sessions.length === 0 ? (
                      "none"
                    ) : (
                      <Chips values={a.sessions} shown={(id) => id.slice(0, 8)} />
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </>
  );
}
