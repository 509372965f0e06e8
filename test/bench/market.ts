/**
 * `npm run bench:market`: the market's cost and quality.
 *
 * (a) clearMs: the pure clearing of 1000 random orders spread over 48 slots and two
 *     zones (median of 7 runs after a warm-up);
 * (b) simulate1000Seconds: `tonari simulate --households 1000 --days 1` (communities of
 *     50, in-memory ledgers: the wall time of the protocol and the households, not of
 *     fsync; the file-ledger figure for 50 households is printed beside it);
 * (c) welfareRatio and welfareRatioLoss1: welfare the recorded contracts achieve over the
 *     central optimum on the same orders, without message loss (the 1000-household run)
 *     and with 1 % of deliveries lost (100 households, 1 day).
 *
 * Prints a table; the last line of stdout is one JSON object with the headline figures.
 */
import { performance } from 'node:perf_hooks';
import { clearAll } from '../../agent/market/clearing.js';
import { seededRandom } from '../../agent/market/community/households.js';
import { communityReport } from '../../agent/market/community/report.js';
import { runCommunity } from '../../agent/market/community/runner.js';
import { withOrderId } from '../../agent/market/order.js';
import type { Order } from '../../agent/market/types.js';

const SLOT_MS = 30 * 60_000;
const FIRST_SLOT = Date.UTC(2026, 4, 1, 15, 0, 0); // 00:00 in Tokyo

function randomBook(count: number, seed: number): Order[] {
  const random = seededRandom(seed);
  const owner = (i: number) => `t${i.toString(32).padStart(22, 'a').replace(/[01089]/g, 'b')}`;
  return Array.from({ length: count }, (_, i) => withOrderId({
    owner: owner(i), slot: FIRST_SLOT + Math.floor(random() * 48) * SLOT_MS, slotMinutes: 30,
    side: random() < 0.5 ? 'sell' : 'buy', energyWh: 100 + Math.floor(random() * 3000),
    limitSenPerKWh: 800 + Math.floor(random() * 2200), feeSenPerKWh: Math.floor(random() * 3) * 100,
    zone: random() < 0.5 ? 'a' : 'b', rev: 1,
  }));
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

async function main(): Promise<void> {
  const book = randomBook(1000, 7);
  for (let i = 0; i < 3; i++) clearAll(book);
  const times: number[] = [];
  let fills = 0;
  for (let i = 0; i < 7; i++) {
    const t0 = performance.now();
    fills = clearAll(book).reduce((n, r) => n + r.fills.length, 0);
    times.push(performance.now() - t0);
  }
  const clearMs = median(times);

  const big = communityReport(await runCommunity({ households: 1000, days: 1, seed: 1, ledger: 'memory' }));
  const lossy = communityReport(await runCommunity({ households: 100, days: 1, seed: 2, loss: 0.01, ledger: 'memory' }));
  const files = communityReport(await runCommunity({ households: 50, days: 1, seed: 3, ledger: 'file' }));

  const figures = {
    clearMs: Number(clearMs.toFixed(2)),
    simulate1000Seconds: Number((big.timing.wallMs / 1000).toFixed(1)),
    welfareRatio: Number(big.welfareRatio.toFixed(4)),
    welfareRatioLoss1: Number(lossy.welfareRatio.toFixed(4)),
  };
  const rows: [string, string, string][] = [
    ['clearing, 1000 orders over 48 slots and 2 zones (median of 7)', `${figures.clearMs} ms (${fills} fills)`, '< 100 ms'],
    ['tonari simulate, 1000 households, 1 day (20 communities of 50, in-memory ledgers)', `${figures.simulate1000Seconds} s`, '< 60 s'],
    ['  the same protocol, 50 households, 1 day, fsynced ledger files', `${(files.timing.wallMs / 1000).toFixed(1)} s`, ''],
    ['welfare achieved ÷ central optimum, no loss (1000 households)', String(figures.welfareRatio), '= 1'],
    ['welfare achieved ÷ central optimum, 1 % of deliveries lost (100 households)', String(figures.welfareRatioLoss1), '>= 0.99'],
    ['contracts / messages per contract (1000 households)', `${big.contracts} / ${big.messagesPerContract}`, ''],
  ];
  const width = Math.max(...rows.map((r) => r[0].length));
  console.log(`${'figure'.padEnd(width)}  value  target`);
  for (const [what, value, target] of rows) console.log(`${what.padEnd(width)}  ${value}  ${target}`);
  console.log(JSON.stringify(figures));
}

await main();
