/**
 * A Japanese household's consumption: a constant base load plus a morning
 * peak (~06:30–08:30), a small midday bump and the largest evening peak
 * (~18:00–22:00), scaled to a daily energy, in the household's local time.
 */

export interface LoadParams {
  dailyKWh: number;
  baseW: number;
  /** Standard deviation of the multiplicative noise (0 = smooth profile). */
  noise: number;
  noiseTimeConstantMs: number;
}

interface Peak {
  centerHour: number;
  widthHours: number;
  /** Share of the energy above base load. */
  share: number;
}

const PEAKS: readonly Peak[] = [
  { centerHour: 7.5, widthHours: 0.7, share: 0.25 },
  { centerHour: 12.5, widthHours: 1.2, share: 0.12 },
  { centerHour: 20, widthHours: 1.2, share: 0.63 },
];

/** Mean load in W at a local hour of day (0..24), before noise. */
export function loadProfileW(localHour: number, params: LoadParams): number {
  const dailyWh = params.dailyKWh * 1000;
  const baseW = Math.min(params.baseW, dailyWh / 24);
  const extraWh = dailyWh - baseW * 24;
  let watts = baseW;
  for (const peak of PEAKS) {
    const d = Math.abs(localHour - peak.centerHour);
    const distance = Math.min(d, 24 - d); // wrap around midnight
    const amplitude = (extraWh * peak.share) / (peak.widthHours * Math.sqrt(2 * Math.PI));
    watts += amplitude * Math.exp(-0.5 * (distance / peak.widthHours) ** 2);
  }
  return watts;
}

export function noisyLoadW(profileW: number, noiseX: number, params: LoadParams): number {
  return profileW * Math.max(0.2, 1 + params.noise * noiseX);
}

const formatters = new Map<string, Intl.DateTimeFormat>();
const offsetCache = new Map<string, number>();

function formatterFor(timeZone: string): Intl.DateTimeFormat {
  let fmt = formatters.get(timeZone);
  if (!fmt) {
    fmt = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    formatters.set(timeZone, fmt);
  }
  return fmt;
}

/** UTC offset of `timeZone` at `timeMs`, cached per zone and UTC hour (offsets change on hour boundaries). */
export function timeZoneOffsetMs(timeZone: string, timeMs: number): number {
  const hourBucket = Math.floor(timeMs / 3_600_000);
  const key = `${timeZone}@${hourBucket}`;
  const cached = offsetCache.get(key);
  if (cached !== undefined) return cached;
  const probe = hourBucket * 3_600_000;
  const parts: Record<string, number> = {};
  for (const p of formatterFor(timeZone).formatToParts(probe)) if (p.type !== 'literal') parts[p.type] = Number(p.value);
  const asUtc = Date.UTC(parts.year!, parts.month! - 1, parts.day!, parts.hour!, parts.minute!, parts.second!);
  const offset = asUtc - probe;
  if (offsetCache.size > 10_000) offsetCache.clear();
  offsetCache.set(key, offset);
  return offset;
}

/** Local hour of day in [0, 24) in `timeZone`. */
export function localHourOfDay(timeMs: number, timeZone: string): number {
  const local = timeMs + timeZoneOffsetMs(timeZone, timeMs);
  return (((local % 86_400_000) + 86_400_000) % 86_400_000) / 3_600_000;
}
