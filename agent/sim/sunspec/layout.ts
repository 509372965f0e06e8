/**
 * Which SunSpec devices a simulated household serves, on which unit ids, and
 * how each vendor quirk bends the layout (devices.md §b.9, §c).
 */
export const QUIRKS = ['float', 'solaredge', 'sma', 'huawei', 'dynamic-sf'] as const;
export type Quirk = (typeof QUIRKS)[number];

export const QUIRK_DESCRIPTIONS: Record<Quirk, string> = {
  float: 'float models 113 and 213 instead of 103 and 203 (Fronius "float" setting)',
  solaredge: 'common model of length 65 and the meter as a second device in the inverter chain (SolarEdge)',
  sma: 'SunSpec on unit 126 and no end marker after the last model (SMA)',
  huawei: 'one TCP client at a time and requests ignored for 1.5 s after connecting (Huawei SDongle)',
  'dynamic-sf': 'scale factors that change with power (Fronius)',
};

export function parseQuirks(list: readonly string[]): Quirk[] {
  const out: Quirk[] = [];
  for (const q of list) {
    if (!(QUIRKS as readonly string[]).includes(q)) throw new Error(`unknown quirk "${q}" (known: ${QUIRKS.join(', ')})`);
    if (!out.includes(q as Quirk)) out.push(q as Quirk);
  }
  return out;
}

export interface SimLayout {
  /** Unit id of the inverter chain (inverter, MPPT, storage, battery). */
  inverterUnit: number;
  /** Unit id of the meter chain; equal to inverterUnit when the meter is a second device in the same chain. */
  meterUnit: number;
  meterInInverterChain: boolean;
  floatModels: boolean;
  commonLength: 65 | 66;
  endMarker: boolean;
  dynamicScaleFactors: boolean;
  hasBattery: boolean;
  baseAddress: number;
}

export function layoutFor(quirks: readonly Quirk[], hasBattery: boolean): SimLayout {
  const solarEdge = quirks.includes('solaredge');
  const sma = quirks.includes('sma');
  const inverterUnit = sma ? 126 : 1;
  return {
    inverterUnit,
    meterUnit: solarEdge ? inverterUnit : 2,
    meterInInverterChain: solarEdge,
    floatModels: quirks.includes('float'),
    commonLength: solarEdge ? 65 : 66,
    endMarker: !sma,
    dynamicScaleFactors: quirks.includes('dynamic-sf'),
    hasBattery,
    baseAddress: 40000,
  };
}
