import { writeFileSync } from "node:fs";
import { renderSchema, SCHEMA_FILE, serverDescription } from "./api-schema.js";

// Builds nothing: run `turbo run build --filter amp` first when the server changed.
writeFileSync(SCHEMA_FILE, await renderSchema(await serverDescription()));
console.log(`wrote ${SCHEMA_FILE.pathname}`);
