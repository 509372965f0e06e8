import type { HouseholdState, Reading } from '../household/state.js';

const kw = (r: Reading) => (r.value === undefined ? '—' : `${(r.value / 1000).toFixed(2)} kW${r.quality === 'stale' ? ' (stale)' : ''}`);
const pct = (r: Reading) => (r.value === undefined ? '—' : `${r.value.toFixed(1)} %${r.quality === 'stale' ? ' (stale)' : ''}`);

/** One line for people: what the house is doing right now. */
export function summarize(s: HouseholdState): string {
  const grid = s.gridW.value === undefined ? '' : s.gridW.value < -1 ? ' export' : s.gridW.value > 1 ? ' import' : '';
  const battery = s.batteryW.value === undefined ? '' : s.batteryW.value < -1 ? ' charging' : s.batteryW.value > 1 ? ' discharging' : '';
  return `PV ${kw(s.pvW)} · load ${kw(s.loadW)} · grid ${kw(s.gridW)}${grid} · battery ${kw(s.batteryW)}${battery} · SoC ${pct(s.socPct)}`;
}

/** The state as plain numbers for structured logs and --json (undefined stays absent). */
export function stateFields(s: HouseholdState): Record<string, number | string | undefined> {
  const out: Record<string, number | string | undefined> = {};
  for (const [key, r] of Object.entries(s) as [string, Reading | number][]) {
    if (typeof r === 'number') continue;
    out[key] = r.value === undefined ? undefined : Math.round(r.value * 10) / 10;
    if (r.quality !== 'ok') out[`${key}Quality`] = r.quality;
  }
  return out;
}
