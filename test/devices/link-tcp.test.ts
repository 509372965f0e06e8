/**
 * ModbusLink over real TCP sockets on 127.0.0.1: modbus-serial's ServerTCP
 * for normal traffic, a hand-written raw server for faults.
 */
import t from 'tap';
import { ManualClock } from '../../agent/core/clock.js';
import { ModbusLink, type LinkDeps } from '../../agent/devices/modbus/link.js';
import { ModbusError } from '../../agent/devices/modbus/errors.js';
import type { LinkSpec } from '../../agent/devices/modbus/types.js';
import { startRawServer, waitFor, type RawRequest } from './helpers/raw-modbus-server.js';
import { startServerTCP } from './helpers/server-tcp.js';

const tcpSpec = (port: number, over: Partial<LinkSpec> = {}): LinkSpec =>
  ({ name: 'test', type: 'tcp', host: '127.0.0.1', port, timeout: 200, connectDelay: 0, interRequestDelay: 0, ...over }) as LinkSpec;

async function failure(p: Promise<unknown>): Promise<ModbusError> {
  try {
    await p;
  } catch (err) {
    if (err instanceof ModbusError) return err;
    throw err;
  }
  throw new Error('expected the request to fail');
}

/** Registers answered by the raw server: each register holds its own address, so a reply given to the wrong request shows. */
const echoAddresses = (req: RawRequest): number[] => Array.from({ length: req.count }, (_, i) => (req.address + i) & 0xffff);

function newLink(spec: LinkSpec, deps: LinkDeps = {}): ModbusLink {
  return new ModbusLink(spec, deps);
}

t.test('reads and writes work against modbus-serial ServerTCP; exception 2 does not reconnect', async (t) => {
  const regs = new Map<number, number>([[40000, 0x5375], [40001, 0x6e53], [40002, 1], [40003, 66]]);
  const started = await startServerTCP({
    getHoldingRegister: (addr: number) => {
      const v = regs.get(addr);
      if (v === undefined) throw { modbusErrorCode: 2, msg: 'Illegal data address' };
      return v;
    },
    getInputRegister: (addr: number) => addr + 7,
    setRegister: (addr: number, value: number) => { regs.set(addr, value); },
  });
  const link = newLink(tcpSpec(started.port));
  t.teardown(async () => { await link.close(); await started.close(); });

  t.same(await link.read(1, 3, 40000, 4), [0x5375, 0x6e53, 1, 66]);
  t.same(await link.read(1, 4, 100, 2), [107, 108]);
  await link.write(1, 40002, [7, 8]);
  t.same(await link.read(1, 3, 40002, 2), [7, 8]);
  await link.write(1, 40003, [9], { fc: 6 });
  t.same(await link.read(1, 3, 40003, 1), [9]);

  const err = await failure(link.read(1, 3, 50000, 1));
  t.equal(err.kind, 'exception');
  t.equal(err.code, 2);
  t.same(await link.read(1, 3, 40000, 1), [0x5375], 'the link keeps working after an exception');
  const stats = link.stats();
  t.equal(stats.connects, 1, 'an exception reply does not cause a reconnect');
  t.equal(stats.errors.exception, 1);
  t.equal(stats.ok, 7);
  t.equal(stats.units[0]!.unit, 1);
  t.ok(stats.ewmaLatencyMs !== null && stats.ewmaLatencyMs >= 0);
});

t.test('concurrent callers are serialized over one connection (MB-5)', async (t) => {
  const server = await startRawServer((req) => ({ registers: echoAddresses(req), delayMs: 5 }));
  const link = newLink(tcpSpec(server.port));
  t.teardown(async () => { await link.close(); await server.close(); });

  const callerA = Array.from({ length: 10 }, (_, i) => link.read(1, 3, 1000 + i, 2));
  const callerB = Array.from({ length: 10 }, (_, i) => link.read(2, 4, 2000 + i, 1));
  const results = await Promise.all([...callerA, ...callerB]);
  results.slice(0, 10).forEach((r, i) => t.same(r, [1000 + i, 1001 + i]));
  results.slice(10).forEach((r, i) => t.same(r, [2000 + i]));
  t.equal(server.requests.length, 20);
  t.equal(server.maxOutstanding, 1, 'the server never saw two requests outstanding');
  t.equal(server.connections, 1, 'exactly one connection');
  t.same(server.requests.slice(10).map((r) => r.unit), Array(10).fill(2), 'FIFO order, unit set per request');
});

