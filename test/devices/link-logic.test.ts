/**
 * ModbusLink recovery rules, made deterministic with a scripted transport
 * and the ManualClock.
 */
import t from 'tap';
import { ManualClock } from '../../agent/core/clock.js';
import { ModbusLink, type LinkPolicy } from '../../agent/devices/modbus/link.js';
import { LinkPool } from '../../agent/devices/modbus/pool.js';
import { ModbusError, classifyRequestError } from '../../agent/devices/modbus/errors.js';
import type { ModbusTransport } from '../../agent/devices/modbus/transport.js';
import type { LinkSpec } from '../../agent/devices/modbus/types.js';

type Behaviour = 'ok' | 'hang' | 'refuse' | 'exception2' | 'crc' | 'drop';

/** Scripted device: `next` decides each connect/read outcome; every call is logged with the clock time. */
class FakeWire {
  log: string[] = [];
  connectOutcome: 'ok' | 'refuse' | 'hang' = 'ok';
  readOutcome: (unit: number, address: number) => Behaviour = () => 'ok';
  live: FakeTransport[] = [];

  constructor(readonly clock: ManualClock) {}

  factory = (): ModbusTransport => {
    const tr = new FakeTransport(this);
    return tr;
  };
}

class FakeTransport implements ModbusTransport {
  private lost: ((reason: Error) => void) | null = null;
  destroyed = false;

  constructor(private readonly wire: FakeWire) {}

  connect(): Promise<void> {
    this.wire.log.push(`connect@${this.wire.clock.now()}`);
    if (this.wire.connectOutcome === 'refuse') return Promise.reject(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }));
    if (this.wire.connectOutcome === 'hang') return new Promise(() => {});
    this.wire.live.push(this);
    return Promise.resolve();
  }

  readRegisters(unit: number, _fc: 3 | 4, address: number, count: number): Promise<number[]> {
    this.wire.log.push(`read u${unit} ${address}@${this.wire.clock.now()}`);
    switch (this.wire.readOutcome(unit, address)) {
      case 'ok': return Promise.resolve(Array.from({ length: count }, (_, i) => address + i));
      case 'hang': return new Promise(() => {});
      case 'exception2': return Promise.reject(Object.assign(new Error('Modbus exception 2'), { modbusCode: 2 }));
      case 'crc': return Promise.reject(new Error('CRC error'));
      case 'drop':
        queueMicrotask(() => this.lost?.(new Error('socket closed by peer')));
        return new Promise(() => {});
      case 'refuse': return Promise.reject(Object.assign(new Error('Port Not Open'), { name: 'PortNotOpenError', errno: 'ECONNREFUSED' }));
    }
  }

  writeRegisters(): Promise<void> {
    return Promise.resolve();
  }

  destroy(): Promise<void> {
    this.destroyed = true;
    this.wire.log.push(`destroy@${this.wire.clock.now()}`);
    this.wire.live = this.wire.live.filter((x) => x !== this);
    return Promise.resolve();
  }

  onLost(listener: (reason: Error) => void): void {
    this.lost = listener;
  }
}

const spec = (over: Partial<LinkSpec> = {}): LinkSpec =>
  ({ name: 'fake', type: 'tcp', host: 'inverter.local', port: 502, timeout: 1000, connectDelay: 0, interRequestDelay: 0, ...over }) as LinkSpec;

function setup(over: Partial<LinkSpec> = {}, policy: Partial<LinkPolicy> = {}) {
  const clock = new ManualClock(0);
  const wire = new FakeWire(clock);
  const link = new ModbusLink(spec(over), { clock, transportFactory: wire.factory, policy });
  return { clock, wire, link };
}

/** Settles `p` while moving the clock `ms` forward; returns the value or the error kind. */
async function outcome<T>(clock: ManualClock, p: Promise<T>, ms = 0): Promise<T | string> {
  const settled = p.then((v) => v, (err: unknown) => (err instanceof ModbusError ? err.kind : `other: ${String(err)}`));
  await clock.advance(ms);
  return settled;
}

t.test('connect failures back off exponentially (1 s doubling, capped) and fail fast meanwhile', async (t) => {
  const { clock, wire, link } = setup({}, { reconnectBackoff: { initialMs: 1000, maxMs: 4000 } });
  wire.connectOutcome = 'refuse';
  t.equal(await outcome(clock, link.read(1, 3, 0, 1)), 'connection');
  const connects = (): string[] => wire.log.filter((l) => l.startsWith('connect'));
  await clock.advance(999);
  t.equal(await outcome(clock, link.read(1, 3, 0, 1)), 'connection', 'fails fast inside the backoff');
  t.same(connects(), ['connect@0'], 'no connect attempt while backing off');
  await clock.advance(1);
  t.equal(await outcome(clock, link.read(1, 3, 0, 1)), 'connection');
  t.same(connects(), ['connect@0', 'connect@1000']);
  await clock.advance(2000);
  await outcome(clock, link.read(1, 3, 0, 1));
  await clock.advance(4000);
  await outcome(clock, link.read(1, 3, 0, 1));
  await clock.advance(4000);
  wire.connectOutcome = 'ok';
  t.same(await outcome(clock, link.read(1, 3, 5, 1)), [5]);
  t.same(wire.log.filter((l) => l.startsWith('connect')), ['connect@0', 'connect@1000', 'connect@3000', 'connect@7000', 'connect@11000']);
  t.equal(link.stats().connectFailures, 4);
  t.equal(link.stats().backingOffUntil, null);
});

