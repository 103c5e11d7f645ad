/**
 * The console's first load in headless Chromium on loopback, against a real amp serving the
 * built console: the bytes of the shell (every response of a cold load of /_/, as sent and
 * gzip-compressed, since amp sends them uncompressed) and the time until the sign-in form works.
 * Build first: `turbo run build --filter @amp/console...`. Run: `npm run bench` in apps/console.
 */
import { gzipSync } from "node:zlib";
import { launchChromium } from "@amp/test-support";
import { ServerProcess } from "../../server/test/helpers/server-process.js";

const RUNS = 7;
const TARGET_GZIP_BYTES = 250 * 1024;

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

const amp = await new ServerProcess(["--no-compiler"]).ready(30_000);
const browser = await launchChromium();
try {
  const url = `http://localhost:${amp.http}/_/`;
  const times: number[] = [];
  let sent = 0;
  let gzip = 0;
  let files: string[] = [];
  for (let run = 0; run < RUNS; run++) {
    // A new context each time: a cold cache, as a first visit.
    const context = await browser.newContext();
    const page = await context.newPage();
    const bodies: Promise<{ url: string; bytes: Buffer }>[] = [];
    page.on("response", (res) => bodies.push(res.body().then((bytes) => ({ url: res.url(), bytes }))));
    const start = performance.now();
    await page.goto(url);
    // Interactive: the sign-in form is rendered and its button can be pressed.
    await page.getByRole("button", { name: "Sign in", exact: true }).waitFor({ state: "visible" });
    times.push(performance.now() - start);
    const loaded = await Promise.all(bodies);
    sent = loaded.reduce((sum, r) => sum + r.bytes.length, 0);
    gzip = loaded.reduce((sum, r) => sum + gzipSync(r.bytes, { level: 9 }).length, 0);
    files = loaded.map((r) => `${new URL(r.url).pathname} ${r.bytes.length} B`);
    await context.close();
  }
  console.log(`console first load (${RUNS} cold loads of ${url}, headless Chromium, loopback)`);
  for (const file of files) console.log(`  ${file}`);
  console.log(`  shell: ${sent} B as sent, ${gzip} B gzip (target ≤ ${TARGET_GZIP_BYTES} B gzip)`);
  console.log(
    `  time to interactive: median ${median(times).toFixed(0)} ms, min ${Math.min(...times).toFixed(0)} ms, max ${Math.max(...times).toFixed(0)} ms`,
  );
  if (gzip > TARGET_GZIP_BYTES) process.exitCode = 1;
} finally {
  await browser.close();
  await amp.dispose();
}
