import { EXIT, writeLine, type CliIO } from '../io.js';

export async function initCommand(_argv: string[], io: CliIO): Promise<number> {
  writeLine(io.stderr, 'tonari init: not available in this build yet');
  return EXIT.SOFTWARE;
}
