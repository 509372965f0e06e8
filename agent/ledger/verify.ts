/**
 * Verification of a ledger's lines (pure; docs/ledger.md). Both `Ledger.open` and
 * `tonari ledger verify` feed the file through one LedgerVerifier, line by line, so the two
 * can never disagree about what is damaged.
 *
 * Checks per line: canonical record shape, `seq` equal to the line number, `prev` equal to
 * the SHA-256 of the previous line, one signer for the whole ledger (the expected one when
 * given), each idempotency key once, and, depending on `signatures`:
 *
 * - 'all': every record's Ed25519 signature, and on every contract both counterparties'
 *   signatures over the fill (what `tonari ledger verify` does);
 * - 'tail': the last record's signatures, and those of any record whose successor does not
 *   link to it (what `Ledger.open` does, so a restart stays linear and cheap on a Pi).
 *   This still catches every edit: changing a record breaks the link from the next one,
 *   and relinking the chain means re-signing every later record up to the last one, whose
 *   signature is always checked. A single damaged record is still pinpointed, because the
 *   broken link makes its own signature be checked.
 *
 * The last line is a torn tail, not damage, when it has no '\n' or is not JSON at all:
 * that is what a write interrupted by a crash or power cut leaves, and such a record was
 * never acknowledged (acknowledgement follows the fsync of the whole line). A last line
 * that parses but does not verify is damage: truncating it could hide an edit.
 */
import { contractProblems } from './fill-signature.js';
import { GENESIS_PREV, lineHash, MAX_LINE_BYTES, parseRecordLine, recordSignatureProblem, type LedgerRecord } from './record.js';

export type FaultKind =
  /** The last line was cut short by a crash; recoverable (the agent truncates it on open). */
  | 'torn-tail'
  /** Not a record: not JSON, wrong fields, not canonical, too long. */
  | 'malformed'
  /** `seq` is not the line number (a record missing, repeated or moved). */
  | 'seq'
  /** `prev` is not the SHA-256 of the previous line (something before changed). */
  | 'chain'
  /** The record's own signature does not verify, or its key is not its signer's. */
  | 'signature'
  /** Written by another agent than the ledger's owner. */
  | 'signer'
  /** An idempotency key recorded twice. */
  | 'duplicate-key'
  /** A contract whose fill is not signed by both counterparties (or not by the owner's side). */
  | 'contract'
  /** A write or fsync failed at run time; the file may hold a partial record. */
  | 'io';

export interface LedgerFault {
  /** 1-based line number (= the seq the record there should have). */
  line: number;
  /** Byte offset of the line's start. */
  offset: number;
  kind: FaultKind;
  message: string;
}

export type SignatureCheck = 'all' | 'tail';

export interface RecordPosition {
  line: number;
  offset: number;
  /** Bytes of the line without its '\n'. */
  length: number;
  /** SHA-256 of the line: the next record's `prev`. */
  hash: string;
}

export interface VerifyOptions {
  /** Default 'all'. */
  signatures?: SignatureCheck;
  /** Peer id every record must be signed by; default: whoever signed the first record. */
  signer?: string;
  /** Called for each record of the intact prefix, in order (not for anything after the first fault). */
  onRecord?: (record: LedgerRecord, position: RecordPosition) => void;
}

/** One line as read: `bytes` is undefined when the line is longer than MAX_LINE_BYTES. */
export interface LineInput {
  bytes: Buffer | undefined;
  offset: number;
  length: number;
  terminated: boolean;
}

export interface VerifyReport {
  /** Lines read, the torn tail included. */
  lines: number;
  /** Records in the intact prefix (before the first fault). */
  records: number;
  /** Bytes of the intact prefix: where a torn tail is cut. */
  validBytes: number;
  /** seq and hash of the last record of the intact prefix (0 and GENESIS_PREV when empty). */
  lastSeq: number;
  lastHash: string;
  /** The ledger's owner: the expected signer, else the first record's. */
  signer: string | undefined;
  /** In line order. */
  faults: LedgerFault[];
  /** True on any fault other than a torn tail. */
  damaged: boolean;
  tornTail: { offset: number; bytes: number } | undefined;
}

interface Pending {
  line: number;
  offset: number;
  length: number;
  terminated: boolean;
  hash: string | undefined;
  record: LedgerRecord | undefined;
  /** True when the line is not JSON at all (or too long to be a record): a torn tail if it is the last. */
  garbage: boolean;
  signatureChecked: boolean;
  faults: LedgerFault[];
}

export class LedgerVerifier {
  private readonly check: SignatureCheck;
  private readonly onRecord: VerifyOptions['onRecord'];
  private signer: string | undefined;
  private lineNo = 0;
  /** Hash of the previous line's bytes; undefined when it was too long to hash. */
  private prevHash: string | undefined = GENESIS_PREV;
  private pending: Pending | undefined;
  private readonly keys = new Map<string, number>();
  private readonly faults: LedgerFault[] = [];
  private intact = true;
  private records = 0;
  private validBytes = 0;
  private lastSeq = 0;
  private lastHash = GENESIS_PREV;
  private finished: VerifyReport | undefined;

  constructor(options: VerifyOptions = {}) {
    this.check = options.signatures ?? 'all';
    this.signer = options.signer;
    this.onRecord = options.onRecord;
  }

