import { api, ok } from "../api/client.js";
import type { components } from "../api/schema.js";

type Registration = components["schemas"]["PasskeyRegistrationResponse"];
type Assertion = components["schemas"]["PasskeyAuthenticationResponse"];

const toBytes = (text: string): ArrayBuffer => {
  const base64 = text.replace(/-/g, "+").replace(/_/g, "/");
  const binary = atob(base64 + "=".repeat((4 - (base64.length % 4)) % 4));
  return Uint8Array.from(binary, (c) => c.charCodeAt(0)).buffer;
};

const toText = (bytes: ArrayBuffer): string =>
  btoa(String.fromCharCode(...new Uint8Array(bytes)))
    .replace(/\+/g, "-")
    .replace(/\//g, "_")
    .replace(/=+$/, "");

interface CredentialRefJson {
  id: string;
  type: "public-key";
  transports?: AuthenticatorTransport[];
}

/** The JSON the server's WebAuthn routes take: the credential's ids around the ceremony's `response`. */
const credentialJson = <R>(credential: PublicKeyCredential, response: R) => ({
  id: credential.id,
  rawId: toText(credential.rawId),
  type: "public-key" as const,
  clientExtensionResults: {},
  response,
});

const refs = (list: unknown) =>
  ((list as CredentialRefJson[] | undefined) ?? []).map((c) => ({ ...c, id: toBytes(c.id) }));

/** Signs in with a passkey: the server's challenge, the browser's assertion, an amp token. */
export async function passkeySignIn(user: string | undefined): Promise<string> {
  const options = await ok(api.POST("/x/pubkey/challenge", { body: user ? { user } : {} }));
  const credential = (await navigator.credentials.get({
    publicKey: {
      ...(options as unknown as PublicKeyCredentialRequestOptions),
      challenge: toBytes(options.challenge),
      allowCredentials: refs(options.allowCredentials),
    },
  })) as PublicKeyCredential | null;
  if (!credential) throw new Error("no passkey was chosen");
  const answer = credential.response as AuthenticatorAssertionResponse;
  const response: Assertion = credentialJson(credential, {
    clientDataJSON: toText(answer.clientDataJSON),
    authenticatorData: toText(answer.authenticatorData),
    signature: toText(answer.signature),
    ...(answer.userHandle ? { userHandle: toText(answer.userHandle) } : {}),
  });
  const { code } = await ok(api.POST("/x/pubkey/authenticate", { body: { response } }));
  const token = await ok(api.POST("/x/token", { body: { grant_type: "authorization_code", code } }));
  return token.access_token;
}

/** Adds a passkey to the signed-in user's account. */
export async function registerPasskey(): Promise<string> {
  const options = await ok(api.POST("/x/pubkey/register/options", { body: {} }));
  const creation = options as unknown as PublicKeyCredentialCreationOptions & {
    user: { id: string; name: string; displayName: string };
  };
  const credential = (await navigator.credentials.create({
    publicKey: {
      ...creation,
      challenge: toBytes(options.challenge),
      user: { ...creation.user, id: toBytes(creation.user.id) },
      excludeCredentials: refs(options.excludeCredentials),
    },
  })) as PublicKeyCredential | null;
  if (!credential) throw new Error("no passkey was made");
  const answer = credential.response as AuthenticatorAttestationResponse;
  const response: Registration = credentialJson(credential, {
    clientDataJSON: toText(answer.clientDataJSON),
    attestationObject: toText(answer.attestationObject),
    transports: answer.getTransports?.() ?? [],
  });
  const registered = await ok(api.POST("/x/pubkey/register/verify", { body: { response } }));
  return registered.credentialId;
}
