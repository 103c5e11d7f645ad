import { exportJWK, generateKeyPair, type JWK, jwtVerify, SignJWT } from "jose";

// Broker, compiler and their neighbours need real signed tokens without standing up @amp/auth.

/** The user a verified token names: the shape of `@amp/auth`'s `AmpUser`. */
export interface TestUser {
  id: string;
  anonymous: boolean;
  root: boolean;
  claims: Record<string, unknown>;
}

type KeyPair = Awaited<ReturnType<typeof generateKeyPair>>;

/** Real Ed25519 JWTs: signs tokens and verifies them with jose (the shape @amp/auth's verifier has). */
export class TestTokens {
  private constructor(
    private readonly privateKey: KeyPair["privateKey"],
    private readonly publicKey: KeyPair["publicKey"],
  ) {}

  static async create(): Promise<TestTokens> {
    const { privateKey, publicKey } = await generateKeyPair("EdDSA", { crv: "Ed25519", extractable: true });
    return new TestTokens(privateKey, publicKey);
  }

  publicJwk(): Promise<JWK> {
    return exportJWK(this.publicKey);
  }

  sign(
    user: string,
    expiresIn: string | number = "1h",
    claims: Record<string, unknown> = {},
  ): Promise<string> {
    return new SignJWT({ ...claims, root: user === "root" })
      .setProtectedHeader({ alg: "EdDSA" })
      .setSubject(user)
      .setIssuer("amp-test")
      .setIssuedAt()
      .setExpirationTime(expiresIn)
      .sign(this.privateKey);
  }

  async verify(token: string): Promise<TestUser> {
    const { payload } = await jwtVerify(token, this.publicKey, { issuer: "amp-test", algorithms: ["EdDSA"] });
    if (!payload.sub) throw new Error("token has no subject");
    return { id: payload.sub, anonymous: false, root: payload.root === true, claims: payload };
  }
}
