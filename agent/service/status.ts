/**
 * The one-line STATUS= text `systemctl status tonari` shows, e.g.
 * "PV 2.1 kW, load 0.8 kW, grid export 1.3 kW, SoC 45 %, 3 peers". Pure.
 */
import type { HouseholdState, Reading } from '../household/state.js';

export interface StatusInput {
  household: HouseholdState | undefined;
  /** Neighbours with a working link (or seen on the cluster); undefined when the mesh is off. */
  peers: number | undefined;
  /** Health problems (health.ts); shown first. */
  problems: readonly string[];
}

/** sd_notify(3) fields are newline-separated; systemd shows a status line, so keep it short. */
export const MAX_STATUS_CHARS = 200;

export function statusText(input: StatusInput): string {
  const parts: string[] = [];
  const h = input.household;
  if (h) {
    parts.push(`PV ${kw(h.pvW)}`, `load ${kw(h.loadW)}`, grid(h.gridW));
    if (h.socPct.quality !== 'missing' || h.socPct.reason !== 'no device provides it') parts.push(`SoC ${pct(h.socPct)}`);
  } else {
    parts.push('no reading yet');
  }
  if (input.peers !== undefined) parts.push(`${input.peers} ${input.peers === 1 ? 'peer' : 'peers'}`);
  const text = input.problems.length > 0 ? `unhealthy: ${input.problems.join('; ')} | ${parts.join(', ')}` : parts.join(', ');
  return oneLine(text);
}

/** Removes what cannot travel in one sd_notify field and caps the length. */
export function oneLine(text: string): string {
  const clean = text.replace(/[\r\n\0]+/g, ' ');
  return clean.length <= MAX_STATUS_CHARS ? clean : `${clean.slice(0, MAX_STATUS_CHARS - 1)}…`;
}

function stale(r: Reading): string {
  return r.quality === 'stale' ? ' (stale)' : '';
}

function kw(r: Reading): string {
  return r.value === undefined ? 'n/a' : `${(r.value / 1000).toFixed(1)} kW${stale(r)}`;
}

function pct(r: Reading): string {
  return r.value === undefined ? 'n/a' : `${Math.round(r.value)} %${stale(r)}`;
}

function grid(r: Reading): string {
  if (r.value === undefined) return 'grid n/a';
  const direction = r.value < -1 ? 'export ' : r.value > 1 ? 'import ' : '';
  return `grid ${direction}${(Math.abs(r.value) / 1000).toFixed(1)} kW${stale(r)}`;
}
