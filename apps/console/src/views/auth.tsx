import { useEffect, useState } from "preact/hooks";
import { api, ok } from "../api/client.js";
import type { components } from "../api/schema.js";
import { useMe } from "../auth/me.js";
import { registerPasskey } from "../auth/passkey.js";
import { ConfirmButton } from "../ui/confirm.js";
import { useDraft } from "../ui/draft.js";
import { Notice } from "../ui/notice.js";
import { RevocationsTable, SigningKeysTable } from "./auth-keys.js";

type PluginConfig = components["schemas"]["PluginConfig"];
type PluginInput = components["schemas"]["PluginConfigInput"];

const PLUGIN_ID = /^[a-z][a-z0-9-]{0,31}$/;
const EXAMPLE = {
  kind: "oidc",
  issuer: "https://accounts.example.com",
  visibility: "public",
  clientId: "…",
  returnUrls: [`${location.origin}/_/signin`],
  clientSecret: "write-only: leave out to keep the stored one",
};

/**
 * Login plugins (root manages them; secrets are write-only: the API never returns them, and an
 * omitted secret keeps the stored one), the signing keys (root: with their dates) and revocations
 * (root only), and one's own passkeys.
 */
export function AuthView() {
  const me = useMe();
  const [configs, setConfigs] = useState<PluginConfig[]>();
  const [keys, setKeys] = useState<{ kid?: string; alg?: string }[]>();
  const [error, setError] = useState<unknown>();
  const [info, setInfo] = useState<string>();
  const [form, setForm, clear] = useDraft("auth-config", { id: "", json: "" });

  const load = () => {
    ok(api.GET("/x/authConfig")).then((a) => setConfigs(a.configs), setError);
    // Root sees the keys with their dates (SigningKeysTable); others their published ids.
    if (!me.root)
      ok(api.GET("/x/jwks.json")).then(
        (j) => setKeys((j as { keys: { kid?: string; alg?: string }[] }).keys),
        setError,
      );
  };
  useEffect(load, []);

  const edit = (config: PluginConfig) => {
    const { id, ...rest } = config as PluginConfig & { id: string };
    setForm({ id, json: JSON.stringify(rest, null, 2) });
  };

  return (
    <section>
      <h1>Auth</h1>
      <Notice error={error} info={info} />
      <h2>Login plugins</h2>
      {configs === undefined ? null : configs.length === 0 ? (
        <p>No login plugins are configured.</p>
      ) : (
        <div class="scroll">
          <table class="list" aria-label="Login plugins">
            <thead>
              <tr>
                <th scope="col">Id</th>
                <th scope="col">Kind</th>
                <th scope="col">Visibility</th>
                <th scope="col">Actions</th>
              </tr>
            </thead>
            <tbody>
              {configs.map((c) => {
                const { id, kind, visibility } = c as PluginConfig & {
                  id: string;
                  kind: string;
                  visibility: string;
                };
                return (
                  <tr key={id}>
                    <td>{id}</td>
                    <td>{kind}</td>
                    <td>{visibility}</td>
                    <td class="actions">
                      {me.root ? (
                        <>
                          <button type="button" onClick={() => edit(c)}>
                            Edit
                          </button>
                          <ConfirmButton
                            label="Delete"
                            question={`Delete ${id}? Tokens from its logins stop verifying.`}
                            onConfirm={async () => {
                              try {
                                await ok(api.DELETE("/x/authConfig/{id}", { params: { path: { id } } }));
                                load();
                              } catch (e) {
                                setError(e);
                              }
                            }}
                          />
                        </>
                      ) : null}
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      )}
      {me.root ? (
        <form
          class="card"
          onSubmit={async (event) => {
            event.preventDefault();
            setError(undefined);
            if (!PLUGIN_ID.test(form.id))
              return setError(new Error("The id is lowercase letters, digits and -."));
            let body: PluginInput;
            try {
              body = JSON.parse(form.json) as PluginInput;
            } catch (e) {
              return setError(new Error(`Not JSON: ${(e as Error).message}`));
            }
            try {
              await ok(api.PUT("/x/authConfig/{id}", { params: { path: { id: form.id } }, body }));
              setForm({ id: "", json: "" });
              clear();
              setInfo(`Saved ${form.id}.`);
              load();
            } catch (e) {
              setError(e);
            }
          }}
        >
          <h3>Create or replace a plugin</h3>
          <label for="plugin-id">Id</label>
          <input
            id="plugin-id"
            maxLength={32}
            value={form.id}
            onInput={(e) => setForm({ ...form, id: e.currentTarget.value })}
          />
          <label for="plugin-json">Configuration (JSON; the secret is write-only)</label>
          <textarea
            id="plugin-json"
            rows={10}
            maxLength={64_000}
            spellcheck={false}
            value={form.json}
            placeholder={JSON.stringify(EXAMPLE, null, 2)}
            onInput={(e) => setForm({ ...form, json: e.currentTarget.value })}
          />
          <button type="submit">Save plugin</button>
        </form>
      ) : null}

      <h2>Signing keys</h2>
      {me.root ? (
        <SigningKeysTable />
      ) : (
        <ul>
          {(keys ?? []).map((k) => (
            <li key={k.kid}>
              <code>{k.kid}</code> {k.alg}
            </li>
          ))}
        </ul>
      )}
      {me.root ? (
        <>
          <h2>Revocations</h2>
          <RevocationsTable />
        </>
      ) : null}

      <h2>Your passkeys</h2>
      <button
        type="button"
        onClick={async () => {
          setError(undefined);
          try {
            await registerPasskey();
            setInfo(`A passkey now signs in ${me.id}.`);
          } catch (e) {
            setError(e);
          }
        }}
      >
        Add a passkey
      </button>
    </section>
  );
}
