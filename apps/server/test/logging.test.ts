import { Hono } from "hono";
import { describe, expect, it } from "vitest";
import { requestLog } from "../src/http/request-log.js";
import { createLogger } from "../src/index.js";

function capture(level = "trace") {
  const lines: Record<string, unknown>[] = [];
  const logger = createLogger({
    level,
    destination: { write: (line: string) => void lines.push(JSON.parse(line)) },
  });
  return { logger, lines };
}

describe("the logger", () => {
  it("writes JSON with a GCP severity and a message field", () => {
    const { logger, lines } = capture();
    logger.trace("t");
    logger.debug("d");
    logger.info("i");
    logger.warn("w");
    logger.error("e");
    logger.fatal("f");
    expect(lines.map((l) => [l.severity, l.message])).toEqual([
      ["DEBUG", "t"],
      ["DEBUG", "d"],
      ["INFO", "i"],
      ["WARNING", "w"],
      ["ERROR", "e"],
      ["CRITICAL", "f"],
    ]);
    expect(typeof lines[0]!.time).toBe("string");
  });

  it("censors credentials in logged objects and URLs", () => {
    const { logger, lines } = capture();
    logger.info(
      {
        token: "t0k3n",
        password: "pa55",
        headers: { authorization: "Bearer abc.def" },
        req: { headers: { authorization: "Bearer xyz", cookie: "sid=1" }, token: "nested" },
        url: "/app/track.ws?token=eyJhbGci&session=7",
      },
      "request",
    );
    const text = JSON.stringify(lines[0]);
    for (const secret of ["t0k3n", "pa55", "abc.def", "xyz", "sid=1", "nested", "eyJhbGci"]) {
      expect(text).not.toContain(secret);
    }
    expect(lines[0]!.url).toBe("/app/track.ws?token=[redacted]&session=7");
  });

  it("writes one request line per request, with the token in its URL censored", async () => {
    const { logger, lines } = capture("info");
    const app = new Hono().use(requestLog(logger)).get("/:app/track.ws", (c) => c.text("ok", 201));
    await app.request("http://amp.test/app/track.ws?token=eyJhbGci.secret&session=7");
    await app.request("http://amp.test/x/health/live");
    expect(lines).toHaveLength(1); // health probes log at debug
    expect(lines[0]).toMatchObject({ message: "request", method: "GET", status: 201, severity: "INFO" });
    expect(lines[0]!.url).toBe("/app/track.ws?token=[redacted]&session=7");
    expect(JSON.stringify(lines[0])).not.toContain("eyJhbGci");
  });
});