  /** Feeds the next line; only the last one fed may be unterminated. */
  feed(input: LineInput): void {
    if (this.finished) throw new Error('LedgerVerifier: feed after finish');
    if (this.pending && !this.pending.terminated) throw new Error('LedgerVerifier: a line after an unterminated one');
    const current = this.analyse(input);
    const previous = this.pending;
    if (previous) {
      // A broken link: find out whether the previous record itself was changed.
      if (current.faults.some((f) => f.kind === 'chain')) this.checkSignatures(previous);
      this.commit(previous);
    }
    this.pending = current;
  }

  finish(): VerifyReport {
    if (this.finished) return this.finished;
    let tornTail: VerifyReport['tornTail'];
    const last = this.pending;
    this.pending = undefined;
    if (last) {
      if (!last.terminated || last.garbage) {
        const bytes = last.length + (last.terminated ? 1 : 0);
        tornTail = { offset: last.offset, bytes };
        const what = last.terminated ? 'is not a record' : 'has no newline';
        this.faults.push({ line: last.line, offset: last.offset, kind: 'torn-tail', message: `the last line ${what} (${bytes} bytes): an interrupted write; the agent cuts it off on its next start` });
      } else {
        this.checkSignatures(last);
        this.commit(last);
      }
    }
    const damaged = this.faults.some((f) => f.kind !== 'torn-tail');
    this.finished = {
      lines: this.lineNo,
      records: this.records,
      validBytes: this.validBytes,
      lastSeq: this.lastSeq,
      lastHash: this.lastHash,
      signer: this.signer,
      faults: this.faults,
      damaged,
      tornTail,
    };
    return this.finished;
  }

  private analyse(input: LineInput): Pending {
    const line = ++this.lineNo;
    const fault = (kind: FaultKind, message: string): LedgerFault => ({ line, offset: input.offset, kind, message });
    const hash = input.bytes ? lineHash(input.bytes) : undefined;
    const expectedPrev = this.prevHash;
    this.prevHash = hash;
    const pending: Pending = {
      line,
      offset: input.offset,
      length: input.length,
      terminated: input.terminated,
      hash,
      record: undefined,
      garbage: false,
      signatureChecked: false,
      faults: [],
    };
    if (!input.bytes) {
      pending.garbage = true;
      pending.faults.push(fault('malformed', `line is ${input.length} bytes, longer than any record (${MAX_LINE_BYTES})`));
      return pending;
    }
    const parsed = parseRecordLine(input.bytes);
    if (!parsed.ok) {
      pending.garbage = !parsed.json;
      pending.faults.push(fault('malformed', parsed.problem));
      return pending;
    }
    const record = parsed.record;
    pending.record = record;
    if (record.seq !== line) pending.faults.push(fault('seq', `seq is ${record.seq}, expected ${line}`));
    if (expectedPrev !== undefined && record.prev !== expectedPrev) {
      pending.faults.push(fault('chain', line === 1 ? 'the first record must have prev 0…0' : `prev does not match the SHA-256 of line ${line - 1}`));
    }
    this.signer ??= record.signer;
    if (record.signer !== this.signer) pending.faults.push(fault('signer', `written by ${record.signer}, but this is the ledger of ${this.signer}`));
    const earlier = this.keys.get(record.key);
    if (earlier !== undefined) pending.faults.push(fault('duplicate-key', `key ${record.key} is already recorded on line ${earlier}`));
    else this.keys.set(record.key, line);
    if (this.check === 'all') this.checkSignatures(pending);
    return pending;
  }

  private checkSignatures(pending: Pending): void {
    const record = pending.record;
    if (!record || pending.signatureChecked) return;
    pending.signatureChecked = true;
    const fault = (kind: FaultKind, message: string): LedgerFault => ({ line: pending.line, offset: pending.offset, kind, message });
    const problem = recordSignatureProblem(record);
    if (problem !== undefined) pending.faults.push(fault('signature', problem));
    if (record.kind === 'contract') {
      for (const p of contractProblems(record.body, record.signer)) pending.faults.push(fault('contract', p));
    }
  }

  private commit(pending: Pending): void {
    this.faults.push(...pending.faults);
    if (!this.intact) return;
    if (pending.faults.length > 0 || !pending.record || pending.hash === undefined) {
      this.intact = false;
      return;
    }
    this.records++;
    this.validBytes = pending.offset + pending.length + 1;
    this.lastSeq = pending.record.seq;
    this.lastHash = pending.hash;
    this.onRecord?.(pending.record, { line: pending.line, offset: pending.offset, length: pending.length, hash: pending.hash });
  }
}

/** Splits a ledger's bytes into lines (the last possibly unterminated) and verifies them. */
export function verifyLedgerBytes(bytes: Uint8Array, options: VerifyOptions = {}): VerifyReport {
  const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const verifier = new LedgerVerifier(options);
  let start = 0;
  while (start < buffer.length) {
    const nl = buffer.indexOf(10, start);
    const end = nl === -1 ? buffer.length : nl;
    const length = end - start;
    verifier.feed({ bytes: length > MAX_LINE_BYTES ? undefined : buffer.subarray(start, end), offset: start, length, terminated: nl !== -1 });
    start = end + 1;
  }
  return verifier.finish();
}

/** `file:line: kind: message`, the form the CLI and errors use. */
export function formatFault(file: string, fault: LedgerFault): string {
  return `${file}:${fault.line}: ${fault.kind}: ${fault.message}`;
}
