/**
 * One ModbusLink per physical connection (TCP host:port, serial port, or
 * RTU-over-TCP gateway), shared by every unit on it. Requests go through a
 * single-worker FIFO, so at most one is ever in flight (security.md MB-5).
 *
 * Recovery (MB-1, MB-2): an exception reply is a valid answer and changes
 * nothing. A lost connection, a garbled reply, or K timeouts in a row (the
 * F7 wedge) destroy the connection; the next request reconnects. The first
 * reconnect after a success is immediate, later ones wait an exponential
 * backoff, and requests made meanwhile fail fast with kind 'connection'.
 */
import { systemClock, type Clock } from '../../core/clock.js';
import { silentLogger, type Logger } from '../../core/log.js';
import { Backoff, type BackoffPolicy } from './backoff.js';
import { ModbusError, classifyRequestError, describeError, isModbusError } from './errors.js';
import { SerialQueue } from './queue.js';
import { RequestCounters, type RequestStats } from './stats.js';
import { modbusSerialTransport, type ModbusTransport, type TransportFactory } from './transport.js';
import { endpointKey, type LinkSpec } from './types.js';
import { UnitHealth, type UnitHealthPolicy } from './unit-health.js';
import { MAX_READ_COUNT, MAX_WRITE_COUNT, validateRange, validateUnit } from './limits.js';

export interface LinkPolicy {
  /** Consecutive timeouts on the link before its connection is replaced (K). */
  timeoutsBeforeReconnect: number;
  reconnectBackoff: BackoffPolicy;
  unitHealth: UnitHealthPolicy;
  /**
   * Quiet time after a timeout on RTU-framed links (rtu, rtu-over-tcp), whose
   * replies carry no transaction id: a late reply then arrives and is
   * discarded before the next request instead of being taken as its answer.
   * Defaults to the link timeout.
   */
  settleAfterTimeoutMs?: number;
}

export const DEFAULT_LINK_POLICY: LinkPolicy = {
  timeoutsBeforeReconnect: 3,
  reconnectBackoff: { initialMs: 1_000, maxMs: 30_000 },
  unitHealth: { failuresBeforeBackoff: 3, backoff: { initialMs: 2_000, maxMs: 60_000 } },
};

export interface LinkDeps {
  clock?: Clock;
  logger?: Logger;
  transportFactory?: TransportFactory;
  policy?: Partial<LinkPolicy>;
}

export interface UnitStats extends RequestStats {
  unit: number;
  consecutiveFailures: number;
  backedOffUntil: number | null;
}

export interface LinkStats extends RequestStats {
  name: string;
  type: LinkSpec['type'];
  endpoint: string;
  connected: boolean;
  /** Successful connects, the first included. */
  connects: number;
  /** Successful connects after the first. */
  reconnects: number;
  connectFailures: number;
  backingOffUntil: number | null;
  queued: number;
  units: UnitStats[];
}

interface UnitState {
  health: UnitHealth;
  counters: RequestCounters;
}

interface Connection {
  transport: ModbusTransport;
  isLost: boolean;
  /** Called when the connection goes away by itself. */
  readonly lostListeners: Set<(reason: unknown) => void>;
  readyAt: number;
}

export class ModbusLink {
  readonly name: string;
  readonly endpoint: string;
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly createTransport: TransportFactory;
  private readonly policy: LinkPolicy;
  private readonly queue = new SerialQueue();
  private readonly units = new Map<number, UnitState>();
  private readonly counters = new RequestCounters();
  private readonly reconnectBackoff: Backoff;
  private connection: Connection | null = null;
  private reconnectAt = 0;
  /** Connection resets since the last answered request; the first one reconnects at once. */
  private resetsSinceAnswer = 0;
  private consecutiveTimeouts = 0;
  private lastRequestEndAt = -Infinity;
  private settleUntil = -Infinity;
  private connects = 0;
  private connectFailures = 0;
  private closed = false;
  /** Called by close(), to abort whatever is waiting. */
  private readonly closeListeners = new Set<(err: ModbusError) => void>();

