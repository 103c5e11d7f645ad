import { here, navigate } from "../router.js";

/**
 * The signed-in user's token lives in sessionStorage: it is gone when the tab closes, and other
 * sites' pages never see it. Where to return after signing in again sits beside it.
 */
const TOKEN = "amp-console.token";
const RETURN_TO = "amp-console.return-to";

export function currentToken(): string | undefined {
  return sessionStorage.getItem(TOKEN) ?? undefined;
}

export function signIn(token: string): void {
  sessionStorage.setItem(TOKEN, token);
  const back = sessionStorage.getItem(RETURN_TO);
  sessionStorage.removeItem(RETURN_TO);
  navigate(back && !back.startsWith("signin") ? back : "apps", { replace: true });
}

/** A page opened without a token: sign-in will come back to it. */
export function returnHereAfterSignIn(): void {
  if (!here().startsWith("signin")) sessionStorage.setItem(RETURN_TO, here());
}

export function signOut(): void {
  sessionStorage.removeItem(TOKEN);
  navigate("signin", { replace: true });
}

/**
 * The API refused the token (expired or revoked): back to sign-in, remembering the page. The
 * forms keep their drafts (see `useDraft`), so the person finds their edit where they left it.
 */
export function tokenRefused(): void {
  if (!currentToken()) return;
  sessionStorage.removeItem(TOKEN);
  sessionStorage.setItem(RETURN_TO, here());
  navigate("signin?expired=1", { replace: true });
}
