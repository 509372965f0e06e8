/**
 * Helpers for the discovery system tests: build dist/ when stale, run the
 * fixture agent in a namespace and wait for the JSON events it prints.
 */
import type { ChildProcess } from 'node:child_process';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { fingerprintOf, peerIdOf } from '../../agent/identity/peer-id.js';
import { ensureDistFresh } from '../helpers/build.js';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const FIXTURES = path.join(ROOT, 'test/discovery/fixtures');
export const AGENT_FIXTURE = path.join(FIXTURES, 'agent-advert.mjs');

const SOURCES = ['agent/discovery', 'agent/identity', 'agent/core'];

/** Compiles dist/ when the discovery sources are newer than it (the fixture agent runs compiled). */
export function ensureBuilt(): void {
  ensureDistFresh(SOURCES);
}

export interface Identity {
  peerId: string;
  fingerprint: string;
}

export function newIdentity(): Identity {
  const raw = randomBytes(32);
  return { peerId: peerIdOf(raw), fingerprint: fingerprintOf(raw) };
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Json = any;

/** A child that prints JSON lines; remembers them and lets a test wait for one. */
export class LineProc {
  readonly lines: Json[] = [];
  stderr = '';
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private waiters: Array<() => void> = [];

  constructor(readonly child: ChildProcess, readonly label: string) {
    let buffer = '';
    child.stdout?.setEncoding('utf8');
    child.stdout?.on('data', (chunk: string) => {
      buffer += chunk;
      let nl: number;
      while ((nl = buffer.indexOf('\n')) >= 0) {
        const line = buffer.slice(0, nl).trim();
        buffer = buffer.slice(nl + 1);
        if (!line) continue;
        try {
          this.lines.push(JSON.parse(line));
        } catch {
          this.lines.push({ ev: 'text', text: line });
        }
      }
      this.wake();
    });
    child.stderr?.setEncoding('utf8');
    child.stderr?.on('data', (chunk: string) => {
      if (this.stderr.length < 2_000_000) this.stderr += chunk;
      this.wake();
    });
    this.exited = new Promise((resolve) => child.once('exit', (code, signal) => {
      this.wake();
      resolve({ code, signal });
    }));
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Resolves with the first line (from index `from`) matching `pred`; rejects after `timeoutMs`. */
  waitFor(pred: (line: Json) => boolean, timeoutMs: number, what: string, from = 0): Promise<Json> {
    return this.waitUntil(() => this.lines.slice(from).find(pred), timeoutMs, what);
  }

  waitUntil<T>(check: () => T | undefined, timeoutMs: number, what: string): Promise<T> {
    return new Promise((resolve, reject) => {
      const tryNow = (): boolean => {
        const found = check();
        if (found !== undefined) {
          clearTimeout(timer);
          this.waiters = this.waiters.filter((w) => w !== waiter);
          resolve(found);
          return true;
        }
        return false;
      };
      const waiter = (): void => { tryNow(); };
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        reject(new Error(`${this.label}: no ${what} within ${timeoutMs} ms; stderr tail: ${this.stderr.slice(-1500)}`));
      }, timeoutMs);
      if (tryNow()) return;
      this.waiters.push(waiter);
    });
  }

  kill(signal: NodeJS.Signals): void {
    if (this.running) this.child.kill(signal);
  }

  private wake(): void {
    for (const waiter of [...this.waiters]) waiter();
  }
}
