/** The CLI side of the control socket: connect to the running agent and ask it things. */
import net, { type Socket } from 'node:net';
import { join } from 'node:path';
import { CONTROL_SOCKET, type CommandName, type ControlResponse } from './protocol.js';

export function controlSocketPath(stateDir: string): string {
  return join(stateDir, CONTROL_SOCKET);
}

/** No agent answers on the socket (not running, or running with another state directory). */
export class AgentUnavailableError extends Error {
  constructor(readonly path: string, readonly reason: string) {
    super(`no running tonari agent answers at ${path} (${reason})`);
    this.name = 'AgentUnavailableError';
  }
}

/** The agent answered with an error. */
export class ControlRequestError extends Error {
  constructor(readonly code: string, message: string) {
    super(message);
    this.name = 'ControlRequestError';
  }
}

export class ControlClient {
  private buffered = '';
  private nextId = 1;
  private readonly waiting = new Map<number, { resolve: (r: ControlResponse) => void; reject: (e: Error) => void }>();
  private closedError: Error | undefined;

  private constructor(private readonly socket: Socket, private readonly path: string) {
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => this.onData(chunk));
    const fail = (error: Error) => {
      this.closedError ??= error;
      for (const { reject } of this.waiting.values()) reject(this.closedError);
      this.waiting.clear();
    };
    socket.on('error', (error) => fail(new AgentUnavailableError(path, error.message)));
    socket.on('close', () => fail(new AgentUnavailableError(path, 'the agent closed the connection')));
  }

  static connect(path: string, timeoutMs = 5000): Promise<ControlClient> {
    return new Promise((resolve, reject) => {
      const socket = net.connect(path);
      const timer = setTimeout(() => { socket.destroy(); reject(new AgentUnavailableError(path, 'timed out')); }, timeoutMs);
      socket.once('connect', () => { clearTimeout(timer); resolve(new ControlClient(socket, path)); });
      socket.once('error', (error: NodeJS.ErrnoException) => {
        clearTimeout(timer);
        const reason = error.code === 'ENOENT' ? 'no control socket' : error.code === 'ECONNREFUSED' ? 'nothing listens on the control socket' : error.message;
        reject(new AgentUnavailableError(path, reason));
      });
    });
  }

  /** Sends one command and resolves with its result; rejects with ControlRequestError when the agent refuses. */
  async request<T = unknown>(cmd: CommandName, args: Record<string, unknown> = {}, timeoutMs = 10_000): Promise<T> {
    if (this.closedError) throw this.closedError;
    const id = this.nextId++;
    const response = await new Promise<ControlResponse>((resolve, reject) => {
      const timer = setTimeout(() => { this.waiting.delete(id); reject(new AgentUnavailableError(this.path, `no answer to ${cmd}`)); }, timeoutMs);
      this.waiting.set(id, {
        resolve: (r) => { clearTimeout(timer); resolve(r); },
        reject: (e) => { clearTimeout(timer); reject(e); },
      });
      this.socket.write(`${JSON.stringify({ ...args, id, cmd })}\n`);
    });
    if (!response.ok) throw new ControlRequestError(response.error.code, response.error.message);
    return response.result as T;
  }

  close(): void {
    this.socket.destroy();
  }

  private onData(chunk: string): void {
    this.buffered += chunk;
    for (let newline = this.buffered.indexOf('\n'); newline !== -1; newline = this.buffered.indexOf('\n')) {
      const line = this.buffered.slice(0, newline);
      this.buffered = this.buffered.slice(newline + 1);
      let response: ControlResponse;
      try {
        response = JSON.parse(line) as ControlResponse;
      } catch {
        continue;
      }
      const entry = typeof response.id === 'number' ? this.waiting.get(response.id) : undefined;
      if (!entry) continue;
      this.waiting.delete(response.id as number);
      entry.resolve(response);
    }
  }
}

/** Connects, sends one command, closes. */
export async function askAgent<T = unknown>(stateDir: string, cmd: CommandName, args: Record<string, unknown> = {}): Promise<T> {
  const client = await ControlClient.connect(controlSocketPath(stateDir));
  try {
    return await client.request<T>(cmd, args);
  } finally {
    client.close();
  }
}