t.test('a corrupted MBAP length wedges modbus-serial; the link recovers within K+1 requests (MB-1)', async (t) => {
  let corrupted = false;
  const server = await startRawServer((req) => {
    if (!corrupted) {
      corrupted = true;
      // A header claiming 0xFFFF bytes follow: modbus-serial then waits for them forever (F7).
      const bad = Buffer.from([req.tid >> 8, req.tid & 0xff, 0, 0, 0xff, 0xff, req.unit, 3, 2, 0, 1]);
      return { raw: bad };
    }
    return { registers: echoAddresses(req) };
  });
  const link = newLink(tcpSpec(server.port, { timeout: 150 }), { policy: { timeoutsBeforeReconnect: 3 } });
  t.teardown(async () => { await link.close(); await server.close(); });

  const outcomes: string[] = [];
  let recoveredAt = -1;
  for (let i = 0; i < 6 && recoveredAt < 0; i++) {
    try {
      const value = await link.read(1, 3, 500 + i, 1);
      t.same(value, [500 + i], 'never a wrong value');
      outcomes.push('ok');
      recoveredAt = i + 1;
    } catch (err) {
      outcomes.push(err instanceof ModbusError ? err.kind : 'other');
    }
  }
  t.same(outcomes, ['timeout', 'timeout', 'timeout', 'ok']);
  t.ok(recoveredAt > 0 && recoveredAt <= 4, `recovered at request ${recoveredAt}`);
  t.equal(server.connections, 2, 'one reconnect');
  t.equal(link.stats().reconnects, 1);
});

t.test('server restarted on the same port: the link reconnects after backoff and reads resume (MB-2)', async (t) => {
  const vector = { getHoldingRegister: (addr: number) => addr % 1000 };
  let started = await startServerTCP(vector);
  const port = started.port;
  const link = newLink(tcpSpec(port), { policy: { reconnectBackoff: { initialMs: 50, maxMs: 200 } } });
  t.teardown(async () => { await link.close(); await started.close(); });

  t.same(await link.read(1, 3, 1234, 1), [234]);
  await started.close();
  t.ok(await waitFor(() => !link.stats().connected), 'the link noticed the connection went away');

  const kinds = new Set<string>();
  for (let i = 0; i < 5; i++) kinds.add((await failure(link.read(1, 3, 1234, 1))).kind);
  t.same([...kinds], ['connection'], 'only connection errors while the server is down');
  t.ok(link.stats().connectFailures >= 1);
  t.ok(link.stats().backingOffUntil !== null, 'backing off between attempts');

  started = await startServerTCP(vector, port);
  let value: number[] | undefined;
  for (let i = 0; i < 100 && value === undefined; i++) {
    try { value = await link.read(1, 3, 1235, 1); } catch { await new Promise((r) => setTimeout(r, 20)); }
  }
  t.same(value, [235], 'reads resume on the same link object');
  t.equal(link.stats().reconnects, 1);
});

t.test('a slow device times out and its late reply is never given to a later request', async (t) => {
  const server = await startRawServer((req) => ({ registers: echoAddresses(req), delayMs: req.address % 2 === 1 ? 300 : 0 }));
  const link = newLink(tcpSpec(server.port, { timeout: 100 }));
  t.teardown(async () => { await link.close(); await server.close(); });

  const results: Array<string | number> = [];
  for (const address of [11, 20, 13, 22, 24, 15, 26]) {
    try {
      const [value] = await link.read(1, 3, address, 1);
      t.equal(value, address, `reply for ${address} is its own`);
      results.push(value!);
    } catch (err) {
      results.push(err instanceof ModbusError ? err.kind : 'other');
    }
  }
  t.same(results, ['timeout', 20, 'timeout', 22, 24, 'timeout', 26]);
  t.ok(await waitFor(() => server.maxOutstanding >= 1));
});

