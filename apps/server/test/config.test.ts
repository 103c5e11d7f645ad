import { resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig, serverConfig } from "../src/index.js";

describe("serverConfig", () => {
  it("fills in the embedded defaults", () => {
    expect(serverConfig()).toMatchObject({
      org: "local",
      workspace: "default",
      port: 8000,
      adminPort: 8001,
      brokerPort: 8002,
      adminHost: "127.0.0.1",
      solo: false,
      compiler: true,
      databaseDir: resolve("data"),
      sessionTimeoutMs: 300_000,
      shutdownGraceMs: 10_000,
      logLevel: "info",
    });
    expect(serverConfig().baseURL).toBeUndefined();
  });

  it("accepts typed values from an embedding program and names the field it refuses", () => {
    expect(serverConfig({ port: 0, sessionTimeoutMs: 1_500 })).toMatchObject({
      port: 0,
      sessionTimeoutMs: 1_500,
    });
    expect(() => serverConfig({ port: 1.5 })).toThrow(ConfigError);
    expect(() => serverConfig({ port: 1.5 })).toThrow(/^port: /);
  });
});

describe("loadConfig", () => {
  it("reads flags over the environment over defaults", () => {
    const cl = loadConfig(["--port", "9000", "--no-compiler", "--log-level", "warn"], {
      RMX_ORG: "acme",
      RMX_BASE_URL: "https://amp.acme.test/base/",
      RMX_SESSION_TIMEOUT: "1h30m",
      RMX_LOG_LEVEL: "debug",
    });
    expect(cl.help).toBe(false);
    if (cl.help) return;
    expect(cl.config).toMatchObject({
      port: 9000,
      compiler: false,
      logLevel: "warn",
      org: "acme",
      baseURL: "https://amp.acme.test/base",
      sessionTimeoutMs: 5_400_000,
    });
  });

  it("ignores an empty variable, as if unset", () => {
    const cl = loadConfig([], { RMX_ORG: "" });
    expect(!cl.help && cl.config.org).toBe("local");
  });

  it("reports --help without validating anything else", () => {
    expect(loadConfig(["--port", "nope", "--help"], {})).toEqual({ help: true });
  });

  it("names the flag a bad value came from, or the variable", () => {
    expect(() => loadConfig(["--port", "x"], {})).toThrow(/^--port: invalid value "x"/);
    expect(() => loadConfig([], { RMX_WORKSPACE: "no spaces" })).toThrow(/^RMX_WORKSPACE: /);
    const error = (() => {
      try {
        loadConfig(["--admin-port", "99999"], {});
      } catch (e) {
        return e as ConfigError;
      }
    })();
    expect(error?.setting).toBe("--admin-port");
    expect(error?.code).toBe("invalid_config");
  });
});

describe("settings the composition reads", () => {
  it("splits host and user lists, and refuses a malformed host", () => {
    const cl = loadConfig(
      ["--http-allow", "api.example.com, *.cdn.example.com", "--http-allow-private", "127.0.0.1"],
      {
        RMX_SERVER_USERS: "compiler-1,compiler-2",
        RMX_GROOVEBOX_BUILD: "900",
      },
    );
    expect(cl.help).toBe(false);
    if (cl.help) return;
    expect(cl.config).toMatchObject({
      httpAllow: ["api.example.com", "*.cdn.example.com"],
      httpAllowPrivate: ["127.0.0.1"],
      serverUsers: ["compiler-1", "compiler-2"],
      grooveboxBuild: 900,
    });
    expect(() => loadConfig(["--http-allow", "http://evil/"], {})).toThrow(/^--http-allow: /);
  });

  it("never echoes a refused master key", () => {
    const attempt = () => loadConfig([], { RMX_MASTER_KEY: "too-short-secret" });
    expect(attempt).toThrow(/^RMX_MASTER_KEY: /);
    expect(attempt).not.toThrow(/too-short-secret/);
  });
});
