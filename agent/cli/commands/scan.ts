import { EXIT, writeLine, type CliIO } from '../io.js';

export async function scanCommand(_argv: string[], io: CliIO): Promise<number> {
  writeLine(io.stderr, 'tonari scan: not available in this build yet');
  return EXIT.SOFTWARE;
}
