/**
 * A real AF_UNIX datagram socket standing in for systemd's NOTIFY_SOCKET: the Python
 * script notify-receiver.py (Node has no SOCK_DGRAM unix sockets) started as a child;
 * every message it receives is collected with its arrival time.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const PYTHON = '/usr/bin/python3';
const SCRIPT = path.join(path.dirname(fileURLToPath(import.meta.url)), 'notify-receiver.py');

export interface NotifyMessage {
  /** Arrival, ms of Date.now() in this process. */
  at: number;
  pid: number | null;
  fields: Record<string, string>;
}

export class NotifySocket {
  readonly messages: NotifyMessage[] = [];
  readonly path: string;
  private readonly dir: string;
  private readonly child: ChildProcess;
  private stderr = '';

  private constructor(dir: string) {
    this.dir = dir;
    this.path = path.join(dir, 'notify');
    this.child = spawn(PYTHON, [SCRIPT, this.path, '900'], { stdio: ['ignore', 'pipe', 'pipe'] });
  }

  static async open(): Promise<NotifySocket> {
    const socket = new NotifySocket(mkdtempSync(path.join(tmpdir(), 'tn-notify-')));
    await socket.listening();
    return socket;
  }

  private listening(): Promise<void> {
    return new Promise((resolve, reject) => {
      let buffer = '';
      this.child.stderr!.setEncoding('utf8').on('data', (c: string) => { this.stderr += c; });
      this.child.once('exit', (code) => reject(new Error(`notify receiver exited ${code}: ${this.stderr}`)));
      this.child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
        buffer += chunk;
        for (let i = buffer.indexOf('\n'); i >= 0; i = buffer.indexOf('\n')) {
          const line = buffer.slice(0, i);
          buffer = buffer.slice(i + 1);
          const json = JSON.parse(line) as { listening?: string; pid?: number | null; fields?: Record<string, string> };
          if (json.listening) resolve();
          else this.messages.push({ at: Date.now(), pid: json.pid ?? null, fields: json.fields ?? {} });
        }
      });
    });
  }

  /** Messages that carry `key` (e.g. WATCHDOG), optionally only those after `since`. */
  with(key: string, since = 0): NotifyMessage[] {
    return this.messages.filter((m) => m.fields[key] !== undefined && m.at >= since);
  }

  async waitFor(key: string, timeoutMs: number, since = 0): Promise<NotifyMessage> {
    const until = Date.now() + timeoutMs;
    for (;;) {
      const found = this.with(key, since)[0];
      if (found) return found;
      if (Date.now() > until) throw new Error(`no ${key}= within ${timeoutMs} ms; got ${JSON.stringify(this.messages.slice(-5))}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  close(): void {
    this.child.kill('SIGTERM');
    rmSync(this.dir, { recursive: true, force: true });
  }
}