t.test('connectDelay: the first request is sent no earlier than connectDelay after connecting', async (t) => {
  const clock = new ManualClock();
  const server = await startRawServer((req) => ({ registers: echoAddresses(req) }));
  const link = newLink(tcpSpec(server.port, { connectDelay: 1500, timeout: 10_000 }), { clock });
  t.teardown(async () => { await link.close(); await server.close(); });

  const pending = link.read(1, 3, 7, 1);
  t.ok(await waitFor(() => server.connections === 1), 'connected');
  await clock.advance(1499);
  await new Promise((r) => setTimeout(r, 50));
  t.equal(server.requests.length, 0, 'nothing sent before connectDelay has passed');
  await clock.advance(1);
  t.same(await pending, [7]);
  t.equal(server.requests.length, 1);
});

t.test('interRequestDelay: consecutive requests are spaced at least that far apart', async (t) => {
  const server = await startRawServer((req) => ({ registers: echoAddresses(req) }));
  const link = newLink(tcpSpec(server.port, { interRequestDelay: 40 }));
  t.teardown(async () => { await link.close(); await server.close(); });
  await Promise.all([1, 2, 3].map((a) => link.read(1, 3, a, 1)));
  const times = server.requests.map((r) => r.receivedAt);
  for (let i = 1; i < times.length; i++) t.ok(times[i]! - times[i - 1]! >= 39, `gap ${times[i]! - times[i - 1]!} ms`);
});

t.test('a unit that never answers is backed off while another unit on the link keeps working', async (t) => {
  const server = await startRawServer((req) => (req.unit === 2 ? { silence: true } : { registers: echoAddresses(req) }));
  const link = newLink(tcpSpec(server.port, { timeout: 100 }), {
    policy: { unitHealth: { failuresBeforeBackoff: 3, backoff: { initialMs: 60_000, maxMs: 60_000 } } },
  });
  t.teardown(async () => { await link.close(); await server.close(); });

  for (let i = 0; i < 3; i++) {
    t.equal((await failure(link.read(2, 3, 1, 1))).kind, 'timeout');
    t.same(await link.read(1, 3, 100 + i, 1), [100 + i]);
  }
  const sentToDeadUnit = server.requests.filter((r) => r.unit === 2).length;
  const rested = await failure(link.read(2, 3, 1, 1));
  t.equal(rested.kind, 'backoff');
  t.ok(rested.retryAt !== undefined && rested.retryAt > Date.now());
  t.equal(server.requests.filter((r) => r.unit === 2).length, sentToDeadUnit, 'the resting unit is not polled');
  t.same(await link.read(1, 3, 200, 1), [200], 'the other unit is unaffected');
  const stats = link.stats();
  t.equal(stats.units.find((u) => u.unit === 2)!.errors.backoff, 1);
  t.equal(stats.units.find((u) => u.unit === 2)!.consecutiveFailures, 3);
  t.equal(stats.connects, 1, 'answers from unit 1 keep the connection trusted');
});

t.test('close() rejects queued requests with kind closed and refuses new ones', async (t) => {
  const server = await startRawServer((req) => ({ registers: echoAddresses(req), delayMs: 50 }));
  const link = newLink(tcpSpec(server.port));
  t.teardown(() => server.close());
  const inFlight = link.read(1, 3, 1, 1);
  const queued = link.read(1, 3, 2, 1);
  t.ok(await waitFor(() => server.requests.length === 1));
  await link.close();
  t.equal((await failure(inFlight)).kind, 'closed');
  t.equal((await failure(queued)).kind, 'closed');
  t.equal((await failure(link.read(1, 3, 3, 1))).kind, 'closed');
});