  constructor(private readonly spec: LinkSpec, deps: LinkDeps = {}) {
    this.name = spec.name;
    this.endpoint = endpointKey(spec);
    this.clock = deps.clock ?? systemClock;
    this.log = (deps.logger ?? silentLogger()).child({ link: spec.name });
    this.createTransport = deps.transportFactory ?? modbusSerialTransport;
    this.policy = { ...DEFAULT_LINK_POLICY, ...deps.policy };
    this.reconnectBackoff = new Backoff(this.policy.reconnectBackoff);
  }

  /** Reads `count` registers with FC3 (holding) or FC4 (input). */
  read(unit: number, fc: 3 | 4, address: number, count: number): Promise<number[]> {
    validateUnit(unit);
    if (fc !== 3 && fc !== 4) throw new RangeError(`read function code must be 3 or 4, got ${String(fc)}`);
    validateRange(address, count, MAX_READ_COUNT);
    return this.request(unit, `FC${fc} ${address}+${count}`, (t) => t.readRegisters(unit, fc, address, count));
  }

  /** Writes registers with FC16, or FC6 when asked for a single register. */
  write(unit: number, address: number, values: readonly number[], options: { fc?: 6 | 16 } = {}): Promise<void> {
    validateUnit(unit);
    validateRange(address, values.length, MAX_WRITE_COUNT);
    for (const v of values) if (!Number.isInteger(v) || v < 0 || v > 0xffff) throw new RangeError(`register value must be an integer in 0..65535, got ${v}`);
    const fc = options.fc ?? 16;
    if (fc === 6 && values.length !== 1) throw new RangeError('FC6 writes exactly one register');
    const copy = [...values];
    return this.request(unit, `FC${fc} ${address}+${copy.length}`, (t) => t.writeRegisters(unit, address, copy, fc));
  }