t.test('a connect that hangs is bounded by the timeout on the clock', async (t) => {
  const { clock, wire, link } = setup({ timeout: 500 });
  wire.connectOutcome = 'hang';
  t.equal(await outcome(clock, link.read(1, 3, 0, 1), 500), 'connection');
  t.ok(wire.log.includes('destroy@500'), 'the half-open transport is destroyed');
});

t.test('K consecutive timeouts replace the connection; the first time at once, then with backoff', async (t) => {
  const { clock, wire, link } = setup({}, { timeoutsBeforeReconnect: 3, reconnectBackoff: { initialMs: 1000, maxMs: 30_000 } });
  wire.readOutcome = () => 'hang';
  for (let i = 0; i < 3; i++) t.equal(await outcome(clock, link.read(1, 3, i, 1), 1000), 'timeout');
  t.same(wire.log.filter((l) => !l.startsWith('read')), ['connect@0', 'destroy@3000']);
  t.equal(link.stats().units[0]!.consecutiveFailures, 2, 'the timeout that tripped the watchdog is blamed on the connection');
  // Still dead after the fresh connection: this time the link waits before reconnecting.
  for (let i = 0; i < 3; i++) await outcome(clock, link.read(7, 3, i, 1), 1000);
  t.same(wire.log.filter((l) => !l.startsWith('read')), ['connect@0', 'destroy@3000', 'connect@3000', 'destroy@6000']);
  t.equal(await outcome(clock, link.read(1, 3, 0, 1)), 'connection', 'backing off after the second watchdog');
  wire.readOutcome = () => 'ok';
  await clock.advance(1000);
  t.same(await outcome(clock, link.read(1, 3, 9, 1)), [9]);
  t.equal(link.stats().reconnects, 2);
});

t.test('an exception reply is an answer: no reconnect, resets the timeout count', async (t) => {
  const { clock, wire, link } = setup({}, { timeoutsBeforeReconnect: 2 });
  let n = 0;
  wire.readOutcome = () => (n++ % 2 === 0 ? 'hang' : 'exception2');
  for (let i = 0; i < 6; i++) await outcome(clock, link.read(1, 3, i, 1), 1000);
  t.equal(wire.log.filter((l) => l.startsWith('connect')).length, 1);
  t.equal(link.stats().errors.exception, 3);
  t.equal(link.stats().errors.timeout, 3);
});

t.test('a garbled reply (CRC) resets the connection; a dropped connection reconnects', async (t) => {
  const { clock, wire, link } = setup();
  wire.readOutcome = () => 'crc';
  t.equal(await outcome(clock, link.read(1, 3, 0, 1)), 'protocol');
  t.same(wire.log, ['connect@0', 'read u1 0@0', 'destroy@0']);
  wire.readOutcome = () => 'ok';
  t.same(await outcome(clock, link.read(1, 3, 3, 1)), [3], 'first reset since an answer reconnects at once');
  wire.readOutcome = () => 'drop';
  t.equal(await outcome(clock, link.read(1, 3, 0, 1)), 'connection', 'a drop fails the request without waiting for the timeout');
  t.equal(clock.now(), 0);
  wire.readOutcome = () => 'ok';
  t.same(await outcome(clock, link.read(1, 3, 4, 1)), [4]);
  t.equal(link.stats().connects, 3);
});

