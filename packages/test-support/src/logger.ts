import { type Logger, pino } from "pino";

/** Every suite passes a logger in; this one stays quiet unless `AMP_TEST_LOG` names a level. */
export const silentLogger: Logger = pino({ level: process.env.AMP_TEST_LOG ?? "silent" });
