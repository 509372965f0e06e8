/** The control socket's I/O: framing, limits, permissions, stale and foreign socket files. */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { AgentUnavailableError, askAgent, ControlClient } from '../../agent/control/client.js';
import type { ControlHandler } from '../../agent/control/handler.js';
import { ControlSocketError, startControlServer, type ControlServer } from '../../agent/control/server.js';
import { silentLogger } from '../../agent/core/log.js';

const log = silentLogger();
/** Echoes the command; `slow` answers after 50 ms, to show responses stay in order. */
const echo: ControlHandler = async (request) => {
  const { id, cmd } = request as { id?: number; cmd: string };
  if (cmd === 'slow') await new Promise((r) => setTimeout(r, 50));
  return { ...(id !== undefined ? { id } : {}), ok: true, result: { cmd } };
};

function tempDir(t: Test): string {
  const dir = mkdtempSync(join(tmpdir(), 'tn-ctl-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Raw lines exchanged over a fresh connection: writes `text`, collects lines until `count` arrived or the socket closed. */
function exchange(path: string, text: string, count: number): Promise<{ lines: string[]; closed: boolean }> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(path);
    let buffered = '';
    const lines: string[] = [];
    socket.setEncoding('utf8');
    socket.on('connect', () => socket.write(text));
    socket.on('data', (chunk: string) => {
      buffered += chunk;
      let i;
      while ((i = buffered.indexOf('\n')) !== -1) { lines.push(buffered.slice(0, i)); buffered = buffered.slice(i + 1); }
      if (lines.length >= count) { socket.destroy(); resolve({ lines, closed: false }); }
    });
    socket.on('close', () => resolve({ lines, closed: true }));
    socket.on('error', reject);
  });
}

t.test('one JSON object per line, answered in order; mode 0600; removed at close', async (t) => {
  const dir = tempDir(t);
  const path = join(dir, 'control.sock');
  const server = await startControlServer({ path, handler: echo, log });
  t.equal(statSync(path).mode & 0o777, 0o600);
  const { lines } = await exchange(path, '{"id":1,"cmd":"slow"}\n\n{"id":2,"cmd":"fast"}\nnot json\n', 3);
  t.same(lines.map((l) => JSON.parse(l)), [
    { id: 1, ok: true, result: { cmd: 'slow' } },
    { id: 2, ok: true, result: { cmd: 'fast' } },
    { ok: false, error: { code: 'malformed', message: 'a request is one JSON object per line' } },
  ]);
  // A request split over several writes is one request.
  const client = await ControlClient.connect(path);
  t.same(await client.request('peers'), { cmd: 'peers' });
  client.close();
  await server.close();
  t.notOk(existsSync(path), 'socket file removed');
});

t.test('a line longer than the limit is refused before it is parsed, and the connection closed', async (t) => {
  const dir = tempDir(t);
  const path = join(dir, 'control.sock');
  let seen = 0;
  const server = await startControlServer({ path, handler: async (r) => { seen++; return echo(r); }, log, maxRequestBytes: 100 });
  t.teardown(() => server.close());
  const noNewline = await exchange(path, 'x'.repeat(5000), 2);
  t.same(noNewline, { lines: ['{"ok":false,"error":{"code":"too_big","message":"a request may be at most 100 bytes"}}'], closed: true });
  const long = await exchange(path, `{"cmd":"${'y'.repeat(150)}"}\n{"cmd":"after"}\n`, 2);
  t.equal(long.closed, true);
  t.same(long.lines.map((l) => JSON.parse(l).error?.code), ['too_big']);
  t.equal(seen, 0, 'the handler never saw either');
  t.same(await askAgent(dir, 'peers'), { cmd: 'peers' }, 'the server still serves others');
});

t.test('a stale socket of a killed agent is replaced; a live one or a foreign file is not', async (t) => {
  const dir = tempDir(t);
  const path = join(dir, 'control.sock');
  // A process that listens on the path and is SIGKILLed leaves the socket file behind.
  const child = spawn(process.execPath, ['-e', `require('net').createServer().listen(${JSON.stringify(path)}, () => console.log('up'))`], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((resolve) => child.stdout!.once('data', () => resolve()));
  let servers: ControlServer[] = [];
  t.teardown(async () => { child.kill('SIGKILL'); for (const s of servers) await s.close(); });

  const busy = await startControlServer({ path, handler: echo, log }).then(() => undefined, (e: unknown) => e);
  t.type(busy, ControlSocketError);
  t.equal((busy as ControlSocketError).code, 'in_use', 'a socket that answers belongs to a running agent');

  child.kill('SIGKILL');
  await new Promise((r) => child.once('exit', r));
  t.ok(existsSync(path), 'the killed process left its socket file');
  const unavailable = await askAgent(dir, 'peers').then(() => undefined, (e: unknown) => e);
  t.type(unavailable, AgentUnavailableError, 'a client sees no agent');
  servers = [await startControlServer({ path, handler: echo, log })];
  t.same(await askAgent(dir, 'identity'), { cmd: 'identity' }, 'replaced and serving');
  await servers[0]!.close();
  servers = [];

  writeFileSync(path, 'my notes');
  const foreign = await startControlServer({ path, handler: echo, log }).then(() => undefined, (e: unknown) => e);
  t.equal((foreign as ControlSocketError).code, 'not_a_socket');
  t.equal(statSync(path).size, 8, 'a file that is not a socket is left alone');
});

t.test('no socket at all: the client says no agent answers', async (t) => {
  const dir = tempDir(t);
  const error = await askAgent(dir, 'peers').then(() => undefined, (e: unknown) => e) as AgentUnavailableError;
  t.type(error, AgentUnavailableError);
  t.match(error.message, /no running tonari agent answers at .*control\.sock \(no control socket\)/);
});
