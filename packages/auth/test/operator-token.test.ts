import { afterEach, describe, expect, it } from "vitest";
import { createOperatorToken } from "../src/index.js";
import { cleanup, openTokens, tempDir } from "./helpers.js";

afterEach(cleanup);

describe("createOperatorToken (amp token)", () => {
  it("signs with the running server's keys and issuer; the server accepts the token", async () => {
    const server = await openTokens({ issuer: "https://amp.example", rootUser: "ops" });
    const token = await createOperatorToken({ databaseDir: server.dir, user: "ops", ttl: "90m" });
    const user = await server.tokens.verify(token);
    expect(user).toMatchObject({ id: "ops", root: true });
    expect(user.claims.iss).toBe("https://amp.example");
    expect((user.claims.exp as number) - (user.claims.iat as number)).toBe(5400);
  });

  it("works before the server ever started: the server then uses the keys it created", async () => {
    const dir = tempDir();
    const token = await createOperatorToken({ databaseDir: dir, user: "script", ttl: 60 });
    const server = await openTokens({}, dir);
    expect((await server.tokens.verify(token)).id).toBe("script");
  });

  it("is refused by a server with other keys", async () => {
    const token = await createOperatorToken({ databaseDir: tempDir(), user: "ops" });
    const other = await openTokens();
    await expect(other.tokens.verify(token)).rejects.toMatchObject({ code: "token_invalid" });
  });

  it("rejects a bad ttl or user", async () => {
    const dir = tempDir();
    await expect(createOperatorToken({ databaseDir: dir, user: "ops", ttl: "soon" })).rejects.toThrow(
      /duration/,
    );
    await expect(createOperatorToken({ databaseDir: dir, user: "anon-1" })).rejects.toMatchObject({
      code: "invalid_request",
    });
  });
});
