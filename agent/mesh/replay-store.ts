/**
 * Replay protection that survives restarts (security.md MSG-2): per sender, the anti-replay
 * window over sequence numbers (replay-window.ts) and a bounded cache of recent message
 * ids, persisted to one JSON file in the state directory.
 *
 * Durability trade-off: writing the file on every message would wear an SD card and cost
 * an fsync per message, so `accept()` only marks the state dirty and a write follows
 * within `flushIntervalMs` or after `flushEveryMessages` accepts, whichever comes first.
 * A crash can therefore forget the last few accepts; a replay of one of those within the
 * timestamp window would be accepted again after a restart. That is harmless for messages
 * that change nothing, and for those that do, the caller MUST `await flush()` before acting
 * on them (`accept()` and `openEnvelope` report `dirty` for this). Messages outside the
 * timestamp window are `stale` before they get here, so ids need only be remembered for
 * that long.
 */
import { readFile, rename } from 'node:fs/promises';
import { z } from 'zod';
import type { Clock, TimerHandle } from '../core/clock.js';
import type { Logger } from '../core/log.js';
import { PEER_ID_PATTERN } from '../identity/peer-id.js';
import { removeStrayTemps, writeFileAtomic } from '../identity/atomic-file.js';
import { MESSAGE_ID_PATTERN } from './envelope-schema.js';
import { EMPTY_WINDOW, windowAccept, windowVerdict, type WindowState } from './replay-window.js';

/** The fields of an envelope replay protection looks at. */
export interface ReplayKey {
  from: string;
  seq: number;
  id: string;
  ts: number;
}

/** What openEnvelope needs: a side-effect-free check, then a commit once everything else passed. */
export interface ReplayGuard {
  /** Undefined when `msg` is new, else why it is a replay. Changes nothing. */
  check(msg: ReplayKey): string | undefined;
  /** Records `msg` as seen; `dirty` is true while that is not yet on disk. */
  accept(msg: ReplayKey): { dirty: boolean };
}

export interface ReplayOptions {
  /** Out-of-order tolerance: how many sequence numbers below the highest are still accepted once. */
  windowSize: number;
  /** The timestamp window (± ms) of openEnvelope; ids are forgotten once their message would be stale. */
  timeWindowMs: number;
  /** Most message ids remembered; the oldest go first. */
  maxIds: number;
  /** Longest time accepted state stays only in memory. */
  flushIntervalMs: number;
  /** Most accepts before a write is started. */
  flushEveryMessages: number;
}

export const DEFAULT_REPLAY_OPTIONS: Readonly<ReplayOptions> = Object.freeze({
  windowSize: 64,
  timeWindowMs: 120_000,
  maxIds: 4096,
  flushIntervalMs: 5_000,
  flushEveryMessages: 100,
});

const fileSchema = z.strictObject({
  v: z.literal(1),
  floorTs: z.number().int().nullable(),
  senders: z.record(z.string().regex(PEER_ID_PATTERN), z.strictObject({ hi: z.number().int().min(0), mask: z.string().regex(/^[0-9a-f]{1,256}$/) })),
  ids: z.array(z.tuple([z.string().regex(PEER_ID_PATTERN), z.string().regex(MESSAGE_ID_PATTERN), z.number().int()])),
});

type ReplayFile = z.infer<typeof fileSchema>;

export class ReplayStore implements ReplayGuard {
  private readonly options: ReplayOptions;
  private readonly senders = new Map<string, WindowState>();
  /** `${from} ${id}` → ts, in insertion order (roughly ts order). */
  private readonly ids = new Map<string, number>();
  /** Messages with ts below this are refused: set when the persisted state was lost. */
  private floorTs: number | null = null;
  private version = 0;
  private flushedVersion = 0;
  private timer: TimerHandle | undefined;
  private writing: Promise<void> = Promise.resolve();
  private closed = false;

  private constructor(
    private readonly file: string | undefined,
    private readonly clock: Clock,
    options: Partial<ReplayOptions>,
    private readonly log: Logger | undefined,
  ) {
    this.options = { ...DEFAULT_REPLAY_OPTIONS, ...options };
    if (!Number.isInteger(this.options.windowSize) || this.options.windowSize < 1 || this.options.windowSize > 1024) {
      throw new RangeError('windowSize must be an integer in 1..1024');
    }
  }

  /** A store that keeps nothing on disk (tests, the simulator). */
  static inMemory(clock: Clock, options: Partial<ReplayOptions> = {}): ReplayStore {
    return new ReplayStore(undefined, clock, options, undefined);
  }

