/**
 * The demo launcher's words: one line per event worth a newcomer's attention,
 * the live status line, and the summary printed when the community stops. Pure.
 */
import type { CommunityTotals, DemoEvent } from './monitor.js';
import { describeEquipment, type DemoHousehold } from './households.js';

const kwh = (wh: number) => `${(wh / 1000).toFixed(2)} kWh`;
const yen = (millisen: number) => `${millisen > 0 ? '+' : millisen < 0 ? '−' : ''}${(Math.abs(millisen) / 100_000).toFixed(2)}`;
const pricePerKwh = (sen: number) => `${(sen / 100).toFixed(2)} 円/kWh`;

/** "09:30" in `timeZone`. */
export function clockText(ms: number, timeZone: string): string {
  return new Intl.DateTimeFormat('en-GB', { timeZone, hour: '2-digit', minute: '2-digit', hour12: false }).format(ms);
}

/** The line for an event, or undefined for events shown only in the status line and summary. */
export function eventText(event: DemoEvent, timeZone: string): string | undefined {
  switch (event.type) {
    case 'up': return `${event.household} is up`;
    case 'dashboard': return `${event.household}'s dashboard: ${event.url}`;
    case 'linked': return event.connected === event.of ? `${event.household} is linked to all ${event.of} neighbours` : undefined;
    case 'unlinked': return `${event.household} lost its link to ${event.peer} (${event.state}); it reconnects by itself`;
    case 'mesh': return event.formed
      ? `mesh formed: all ${event.households} households are linked to each other`
      : `mesh incomplete: not every running household is linked to every other`;
    case 'contract': {
      const slot = Date.parse(event.slot);
      const when = Number.isFinite(slot) ? ` for the ${clockText(slot, timeZone)} slot` : '';
      return `contract: ${event.buyer} buys ${kwh(event.energyWh)} from ${event.seller} at ${pricePerKwh(event.priceSenPerKWh)}${when}`;
    }
    case 'settled': return `settled: ${event.seller} → ${event.buyer}, ${event.status}${event.deliveredWh === null ? '' : `, ${kwh(event.deliveredWh)} delivered`}`;
    case 'problem': return `${event.household}: ${event.level}: ${event.message}`;
    case 'exited': return event.expected ? undefined
      : `${event.household} exited unexpectedly (${event.signal ? `signal ${event.signal}` : `exit code ${event.code}`}); the others keep trading without it`;
  }
}

/** The one-line picture of the community: simulated time, agents up, mesh, trades. */
export function statusText(simNow: number, timeZone: string, totals: CommunityTotals): string {
  const up = totals.households.filter((h) => h.running && h.up).length;
  const running = totals.households.filter((h) => h.running).length;
  const dead = totals.households.length - running;
  return [
    `${clockText(simNow, timeZone)} simulated`,
    `${up} of ${totals.households.length} agents up${dead > 0 ? ` (${dead} exited)` : ''}`,
    totals.meshFormed ? 'mesh formed' : 'mesh forming',
    `${totals.contracts} contract${totals.contracts === 1 ? '' : 's'}, ${kwh(totals.energyWh)} traded`,
  ].join(' · ');
}

/** "3m 12s". */
export function durationText(ms: number): string {
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ${s % 60}s`;
  return `${Math.floor(m / 60)}h ${m % 60}m`;
}

export interface SummaryInput {
  totals: CommunityTotals;
  households: readonly DemoHousehold[];
  realMs: number;
  simFrom: number;
  simTo: number;
  timeZone: string;
  dir: string;
  /** Households that had to be killed after the stop deadline. */
  killed: readonly string[];
}

export function summaryLines(input: SummaryInput): string[] {
  const { totals, households, timeZone } = input;
  const lines = [
    `stopped after ${durationText(input.realMs)} of real time: simulated ${clockText(input.simFrom, timeZone)} → ${clockText(input.simTo, timeZone)} (${durationText(input.simTo - input.simFrom)})`,
    `${totals.contracts} contract${totals.contracts === 1 ? '' : 's'}, ${kwh(totals.energyWh)} traded between neighbours, ${totals.settled} settled`,
  ];
  const header = ['household', 'equipment', 'contracts', 'sold kWh', 'bought kWh', 'net 円', 'stopped'];
  const rows = totals.households.map((h, i) => [
    h.name, describeEquipment(households[i]!), String(h.contracts), (h.soldWh / 1000).toFixed(2), (h.boughtWh / 1000).toFixed(2),
    yen(h.receivedMillisen - h.paidMillisen), stoppedText(h.exit, input.killed.includes(h.name)),
  ]);
  const table = [header, ...rows];
  const widths = header.map((_, c) => Math.max(...table.map((r) => r[c]!.length)));
  const numeric = new Set([2, 3, 4, 5]);
  for (const row of table) {
    lines.push(`  ${row.map((cell, c) => (c === row.length - 1 ? cell : numeric.has(c) ? cell.padStart(widths[c]!) : cell.padEnd(widths[c]!))).join('  ')}`);
  }
  if (input.killed.length > 0) lines.push(`${input.killed.join(', ')} did not stop in time and ${input.killed.length === 1 ? 'was' : 'were'} killed (SIGKILL); ${input.killed.length === 1 ? 'its' : 'their'} ledger is cut back to the last complete record on the next start`);
  lines.push(`logs, configurations and ledgers are in ${input.dir}; e.g. tonari trades --state-dir ${input.dir}/${households[0]?.slug ?? 'sato'}/state`);
  return lines;
}

function stoppedText(exit: CommunityTotals['households'][number]['exit'], killed: boolean): string {
  if (killed) return 'killed';
  if (!exit) return 'still running';
  if (exit.signal) return `signal ${exit.signal}${exit.expected ? '' : ' (unexpected)'}`;
  return exit.code === 0 ? 'cleanly' : `exit code ${exit.code}${exit.expected ? '' : ' (unexpected)'}`;
}
