/**
 * The ledger file (docs/ledger.md; security.md LOG-1, LOG-2, LOG-4, LOG-5, MSG-6).
 *
 * - Append only: one record per line, written with a single write() to a descriptor opened
 *   O_APPEND, then fdatasync'ed. `append` resolves only after the sync, so a caller that
 *   sends a dependent message after `await append(...)` never acknowledges anything a crash
 *   could lose. Appends run one at a time, in call order.
 * - Idempotent: a key is recorded once. Appending a key again with the same kind and body
 *   returns the existing record and writes nothing; with a different kind or body it throws
 *   LedgerConflictError.
 * - Recovery on open: a torn tail (see verify.ts) is copied to `<file>.torn-<ms>`, cut off
 *   (ftruncate + fsync) and logged with its byte counts. Any other fault leaves the file as
 *   it is and the ledger unhealthy: `healthy` is false, `faults` says file:line and what,
 *   and every append throws LedgerDamagedError. The agent must stop trading. A failed
 *   write or fsync at run time does the same until a restart re-reads the file.
 */
import { constants } from 'node:fs';
import { open, writeFile, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Clock } from '../core/clock.js';
import type { Logger } from '../core/log.js';
import { syncDirectory } from '../identity/atomic-file.js';
import { canonicalJson, CanonicalError } from '../mesh/canonical.js';
import { contractProblems } from './fill-signature.js';
import {
  encodeRecord,
  isLedgerKind,
  isPlainObject,
  keyProblem,
  LEDGER_FORMAT_VERSION,
  LedgerRecordError,
  lineHash,
  MAX_LINE_BYTES,
  parseRecordLine,
  signRecord,
  type JsonObject,
  type LedgerKind,
  type LedgerRecord,
  type RecordSigner,
} from './record.js';
import { formatFault, LedgerVerifier, type LedgerFault, type LineInput, type SignatureCheck, type VerifyOptions, type VerifyReport } from './verify.js';

/** The ledger's name in the state directory. */
export const LEDGER_FILE = 'ledger.jsonl';
const FILE_MODE = 0o600;
const READ_CHUNK = 64 * 1024;
const NEWLINE = Buffer.from('\n');

/** Appends are refused: the file is damaged, a write failed, or the ledger is closed. */
export class LedgerDamagedError extends Error {
  override readonly name = 'LedgerDamagedError';
  constructor(readonly file: string, readonly faults: readonly LedgerFault[], message: string) {
    super(message);
  }
}

/** A key already recorded with another kind or body. */
export class LedgerConflictError extends Error {
  override readonly name = 'LedgerConflictError';
  constructor(readonly existing: LedgerRecord, message: string) {
    super(message);
  }
}

/** The two file operations an append makes, injectable so tests can fail or observe them. */
export interface LedgerIo {
  /** One write() of `data` at the end of the file; resolves to the bytes written. */
  write(handle: FileHandle, data: Buffer): Promise<number>;
  /** fdatasync(2). */
  datasync(handle: FileHandle): Promise<void>;
}

export const realLedgerIo: LedgerIo = {
  write: async (handle, data) => (await handle.write(data, 0, data.length, null)).bytesWritten,
  datasync: (handle) => handle.datasync(),
};

export interface LedgerOptions {
  /** Signs every record; the ledger refuses a file written by another key. */
  identity: RecordSigner;
  log: Logger;
  clock: Clock;
  /** Every intact record as open() reads it, so a caller that needs some of them does not read the file a second time. */
  onRecord?: (record: LedgerRecord) => void;
  /** Signature checks on open (verify.ts); default 'tail'. `tonari ledger verify` checks 'all'. */
  signatures?: SignatureCheck;
  io?: LedgerIo;
}

export type LedgerState = 'ok' | 'damaged' | 'failed' | 'closed';

interface IndexEntry {
  offset: number;
  length: number;
}

export class Ledger {
  private state: LedgerState;
  private readonly index: Map<string, IndexEntry>;
  private readonly faultList: LedgerFault[];
  private seq: number;
  private hash: string;
  private bytes: number;
  private queue: Promise<unknown> = Promise.resolve();
  private readonly io: LedgerIo;

