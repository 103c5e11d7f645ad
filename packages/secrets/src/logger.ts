import { pino } from "pino";

/** Used when the caller passes no logger. */
export const silentLogger = pino({ level: "silent" });
