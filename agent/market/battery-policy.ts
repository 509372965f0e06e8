/**
 * What the home battery does over the forecast horizon, simulated forward step by step,
 * and how much of its energy (if any) may be offered to the neighbours. Pure: numbers in,
 * numbers out.
 *
 * The policy, precisely (energies are AC-side Wh at the inverter unless said otherwise):
 *
 * 1. Self-consumption first. In each step, net = PV − load.
 *    - net < 0 (a need): the battery discharges min(need, maxDischargeW × hours, energy
 *      above the reserve × √η); what it cannot cover is imported (and wanted from the market).
 *    - net > 0 (a surplus), `pvSurplus: 'charge-first'` (the default, and what a hybrid
 *      inverter in self-consumption mode does by itself): the battery charges
 *      min(surplus, maxChargeW × hours, room up to 100 % ÷ √η); only the rest is exported
 *      (and offered). `'sell-first'`: the battery is assumed not to charge from PV at all,
 *      the whole surplus is offered. Only sound when tonari controls the battery
 *      (otherwise the inverter charges it anyway and the sale falls short).
 *    η is the round-trip efficiency, split evenly between charge and discharge.
 * 2. The reserve is never used: no discharge, for the home or for sale, takes the state of
 *    charge below `reserveSocPct` (a battery that starts below it only charges).
 * 3. Battery sales (`maySell: true` only, and only with a known `maxDischargeW`): in a
 *    tradable step with no PV surplus (PV <= load), the battery may discharge more than
 *    the home needs, for sale, at most the power left after the home's own discharge and
 *    the energy above the reserve. Steps are decided in time order, each taking the
 *    largest whole-Wh sale that leaves, over the rest of the horizon,
 *      (a) every later import unchanged (the home never buys back what it sold), and
 *      (b) the battery's energy at the end of the horizon unchanged,
 *    given the sales already decided. So battery energy is only sold when the forecast
 *    PV surplus refills it within the horizon; the refill comes out of later PV offers,
 *    which the simulation then shows as smaller. With `maySell: false`, `saleWh` is 0
 *    everywhere: battery energy is never offered.
 *
 * A dip in the state of charge never lowers a later discharge by less than it lowers the
 * stored energy, and never raises a later export, so imports are monotone in every sale;
 * that is why (a) can be checked on the sum of later imports, and why the largest
 * feasible sale can be found by bisection.
 */

/** A home battery as the forecast sees it. */
export interface BatterySpec {
  /** Usable capacity, Wh (> 0; a household without a battery passes no spec at all). */
  capacityWh: number;
  /** Never discharged below this state of charge, %, for the home or for sale. */
  reserveSocPct: number;
  /** Most AC power into the battery, W. Undefined: not limited (conservative for PV offers). */
  maxChargeW?: number | undefined;
  /** Most AC power out of the battery, W. Undefined: not limited; battery sales then stay off. */
  maxDischargeW?: number | undefined;
  /** Round-trip efficiency, 0 < η <= 1; default 0.9. */
  roundTripEfficiency?: number | undefined;
}

export type PvSurplusPolicy = 'charge-first' | 'sell-first';

export interface BatteryPolicy {
  /** Whether battery energy may be offered at all (config market.battery.maySell). */
  maySell: boolean;
  /** What PV surplus does first; see the module comment. */
  pvSurplus: PvSurplusPolicy;
}

export const DEFAULT_ROUND_TRIP_EFFICIENCY = 0.9;

/** One step of the simulation: expected PV and load energy over `hours`. */
export interface EnergyStep {
  pvWh: number;
  loadWh: number;
  hours: number;
  /** Battery sales may be placed in this step (a slot open for trading, not a lead-in). */
  tradable: boolean;
}

/** What the battery and the grid connection do in one step. Float Wh; callers round. */
export interface BatteryStep {
  /** AC energy into the battery from PV surplus. */
  chargeWh: number;
  /** AC energy out of the battery for the home's own load. */
  dischargeWh: number;
  /** AC energy out of the battery for sale (0 unless maySell). */
  saleWh: number;
  /** PV surplus the battery did not take: offered for sale. */
  exportWh: number;
  /** Need the battery did not cover: wanted from the market. */
  importWh: number;
  socStartPct: number;
  socEndPct: number;
}

const EPSILON_WH = 1e-3;

interface Battery {
  capCell: number;
  reserveCell: number;
  eta: number;
  maxChargeW: number;
  maxDischargeW: number;
}

function normalise(spec: BatterySpec | undefined): Battery | undefined {
  if (!spec || !(spec.capacityWh > 0)) return undefined;
  const rte = spec.roundTripEfficiency ?? DEFAULT_ROUND_TRIP_EFFICIENCY;
  if (!(rte > 0 && rte <= 1)) throw new RangeError(`roundTripEfficiency must be in (0, 1], got ${String(rte)}`);
  const reserve = Math.min(100, Math.max(0, spec.reserveSocPct));
  return {
    capCell: spec.capacityWh,
    reserveCell: (reserve / 100) * spec.capacityWh,
    eta: Math.sqrt(rte),
    maxChargeW: spec.maxChargeW ?? Number.POSITIVE_INFINITY,
    maxDischargeW: spec.maxDischargeW ?? Number.POSITIVE_INFINITY,
  };
}

