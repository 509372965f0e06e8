import { EXIT, writeLine, type CliIO } from '../io.js';

export async function runCommand(_argv: string[], io: CliIO): Promise<number> {
  writeLine(io.stderr, 'tonari run: not available in this build yet');
  return EXIT.SOFTWARE;
}
