import fc from "fast-check";
import { decodeJwt } from "jose";
import { afterEach, describe, expect, it } from "vitest";
import { createOperatorToken, PROFILE_CLAIMS, withProfileClaims } from "../src/index.js";
import { cleanup, openTokens, tempDir } from "./helpers.js";

afterEach(cleanup);

/** What Remix's web runtime checks before it sends anything (it decodes, it does not verify). */
function readableByTheWebRuntime(token: string): boolean {
  const payload = decodeJwt(token);
  return Number.isInteger(payload.exp) && PROFILE_CLAIMS.every((name) => typeof payload[name] === "string");
}

describe("profile claims in every token amp hands to a person", () => {
  it("issue, session, refresh and renew: the identity's values, empty strings otherwise", async () => {
    const { tokens } = await openTokens();
    const plain = await tokens.issue("alice");
    expect(readableByTheWebRuntime(plain)).toBe(true);
    expect(decodeJwt(plain)).toMatchObject({ email: "", name: "", given_name: "", family_name: "" });
    expect(decodeJwt(plain)).not.toHaveProperty("picture");

    const session = await tokens.issueSession({
      user: "bob",
      claims: {
        email: "bob@example.com",
        name: "Bob B",
        given_name: "Bob",
        picture: "https://p.example/b.png",
      },
      plugin: "oidc-1",
    });
    for (const token of [session.access_token, session.refresh_token!]) {
      expect(readableByTheWebRuntime(token)).toBe(true);
      expect(decodeJwt(token)).toMatchObject({
        email: "bob@example.com",
        name: "Bob B",
        given_name: "Bob",
        family_name: "",
        picture: "https://p.example/b.png",
      });
    }
    const refreshed = await tokens.refresh(session.refresh_token!);
    expect(decodeJwt(refreshed.access_token)).toMatchObject({ email: "bob@example.com", given_name: "Bob" });
    const renewed = await tokens.renew(refreshed.access_token);
    expect(decodeJwt(renewed.access_token)).toMatchObject({
      email: "bob@example.com",
      picture: "https://p.example/b.png",
    });
    // Still verifiable by amp itself, and the user is still the token's subject, not its email.
    expect((await tokens.verify(renewed.access_token)).id).toBe("bob");
  });

  it("`amp token` (operator tokens) carries them too", async () => {
    const dir = tempDir();
    const token = await createOperatorToken({ databaseDir: dir, user: "ops" });
    expect(readableByTheWebRuntime(token)).toBe(true);
  });

  it("a claim of the wrong type or size becomes an empty string, never a crash", () => {
    fc.assert(
      fc.property(
        fc.dictionary(fc.constantFrom(...PROFILE_CLAIMS, "picture", "x"), fc.anything()),
        (claims) => {
          const out = withProfileClaims(claims);
          for (const name of PROFILE_CLAIMS) {
            expect(typeof out[name]).toBe("string");
            const given = claims[name];
            if (typeof given === "string" && given.length <= 256) expect(out[name]).toBe(given);
          }
          if ("picture" in out) expect(typeof out.picture).toBe("string");
        },
      ),
    );
    expect(withProfileClaims({ email: "x".repeat(257) }).email).toBe("");
  });
});
