import { readFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { KEY_FILE, parseKeyPem } from '../../identity/key-store.js';
import { peerIdOf, rawPublicKey } from '../../identity/peer-id.js';
import { ledgerCsv } from '../../ledger/export.js';
import { LEDGER_FILE, readLedgerFile, verifyLedgerFile, type LedgerFileReport } from '../../ledger/ledger.js';
import { formatFault } from '../../ledger/verify.js';
import { commandLine, isPermissionError, permissionHint } from '../hints.js';
import { EXIT, writeLine, type CliIO } from '../io.js';
import { DEFAULT_STATE_DIR, resolveStateDir } from './identity.js';

/** Exit statuses of `tonari ledger` (documented in docs/ledger.md). */
export const LEDGER_EXIT = {
  OK: EXIT.OK,
  /** Damaged: any fault other than a torn tail. */
  DAMAGED: EXIT.FAILURE,
  /** Only a torn tail: the agent cuts it off on its next start. */
  TORN_TAIL: 2,
  USAGE: EXIT.USAGE,
  /** No ledger file (sysexits EX_NOINPUT). */
  NO_LEDGER: 66,
  IOERR: EXIT.IOERR,
} as const;

const USAGE = `usage: tonari ledger verify [--state-dir DIR | --file FILE] [--json]
       tonari ledger export [--csv] [--state-dir DIR | --file FILE]

verify  checks every record of the ledger: the hash chain, the agent's signature
        on each record, and on each contract both counterparties' signatures over
        the fill. Prints every fault as FILE:LINE: KIND: what is wrong.
export  prints the records as CSV on stdout (header, then one row per record):
        seq,time,kind,key,counterparty,slot,energyWh,priceSenPerKWh,amountYen

  --state-dir DIR   state directory holding ${LEDGER_FILE} and the identity key
                    (default $STATE_DIRECTORY or ${DEFAULT_STATE_DIR}); records must be
                    signed by that identity when its key is readable
  --file FILE       a ledger file elsewhere (a copy, a neighbour's); its records must
                    all have the signer of its first record
  --json            verify: print one JSON object
  --csv             export: CSV (the only format, and the default)

Exit status: 0 intact; 1 damaged; 2 only a torn tail (cut off when the agent
next starts); 66 no ledger; 74 unreadable; 64 usage.`;

interface Target {
  file: string;
  signer: string | undefined;
  note: string | undefined;
}

/** The ledger file and, from the identity key beside it, the peer id that must have signed it. */
async function target(values: { 'state-dir'?: string | undefined; file?: string | undefined }): Promise<Target> {
  if (values.file !== undefined) return { file: values.file, signer: undefined, note: undefined };
  const stateDir = resolveStateDir(values['state-dir']);
  const keyFile = join(stateDir, KEY_FILE);
  let pem: string;
  try {
    pem = await readFile(keyFile, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'there is none' : (error as Error).message;
    return { file: join(stateDir, LEDGER_FILE), signer: undefined, note: `cannot read the identity key ${keyFile} (${why}); checking only that every record has the signer of the first` };
  }
  try {
    return { file: join(stateDir, LEDGER_FILE), signer: peerIdOf(rawPublicKey(parseKeyPem(pem, keyFile))), note: undefined };
  } catch (error) {
    return { file: join(stateDir, LEDGER_FILE), signer: undefined, note: `${(error as Error).message}; checking only that every record has the signer of the first` };
  }
}

function openError(io: CliIO, command: string, file: string, error: unknown, argv: readonly string[]): number {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') {
    writeLine(io.stderr, `tonari ledger ${command}: no ledger at ${file}${existsSync(dirname(file)) ? '' : `: there is no directory ${dirname(file)}; give the agent's state directory with --state-dir`}`);
    return LEDGER_EXIT.NO_LEDGER;
  }
  writeLine(io.stderr, `tonari ledger ${command}: cannot read ${file}: ${(error as Error).message}`);
  if (isPermissionError(error)) writeLine(io.stderr, `tonari ledger ${command}: ${permissionHint(commandLine('ledger', argv))}`);
  return LEDGER_EXIT.IOERR;
}

function exitCode(report: LedgerFileReport): number {
  if (report.damaged) return LEDGER_EXIT.DAMAGED;
  return report.tornTail ? LEDGER_EXIT.TORN_TAIL : LEDGER_EXIT.OK;
}

function summary(report: LedgerFileReport): string {
  const who = report.signer ? `, signed by ${report.signer}` : '';
  const plural = (n: number, what: string): string => `${n} ${what}${n === 1 ? '' : 's'}`;
  if (report.damaged) {
    const first = report.faults.find((f) => f.kind !== 'torn-tail');
    return `${report.file}: ${plural(report.lines, 'line')}, ${report.size} bytes${who}: DAMAGED, ${plural(report.faults.length, 'fault')}, the first on line ${first?.line ?? '?'}; ${plural(report.records, 'record')} intact before it`;
  }
  if (report.tornTail) {
    return `${report.file}: ${plural(report.records, 'record')}, ${report.size} bytes${who}: torn tail of ${report.tornTail.bytes} bytes on line ${report.lines} (the agent cuts it off when it next starts)`;
  }
  return `${report.file}: ${plural(report.records, 'record')}, ${report.size} bytes${who}: OK`;
}

async function verifyCommand(values: { 'state-dir'?: string | undefined; file?: string | undefined; json?: boolean | undefined }, io: CliIO, argv: readonly string[]): Promise<number> {
  const { file, signer, note } = await target(values);
  let report: LedgerFileReport;
  try {
    report = await verifyLedgerFile(file, { signatures: 'all', ...(signer !== undefined ? { signer } : {}) });
  } catch (error) {
    return openError(io, 'verify', file, error, argv);
  }
  if (note !== undefined) writeLine(io.stderr, `tonari ledger verify: ${note}`);
  if (values.json) {
    writeLine(io.stdout, JSON.stringify({
      file: report.file,
      ok: !report.damaged && !report.tornTail,
      damaged: report.damaged,
      records: report.records,
      lines: report.lines,
      bytes: report.size,
      signer: report.signer ?? null,
      signerPinned: signer !== undefined,
      tornTail: report.tornTail ?? null,
      faults: report.faults,
    }));
  } else {
    for (const fault of report.faults) writeLine(io.stdout, formatFault(report.file, fault));
    writeLine(io.stdout, summary(report));
  }
  return exitCode(report);
}

async function exportCommand(values: { 'state-dir'?: string | undefined; file?: string | undefined }, io: CliIO, argv: readonly string[]): Promise<number> {
  const { file, signer, note } = await target(values);
  let result;
  try {
    result = await readLedgerFile(file, { signatures: 'all', ...(signer !== undefined ? { signer } : {}) });
  } catch (error) {
    return openError(io, 'export', file, error, argv);
  }
  io.stdout.write(ledgerCsv(result.records));
  if (note !== undefined) writeLine(io.stderr, `tonari ledger export: ${note}`);
  const { report } = result;
  if (report.damaged || report.tornTail) {
    for (const fault of report.faults) writeLine(io.stderr, formatFault(report.file, fault));
    writeLine(io.stderr, `tonari ledger export: ${summary(report)}; every record that could be read was exported`);
  }
  return exitCode(report);
}

export async function ledgerCommand(argv: string[], io: CliIO): Promise<number> {
  let args;
  try {
    args = parseArgs({
      args: argv,
      allowPositionals: true,
      strict: true,
      options: {
        'state-dir': { type: 'string' },
        file: { type: 'string' },
        json: { type: 'boolean' },
        csv: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (error) {
    writeLine(io.stderr, `tonari ledger: ${(error as Error).message}\n\n${USAGE}`);
    return LEDGER_EXIT.USAGE;
  }
  const { values, positionals } = args;
  if (values.help) {
    writeLine(io.stdout, USAGE);
    return LEDGER_EXIT.OK;
  }
  const [sub, ...extra] = positionals;
  const usageError = (message: string): number => {
    writeLine(io.stderr, `tonari ledger: ${message}\n\n${USAGE}`);
    return LEDGER_EXIT.USAGE;
  };
  if (extra.length > 0) return usageError(`unexpected argument '${extra[0]}'`);
  if (values.file !== undefined && values['state-dir'] !== undefined) return usageError('give --state-dir or --file, not both');
  switch (sub) {
    case 'verify':
      if (values.csv) return usageError('--csv is an option of export');
      return verifyCommand(values, io, argv);
    case 'export':
      if (values.json) return usageError('export writes CSV; --json is an option of verify');
      return exportCommand(values, io, argv);
    case undefined:
      return usageError('which one: verify or export?');
    default:
      return usageError(`unknown subcommand '${sub}'`);
  }
}
