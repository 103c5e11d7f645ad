import { silentLogger } from "./logger.js";

// Broker and compiler suites start the embedded broker the same way; the class is passed in,
// since this package depends on no amp package (they all depend on it).

/** What every test broker shares: quiet logs, an ephemeral TCP port on loopback. */
export const testBrokerDefaults = { logger: silentLogger, port: 0, host: "127.0.0.1" } as const;

type Defaulted = keyof typeof testBrokerDefaults;

/** Starts `new Broker({...testBrokerDefaults, ...options})` and resolves once it listens. */
export async function startBroker<Options extends object, B extends { start(): Promise<unknown> }>(
  Broker: new (options: Options) => B,
  options: Omit<Options, Defaulted> & Partial<Pick<Options, Defaulted & keyof Options>>,
): Promise<B> {
  const broker = new Broker({ ...testBrokerDefaults, ...options } as unknown as Options);
  await broker.start();
  return broker;
}
