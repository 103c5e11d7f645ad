import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { parseDuration, redactUrl } from "../src/index.js";

describe("redactUrl", () => {
  it("hides credential query values and keeps the rest", () => {
    expect(redactUrl("/shop/track.ws?token=eyJ.abc.def&session=1")).toBe(
      "/shop/track.ws?token=REDACTED&session=1",
    );
    expect(redactUrl("https://h/x/auth/oidc/callback?code=abc&state=s")).toBe(
      "https://h/x/auth/oidc/callback?code=REDACTED&state=s",
    );
    expect(redactUrl("/a?Access_Token=x")).toBe("/a?Access_Token=REDACTED");
    expect(redactUrl("/plain/path")).toBe("/plain/path");
  });

  it("never lets a token value through, whatever surrounds it (property)", () => {
    const name = fc.constantFrom("token", "access_token", "refresh_token", "id_token", "code", "TOKEN");
    const other = fc.stringMatching(/^[a-z]{1,8}=[a-z0-9]{0,8}$/);
    const secret = fc.stringMatching(/^[A-Za-z0-9._-]{12,40}$/);
    fc.assert(
      fc.property(
        fc.array(other, { maxLength: 4 }),
        name,
        secret,
        fc.array(other, { maxLength: 4 }),
        (pre, n, s, post) => {
          const url = `/app/track.ws?${[...pre, `${n}=${s}`, ...post].join("&")}`;
          expect(redactUrl(url)).not.toContain(s);
        },
      ),
    );
  });
});

describe("parseDuration", () => {
  it("reads seconds and unit sums", () => {
    expect(parseDuration("3600")).toBe(3600);
    expect(parseDuration("90m")).toBe(5400);
    expect(parseDuration("1h30m")).toBe(5400);
    expect(parseDuration("7d")).toBe(604_800);
    expect(parseDuration("2w")).toBe(1_209_600);
  });

  it("rejects anything else with a RangeError", () => {
    for (const bad of ["", "0", "-5", "1.5h", "h", "10x", "1h 30m", "99999999999999999d"]) {
      expect(() => parseDuration(bad), bad).toThrow(RangeError);
    }
  });

  it("round-trips any unit sum (property)", () => {
    const part = fc.tuple(fc.integer({ min: 1, max: 1000 }), fc.constantFrom("s", "m", "h", "d", "w"));
    const size = { s: 1, m: 60, h: 3600, d: 86_400, w: 604_800 } as const;
    fc.assert(
      fc.property(fc.array(part, { minLength: 1, maxLength: 4 }), (parts) => {
        const text = parts.map(([n, u]) => `${n}${u}`).join("");
        expect(parseDuration(text)).toBe(parts.reduce((sum, [n, u]) => sum + n * size[u], 0));
      }),
    );
  });
});
