/** Running the CLI from tests: the built binary in a child process, or a command in-process with captured streams. */
import { execFile } from 'node:child_process';
import path from 'node:path';
import { Writable } from 'node:stream';
import type { CliIO } from '../../agent/cli/io.js';
import { ROOT } from '../helpers/build.js';

export const BIN = path.join(ROOT, 'dist/agent/cli/bin.js');

export interface CliRun { code: number; stdout: string; stderr: string }

/** The compiled CLI, without blocking the event loop; `uid`/`gid` run it as another user (root only). */
export function tonari(args: readonly string[], options: { uid?: number; gid?: number; cwd?: string; timeoutMs?: number } = {}): Promise<CliRun> {
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], {
      timeout: options.timeoutMs ?? 30_000, env: { ...process.env, STATE_DIRECTORY: '' },
      ...(options.uid !== undefined ? { uid: options.uid } : {}), ...(options.gid !== undefined ? { gid: options.gid } : {}), ...(options.cwd ? { cwd: options.cwd } : {}),
    }, (error, stdout, stderr) => {
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : -1) : 0, stdout, stderr });
    });
  });
}

/** A writable that keeps what is written; `tty` makes it look like a terminal of `columns`. */
export function sink(tty = false, columns = 200): Writable & { text: () => string; isTTY?: boolean; columns?: number } {
  let text = '';
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      text += chunk.toString();
      done();
    },
  }) as Writable & { text: () => string; isTTY?: boolean; columns?: number };
  stream.text = () => text;
  if (tty) Object.assign(stream, { isTTY: true, columns });
  return stream;
}

export function capture(options: { stdoutTTY?: boolean; stderrTTY?: boolean } = {}): CliIO & { out: () => string; err: () => string } {
  const stdout = sink(options.stdoutTTY);
  const stderr = sink(options.stderrTTY);
  return { stdout, stderr, isTTY: options.stdoutTTY === true, out: () => stdout.text(), err: () => stderr.text() };
}
