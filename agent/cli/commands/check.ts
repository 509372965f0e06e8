import { parseArgs } from 'node:util';
import { ConfigError } from '../../config/errors.js';
import { DEFAULT_CONFIG_PATH, loadConfigFile } from '../../config/load.js';
import { configToYaml } from '../../config/parse.js';
import { commandLine, configUnreadableHint } from '../hints.js';
import { EXIT, writeLine, type CliIO } from '../io.js';

const USAGE = `usage: tonari check [FILE] [--config FILE] [--print] [--json]

Validates a configuration file (default ${DEFAULT_CONFIG_PATH}).
Prints "FILE: ok" and exits 0, or prints every problem as FILE:LINE:COL: message and exits 78.

  --config FILE   the file to check (same as giving FILE)
  --print         print the effective configuration, defaults filled in, instead of "ok"
  --json          print one JSON object: {"file", "ok", "problems": [{"file", "line",
                  "col", "path", "message"}]}, and with --print the effective
                  configuration as "config" (durations in milliseconds)`;

export async function checkCommand(argv: string[], io: CliIO): Promise<number> {
  let args;
  try {
    args = parseArgs({
      args: argv,
      allowPositionals: true,
      options: { config: { type: 'string', short: 'c' }, print: { type: 'boolean' }, json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } },
    });
  } catch (error) {
    writeLine(io.stderr, `tonari check: ${(error as Error).message}\n\n${USAGE}`);
    return EXIT.USAGE;
  }
  const { values, positionals } = args;
  if (values.help) {
    writeLine(io.stdout, USAGE);
    return EXIT.OK;
  }
  if (positionals.length > 1 || (positionals.length === 1 && values.config !== undefined && values.config !== positionals[0])) {
    writeLine(io.stderr, `tonari check: give one file to check\n\n${USAGE}`);
    return EXIT.USAGE;
  }
  const file = positionals[0] ?? values.config ?? DEFAULT_CONFIG_PATH;
  try {
    const config = await loadConfigFile(file);
    if (values.json) writeLine(io.stdout, JSON.stringify({ file, ok: true, problems: [], ...(values.print ? { config } : {}) }));
    else if (values.print) io.stdout.write(configToYaml(config));
    else writeLine(io.stdout, `${file}: ok`);
    return EXIT.OK;
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    if (values.json) {
      writeLine(io.stdout, JSON.stringify({ file, ok: false, problems: error.issues.map((i) => ({ file: i.file, line: i.line ?? null, col: i.col ?? null, path: i.path, message: i.message })) }));
      return EXIT.CONFIG;
    }
    writeLine(io.stderr, error.format());
    // Only for the default file: a missing /etc/tonari/tonari.yaml means tonari is not set up yet,
    // while a path given by hand that does not exist is most likely mistyped.
    const hint = error.issues.length === 1 ? configUnreadableHint(error.issues[0]!.message, file, commandLine('check', argv)) : undefined;
    if (hint !== undefined && (file === DEFAULT_CONFIG_PATH || !/no such file/.test(error.issues[0]!.message))) writeLine(io.stderr, `tonari check: ${hint}`);
    return EXIT.CONFIG;
  }
}
