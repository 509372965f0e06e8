/**
 * Progress for long CLI work. On a terminal: one status line at the bottom,
 * rewritten in place, with permanent lines printed above it. Anywhere else (a pipe,
 * a file, the journal) the status line is never written: the caller prints its
 * occasional plain lines instead, so logs hold results, not spinner frames.
 */

/** True when the stream is an interactive terminal. */
export function isTerminal(stream: NodeJS.WritableStream): boolean {
  return (stream as NodeJS.WriteStream).isTTY === true;
}

const CLEAR_LINE = '\r\x1b[2K';

export class LiveLine {
  private status = '';

  /** `live`: rewrite a status line (only ever true for a terminal). */
  constructor(private readonly stream: NodeJS.WritableStream, readonly live: boolean = isTerminal(stream)) {}

  /** Replaces the status line (a no-op unless live). */
  set(text: string): void {
    if (!this.live) return;
    this.status = this.fit(text);
    this.stream.write(`${CLEAR_LINE}${this.status}`);
  }

  /** Prints a permanent line, above the status line when there is one. */
  print(line: string): void {
    if (this.live && this.status !== '') this.stream.write(`${CLEAR_LINE}${line}\n${this.status}`);
    else this.stream.write(`${line}\n`);
  }

  /** Erases the status line (before exiting, or before output that must start on a clean line). */
  clear(): void {
    if (this.live && this.status !== '') this.stream.write(CLEAR_LINE);
    this.status = '';
  }

  /** A status line longer than the terminal would wrap, and then could not be rewritten. */
  private fit(text: string): string {
    const columns = (this.stream as NodeJS.WriteStream).columns;
    return columns && text.length >= columns ? `${text.slice(0, Math.max(0, columns - 2))}…` : text;
  }
}