  private constructor(
    readonly file: string,
    private readonly handle: FileHandle,
    private readonly options: LedgerOptions,
    report: VerifyReport,
    index: Map<string, IndexEntry>,
  ) {
    this.io = options.io ?? realLedgerIo;
    this.state = report.damaged ? 'damaged' : 'ok';
    this.faultList = report.damaged ? [...report.faults] : [];
    this.seq = report.lastSeq;
    this.hash = report.lastHash;
    this.bytes = report.validBytes;
    this.index = index;
  }

  /**
   * Opens (creating it, mode 0600, if missing) and verifies the ledger at `file`, e.g.
   * `<state dir>/ledger.jsonl`. Cuts off a torn tail. A damaged ledger still opens, with
   * `healthy` false; only errors of the file itself (permissions, a symlink, a directory) throw.
   */
  static async open(file: string, options: LedgerOptions): Promise<Ledger> {
    const { log, identity } = options;
    let handle: FileHandle;
    let created = false;
    try {
      handle = await open(file, constants.O_RDWR | constants.O_APPEND | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, FILE_MODE);
      created = true;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      handle = await open(file, constants.O_RDWR | constants.O_APPEND | constants.O_NOFOLLOW);
    }
    try {
      if (created) {
        await syncDirectory(dirname(file));
        log.info({ file }, 'ledger created');
      }
      const info = await handle.stat();
      if (!info.isFile()) throw new Error(`${file} is not a regular file`);
      if (info.mode & 0o077) log.warn({ file, mode: (info.mode & 0o777).toString(8) }, 'ledger is readable by group or others');
      const index = new Map<string, IndexEntry>();
      const report = await scanFile(handle, info.size, {
        signatures: options.signatures ?? 'tail',
        signer: identity.peerId,
        onRecord: (record, position) => {
          index.set(record.key, { offset: position.offset, length: position.length });
          options.onRecord?.(record);
        },
      });
      if (report.damaged) {
        log.error({ file, faults: report.faults.slice(0, 20).map((f) => formatFault(file, f)), faultCount: report.faults.length, intactRecords: report.records }, 'ledger damaged: appends refused, trading must stop');
      } else if (report.tornTail) {
        await cutTornTail(handle, file, report, info.size, options);
      }
      const ledger = new Ledger(file, handle, options, report, index);
      log.info({ file, records: report.records, bytes: report.validBytes, healthy: ledger.healthy }, 'ledger opened');
      return ledger;
    } catch (error) {
      await handle.close().catch(() => undefined);
      throw error;
    }
  }

  /** False when appends are refused (damage found on open, a failed write, or closed). */
  get healthy(): boolean {
    return this.state === 'ok';
  }

  get status(): LedgerState {
    return this.state;
  }

  /** What is wrong, with line numbers; empty while healthy. */
  get faults(): readonly LedgerFault[] {
    return this.faultList;
  }

  /** Records in the (intact part of the) ledger; the seq of the last one. */
  get size(): number {
    return this.seq;
  }

  /** SHA-256 of the last line: the next record's `prev`. */
  get headHash(): string {
    return this.hash;
  }

  has(key: string): boolean {
    return this.index.has(key);
  }

  /** The record with this idempotency key, read back from the file. */
  async get(key: string): Promise<LedgerRecord | undefined> {
    const entry = this.index.get(key);
    return entry ? this.readRecord(entry) : undefined;
  }

  /**
   * Appends a record and resolves once it is on disk (after fdatasync). Returns the existing
   * record when `key` is already recorded with the same kind and body. Throws
   * LedgerRecordError for a bad kind, key or body (nothing written, ledger still healthy),
   * LedgerConflictError for a key recorded with something else, LedgerDamagedError when
   * appends are refused.
   */
  append(kind: LedgerKind, key: string, body: JsonObject): Promise<LedgerRecord> {
    const run = this.queue.then(() => this.appendNow(kind, key, body));
    this.queue = run.catch(() => undefined);
    return run;
  }

  /** Waits for queued appends, then closes the file; later appends throw LedgerDamagedError. */
  async close(): Promise<void> {
    const run = this.queue.then(async () => {
      if (this.state === 'closed') return;
      this.state = 'closed';
      await this.handle.close();
    });
    this.queue = run.catch(() => undefined);
    await run;
  }

  private refused(): LedgerDamagedError {
    if (this.state === 'closed') return new LedgerDamagedError(this.file, [], `ledger ${this.file} is closed`);
    const first = this.faultList[0];
    const more = this.faultList.length > 1 ? ` (and ${this.faultList.length - 1} more; run \`tonari ledger verify\`)` : '';
    const what = first ? formatFault(this.file, first) : 'unknown fault';
    return new LedgerDamagedError(this.file, this.faultList, `ledger refuses appends: ${what}${more}`);
  }

