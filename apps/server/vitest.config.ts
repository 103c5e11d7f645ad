import { defineConfig, mergeConfig } from "vitest/config";
import { sharedConfig } from "../../vitest.shared.js";

export default mergeConfig(
  sharedConfig,
  defineConfig({
    // The process tests run the built bin; build it first when src is newer than dist.
    test: { globalSetup: ["./test/helpers/build-once.ts"] },
  }),
);
