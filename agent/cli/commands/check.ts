import { EXIT, writeLine, type CliIO } from '../io.js';

export async function checkCommand(_argv: string[], io: CliIO): Promise<number> {
  writeLine(io.stderr, 'tonari check: not available in this build yet');
  return EXIT.SOFTWARE;
}
