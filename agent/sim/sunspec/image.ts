/**
 * Renders a simulated household as SunSpec register images: one contiguous
 * array of registers per unit id, starting at the base address with "SunS".
 * Pure: the same physics state and layout give the same registers.
 */
import { encodeModel, type PointValues } from '../../devices/sunspec/decode.js';
import { modelDef } from '../../devices/sunspec/registry.js';
import type { HouseholdParams, HouseholdState } from '../physics/household.js';
import type { SimLayout } from './layout.js';

const SUNS = [0x5375, 0x6e53];
const END = [0xffff, 0];

/** Lifetime counters a real device would already show (so acc32 "0 = not implemented" never hides a value). */
export const LIFETIME_OFFSETS_WH = { pv: 8_765_432, import: 4_321_000, export: 6_543_210, inverter: 7_654_321 } as const;

export interface DeviceImage {
  unit: number;
  baseAddress: number;
  words: number[];
  /** Register address of each model's ID register, in chain order. */
  models: { id: number; address: number }[];
}

export interface Identity {
  manufacturer: string;
  serialPrefix: string;
  version: string;
}

const def = (id: number) => {
  const d = modelDef(id);
  if (!d) throw new Error(`no table for model ${id}`);
  return d;
};

/**
 * Scale factor for a value: fixed, or with the dynamic quirk the finest one
 * (down to -2) whose raw value still fits the register (Fronius style).
 * `value` must be the value as written (already rounded): choosing the SF from
 * the unrounded power let e.g. 327.6 W pick SF -2 and then fail to encode 328 W.
 */
function sfFor(value: number, fixed: number, dynamic: boolean, signed: boolean): number {
  if (!dynamic) return fixed;
  const limit = signed ? 32767 : 65535;
  for (let sf = -2; sf <= 3; sf++) if (Math.abs(value) / 10 ** sf <= limit) return sf;
  return 3;
}

const round = (v: number, digits = 3) => Number(v.toFixed(digits));

function commonModel(layout: SimLayout, identity: Identity, model: string, serial: string, unit: number): number[] {
  return encodeModel(def(1), {
    Mn: identity.manufacturer, Md: model, Opt: 'simulated', Vr: identity.version, SN: serial, DA: unit,
  }, [], { length: layout.commonLength });
}

function inverterModel(state: HouseholdState, layout: SimLayout): number[] {
  const dcW = state.trackers.reduce((s, t) => s + t.powerW, 0);
  const acW = state.inverter.powerW + state.battery.powerW;
  const w = Math.round(acW);
  const va = Math.round(Math.abs(acW));
  const dcV = state.trackers[0]?.voltageV ?? 0;
  const energyWh = LIFETIME_OFFSETS_WH.inverter + state.inverter.energyWh + state.battery.dischargedWh;
  const status = dcW > 1 || Math.abs(state.battery.powerW) > 1 ? 4 : 2;
  const v = state.inverter.voltageV;
  const a = Math.abs(acW) / (v || 1);
  const values: PointValues = {
    A: round(a, 2), AphA: round(a, 2), AphB: round(a, 2), PPVphAB: round(v, 1), PhVphA: round(v / 2, 1), PhVphB: round(v / 2, 1),
    W: w, Hz: round(state.inverter.frequencyHz, 2), VA: va, VAr: 0, PF: 100,
    WH: Math.round(energyWh), DCA: round(dcV > 0 ? dcW / dcV : 0, 2), DCV: round(dcV, 1), DCW: Math.round(dcW),
    TmpCab: round(30 + dcW / 500, 1), St: status, Evt1: 0, Evt2: 0,
  };
  if (layout.floatModels) return encodeModel(def(113), values);
  const dyn = layout.dynamicScaleFactors;
  return encodeModel(def(103), {
    ...values,
    A_SF: -2, V_SF: -1, W_SF: sfFor(w, 0, dyn, true), Hz_SF: -2, VA_SF: sfFor(va, 0, dyn, true), VAr_SF: 0, PF_SF: -2,
    WH_SF: 0, DCA_SF: -2, DCV_SF: -1, DCW_SF: sfFor(Math.round(dcW), 0, dyn, true), Tmp_SF: -1,
  });
}