  /** Cancels queued requests, aborts the one in flight, and closes the connection. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const err = new ModbusError('closed', `link ${this.name} was closed`);
    for (const listener of [...this.closeListeners]) listener(err);
    this.queue.cancelWaiting(err);
    await this.teardown('link closed');
  }

  stats(): LinkStats {
    const now = this.clock.now();
    return {
      name: this.name,
      type: this.spec.type,
      endpoint: this.endpoint,
      ...this.counters.snapshot(),
      connected: this.connection !== null && !this.connection.isLost,
      connects: this.connects,
      reconnects: Math.max(0, this.connects - 1),
      connectFailures: this.connectFailures,
      backingOffUntil: this.connection === null && this.reconnectAt > now ? this.reconnectAt : null,
      queued: this.queue.length,
      units: [...this.units.entries()].sort(([a], [b]) => a - b).map(([unit, s]) => ({
        unit,
        ...s.counters.snapshot(),
        consecutiveFailures: s.health.consecutiveFailures,
        backedOffUntil: s.health.backedOffUntil,
      })),
    };
  }

  private unit(unit: number): UnitState {
    let state = this.units.get(unit);
    if (!state) {
      state = { health: new UnitHealth(this.policy.unitHealth), counters: new RequestCounters() };
      this.units.set(unit, state);
    }
    return state;
  }

  private async request<T>(unit: number, what: string, op: (t: ModbusTransport) => Promise<T>): Promise<T> {
    const state = this.unit(unit);
    this.counters.requested();
    state.counters.requested();
    try {
      // Refuse before queueing, so callers of a resting unit or a backing-off link never wait behind others.
      this.refuseIfUnavailable(unit, state);
      const result = await this.queue.run(() => this.execute(unit, state, what, op));
      this.counters.succeeded();
      state.counters.succeeded();
      return result;
    } catch (err) {
      const kind = isModbusError(err) ? err.kind : 'protocol';
      this.counters.failed(kind);
      state.counters.failed(kind);
      throw err;
    }
  }

  private refuseIfUnavailable(unit: number, state: UnitState): void {
    if (this.closed) throw new ModbusError('closed', `link ${this.name} is closed`);
    const now = this.clock.now();
    const restUntil = state.health.refusedUntil(now);
    if (restUntil !== null) {
      throw new ModbusError('backoff', `unit ${unit} on link ${this.name} failed repeatedly; retrying after ${new Date(restUntil).toISOString()}`, { retryAt: restUntil });
    }
    if (this.connection === null && now < this.reconnectAt) {
      throw new ModbusError('connection', `link ${this.name} is not connected; next connect attempt after ${new Date(this.reconnectAt).toISOString()}`, { retryAt: this.reconnectAt });
    }
  }

  private async execute<T>(unit: number, state: UnitState, what: string, op: (t: ModbusTransport) => Promise<T>): Promise<T> {
    this.refuseIfUnavailable(unit, state);
    const connection = await this.connect();
    await this.pace(connection);
    if (this.closed) throw new ModbusError('closed', `link ${this.name} is closed`);
    if (connection.isLost) throw this.connectionLost(connection, new Error('connection closed before the request was sent'));
    const startedAt = this.clock.now();
    try {
      const result = await this.race(op(connection.transport), connection, `${what} to unit ${unit}`);
      this.answered(state, startedAt);
      return result;
    } catch (err) {
      throw await this.failed(err, unit, state, connection, startedAt, what);
    } finally {
      this.lastRequestEndAt = this.clock.now();
    }
  }

  /** The current connection, or a new one; fails fast while backing off. */
  private async connect(): Promise<Connection> {
    if (this.connection && !this.connection.isLost) return this.connection;
    if (this.connection) await this.teardown('connection lost');
    const now = this.clock.now();
    if (now < this.reconnectAt) {
      throw new ModbusError('connection', `link ${this.name} is not connected; next connect attempt after ${new Date(this.reconnectAt).toISOString()}`, { retryAt: this.reconnectAt });
    }
    const transport = this.createTransport(this.spec);
    const connection: Connection = { transport, isLost: false, lostListeners: new Set(), readyAt: 0 };
    transport.onLost((reason) => {
      connection.isLost = true;
      for (const listener of [...connection.lostListeners]) listener(reason);
    });
    try {
      await this.race(transport.connect(), null, 'connect');
    } catch (err) {
      await this.destroyTransport(transport);
      this.connectFailures++;
      if (isModbusError(err, 'closed')) throw err;
      this.scheduleReconnect(false);
      this.log.warn({ err: describeError(err), retryAt: this.reconnectAt }, 'modbus connect failed');
      throw new ModbusError('connection', `link ${this.name}: connect failed: ${describeError(err)}`, { cause: err, retryAt: this.reconnectAt });
    }
    if (this.closed) {
      await this.destroyTransport(transport);
      throw new ModbusError('closed', `link ${this.name} is closed`);
    }
    this.connects++;
    connection.readyAt = this.clock.now() + this.spec.connectDelay;
    this.connection = connection;
    this.consecutiveTimeouts = 0;
    this.log.info({ connects: this.connects }, this.connects === 1 ? 'modbus connected' : 'modbus reconnected');
    return connection;
  }

  /** Waits for connectDelay, interRequestDelay and any post-timeout settle time. */
  private async pace(connection: Connection): Promise<void> {
    const earliest = Math.max(connection.readyAt, this.lastRequestEndAt + this.spec.interRequestDelay, this.settleUntil);
    const wait = earliest - this.clock.now();
    if (wait <= 0) return;
    await new Promise<void>((resolve) => {
      const done = (): void => {
        timer.cancel();
        this.closeListeners.delete(done);
        resolve();
      };
      const timer = this.clock.setTimer(done, wait);
      this.closeListeners.add(done);
    });
  }

