import { EXIT, writeLine, type CliIO } from '../io.js';

export async function simulateCommand(_argv: string[], io: CliIO): Promise<number> {
  writeLine(io.stderr, 'tonari simulate: not available in this build yet');
  return EXIT.SOFTWARE;
}
