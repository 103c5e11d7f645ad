import { useEffect, useState } from "preact/hooks";
import { api, ok } from "./api/client.js";
import { currentToken, returnHereAfterSignIn, signOut } from "./auth/credentials.js";
import { Me, type Profile } from "./auth/me.js";
import { type Route, useRoute } from "./router.js";
import { Link } from "./ui/link.js";
import { Notice } from "./ui/notice.js";
import { AppDetail } from "./views/app-detail.js";
import { AppsView } from "./views/apps.js";
import { AuthView } from "./views/auth.js";
import { BrokerView } from "./views/broker.js";
import { AppData } from "./views/data.js";
import { LogsView } from "./views/logs.js";
import { ServerView } from "./views/server.js";
import { SessionsView } from "./views/sessions.js";
import { SignIn } from "./views/sign-in.js";

/** The navigation: only views that work are listed. */
const SECTIONS = [
  { to: "apps", label: "Apps" },
  { to: "sessions", label: "Sessions" },
  { to: "broker", label: "Broker" },
  { to: "auth", label: "Auth" },
  { to: "server", label: "Server" },
  { to: "logs", label: "Logs" },
] as const;

export function App() {
  const route = useRoute();
  const token = currentToken();
  const [me, setMe] = useState<{ token: string; profile: Profile }>();
  const [error, setError] = useState<unknown>();

  useEffect(() => {
    setError(undefined);
    if (!token || me?.token === token) return;
    ok(api.GET("/x/profile")).then((profile) => setMe({ token, profile }), setError);
  }, [token, me?.token]);

  if (!token || route.path === "signin") {
    if (route.path !== "signin") returnHereAfterSignIn();
    return <SignIn expired={route.query.has("expired")} />;
  }
  if (error) return <Notice error={error} />;
  if (me?.token !== token)
    return (
      <p class="loading" role="status">
        Loading…
      </p>
    );
  return (
    <Me.Provider value={me.profile}>
      <a href="#main" class="skip">
        Skip to content
      </a>
      <header class="bar">
        <Link to="apps" class="brand">
          amp console
        </Link>
        <nav aria-label="Sections">
          {SECTIONS.map((s) => (
            <Link key={s.to} to={s.to} current={route.path.split("/")[0] === s.to}>
              {s.label}
            </Link>
          ))}
        </nav>
        <span class="who">
          <span title="Signed in as">{me.profile.id}</span>
          {me.profile.root ? <span class="badge">root</span> : null}
          <button type="button" onClick={signOut}>
            Sign out
          </button>
        </span>
      </header>
      <main id="main" tabIndex={-1}>
        <View route={route} />
      </main>
    </Me.Provider>
  );
}

function View({ route }: { route: Route }) {
  const [section, name, sub] = route.path.split("/");
  switch (section) {
    case "":
    case "apps":
      if (name && sub === "data") return <AppData app={name} />;
      if (name) return <AppDetail app={name} />;
      return <AppsView />;
    case "sessions":
      return <SessionsView />;
    case "broker":
      return <BrokerView />;
    case "auth":
      return <AuthView />;
    case "server":
      return <ServerView />;
    case "logs":
      return <LogsView />;
    default:
      return (
        <section>
          <h1>Not found</h1>
          <p>
            There is no page at <code>{route.path}</code>. <Link to="apps">Go to the apps.</Link>
          </p>
        </section>
      );
  }
}
