import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { parseDuration, redactUrl } from "../src/index.js";

describe("redactUrl", () => {
  it("hides credential query values and keeps the rest", () => {
    expect(redactUrl("/shop/track.ws?token=eyJ.abc.def&session=1")).toBe(
      "/shop/track.ws?token=[redacted]&session=1",
    );
    expect(redactUrl("https://h/x/auth/oidc/callback?code=abc&state=s")).toBe(
      "https://h/x/auth/oidc/callback?code=[redacted]&state=s",
    );
    expect(redactUrl("/a?Access_Token=x")).toBe("/a?Access_Token=[redacted]");
    expect(redactUrl("/plain/path")).toBe("/plain/path");
    expect(redactUrl("https://h/p?a=1&access_token=abc&b=2#frag")).toBe(
      "https://h/p?a=1&access_token=[redacted]&b=2#frag",
    );
    expect(redactUrl("/x?%74oken=abc&password=p&tok=keep")).toBe(
      "/x?%74oken=[redacted]&password=[redacted]&tok=keep",
    );
    expect(redactUrl("/x?flag&token=")).toBe("/x?flag&token=[redacted]");
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
  it("reads plain seconds, Go-style unit sums, days and weeks, in milliseconds", () => {
    expect(parseDuration("3600")).toBe(3_600_000);
    expect(parseDuration("250ms")).toBe(250);
    expect(parseDuration("90m")).toBe(5_400_000);
    expect(parseDuration("1h30m")).toBe(5_400_000);
    expect(parseDuration("1.5h")).toBe(5_400_000);
    expect(parseDuration("7d")).toBe(604_800_000);
    expect(parseDuration("2w")).toBe(1_209_600_000);
  });

  it("answers undefined for anything else", () => {
    for (const bad of ["", "-5", "h", "10x", "1h 30m", "99999999999999999d", "5s5"]) {
      expect(parseDuration(bad), bad).toBeUndefined();
    }
  });

  it("never throws and only yields finite non-negative numbers, whatever the text (property)", () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 40 }), (text) => {
        const ms = parseDuration(text);
        expect(ms === undefined || (Number.isFinite(ms) && ms >= 0)).toBe(true);
      }),
    );
  });

  it("round-trips any unit sum (property)", () => {
    const part = fc.tuple(fc.integer({ min: 1, max: 1000 }), fc.constantFrom("ms", "s", "m", "h", "d", "w"));
    const size = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 } as const;
    fc.assert(
      fc.property(fc.array(part, { minLength: 1, maxLength: 4 }), (parts) => {
        const text = parts.map(([n, u]) => `${n}${u}`).join("");
        expect(parseDuration(text)).toBe(parts.reduce((sum, [n, u]) => sum + n * size[u], 0));
      }),
    );
  });
});
