import { useEffect, useState } from "preact/hooks";
import { api, ok } from "../api/client.js";
import { ApiError } from "../api/errors.js";
import { mayBuild, roleNames, useAppDetail } from "../auth/app-roles.js";
import { navigate, segment } from "../router.js";
import { ConfirmButton } from "../ui/confirm.js";
import { hasDraft, useDraft } from "../ui/draft.js";
import { Link } from "../ui/link.js";
import { Notice } from "../ui/notice.js";
import { type AclRule, AclTable } from "./acl-table.js";
import { AppExecutables } from "./app-executables.js";
import { AppFfis } from "./app-ffis.js";
import { AppFiles } from "./app-files.js";
import { exportApp } from "./apps.js";

/**
 * One app: the user's roles on it (from the API, which also says what its code asks of the
 * server), its runtime.json, and its ACL, which only a builder (or root) may read and change.
 * Anyone else sees the API's refusal as a message and no edit buttons.
 */
export function AppDetail(props: { app: string }) {
  const { app } = props;
  const draftKey = `acl.${app}`;
  const [rule, setRule] = useState<AclRule>();
  const [draft, setDraft, clearDraft] = useDraft<AclRule | undefined>(draftKey, undefined);
  const [aclError, setAclError] = useState<unknown>();
  const [runtime, setRuntime] = useState<unknown>();
  const [runtimeError, setRuntimeError] = useState<unknown>();
  const [error, setError] = useState<unknown>();
  const [info, setInfo] = useState<string>();
  const { detail, error: detailError } = useAppDetail(app);

  useEffect(() => {
    ok(api.GET("/x/apps/{app}/acl", { params: { path: { app } } })).then((loaded) => {
      setRule(loaded);
      if (!hasDraft(draftKey)) setDraft(loaded);
    }, setAclError);
    ok(api.GET("/{app}/runtime.json", { params: { path: { app } } })).then(setRuntime, setRuntimeError);
  }, [app]);

  const changed = rule !== undefined && draft !== undefined && JSON.stringify(draft) !== JSON.stringify(rule);

  return (
    <section>
      <p class="crumbs">
        <Link to="apps">Apps</Link> / <span>{app}</span>
      </p>
      <h1>{app}</h1>
      {detail ? (
        <p class="roles">
          Your roles: <strong>{detail.roles.length > 0 ? roleNames(detail.roles) : "none"}</strong>
        </p>
      ) : null}
      <Notice error={error ?? detailError} info={info} />
      <div class="toolbar">
        <Link to={`apps/${segment(app)}/data`} class="button">
          Data
        </Link>
        <button type="button" onClick={() => exportApp(app).catch(setError)}>
          Export
        </button>
        {mayBuild(detail?.roles) ? (
          <ConfirmButton
            label="Delete app"
            question={`Delete ${app} and all its data?`}
            onConfirm={async () => {
              try {
                await ok(api.DELETE("/x/apps/{app}", { params: { path: { app } } }));
                navigate("apps");
              } catch (e) {
                setError(e);
              }
            }}
          />
        ) : null}
      </div>

      <h2>Access</h2>
      {aclError ? (
        <Notice
          error={
            aclError instanceof ApiError && aclError.status === 403
              ? new Error(`You can use this app but not see or change who may: ${aclError.message}`)
              : aclError
          }
        />
      ) : rule === undefined || draft === undefined ? (
        <p role="status">Loading…</p>
      ) : (
        <form
          onSubmit={async (event) => {
            event.preventDefault();
            setError(undefined);
            try {
              await ok(api.PUT("/x/apps/{app}/acl", { params: { path: { app } }, body: draft }));
              setRule(draft);
              clearDraft();
              setInfo("Access saved.");
            } catch (e) {
              setError(e);
            }
          }}
        >
          <AclTable rule={draft} onChange={setDraft} />
          <div class="toolbar">
            <button type="submit" disabled={!changed}>
              Save access
            </button>
            <button
              type="button"
              disabled={!changed}
              onClick={() => {
                setDraft(rule);
                clearDraft();
              }}
            >
              Undo changes
            </button>
          </div>
        </form>
      )}

      <AppExecutables app={app} />
      {detail ? <AppFfis report={detail.ffiReport} /> : null}
      <AppFiles app={app} />

      <h2>runtime.json</h2>
      {runtimeError ? (
        <Notice
          info={
            runtimeError instanceof ApiError && runtimeError.status === 404
              ? "This app has no runtime.json (it was not imported from a .remix)."
              : `runtime.json: ${(runtimeError as Error).message}`
          }
        />
      ) : (
        <pre class="json">{runtime === undefined ? "Loading…" : JSON.stringify(runtime, null, 2)}</pre>
      )}
    </section>
  );
}