/**
 * Simulates steps[from..] from a stored (cell-side) energy, with battery sales `sales`
 * (AC Wh per step index). Writes into `out` from index `from`; returns the stored energy
 * at the end. `cells[i]` gets the stored energy at the start of step i.
 */
function run(
  steps: readonly EnergyStep[], from: number, cell: number, battery: Battery | undefined, policy: BatteryPolicy,
  sales: readonly number[], out: BatteryStep[], cells: number[],
): number {
  for (let i = from; i < steps.length; i++) {
    const step = steps[i]!;
    cells[i] = cell;
    const net = step.pvWh - step.loadWh;
    const startPct = battery ? (cell / battery.capCell) * 100 : 0;
    let chargeWh = 0;
    let dischargeWh = 0;
    let saleWh = 0;
    let exportWh = 0;
    let importWh = 0;
    if (!battery) {
      if (net > 0) exportWh = net;
      else importWh = -net;
    } else if (net > 0) {
      if (policy.pvSurplus === 'charge-first') {
        const room = Math.max(0, battery.capCell - cell);
        chargeWh = Math.min(net, battery.maxChargeW * step.hours, room / battery.eta);
        cell = Math.min(battery.capCell, cell + chargeWh * battery.eta);
      }
      exportWh = net - chargeWh;
    } else {
      const need = -net;
      const above = Math.max(0, cell - battery.reserveCell);
      dischargeWh = Math.min(need, battery.maxDischargeW * step.hours, above * battery.eta);
      importWh = need - dischargeWh;
      if (dischargeWh > 0) cell = Math.max(battery.reserveCell, cell - dischargeWh / battery.eta);
      const wanted = sales[i] ?? 0;
      if (wanted > 0) {
        const left = Math.max(0, cell - battery.reserveCell);
        saleWh = Math.min(wanted, battery.maxDischargeW * step.hours - dischargeWh, left * battery.eta);
        if (saleWh > 0) cell = Math.max(battery.reserveCell, cell - saleWh / battery.eta);
        else saleWh = 0;
      }
    }
    const endPct = battery ? (cell / battery.capCell) * 100 : 0;
    out[i] = { chargeWh, dischargeWh, saleWh, exportWh, importWh, socStartPct: startPct, socEndPct: endPct };
  }
  return cell;
}

/**
 * Plans the battery over `steps` from `socPct` (the state of charge now). Without a battery
 * (spec undefined or capacity 0) every surplus is exported and every need imported, and the
 * state of charge reads 0.
 */
export function planBattery(
  steps: readonly EnergyStep[], socPct: number, spec: BatterySpec | undefined, policy: BatteryPolicy,
): BatteryStep[] {
  const battery = normalise(spec);
  const out: BatteryStep[] = new Array<BatteryStep>(steps.length);
  const cell0 = battery ? (Math.min(100, Math.max(0, socPct)) / 100) * battery.capCell : 0;
  const sales: number[] = new Array<number>(steps.length).fill(0);
  const cells: number[] = new Array<number>(steps.length).fill(0);
  run(steps, 0, cell0, battery, policy, sales, out, cells);
  if (!battery || !policy.maySell || !Number.isFinite(battery.maxDischargeW)) return out;

  const scratch: BatteryStep[] = new Array<BatteryStep>(steps.length);
  const scratchCells: number[] = new Array<number>(steps.length).fill(0);
  const importsFrom = (steps_: BatteryStep[], from: number): number => {
    let sum = 0;
    for (let k = from; k < steps_.length; k++) sum += steps_[k]!.importWh;
    return sum;
  };

  for (let j = 0; j < steps.length; j++) {
    const step = steps[j]!;
    const planned = out[j]!;
    if (!step.tradable || step.pvWh > step.loadWh || planned.chargeWh > 0) continue;
    const start = cells[j]!;
    const afterOwn = start - planned.dischargeWh / battery.eta;
    const upper = Math.floor(Math.min(
      battery.maxDischargeW * step.hours - planned.dischargeWh,
      Math.max(0, afterOwn - battery.reserveCell) * battery.eta,
    ) + 1e-9);
    if (upper < 1) continue;
    const baseImports = importsFrom(out, j);
    const baseEnd = run(steps, j, start, battery, policy, sales, scratch, scratchCells);
    const feasible = (x: number): boolean => {
      sales[j] = x;
      const end = run(steps, j, start, battery, policy, sales, scratch, scratchCells);
      return importsFrom(scratch, j) <= baseImports + EPSILON_WH && end >= baseEnd - EPSILON_WH;
    };
    let lo = 0;
    let hi = upper;
    if (feasible(hi)) lo = hi;
    else {
      while (hi - lo > 1) {
        const mid = Math.floor((lo + hi) / 2);
        if (feasible(mid)) lo = mid;
        else hi = mid;
      }
    }
    sales[j] = lo;
    if (lo > 0) run(steps, j, start, battery, policy, sales, out, cells);
  }
  return out;
}