function nameplateModel(params: HouseholdParams): number[] {
  const hasBattery = params.battery.capacityWh > 0;
  return encodeModel(def(120), {
    DERTyp: hasBattery ? 82 : 4, WRtg: params.pv.pvWp, WRtg_SF: 0, VARtg: params.pv.pvWp, VARtg_SF: 0, VArRtg_SF: 0,
    ARtg: round(params.pv.pvWp / 200, 1), ARtg_SF: -1, PFRtg_SF: -2,
    WHRtg: hasBattery ? params.battery.capacityWh : undefined, WHRtg_SF: 0,
    AhrRtg: hasBattery ? Math.round(params.battery.capacityWh / params.battery.nominalVoltageV) : undefined, AhrRtg_SF: 0,
    MaxChaRte: hasBattery ? params.battery.maxChargeW : undefined, MaxChaRte_SF: 0,
    MaxDisChaRte: hasBattery ? params.battery.maxDischargeW : undefined, MaxDisChaRte_SF: 0,
  });
}

function mpptModel(state: HouseholdState, layout: SimLayout): number[] {
  const dyn = layout.dynamicScaleFactors;
  const maxW = Math.max(0, ...state.trackers.map((t) => Math.round(t.powerW)));
  const modules: PointValues[] = state.trackers.map((t, i) => ({
    ID: i + 1, IDStr: `PV${i + 1}`, DCA: round(t.currentA, 2), DCV: round(t.voltageV, 1), DCW: Math.round(t.powerW),
    DCWH: Math.round(LIFETIME_OFFSETS_WH.pv * (i === 0 ? 0.6 : 0.4 / Math.max(1, state.trackers.length - 1)) + t.energyWh),
    Tms: Math.floor(state.timeMs / 1000) % 2 ** 32, Tmp: undefined, DCSt: t.powerW > 1 ? 4 : 2, DCEvt: 0,
  }));
  return encodeModel(def(160), {
    DCA_SF: -2, DCV_SF: -1, DCW_SF: sfFor(maxW, 0, dyn, false), DCWH_SF: 0, Evt: 0, TmsPer: 1,
  }, modules);
}

function storageModel(state: HouseholdState, params: HouseholdParams): number[] {
  const b = state.battery;
  const chaSt = b.powerW < -1 ? 4 : b.powerW > 1 ? 3 : b.socPct >= 99.9 ? 5 : b.socPct <= 0.1 ? 2 : 6;
  return encodeModel(def(124), {
    WChaMax: params.battery.maxChargeW, WChaGra: 100, WDisChaGra: 100, StorCtl_Mod: 0, VAChaMax: undefined,
    MinRsvPct: params.battery.reserveSocPct, ChaState: round(b.socPct, 1), StorAval: undefined, InBatV: round(b.voltageV, 1), ChaSt: chaSt,
    OutWRte: 100, InWRte: 100, InOutWRte_WinTms: 0, InOutWRte_RvrtTms: 0, InOutWRte_RmpTms: 0, ChaGriSet: 0,
    WChaMax_SF: 0, WChaDisChaGra_SF: 0, VAChaMax_SF: 0, MinRsvPct_SF: 0, ChaState_SF: -1, StorAval_SF: 0, InBatV_SF: -1, InOutWRte_SF: -2,
  });
}

function batteryModel(state: HouseholdState, params: HouseholdParams, layout: SimLayout): number[] {
  const b = state.battery;
  const chaSt = b.powerW < -1 ? 4 : b.powerW > 1 ? 3 : 6;
  const cycles = Math.floor(b.dischargedWh / Math.max(1, params.battery.capacityWh));
  return encodeModel(def(802), {
    AHRtg: Math.round(params.battery.capacityWh / params.battery.nominalVoltageV), WHRtg: params.battery.capacityWh,
    WChaRteMax: params.battery.maxChargeW, WDisChaRteMax: params.battery.maxDischargeW,
    SoCMax: 100, SoCMin: 0, SocRsvMax: 100, SoCRsvMin: params.battery.reserveSocPct, SoC: round(b.socPct, 1), SoH: 98, NCyc: 100 + cycles,
    ChaSt: chaSt, LocRemCtl: 1, Hb: Math.floor(state.timeMs / 1000) % 65535, CtrlHb: 0, AlmRst: 0, Typ: 4, State: 3,
    Evt1: 0, Evt2: 0, EvtVnd1: 0, EvtVnd2: 0, V: round(b.voltageV, 1), A: round(b.currentA, 1), W: Math.round(b.powerW),
    SetOp: 1, SetInvState: 3,
    AHRtg_SF: 0, WHRtg_SF: 0, WChaDisChaMax_SF: 0, DisChaRte_SF: 0, SoC_SF: -1, DoD_SF: 0, SoH_SF: 0, V_SF: -1, CellV_SF: -3,
    A_SF: -1, AMax_SF: 0, W_SF: sfFor(Math.round(b.powerW), 0, layout.dynamicScaleFactors, true),
  });
}