  /**
   * Loads `file` (e.g. <state dir>/replay.json) or starts empty when it does not exist. An
   * unreadable file is moved aside and, because what it remembered is lost, every message
   * stamped before now + timeWindowMs is refused as a replay until it would be stale anyway.
   */
  static async open(file: string, clock: Clock, options: Partial<ReplayOptions> = {}, log?: Logger): Promise<ReplayStore> {
    const store = new ReplayStore(file, clock, options, log);
    await removeStrayTemps(file);
    let text: string | undefined;
    try {
      text = await readFile(file, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
    if (text !== undefined) {
      const loaded = parseFile(text);
      if (loaded) store.load(loaded);
      else {
        const aside = `${file}.corrupt-${clock.now()}`;
        await rename(file, aside);
        store.floorTs = Math.floor(clock.now()) + store.options.timeWindowMs;
        store.version++;
        log?.error({ file, movedTo: aside, refuseBefore: store.floorTs }, 'replay state unreadable; refusing messages stamped before the floor');
        await store.flush();
      }
    }
    return store;
  }

  check(msg: ReplayKey): string | undefined {
    if (this.floorTs !== null && msg.ts < this.floorTs) return `stamped before ${this.floorTs}, when replay state was lost`;
    const state = this.senders.get(msg.from) ?? EMPTY_WINDOW;
    const verdict = windowVerdict(state, msg.seq, this.options.windowSize);
    if (verdict === 'duplicate') return `seq ${msg.seq} already accepted`;
    if (verdict === 'too_old') return `seq ${msg.seq} is below the window (highest ${state.hi})`;
    if (this.ids.has(idKey(msg))) return `message id ${msg.id} already accepted`;
    return undefined;
  }

  accept(msg: ReplayKey): { dirty: boolean } {
    const state = this.senders.get(msg.from) ?? EMPTY_WINDOW;
    this.senders.set(msg.from, windowAccept(state, msg.seq, this.options.windowSize));
    this.ids.set(idKey(msg), msg.ts);
    this.pruneIds();
    this.version++;
    this.scheduleFlush();
    return { dirty: this.dirty };
  }

  /** True while some accept is not yet durable. */
  get dirty(): boolean {
    return this.file !== undefined && this.version !== this.flushedVersion;
  }

  /** Highest sequence number accepted from `peer`, if any. */
  highWater(peer: string): number | undefined {
    return this.senders.get(peer)?.hi;
  }

  /** Resolves when every accept made before the call is on disk (fsynced). */
  flush(): Promise<void> {
    this.timer?.cancel();
    this.timer = undefined;
    const run = this.writing.catch(() => undefined).then(() => this.writeOnce());
    this.writing = run;
    return run;
  }

  /** Flushes and stops the timer; the store must not be used afterwards. */
  async close(): Promise<void> {
    this.closed = true;
    await this.flush();
  }

  private async writeOnce(): Promise<void> {
    if (!this.file) {
      this.flushedVersion = this.version;
      return;
    }
    if (this.version === this.flushedVersion) return;
    const version = this.version;
    const text = JSON.stringify(this.serialise());
    await writeFileAtomic(this.file, text, { mode: 0o600 });
    this.flushedVersion = Math.max(this.flushedVersion, version);
  }

  private scheduleFlush(): void {
    if (!this.file || this.closed) return;
    if (this.version - this.flushedVersion >= this.options.flushEveryMessages) {
      this.flush().catch((error: unknown) => this.log?.error({ err: error }, 'writing replay state failed'));
      return;
    }
    this.timer ??= this.clock.setTimer(() => {
      this.timer = undefined;
      this.flush().catch((error: unknown) => this.log?.error({ err: error }, 'writing replay state failed'));
    }, this.options.flushIntervalMs);
  }

  /** Drops ids whose messages are now stale, and the oldest beyond maxIds. */
  private pruneIds(): void {
    const expiredBefore = this.clock.now() - this.options.timeWindowMs;
    for (const [key, ts] of this.ids) {
      if (this.ids.size <= this.options.maxIds && ts >= expiredBefore) break;
      this.ids.delete(key);
    }
    if (this.floorTs !== null && this.floorTs < expiredBefore) this.floorTs = null;
  }

  private serialise(): ReplayFile {
    const senders: ReplayFile['senders'] = {};
    for (const [peer, state] of this.senders) senders[peer] = { hi: state.hi, mask: state.mask.toString(16) };
    const ids: ReplayFile['ids'] = [];
    for (const [key, ts] of this.ids) {
      const space = key.indexOf(' ');
      ids.push([key.slice(0, space), key.slice(space + 1), ts]);
    }
    return { v: 1, floorTs: this.floorTs, senders, ids };
  }

  private load(data: ReplayFile): void {
    const full = (1n << BigInt(this.options.windowSize)) - 1n;
    for (const [peer, { hi, mask }] of Object.entries(data.senders)) {
      this.senders.set(peer, { hi, mask: BigInt(`0x${mask}`) & full });
    }
    for (const [from, id, ts] of data.ids) this.ids.set(`${from} ${id}`, ts);
    this.floorTs = data.floorTs;
    this.pruneIds();
  }
}

function idKey(msg: ReplayKey): string {
  return `${msg.from} ${msg.id}`;
}

function parseFile(text: string): ReplayFile | undefined {
  try {
    const result = fileSchema.safeParse(JSON.parse(text));
    return result.success ? result.data : undefined;
  } catch {
    return undefined;
  }
}
