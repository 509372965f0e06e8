/**
 * The sender's own sequence numbers (security.md MSG-2 from the other side): strictly
 * increasing for the life of the key, across restarts and crashes. Numbers are reserved
 * in blocks: the end of the block is made durable (write, fsync, rename, fsync dir)
 * before any number in it is handed out, and a restart continues above the last
 * reservation. A crash wastes at most one block of numbers, never repeats one.
 *
 * With `timeFloor` (the default) a block also starts no lower than the clock in ms, so
 * even a lost or restored-from-backup state file yields numbers above any sent before,
 * as long as the clock is right (the agent does not trade on an unsynchronised clock, MSG-5)
 * and fewer than 1000 messages a second were sent on average.
 *
 * Reservation is synchronous so that `nextSeq()` can be: one small fsync per block.
 */
import { closeSync, fsyncSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Clock } from '../core/clock.js';
import type { Logger } from '../core/log.js';

export interface SequenceOptions {
  /** Numbers reserved per durable write. */
  block: number;
  /** Start each run no lower than clock.now() in ms. */
  timeFloor: boolean;
}

export const DEFAULT_SEQUENCE_OPTIONS: Readonly<SequenceOptions> = Object.freeze({ block: 1000, timeFloor: true });

export class SequenceAllocator {
  private next: number;
  private reservedUpTo: number;

  private constructor(
    private readonly file: string,
    private readonly options: SequenceOptions,
    start: number,
  ) {
    this.next = start;
    this.reservedUpTo = start - 1;
  }

  /** Reads `file` (e.g. <state dir>/seq.json), reserves the first block and returns the allocator. */
  static open(file: string, clock: Clock, options: Partial<SequenceOptions> = {}, log?: Logger): SequenceAllocator {
    const opts = { ...DEFAULT_SEQUENCE_OPTIONS, ...options };
    if (!Number.isSafeInteger(opts.block) || opts.block < 1) throw new RangeError('block must be a positive integer');
    const reserved = readReserved(file);
    if (reserved === 'corrupt') {
      if (!opts.timeFloor) throw new Error(`${file}: sequence state unreadable; refusing to reuse sequence numbers`);
      log?.error({ file }, 'sequence state unreadable; continuing from the clock');
    }
    const last = typeof reserved === 'number' ? reserved : 0;
    const floor = opts.timeFloor ? Math.floor(clock.now()) : 1;
    const allocator = new SequenceAllocator(file, opts, Math.max(last + 1, floor, 1));
    allocator.reserve();
    return allocator;
  }

  /** The next sequence number; never returns the same number twice for this state file. */
  nextSeq(): number {
    if (this.next > this.reservedUpTo) this.reserve();
    return this.next++;
  }

  /** The highest number that may be handed out before the next durable write. */
  get reserved(): number {
    return this.reservedUpTo;
  }

  private reserve(): void {
    const upTo = this.next - 1 + this.options.block;
    if (!Number.isSafeInteger(upTo)) throw new RangeError('sequence numbers exhausted');
    writeFileAtomicSync(this.file, `${JSON.stringify({ v: 1, reserved: upTo })}\n`);
    this.reservedUpTo = upTo;
  }
}

function readReserved(file: string): number | 'corrupt' | undefined {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  try {
    const data = JSON.parse(text) as { v?: unknown; reserved?: unknown };
    if (data.v === 1 && Number.isSafeInteger(data.reserved) && (data.reserved as number) >= 0) return data.reserved as number;
  } catch {
    // fall through
  }
  return 'corrupt';
}

/** Synchronous write-fsync-rename-fsync(dir), for a file of a few bytes. */
function writeFileAtomicSync(file: string, text: string): void {
  const temp = `${file}.tmp`;
  const fd = openSync(temp, 'w', 0o600);
  try {
    writeSync(fd, text);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(temp, file);
  let dir: number | undefined;
  try {
    dir = openSync(dirname(file), 'r');
    fsyncSync(dir);
  } catch {
    // not every file system can sync a directory
  } finally {
    if (dir !== undefined) closeSync(dir);
  }
}
