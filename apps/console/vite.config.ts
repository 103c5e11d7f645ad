import preact from "@preact/preset-vite";
import { defineConfig } from "vite";

/** `npm run dev` talks to a local amp (AMP_URL, default http://localhost:8000) through Vite's proxy. */
const amp = process.env.AMP_URL ?? "http://localhost:8000";

export default defineConfig({
  base: "/_/",
  plugins: [preact()],
  build: { outDir: "dist", emptyOutDir: true, assetsDir: "assets", sourcemap: false, target: "es2022" },
  server: { proxy: { "^/(?!_/|@|node_modules|src/)": { target: amp, ws: true, changeOrigin: true } } },
});
