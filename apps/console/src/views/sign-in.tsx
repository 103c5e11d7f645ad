import { useEffect, useState } from "preact/hooks";
import { api, ok } from "../api/client.js";
import { ApiError } from "../api/errors.js";
import { signIn } from "../auth/credentials.js";
import { passkeySignIn } from "../auth/passkey.js";
import { BASE } from "../router.js";
import { Notice } from "../ui/notice.js";

const PLUGIN_ID = /^[a-z][a-z0-9-]{0,31}$/;

/** Checks a token against `GET /x/profile` before keeping it: an anonymous answer is no sign-in. */
async function acceptToken(token: string): Promise<void> {
  const profile = await ok(api.GET("/x/profile", { headers: { authorization: `Bearer ${token}` } }));
  if (profile.anonymous) throw new ApiError(401, "unauthenticated", "this token does not name a user");
  signIn(token);
}

/**
 * Three ways in: an operator token (`amp token --user …`), a passkey, or a login plugin of the
 * server, whose provider sends the person back here with `?code=` for `/x/token`.
 */
export function SignIn(props: { expired: boolean }) {
  const [token, setToken] = useState("");
  const [user, setUser] = useState("");
  const [plugin, setPlugin] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>();

  const attempt = async (work: () => Promise<void>) => {
    setBusy(true);
    setError(undefined);
    try {
      await work();
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };

  // Back from a login plugin's provider: exchange the one-time code for a token.
  useEffect(() => {
    const code = new URLSearchParams(location.search).get("code");
    if (!code) return;
    void attempt(async () => {
      const answer = await ok(api.POST("/x/token", { body: { grant_type: "authorization_code", code } }));
      await acceptToken(answer.access_token);
    });
  }, []);

  return (
    <main id="main" class="sign-in">
      <h1>Sign in to amp</h1>
      {props.expired ? (
        <Notice info="Your session ended (the token expired or was revoked). Sign in again to go back to where you were; your unsaved edits are kept." />
      ) : null}
      <Notice error={error} />
      <form
        onSubmit={(event) => {
          event.preventDefault();
          void attempt(() => acceptToken(token.trim()));
        }}
      >
        <h2>With an operator token</h2>
        <label for="token">Token</label>
        <textarea
          id="token"
          rows={3}
          required
          maxLength={8192}
          autoComplete="off"
          spellcheck={false}
          value={token}
          onInput={(e) => setToken(e.currentTarget.value)}
          placeholder="eyJ… (amp token --user <id>)"
        />
        <button type="submit" disabled={busy}>
          Sign in
        </button>
      </form>
      <form
        onSubmit={(event) => {
          event.preventDefault();
          void attempt(async () => acceptToken(await passkeySignIn(user.trim() || undefined)));
        }}
      >
        <h2>With a passkey</h2>
        <label for="passkey-user">User (optional)</label>
        <input
          id="passkey-user"
          maxLength={64}
          autoComplete="username webauthn"
          value={user}
          onInput={(e) => setUser(e.currentTarget.value)}
        />
        <button type="submit" disabled={busy}>
          Sign in with a passkey
        </button>
      </form>
      <form
        onSubmit={(event) => {
          event.preventDefault();
          if (!PLUGIN_ID.test(plugin))
            return setError(new Error("a plugin id is lowercase letters, digits and -"));
          const back = `${location.origin}${BASE}signin`;
          location.assign(`/x/auth/${plugin}?return_to=${encodeURIComponent(back)}`);
        }}
      >
        <h2>With a login plugin</h2>
        <p class="hint">
          The server lists its plugins only to signed-in users, so name it here (its return URLs must include{" "}
          <code>{`${location.origin}${BASE}signin`}</code>).
        </p>
        <label for="plugin">Plugin id</label>
        <input id="plugin" maxLength={32} value={plugin} onInput={(e) => setPlugin(e.currentTarget.value)} />
        <button type="submit" disabled={busy}>
          Continue
        </button>
      </form>
    </main>
  );
}
