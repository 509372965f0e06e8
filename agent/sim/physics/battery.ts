/**
 * An AC-coupled battery: power is positive when discharging, negative when
 * charging. Losses are split evenly between charge and discharge
 * (√RTE each way). Power is clipped so SoC stays within [reserve, 100].
 */

export interface BatteryParams {
  /** 0 = no battery. */
  capacityWh: number;
  maxChargeW: number;
  maxDischargeW: number;
  roundTripEfficiency: number;
  /** The battery never discharges below this SoC. */
  reserveSocPct: number;
  nominalVoltageV: number;
}

export type BatteryControl =
  | { mode: 'self-consumption' }
  | { mode: 'idle' }
  /** Fixed AC power: positive discharges, negative charges (still within limits). */
  | { mode: 'setpoint'; watts: number };

const HOUR_MS = 3_600_000;

/** The power the battery can actually deliver for `requestedW` over `dtMs`. */
export function feasibleBatteryPowerW(socPct: number, requestedW: number, params: BatteryParams, dtMs: number): number {
  if (params.capacityWh <= 0 || dtMs <= 0 || requestedW === 0) return 0;
  const eta = Math.sqrt(params.roundTripEfficiency);
  const hours = dtMs / HOUR_MS;
  if (requestedW > 0) {
    const availableWh = Math.max(0, ((socPct - params.reserveSocPct) / 100) * params.capacityWh);
    return Math.min(requestedW, params.maxDischargeW, (availableWh * eta) / hours);
  }
  const roomWh = Math.max(0, ((100 - socPct) / 100) * params.capacityWh);
  return -Math.min(-requestedW, params.maxChargeW, roomWh / (eta * hours));
}

export function integrateSoc(socPct: number, powerW: number, params: BatteryParams, dtMs: number): number {
  if (params.capacityWh <= 0) return 0;
  const eta = Math.sqrt(params.roundTripEfficiency);
  const acWh = (powerW * dtMs) / HOUR_MS;
  const cellWh = powerW > 0 ? acWh / eta : acWh * eta;
  return Math.min(100, Math.max(0, socPct - (cellWh / params.capacityWh) * 100));
}

/** The power the controller asks for; `deficitW` = load − PV (positive: the house needs power). */
export function requestedBatteryPowerW(control: BatteryControl, deficitW: number): number {
  switch (control.mode) {
    case 'self-consumption':
      return deficitW;
    case 'idle':
      return 0;
    case 'setpoint':
      return control.watts;
  }
}

/** A flat LFP-like curve: ±6 % around nominal from empty to full. */
export function batteryVoltageV(socPct: number, params: BatteryParams): number {
  return params.nominalVoltageV * (0.94 + 0.12 * (socPct / 100));
}
