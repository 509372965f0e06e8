/**
 * Sends sd_notify(3) messages to systemd. Node has no AF_UNIX datagram sockets, so each
 * message is one run of `systemd-notify KEY=VALUE…` (systemd 252 sends the fields as one
 * datagram, then waits on a BARRIER=1 until the service manager has read it, so the
 * message is attributed to this unit although the helper exits at once; the unit needs
 * NotifyAccess=all because the helper is not the main process).
 *
 * At most one helper runs at a time; fields given meanwhile are merged (later values win)
 * and sent together when it exits, so a burst costs one process, never a queue.
 */
import { spawn } from 'node:child_process';
import type { Logger } from '../core/log.js';
import { oneLine } from './status.js';

export type NotifyField = 'READY' | 'STOPPING' | 'WATCHDOG' | 'STATUS' | 'ERRNO' | 'EXTEND_TIMEOUT_USEC';
export type NotifyFields = Partial<Record<NotifyField, string>>;

export interface Notifier {
  notify(fields: NotifyFields): void;
  /** Resolves when every message given so far has been handed over (or given up on). */
  flush(): Promise<void>;
}

export interface SystemdNotifierOptions {
  /** The NOTIFY_SOCKET the helper sends to. */
  socket: string;
  log: Logger;
  /** The helper; default `systemd-notify` from PATH. */
  command?: string;
  /** A helper still running after this long is killed (a service manager that never answers the barrier). Default 10 s. */
  timeoutMs?: number;
}

/** The arguments of one `systemd-notify` run for `fields`: KEY=VALUE each, one line each. */
export function notifyArgs(fields: NotifyFields): string[] {
  return Object.entries(fields).map(([key, value]) => `${key}=${oneLine(value ?? '')}`);
}

export class SystemdNotifier implements Notifier {
  private pending: NotifyFields = {};
  private inFlight: Promise<void> | undefined;
  private failing = false;
  /** Helper runs that exited 0, and those that did not (for tests and the journal). */
  readonly counts = { sent: 0, failed: 0 };

  constructor(private readonly options: SystemdNotifierOptions) {}

  notify(fields: NotifyFields): void {
    this.pending = { ...this.pending, ...fields };
    if (!this.inFlight) this.launch();
  }

  async flush(): Promise<void> {
    while (this.inFlight) await this.inFlight;
  }

  private launch(): void {
    const fields = this.pending;
    this.pending = {};
    if (Object.keys(fields).length === 0) return;
    this.inFlight = this.run(fields).finally(() => {
      this.inFlight = undefined;
      if (Object.keys(this.pending).length > 0) this.launch();
    });
  }

  private run(fields: NotifyFields): Promise<void> {
    const { log } = this.options;
    return new Promise<void>((resolve) => {
      let stderr = '';
      let done = false;
      const finish = (error: string | undefined) => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        if (error === undefined) {
          this.counts.sent++;
          if (this.failing) log.info('systemd notifications work again');
          this.failing = false;
        } else {
          this.counts.failed++;
          // Once per streak: a missing helper would otherwise log every ping.
          if (!this.failing) log.warn({ err: error, fields: Object.keys(fields) }, 'systemd-notify failed; systemd may not see readiness or watchdog pings');
          this.failing = true;
        }
        resolve();
      };
      const child = spawn(this.options.command ?? 'systemd-notify', notifyArgs(fields), {
        stdio: ['ignore', 'ignore', 'pipe'],
        env: { ...process.env, NOTIFY_SOCKET: this.options.socket },
      });
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        finish(`no answer within ${this.options.timeoutMs ?? 10_000} ms`);
      }, this.options.timeoutMs ?? 10_000);
      child.stderr?.setEncoding('utf8').on('data', (chunk: string) => { stderr = (stderr + chunk).slice(-500); });
      child.once('error', (error) => finish(error.message));
      child.once('close', (code, signal) => {
        finish(code === 0 ? undefined : `exit ${code ?? signal}${stderr ? `: ${stderr.trim()}` : ''}`);
      });
    });
  }
}
