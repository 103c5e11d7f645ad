import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { SETTINGS } from "../src/config/settings.js";
import { runBin } from "./helpers/server-process.js";

describe("amp --help", () => {
  it("lists every flag and environment variable and exits 0", async () => {
    const { code, stdout } = await runBin(["--help"]);
    expect(code).toBe(0);
    for (const source of Object.values(SETTINGS)) {
      if (source.flag) expect(stdout).toContain(`--${source.flag}`);
      if (source.env) expect(stdout).toContain(source.env);
    }
    // The settings the issue names, spelled out so a rename cannot slip through.
    for (const name of [
      "--port",
      "--admin-port",
      "--broker-port",
      "--solo",
      "--no-compiler",
      "--database-dir",
    ]) {
      expect(stdout).toContain(name);
    }
    for (const name of ["RMX_ORG", "RMX_WORKSPACE", "RMX_BASE_URL", "RMX_ROOT_USER", "RMX_SESSION_TIMEOUT"]) {
      expect(stdout).toContain(name);
    }
    expect(stdout).toContain("RMX_GROOVEBOX");
  });

  it("answers `amp help` and `amp serve --help` too", async () => {
    expect((await runBin(["help"])).code).toBe(0);
    const serveHelp = await runBin(["serve", "-h"]);
    expect(serveHelp.code).toBe(0);
    expect(serveHelp.stdout).toContain("--admin-host");
  });
});

describe("a bad setting exits 2 and names the setting", () => {
  const dir = mkdtempSync(join(tmpdir(), "amp-cli-"));
  const file = join(dir, "not-a-dir.txt");
  writeFileSync(file, "x");
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const cases: [string, string[], Record<string, string>, string][] = [
    ["a port that is not a number", ["--port", "http"], {}, "--port"],
    ["a port out of range", ["--admin-port", "65536"], {}, "--admin-port"],
    ["a negative port", ["--broker-port", "-1"], {}, "--broker-port"],
    ["an unknown flag", ["--prot", "8000"], {}, "--prot"],
    ["a flag without its value", ["--database-dir"], {}, "--database-dir"],
    ["a value given to a boolean flag", ["--solo=yes"], {}, "--solo"],
    ["a base URL that is not http(s)", [], { RMX_BASE_URL: "ftp://example.com" }, "RMX_BASE_URL"],
    ["a session timeout that is not a duration", [], { RMX_SESSION_TIMEOUT: "soon" }, "RMX_SESSION_TIMEOUT"],
    ["an org with a slash", [], { RMX_ORG: "a/b" }, "RMX_ORG"],
    ["a missing groovebox file", [], { RMX_GROOVEBOX: join(dir, "nope.wasm") }, "RMX_GROOVEBOX"],
    [
      "a groovebox flag beating a good variable",
      ["--groovebox", dir],
      { RMX_GROOVEBOX: file },
      "--groovebox",
    ],
    ["a static folder without --solo", ["--static-builder", dir], {}, "--static-builder"],
    ["a static folder that is a file", ["--solo", "--static-runtime", file], {}, "--static-runtime"],
    ["an unknown log level", [], { RMX_LOG_LEVEL: "loud" }, "RMX_LOG_LEVEL"],
    ["a short admin token", [], { RMX_ADMIN_TOKEN: "short" }, "RMX_ADMIN_TOKEN"],
    ["a grace that is not a duration", ["--shutdown-grace", "forever"], {}, "--shutdown-grace"],
    ["a zero body limit", ["--body-limit", "0"], {}, "--body-limit"],
  ];

  it.concurrent.each(cases)("%s", async (_label, args, env, setting) => {
    const { code, stderr, stdout } = await runBin(args, env);
    expect(code).toBe(2);
    expect(stderr).toMatch(new RegExp(`^amp: ${setting}: `));
    expect(stdout).toBe("");
  });

  it("never echoes a bad admin token", async () => {
    const { stderr } = await runBin([], { RMX_ADMIN_TOKEN: "s3cr3t" });
    expect(stderr).toContain("RMX_ADMIN_TOKEN");
    expect(stderr).not.toContain("s3cr3t");
  });

  it("refuses an unknown command with status 2", async () => {
    const { code, stderr } = await runBin(["frobnicate"]);
    expect(code).toBe(2);
    expect(stderr).toContain('unknown command "frobnicate"');
  });
});
