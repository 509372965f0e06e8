import { exceptionCode, type RegisterReader } from './reader.js';
import { learnBarrier, planBlocks, splitBlock, type PlanError, type ReadBlock, type ReadFunctionCode, type WantedSpan } from './planner.js';

const ILLEGAL_DATA_ADDRESS = 2;

/** Registers read in one poll, by function code and address. */
export class RegisterImage {
  private readonly words: Record<ReadFunctionCode, Map<number, number>> = { 3: new Map(), 4: new Map() };
  /** The register range each successful request returned. */
  private readonly requests: { fc: ReadFunctionCode; address: number; count: number }[] = [];
  /** Registers that two requests of this poll returned with different contents. */
  private readonly conflicts: Record<ReadFunctionCode, Set<number>> = { 3: new Set(), 4: new Set() };

  /** Stores the registers one request returned. */
  set(fc: ReadFunctionCode, address: number, values: readonly number[]): void {
    values.forEach((w, i) => {
      const earlier = this.words[fc].get(address + i);
      if (earlier !== undefined && earlier !== w) this.conflicts[fc].add(address + i);
      this.words[fc].set(address + i, w);
    });
    this.requests.push({ fc, address, count: values.length });
  }

  /**
   * Whether a single request returned all of these spans, e.g. a value and its
   * scale factor, and no other request of this poll saw them differently.
   * After a block is split, or when two blocks overlap, a value and its SF may
   * come from different requests, and a dynamic SF may have changed in between.
   */
  readInOneRequest(spans: readonly { fc: ReadFunctionCode; address: number; size: number }[]): boolean {
    if (spans.length === 0) return false;
    const changed = spans.some((s) => {
      for (let a = s.address; a < s.address + s.size; a++) if (this.conflicts[s.fc].has(a)) return true;
      return false;
    });
    return !changed && this.requests.some((r) => spans.every((s) => s.fc === r.fc && s.address >= r.address && s.address + s.size <= r.address + r.count));
  }

  /** The registers, or undefined if any of them was not read. */
  get(fc: ReadFunctionCode, address: number, count: number): number[] | undefined {
    const out: number[] = [];
    for (let a = address; a < address + count; a++) {
      const w = this.words[fc].get(a);
      if (w === undefined) return undefined;
      out.push(w);
    }
    return out;
  }

  has(fc: ReadFunctionCode, address: number): boolean {
    return this.words[fc].has(address);
  }
}

export interface BlockReaderOptions {
  maxRegisters: number;
  maxGap: number;
}

/**
 * Reads a fixed set of wanted spans from one device with as few requests as
 * the planner allows. A block refused with exception 2 is split and retried;
 * a single span that is refused becomes a barrier, so later polls plan around
 * it and its value stays missing.
 */
export class BlockReader {
  private barriers = new Set<number>();
  private plan: ReadBlock[] = [];
  private planErrors: PlanError[] = [];
  private unreadable: string[] = [];
  private dirty = true;
  requests = 0;

  constructor(private readonly reader: RegisterReader, private readonly spans: readonly WantedSpan[], private readonly options: BlockReaderOptions) {}

  /** The current plan (re-made after a barrier was learned). */
  blocks(): readonly ReadBlock[] {
    this.replanIfNeeded();
    return this.plan;
  }

  /** Keys that cannot be read: they cover a barrier, or their bundle cannot fit one request. */
  unreadableKeys(): string[] {
    this.replanIfNeeded();
    return [...this.unreadable, ...this.planErrors.flatMap((e) => e.keys)];
  }

  async readAll(): Promise<RegisterImage> {
    this.replanIfNeeded();
    const image = new RegisterImage();
    for (const block of this.plan) await this.readBlock(block, image);
    return image;
  }

  private replanIfNeeded(): void {
    if (!this.dirty) return;
    const result = planBlocks(this.spans, { ...this.options, barriers: this.barriers });
    this.plan = result.blocks;
    this.planErrors = result.errors;
    this.unreadable = result.unreadable;
    this.dirty = false;
  }

  /** Reads a block; returns true if a wanted span in it was refused (and became a barrier). */
  private async readBlock(block: ReadBlock, image: RegisterImage): Promise<boolean> {
    try {
      this.requests++;
      image.set(block.fc, block.address, await this.reader.read(block.fc, block.address, block.count));
      return false;
    } catch (err) {
      if (exceptionCode(err) !== ILLEGAL_DATA_ADDRESS) throw err;
      this.dirty = true;
      const parts = splitBlock(block, this.spans);
      if (parts.length < 2) {
        this.barriers = learnBarrier(this.barriers, block);
        return true;
      }
      let refused = false;
      for (const part of parts) refused = (await this.readBlock(part, image)) || refused;
      // Every wanted span was readable, so the hole lies in the registers read in between.
      if (!refused) for (const gap of uncovered(block, parts)) this.barriers = learnBarrier(this.barriers, gap);
      return refused;
    }
  }
}

function uncovered(block: ReadBlock, parts: readonly ReadBlock[]): { address: number; count: number }[] {
  const gaps: { address: number; count: number }[] = [];
  let cursor = block.address;
  for (const part of [...parts].sort((a, b) => a.address - b.address)) {
    if (part.address > cursor) gaps.push({ address: cursor, count: part.address - cursor });
    cursor = Math.max(cursor, part.address + part.count);
  }
  if (cursor < block.address + block.count) gaps.push({ address: cursor, count: block.address + block.count - cursor });
  return gaps;
}
