/** What a CLI command may touch: its arguments and output streams. */
export interface CliIO {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  /** True when stdout is an interactive terminal (progress, colours). */
  isTTY: boolean;
}

/** Exit codes from sysexits.h that installers and systemd see. */
export const EXIT = {
  OK: 0,
  FAILURE: 1,
  USAGE: 64,
  UNAVAILABLE: 69,
  SOFTWARE: 70,
  IOERR: 74,
  CONFIG: 78,
} as const;

export type Command = (argv: string[], io: CliIO) => Promise<number>;

export function writeLine(stream: NodeJS.WritableStream, line = ''): void {
  stream.write(`${line}\n`);
}