function meterModel(state: HouseholdState, layout: SimLayout): number[] {
  const m = state.meter;
  const phase = (values: number[], i: number) => (values[i] === undefined ? undefined : round(values[i]!, 1));
  const totalA = m.phaseCurrentA.reduce((s, a) => s + a, 0);
  const values: PointValues = {
    A: round(totalA, 1), AphA: phase(m.phaseCurrentA, 0), AphB: phase(m.phaseCurrentA, 1), AphC: phase(m.phaseCurrentA, 2),
    PhV: phase(m.phaseVoltageV, 0), PhVphA: phase(m.phaseVoltageV, 0), PhVphB: phase(m.phaseVoltageV, 1), PhVphC: phase(m.phaseVoltageV, 2),
    Hz: round(m.frequencyHz, 2), W: Math.round(m.powerW),
    WphA: m.phasePowerW[0] === undefined ? undefined : Math.round(m.phasePowerW[0]),
    WphB: m.phasePowerW[1] === undefined ? undefined : Math.round(m.phasePowerW[1]),
    WphC: m.phasePowerW[2] === undefined ? undefined : Math.round(m.phasePowerW[2]),
    TotWhExp: Math.round(LIFETIME_OFFSETS_WH.export + m.exportWh), TotWhImp: Math.round(LIFETIME_OFFSETS_WH.import + m.importWh), Evt: 0,
  };
  if (layout.floatModels) return encodeModel(def(213), values);
  const dyn = layout.dynamicScaleFactors;
  return encodeModel(def(203), {
    ...values, A_SF: -1, V_SF: -1, Hz_SF: -2, W_SF: sfFor(Math.max(Math.abs(Math.round(m.powerW)), ...m.phasePowerW.map((w) => Math.abs(Math.round(w)))), 0, dyn, true),
    VA_SF: 0, VAR_SF: 0, PF_SF: -2, TotWh_SF: 0, TotVAh_SF: 0, TotVArh_SF: 0,
  });
}

class ChainBuilder {
  readonly words: number[];
  readonly models: { id: number; address: number }[] = [];
  constructor(readonly baseAddress: number) {
    this.words = [...SUNS];
  }
  add(block: number[]): void {
    this.models.push({ id: block[0]!, address: this.baseAddress + this.words.length });
    this.words.push(...block);
  }
}

export function renderHousehold(
  state: HouseholdState, params: HouseholdParams, layout: SimLayout, identity: Identity,
): DeviceImage[] {
  const inverter = new ChainBuilder(layout.baseAddress);
  inverter.add(commonModel(layout, identity, layout.hasBattery ? 'SIM-HYBRID' : 'SIM-PV', `${identity.serialPrefix}-INV`, layout.inverterUnit));
  inverter.add(inverterModel(state, layout));
  inverter.add(nameplateModel(params));
  inverter.add(mpptModel(state, layout));
  if (layout.hasBattery) {
    inverter.add(storageModel(state, params));
    inverter.add(batteryModel(state, params, layout));
  }
  const meterWords = [commonModel(layout, identity, 'SIM-METER', `${identity.serialPrefix}-MTR`, layout.meterUnit), meterModel(state, layout)];
  const images: DeviceImage[] = [];
  if (layout.meterInInverterChain) {
    for (const block of meterWords) inverter.add(block);
  } else {
    const meter = new ChainBuilder(layout.baseAddress);
    for (const block of meterWords) meter.add(block);
    if (layout.endMarker) meter.words.push(...END);
    images.push({ unit: layout.meterUnit, baseAddress: meter.baseAddress, words: meter.words, models: meter.models });
  }
  if (layout.endMarker) inverter.words.push(...END);
  images.unshift({ unit: layout.inverterUnit, baseAddress: inverter.baseAddress, words: inverter.words, models: inverter.models });
  return images;
}