  private async appendNow(kind: LedgerKind, key: string, body: JsonObject): Promise<LedgerRecord> {
    if (this.state !== 'ok') throw this.refused();
    if (!isLedgerKind(kind)) throw new LedgerRecordError(`unknown ledger kind ${JSON.stringify(kind)}`);
    const keyIssue = keyProblem(key);
    if (keyIssue !== undefined) throw new LedgerRecordError(keyIssue);
    if (!isPlainObject(body)) throw new LedgerRecordError('body must be a plain JSON object');
    let bodyJson: string;
    try {
      bodyJson = canonicalJson(body);
    } catch (error) {
      if (error instanceof CanonicalError) throw new LedgerRecordError(`body is not plain JSON: ${error.message}`);
      throw error;
    }

    const existing = this.index.get(key);
    if (existing) {
      const record = await this.readRecord(existing);
      if (record.kind === kind && canonicalJson(record.body) === bodyJson) return record;
      throw new LedgerConflictError(record, `key ${key} is already recorded (line ${record.seq}) with another ${record.kind === kind ? 'body' : `kind (${record.kind})`}`);
    }

    const { identity } = this.options;
    if (kind === 'contract') {
      const problems = contractProblems(body, identity.peerId);
      if (problems.length > 0) throw new LedgerRecordError(`not a contract: ${problems.join('; ')}`);
    }
    // A copy, so a caller mutating its object afterwards cannot change what the index describes.
    const record = signRecord({
      v: LEDGER_FORMAT_VERSION,
      seq: this.seq + 1,
      prev: this.hash,
      at: Math.floor(this.options.clock.now()),
      kind,
      key,
      body: JSON.parse(bodyJson) as JsonObject,
      signer: identity.peerId,
      pub: identity.rawPublicKey.toString('base64url'),
    }, identity.privateKey);
    const line = encodeRecord(record);
    if (line.length > MAX_LINE_BYTES) throw new LedgerRecordError(`record is ${line.length} bytes, more than ${MAX_LINE_BYTES}`);

    const data = Buffer.concat([line, NEWLINE]);
    const offset = this.bytes;
    try {
      const written = await this.io.write(this.handle, data);
      if (written !== data.length) throw new Error(`short write: ${written} of ${data.length} bytes`);
      await this.io.datasync(this.handle);
    } catch (error) {
      await this.fail(record.seq, offset, error);
      throw this.refused();
    }
    this.seq = record.seq;
    this.hash = lineHash(line);
    this.bytes = offset + data.length;
    this.index.set(key, { offset, length: line.length });
    return record;
  }

  /**
   * A write or sync failed: the file may hold part of the record, and after a failed fsync
   * the kernel may have dropped the data, so a retry could report success falsely. Cut back
   * to the last good record (best effort) and refuse appends until a restart re-reads the file.
   */
  private async fail(seq: number, offset: number, error: unknown): Promise<void> {
    this.state = 'failed';
    const message = `writing record ${seq} failed: ${(error as Error).message ?? String(error)}`;
    this.faultList.push({ line: seq, offset, kind: 'io', message });
    this.options.log.error({ file: this.file, seq, err: error }, 'ledger write failed: appends refused until restart, trading must stop');
    try {
      await this.handle.truncate(offset);
      await this.handle.datasync();
    } catch (truncateError) {
      this.options.log.error({ file: this.file, err: truncateError }, 'ledger: cutting back the failed write failed too');
    }
  }

  private async readRecord(entry: IndexEntry): Promise<LedgerRecord> {
    const buffer = Buffer.alloc(entry.length);
    const { bytesRead } = await this.handle.read(buffer, 0, entry.length, entry.offset);
    const parsed = parseRecordLine(buffer.subarray(0, bytesRead));
    if (!parsed.ok) throw new Error(`${this.file}: record at byte ${entry.offset} changed on disk: ${parsed.problem}`);
    return parsed.record;
  }
}

