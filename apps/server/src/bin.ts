#!/usr/bin/env node
import module from "node:module";

// V8's compile cache (Node ≥ 22.1, in the OS temp folder) spares a restart most of the work of
// compiling amp's modules again; it must be on before they are imported, hence the dynamic import.
(module as { enableCompileCache?: () => unknown }).enableCompileCache?.();
await import("./cli/main.js");
