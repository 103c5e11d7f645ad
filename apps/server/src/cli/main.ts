import { composeAmp } from "../compose/compose.js";
import { helpText } from "./help.js";
import { EXIT_BAD_CONFIG, serve } from "./serve.js";
import { printOperatorToken } from "./token.js";

// `amp [command] [flags]`; serve is the default command.
const [first, ...rest] = process.argv.slice(2);
const command = first === undefined || first.startsWith("-") ? "serve" : first;
const args = command === first ? rest : process.argv.slice(2);

const io = {
  env: process.env,
  stdout: (text: string) => process.stdout.write(text),
  stderr: (text: string) => process.stderr.write(text),
  tty: process.stderr.isTTY === true,
  exit: (code: number) => process.exit(code),
};

switch (command) {
  case "serve":
    await serve({ ...io, argv: args, compose: composeAmp });
    break;
  case "token":
    await printOperatorToken({ ...io, argv: args });
    break;
  case "help":
    io.stdout(helpText());
    break;
  default:
    io.stderr(`amp: unknown command "${command}"\nRun "amp --help" for usage.\n`);
    process.exitCode = EXIT_BAD_CONFIG;
}
