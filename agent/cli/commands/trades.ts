import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { LEDGER_FILE, readLedgerFile } from '../../ledger/ledger.js';
import { tradeRows, type TradeRow } from '../../market/trades.js';
import { commandLine, isPermissionError, permissionHint } from '../hints.js';
import { EXIT, writeLine, type CliIO } from '../io.js';
import { DEFAULT_STATE_DIR, resolveStateDir } from './identity.js';

const USAGE = `usage: tonari trades [--state-dir DIR] [--json]

Lists this agent's trades from its ledger: one row per contract (both parties
signed it) with its slot, side, counterparty, energy, price, and how it settled
against the meters. Reads the ledger directly; the agent need not run.

  --state-dir DIR   state directory holding ${LEDGER_FILE} (default $STATE_DIRECTORY or ${DEFAULT_STATE_DIR})
  --json            print one JSON array, one object per contract

Exit 66 if there is no ledger yet.`;

const yen = (millisen: number | null) => (millisen === null ? '-' : `${(millisen / 100_000).toFixed(2)} 円`);

export function tradesTable(rows: readonly TradeRow[]): string[] {
  if (rows.length === 0) return ['no trades yet'];
  const header = ['SLOT (UTC)', 'SIDE', 'COUNTERPARTY', 'ENERGY', 'PRICE', 'STATUS', 'DELIVERED', 'AMOUNT'];
  const cells = rows.map((r) => [
    new Date(r.slot).toISOString().slice(0, 16).replace('T', ' '), r.side, r.counterparty, `${r.energyWh} Wh`,
    `${(r.priceSenPerKWh / 100).toFixed(2)} 円/kWh`, r.status, r.deliveredWh === null ? '-' : `${r.deliveredWh} Wh`, yen(r.amountMillisen),
  ]);
  const table = [header, ...cells];
  const widths = header.map((_, i) => Math.max(...table.map((row) => row[i]!.length)));
  return table.map((row) => row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i]!))).join('  '));
}

export async function tradesCommand(argv: string[], io: CliIO): Promise<number> {
  let args;
  try {
    args = parseArgs({ args: argv, options: { 'state-dir': { type: 'string' }, json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } }, strict: true });
  } catch (error) {
    writeLine(io.stderr, `tonari trades: ${(error as Error).message}\n\n${USAGE}`);
    return EXIT.USAGE;
  }
  if (args.values.help) {
    writeLine(io.stdout, USAGE);
    return EXIT.OK;
  }
  const file = join(resolveStateDir(args.values['state-dir']), LEDGER_FILE);
  let records;
  try {
    ({ records } = await readLedgerFile(file, { signatures: 'tail' }));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
      const stateDir = dirname(file);
      writeLine(io.stderr, existsSync(stateDir)
        ? `tonari trades: no ledger at ${file}; the agent writes it when it first trades`
        : `tonari trades: no ledger at ${file}: there is no state directory ${stateDir}; give the agent's with --state-dir (the stateDir of its configuration)`);
      return 66;
    }
    writeLine(io.stderr, `tonari trades: cannot read ${file}: ${(error as Error).message}`);
    if (isPermissionError(error)) writeLine(io.stderr, `tonari trades: ${permissionHint(commandLine('trades', argv))}`);
    return EXIT.IOERR;
  }
  const rows = tradeRows(records);
  if (args.values.json) writeLine(io.stdout, JSON.stringify(rows));
  else for (const line of tradesTable(rows)) writeLine(io.stdout, line);
  return EXIT.OK;
}
