export type { Browser, BrowserContext, Page } from "playwright-core";
export { CHROMIUM, launchChromium } from "./chromium.js";
export {
  findRemixArtifacts,
  type RemixArtifacts,
  remixArtifactsFor,
  SHARED_REMIX_PUBLIC,
} from "./remix-artifacts.js";