/** Copies a torn tail aside, cuts it off and syncs; the ledger then ends with its last good record. */
async function cutTornTail(handle: FileHandle, file: string, report: VerifyReport, size: number, options: LedgerOptions): Promise<void> {
  const removed = size - report.validBytes;
  const tail = Buffer.alloc(removed);
  await handle.read(tail, 0, removed, report.validBytes);
  const aside = `${file}.torn-${Math.floor(options.clock.now())}`;
  let savedTo: string | undefined = aside;
  try {
    await writeFile(aside, tail, { mode: FILE_MODE, flag: 'wx' });
  } catch (error) {
    savedTo = undefined;
    options.log.warn({ file: aside, err: error }, 'ledger: could not keep a copy of the torn tail');
  }
  await handle.truncate(report.validBytes);
  await handle.datasync();
  options.log.warn(
    { file, line: report.lines, offset: report.validBytes, removedBytes: removed, keptBytes: report.validBytes, keptRecords: report.records, savedTo },
    'ledger: torn tail cut off (a write interrupted by a crash or power cut)',
  );
}

/** Reads `size` bytes of an open ledger line by line into a verifier. */
async function scanFile(handle: FileHandle, size: number, options: VerifyOptions): Promise<VerifyReport> {
  const verifier = new LedgerVerifier(options);
  await readLines(handle, size, (line) => verifier.feed(line));
  return verifier.finish();
}

async function readLines(handle: FileHandle, size: number, onLine: (line: LineInput) => void): Promise<void> {
  const chunk = Buffer.allocUnsafe(READ_CHUNK);
  let parts: Buffer[] = [];
  let length = 0;
  let lineStart = 0;
  let tooLong = false;
  let position = 0;
  while (position < size) {
    const { bytesRead } = await handle.read(chunk, 0, Math.min(READ_CHUNK, size - position), position);
    if (bytesRead === 0) break;
    const view = chunk.subarray(0, bytesRead);
    let start = 0;
    while (start < bytesRead) {
      const nl = view.indexOf(10, start);
      const end = nl === -1 ? bytesRead : nl;
      if (!tooLong) {
        if (length + end - start > MAX_LINE_BYTES) {
          tooLong = true;
          parts = [];
        } else {
          parts.push(Buffer.from(view.subarray(start, end)));
        }
      }
      length += end - start;
      if (nl === -1) break;
      onLine({ bytes: tooLong ? undefined : Buffer.concat(parts, length), offset: lineStart, length, terminated: true });
      lineStart += length + 1;
      parts = [];
      length = 0;
      tooLong = false;
      start = nl + 1;
    }
    position += bytesRead;
  }
  if (length > 0) onLine({ bytes: tooLong ? undefined : Buffer.concat(parts, length), offset: lineStart, length, terminated: false });
}

export interface LedgerFileReport extends VerifyReport {
  file: string;
  /** Bytes in the file. */
  size: number;
}

/**
 * Verifies a ledger file without changing it (what `tonari ledger verify` runs). Throws the
 * file system's error when the file cannot be read (ENOENT when there is none).
 */
export async function verifyLedgerFile(file: string, options: VerifyOptions = {}): Promise<LedgerFileReport> {
  const handle = await open(file, constants.O_RDONLY | constants.O_NOFOLLOW);
  try {
    const info = await handle.stat();
    if (!info.isFile()) throw Object.assign(new Error(`${file} is not a regular file`), { code: 'EISDIR' });
    const report = await scanFile(handle, info.size, { signatures: 'all', ...options });
    return { ...report, file, size: info.size };
  } finally {
    await handle.close();
  }
}

/**
 * Every line of a ledger file that parses as a record, in order, damaged or not (for export:
 * nothing readable is left out), with the verification report of the whole file.
 */
export async function readLedgerFile(file: string, options: VerifyOptions = {}): Promise<{ records: LedgerRecord[]; report: LedgerFileReport }> {
  const handle = await open(file, constants.O_RDONLY | constants.O_NOFOLLOW);
  try {
    const info = await handle.stat();
    if (!info.isFile()) throw Object.assign(new Error(`${file} is not a regular file`), { code: 'EISDIR' });
    const verifier = new LedgerVerifier({ signatures: 'all', ...options });
    const records: LedgerRecord[] = [];
    await readLines(handle, info.size, (line) => {
      verifier.feed(line);
      if (!line.bytes || !line.terminated) return;
      const parsed = parseRecordLine(line.bytes);
      if (parsed.ok) records.push(parsed.record);
    });
    return { records, report: { ...verifier.finish(), file, size: info.size } };
  } finally {
    await handle.close();
  }
}
