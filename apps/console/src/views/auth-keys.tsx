import { useEffect, useState } from "preact/hooks";
import { api, ok } from "../api/client.js";
import type { components } from "../api/schema.js";
import { Notice } from "../ui/notice.js";

type SigningKey = components["schemas"]["SigningKey"];
type Revocation = components["schemas"]["Revocation"];

const PAGE = 100;
const when = (iso: string | undefined) => (iso ? new Date(iso).toLocaleString() : "–");

/** Root's view of the signing keys (`GET /x/auth/keys`): ids, algorithms, rotation dates. */
export function SigningKeysTable() {
  const [keys, setKeys] = useState<SigningKey[]>();
  const [error, setError] = useState<unknown>();
  useEffect(() => {
    ok(api.GET("/x/auth/keys")).then((a) => setKeys(a.keys), setError);
  }, []);
  if (error) return <Notice error={error} />;
  if (!keys) return <p role="status">Loading…</p>;
  return (
    <div class="scroll">
      <table class="list" aria-label="Signing keys">
        <thead>
          <tr>
            <th scope="col">Key id</th>
            <th scope="col">Algorithm</th>
            <th scope="col">State</th>
            <th scope="col" class="wide-only">
              Created
            </th>
            <th scope="col">Rotates / retired</th>
            <th scope="col" class="wide-only">
              Verifies until
            </th>
          </tr>
        </thead>
        <tbody>
          {keys.map((k) => (
            <tr key={k.kid}>
              <td>
                <code>{k.kid}</code>
              </td>
              <td>{k.alg}</td>
              <td>{k.signing ? <span class="badge">signing</span> : "replaced"}</td>
              <td class="wide-only">{when(k.createdAt)}</td>
              <td>{k.signing ? `rotates ${when(k.rotatesAt)}` : `retired ${when(k.retiredAt)}`}</td>
              <td class="wide-only">{k.signing ? "–" : when(k.verifiesUntil)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

/** Root's view of the revocations in force (`GET /x/auth/revocations`), a page at a time. */
export function RevocationsTable() {
  const [rows, setRows] = useState<Revocation[]>();
  const [next, setNext] = useState<string>();
  const [error, setError] = useState<unknown>();
  const load = (after?: string) =>
    ok(
      api.GET("/x/auth/revocations", { params: { query: { limit: PAGE, ...(after ? { after } : {}) } } }),
    ).then((page) => {
      setRows((shown) => [...(after ? (shown ?? []) : []), ...page.revocations]);
      setNext(page.next);
    }, setError);
  useEffect(() => {
    void load();
  }, []);
  if (error) return <Notice error={error} />;
  if (!rows) return <p role="status">Loading…</p>;
  if (rows.length === 0) return <p>No token is revoked.</p>;
  return (
    <>
      <div class="scroll">
        <table class="list" aria-label="Revocations">
          <thead>
            <tr>
              <th scope="col">Token</th>
              <th scope="col">Issuer</th>
              <th scope="col">User</th>
              <th scope="col">Revoked</th>
              <th scope="col">Revoked until (its expiry)</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((r) => (
              <tr key={r.id}>
                <td>
                  <code>{r.jti ?? r.id.slice(2, 14)}</code>
                  {r.kind === "jti" ? null : ` (${r.kind.replace("_", " ")})`}
                </td>
                <td>{r.issuer ?? "–"}</td>
                <td>{r.user ?? "–"}</td>
                <td>
                  {when(r.revokedAt)}
                  {r.by ? ` by ${r.by}` : null}
                </td>
                <td>{when(r.expiresAt)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {next ? (
        <button type="button" onClick={() => void load(next)}>
          More revocations
        </button>
      ) : null}
    </>
  );
}
