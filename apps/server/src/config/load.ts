import { parseArgs } from "node:util";
import type { z } from "zod";
import { ConfigError } from "./errors.js";
import { type ServerConfig, type ServerConfigInput, serverConfigSchema } from "./schema.js";
import { SETTINGS, type SettingSource, settingName } from "./settings.js";

type SettingKey = keyof ServerConfigInput;
type RawInput = Partial<Record<SettingKey, string | boolean>>;

const ENTRIES = Object.entries(SETTINGS) as [SettingKey, SettingSource][];

/** The parseArgs option table, derived from SETTINGS so help, flags and schema never drift. */
const PARSE_OPTIONS = Object.fromEntries([
  ["help", { type: "boolean", short: "h" }],
  ...ENTRIES.filter(([, s]) => s.flag).map(([, s]) => [s.flag!, { type: s.value ? "string" : "boolean" }]),
]) as Record<string, { type: "string" | "boolean"; short?: string }>;

export type CommandLine = { help: true } | { help: false; config: ServerConfig };

/**
 * Reads the command line (without the subcommand) and the environment into a validated
 * config. Throws ConfigError naming the first bad setting.
 */
export function loadConfig(argv: readonly string[], env: NodeJS.ProcessEnv): CommandLine {
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({ args: [...argv], options: PARSE_OPTIONS, strict: true, allowPositionals: false });
  } catch (error) {
    throw commandLineError(error);
  }
  if (parsed.values.help) return { help: true };

  const raw: RawInput = {};
  const origin: Partial<Record<SettingKey, string>> = {};
  for (const [key, source] of ENTRIES) {
    const fromFlag = source.flag ? parsed.values[source.flag] : undefined;
    const fromEnv = source.env ? env[source.env] : undefined;
    if (fromFlag !== undefined) {
      raw[key] = source.negated ? !fromFlag : (fromFlag as string | boolean);
      origin[key] = `--${source.flag}`;
    } else if (fromEnv !== undefined && fromEnv !== "") {
      raw[key] = fromEnv;
      origin[key] = source.env!;
    }
  }
  return { help: false, config: validate(raw, (key) => origin[key] ?? settingName(SETTINGS[key])) };
}

/** Validates a config given by an embedding program, filling in the defaults. */
export function serverConfig(input: ServerConfigInput = {}): ServerConfig {
  return validate(input, (key) => key);
}

function validate(input: object, nameOf: (key: SettingKey) => string): ServerConfig {
  const result = serverConfigSchema.safeParse(input);
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  const key = issue.path[0] as SettingKey;
  const value = (input as Record<string, unknown>)[key];
  if (value === undefined) throw new ConfigError(nameOf(key), issueMessage(issue));
  const shown = SETTINGS[key]?.secret ? "" : ` ${JSON.stringify(value)}`;
  throw new ConfigError(nameOf(key), `invalid value${shown}: ${issueMessage(issue)}`);
}

function issueMessage(issue: z.core.$ZodIssue): string {
  // A union (typed value or text) reports each branch; the branch of the right type says more.
  if (issue.code === "invalid_union") {
    const branchIssues = issue.errors.flat();
    const telling = branchIssues.find((i) => i.code !== "invalid_type") ?? branchIssues[0];
    if (telling) return issueMessage(telling);
  }
  return issue.message;
}

function commandLineError(error: unknown): ConfigError {
  const message = error instanceof Error ? error.message : String(error);
  const flag = /'(-{1,2}[^' ]+)/.exec(message)?.[1] ?? "command line";
  return new ConfigError(flag, message.replace(/\. To specify a positional argument.*$/s, ""));
}