t.test('a failing unit rests, gets one probe when its time comes, and rests longer if the probe fails', async (t) => {
  const { clock, wire, link } = setup({}, {
    timeoutsBeforeReconnect: 100,
    unitHealth: { failuresBeforeBackoff: 3, backoff: { initialMs: 5000, maxMs: 60_000 } },
  });
  wire.readOutcome = (unit) => (unit === 2 ? 'hang' : 'ok');
  for (let i = 0; i < 3; i++) t.equal(await outcome(clock, link.read(2, 3, 0, 1), 1000), 'timeout');
  t.equal(await outcome(clock, link.read(2, 3, 0, 1)), 'backoff');
  t.same(await outcome(clock, link.read(1, 3, 8, 1)), [8]);
  await clock.advance(4999);
  t.equal(await outcome(clock, link.read(2, 3, 0, 1)), 'backoff');
  await clock.advance(1);
  const reads = (): number => wire.log.filter((l) => l.startsWith('read u2')).length;
  const before = reads();
  const kindOf = (err: unknown): string => (err instanceof ModbusError ? err.kind : 'other');
  const probe = link.read(2, 3, 0, 1).catch(kindOf);
  const second = link.read(2, 3, 1, 1).catch(kindOf);
  await clock.advance(1000);
  t.equal(await probe, 'timeout');
  t.equal(await second, 'backoff', 'only one probe reaches the bus');
  t.equal(reads(), before + 1);
  t.equal(link.stats().units.find((u) => u.unit === 2)!.backedOffUntil, clock.now() + 10_000, 'the rest doubled');
  await clock.advance(10_000);
  wire.readOutcome = () => 'ok';
  t.same(await outcome(clock, link.read(2, 3, 2, 1)), [2]);
  t.equal(link.stats().units.find((u) => u.unit === 2)!.consecutiveFailures, 0, 'a success resets the unit');
});

t.test('RTU-framed links wait after a timeout so a late reply cannot answer the next request', async (t) => {
  const { clock, wire, link } = setup({ type: 'rtu-over-tcp', timeout: 300 } as Partial<LinkSpec>);
  let first = true;
  wire.readOutcome = () => (first ? ((first = false), 'hang') : 'ok');
  t.equal(await outcome(clock, link.read(1, 3, 0, 1), 300), 'timeout');
  const next = link.read(1, 3, 1, 1);
  await clock.advance(299);
  t.equal(wire.log.filter((l) => l.startsWith('read')).length, 1, 'not sent during the settle time');
  t.same(await outcome(clock, next, 1), [1]);
});

t.test('close() during a hung request and a queued one rejects both at once', async (t) => {
  const { clock, wire, link } = setup();
  wire.readOutcome = () => 'hang';
  const a = outcome(clock, link.read(1, 3, 0, 1));
  const b = outcome(clock, link.read(1, 3, 1, 1));
  await clock.advance(0);
  await link.close();
  t.equal(await a, 'closed');
  t.equal(await b, 'closed');
  t.equal(wire.live.length, 0, 'connection destroyed');
  t.equal(link.stats().errors.closed, 2);
});

t.test('invalid requests are refused before touching the bus', async (t) => {
  const { wire, link } = setup();
  t.throws(() => link.read(1, 3, 0, 126), RangeError);
  t.throws(() => link.read(256, 3, 0, 1), RangeError);
  t.throws(() => link.read(1, 5 as 3, 0, 1), RangeError);
  t.throws(() => link.write(1, 0, [70000]), RangeError);
  t.throws(() => link.write(1, 0, [1, 2], { fc: 6 }), RangeError);
  t.throws(() => link.write(1, 0, new Array<number>(124).fill(0)), RangeError);
  t.same(wire.log, []);
});

t.test('LinkPool shares one link per endpoint', async (t) => {
  const pool = new LinkPool();
  const a = pool.get(spec({ name: 'inverter' }));
  const b = pool.get(spec({ name: 'meter-behind-inverter', host: 'INVERTER.local' }));
  t.equal(a, b);
  t.not(pool.get(spec({ port: 1502 })), a);
  t.throws(() => pool.get(spec({ type: 'rtu-over-tcp' } as Partial<LinkSpec>)), /already used/);
  const serial = { name: 's', type: 'rtu', path: '/dev/ttyUSB0', baudRate: 9600, parity: 'none', dataBits: 8, stopBits: 1, timeout: 500, connectDelay: 0, interRequestDelay: 30 } as const;
  t.equal(pool.get(serial), pool.get({ ...serial, name: 's2' }));
  t.throws(() => pool.get({ ...serial, baudRate: 19200 }), /different settings/);
  await pool.closeAll();
});

t.test('error classification', async (t) => {
  t.same(classifyRequestError(Object.assign(new Error('x'), { modbusCode: 2 })), { kind: 'exception', code: 2 });
  t.same(classifyRequestError({ name: 'TransactionTimedOutError', message: 'Timed out', errno: 'ETIMEDOUT' }), { kind: 'timeout' });
  t.same(classifyRequestError({ name: 'PortNotOpenError', message: 'Port Not Open', errno: 'ECONNREFUSED' }), { kind: 'connection' });
  t.same(classifyRequestError(Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' })), { kind: 'connection' });
  t.same(classifyRequestError(new Error('CRC error')), { kind: 'protocol' });
  t.same(classifyRequestError(new Error('Data length error, expected 7 got 5')), { kind: 'protocol' });
  t.same(classifyRequestError('weird'), { kind: 'protocol' });
});