  /** Races `work` against the timeout on the injected clock, the connection going away, and close(). */
  private race<T>(work: Promise<T>, connection: Connection | null, what: string): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      let settled = false;
      const onLost = (reason: unknown): void => finish(() => reject(this.connectionLost(connection!, reason)));
      const onClose = (err: ModbusError): void => finish(() => reject(err));
      const finish = (fn: () => void): void => {
        if (settled) return;
        settled = true;
        timer.cancel();
        connection?.lostListeners.delete(onLost);
        this.closeListeners.delete(onClose);
        fn();
      };
      const timer = this.clock.setTimer(() => finish(() => reject(new ModbusError('timeout', `${what} on link ${this.name} timed out after ${this.spec.timeout} ms`))), this.spec.timeout);
      // Registered before `work` can settle; a late settle after a timeout is ignored here and never unhandled.
      work.then((value) => finish(() => resolve(value)), (err: unknown) => finish(() => reject(err)));
      connection?.lostListeners.add(onLost);
      this.closeListeners.add(onClose);
      if (connection?.isLost) onLost(new Error('connection closed'));
    });
  }

  private answered(state: UnitState, startedAt: number): void {
    const latency = this.clock.now() - startedAt;
    this.counters.answeredIn(latency);
    state.counters.answeredIn(latency);
    state.health.succeeded();
    this.consecutiveTimeouts = 0;
    this.resetsSinceAnswer = 0;
    this.reconnectBackoff.reset();
  }

  /** Applies the recovery rules for a failed request and returns the typed error to throw. */
  private async failed(err: unknown, unit: number, state: UnitState, connection: Connection, startedAt: number, what: string): Promise<ModbusError> {
    if (isModbusError(err, 'closed')) return err;
    const { kind, code } = isModbusError(err) ? { kind: err.kind, code: err.code } : classifyRequestError(err);
    const message = `${what} to unit ${unit} on link ${this.name}: ${describeError(err)}`;
    switch (kind) {
      case 'exception':
        // A valid answer: the device and the connection are fine.
        this.answered(state, startedAt);
        return new ModbusError('exception', message, { code, cause: err });
      case 'timeout':
        return this.timedOut(unit, state, message, err);
      case 'connection':
        if (!connection.isLost) await this.reset('connection error', false);
        return isModbusError(err) ? err : new ModbusError('connection', message, { cause: err });
      default:
        state.health.failed(this.clock.now());
        await this.reset('garbled reply', true);
        return new ModbusError('protocol', message, { cause: err });
    }
  }

  private async timedOut(unit: number, state: UnitState, message: string, cause: unknown): Promise<ModbusError> {
    const now = this.clock.now();
    if (this.spec.type !== 'tcp') this.settleUntil = now + (this.policy.settleAfterTimeoutMs ?? this.spec.timeout);
    this.consecutiveTimeouts++;
    if (this.consecutiveTimeouts < this.policy.timeoutsBeforeReconnect) {
      state.health.failed(now);
    } else {
      this.log.warn({ unit, timeouts: this.consecutiveTimeouts }, 'modbus link unresponsive; replacing the connection');
      // The first time since an answer, blame the connection (it may be wedged, F7) rather than the unit.
      if (this.resetsSinceAnswer > 0) state.health.failed(now);
      await this.reset('consecutive timeouts', true);
    }
    return new ModbusError('timeout', message, { cause });
  }

  private connectionLost(connection: Connection, reason: unknown): ModbusError {
    connection.isLost = true;
    return new ModbusError('connection', `link ${this.name}: connection lost: ${describeError(reason)}`, { cause: reason });
  }

  /** Drops the connection; `mayRetryAtOnce` allows an immediate reconnect if this is the first reset since an answer. */
  private async reset(why: string, mayRetryAtOnce: boolean): Promise<void> {
    this.scheduleReconnect(mayRetryAtOnce);
    this.log.warn({ why, retryAt: this.reconnectAt }, 'modbus connection reset');
    await this.teardown(why);
  }

  private scheduleReconnect(mayRetryAtOnce: boolean): void {
    const now = this.clock.now();
    this.reconnectAt = mayRetryAtOnce && this.resetsSinceAnswer === 0 ? now : now + this.reconnectBackoff.next();
    this.resetsSinceAnswer++;
  }

  private async teardown(why: string): Promise<void> {
    const connection = this.connection;
    this.connection = null;
    this.consecutiveTimeouts = 0;
    if (!connection) return;
    if (connection.isLost && !this.closed) {
      // Lost on its own: reconnect on the next request, at once the first time.
      if (this.reconnectAt <= this.clock.now()) this.scheduleReconnect(true);
      this.log.warn({ why }, 'modbus connection lost');
    }
    connection.isLost = true;
    await this.destroyTransport(connection.transport);
  }

  /** Destroys a transport, waiting at most one timeout for it. */
  private async destroyTransport(transport: ModbusTransport): Promise<void> {
    let timer: { cancel(): void } | undefined;
    await Promise.race([
      transport.destroy(),
      new Promise<void>((resolve) => { timer = this.clock.setTimer(resolve, this.spec.timeout); }),
    ]);
    timer?.cancel();
  }
}
