export type { AmpUser, AuthVariables } from "./user.js";
