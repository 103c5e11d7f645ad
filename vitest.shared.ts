import { defaultServerConditions } from "vite";
import { defineConfig } from "vitest/config";

// Tests import sibling workspace packages from their TypeScript sources (the
// "@amp/source" export condition), so a test run never needs a prior build.
export const sharedConfig = defineConfig({
  resolve: { conditions: ["@amp/source", ...defaultServerConditions] },
  ssr: { resolve: { conditions: ["@amp/source", ...defaultServerConditions] } },
  test: {
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: "forks",
    reporters: ["default"],
  },
});
