import { defineConfig, mergeConfig } from "vitest/config";
import { sharedConfig } from "../../vitest.shared.js";

export default mergeConfig(
  sharedConfig,
  defineConfig({
    // The browser tests run the built console inside the built server: build either when stale.
    test: { include: ["test/**/*.test.ts"], globalSetup: ["./test/build-once.ts"], fileParallelism: false },
  }),
);
