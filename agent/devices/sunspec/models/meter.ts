/**
 * AC meter models: 201–204 (integer + scale factor) and 211–214 (float32)
 * for single phase, split phase, wye and delta connection.
 *
 * A family shares one layout. What differs between its members is which
 * per-phase points are mandatory (listed per model exactly as in the
 * official definitions, including oddities such as 202 making AphB/AphC
 * but not AphA mandatory) and, in the integer family, the names of the
 * line-to-line voltages (201: PPVphAB…, 202–204: PhVphAB…). The float
 * family names them PPVphAB… throughout, spells the per-phase reactive
 * energy suffix `phA` instead of `PhA`, and gives PF the unit `PF`.
 * Sign: W > 0 is import at the meter point.
 */
import type { ModelDef } from '../types.js';
import { defineModel, point, scaleFactor, type PointSpec } from './define.js';

const PHASES = ['A', 'B', 'C'] as const;
const REACTIVE_ENERGY = ['TotVArhImpQ1', 'TotVArhImpQ2', 'TotVArhExpQ3', 'TotVArhExpQ4'] as const;

interface MeterVariant {
  id: number;
  name: string;
  /** Per-phase points that this variant makes mandatory. */
  mandatoryPhasePoints: readonly string[];
}

interface IntegerMeterVariant extends MeterVariant {
  /** Prefix of the line-to-line voltages AB/BC/CA. */
  lineVoltagePrefix: 'PPVph' | 'PhVph';
}

/** Mandatory in every variant of a family. */
const INTEGER_ALWAYS_MANDATORY = new Set(['A', 'A_SF', 'V_SF', 'Hz', 'W', 'W_SF', 'TotWhExp', 'TotWhImp', 'TotWh_SF', 'Evt']);
const FLOAT_ALWAYS_MANDATORY = new Set(['A', 'Hz', 'W', 'TotWhExp', 'TotWhImp', 'Evt']);

/** A total point followed by its phase A/B/C variants, e.g. W, WphA, WphB, WphC. */
function withPhases(total: string, phaseSuffix: string): string[] {
  return [total, ...PHASES.map((phase) => `${total}${phaseSuffix}${phase}`)];
}

function integerMeter(variant: IntegerMeterVariant): ModelDef {
  const isMandatory = (name: string) => INTEGER_ALWAYS_MANDATORY.has(name) || variant.mandatoryPhasePoints.includes(name);
  const measured = (names: string[], type: 'int16' | 'acc32', sf: string, units: string): PointSpec[] =>
    names.map((name) => point(name, type, { sf, units, mandatory: isMandatory(name) }));
  const sf = (name: string) => scaleFactor(name, isMandatory(name));
  const lineVoltages = PHASES.map((_, i) => `${variant.lineVoltagePrefix}${PHASES[i]}${PHASES[(i + 1) % 3]}`);
  return defineModel({
    id: variant.id,
    name: variant.name,
    body: [
      ...measured(withPhases('A', 'ph'), 'int16', 'A_SF', 'A'),
      sf('A_SF'),
      ...measured([...withPhases('PhV', 'ph'), 'PPV', ...lineVoltages], 'int16', 'V_SF', 'V'),
      sf('V_SF'),
      ...measured(['Hz'], 'int16', 'Hz_SF', 'Hz'),
      sf('Hz_SF'),
      ...measured(withPhases('W', 'ph'), 'int16', 'W_SF', 'W'),
      sf('W_SF'),
      ...measured(withPhases('VA', 'ph'), 'int16', 'VA_SF', 'VA'),
      sf('VA_SF'),
      ...measured(withPhases('VAR', 'ph'), 'int16', 'VAR_SF', 'var'),
      sf('VAR_SF'),
      ...measured(withPhases('PF', 'ph'), 'int16', 'PF_SF', 'Pct'),
      sf('PF_SF'),
      ...measured([...withPhases('TotWhExp', 'Ph'), ...withPhases('TotWhImp', 'Ph')], 'acc32', 'TotWh_SF', 'Wh'),
      sf('TotWh_SF'),
      ...measured([...withPhases('TotVAhExp', 'Ph'), ...withPhases('TotVAhImp', 'Ph')], 'acc32', 'TotVAh_SF', 'VAh'),
      sf('TotVAh_SF'),
      ...measured(REACTIVE_ENERGY.flatMap((name) => withPhases(name, 'Ph')), 'acc32', 'TotVArh_SF', 'varh'),
      sf('TotVArh_SF'),
      point('Evt', 'bitfield32', { mandatory: true }),
    ],
  });
}

function floatMeter(variant: MeterVariant): ModelDef {
  const isMandatory = (name: string) => FLOAT_ALWAYS_MANDATORY.has(name) || variant.mandatoryPhasePoints.includes(name);
  const measured = (names: string[], units: string): PointSpec[] =>
    names.map((name) => point(name, 'float32', { units, mandatory: isMandatory(name) }));
  return defineModel({
    id: variant.id,
    name: variant.name,
    body: [
      ...measured(withPhases('A', 'ph'), 'A'),
      ...measured([...withPhases('PhV', 'ph'), 'PPV', 'PPVphAB', 'PPVphBC', 'PPVphCA'], 'V'),
      ...measured(['Hz'], 'Hz'),
      ...measured(withPhases('W', 'ph'), 'W'),
      ...measured(withPhases('VA', 'ph'), 'VA'),
      ...measured(withPhases('VAR', 'ph'), 'var'),
      ...measured(withPhases('PF', 'ph'), 'PF'),
      ...measured([...withPhases('TotWhExp', 'Ph'), ...withPhases('TotWhImp', 'Ph')], 'Wh'),
      ...measured([...withPhases('TotVAhExp', 'Ph'), ...withPhases('TotVAhImp', 'Ph')], 'VAh'),
      ...measured(REACTIVE_ENERGY.flatMap((name) => withPhases(name, 'ph')), 'varh'),
      point('Evt', 'bitfield32', { mandatory: true }),
    ],
  });
}

const ALL_PHASE_CURRENTS = ['AphA', 'AphB', 'AphC'];

export const METER_SINGLE_PHASE = integerMeter({
  id: 201, name: 'ac_meter_an_or_ab', lineVoltagePrefix: 'PPVph',
  mandatoryPhasePoints: ['AphA'],
});
export const METER_SPLIT_PHASE = integerMeter({
  id: 202, name: 'ac_meter_abn', lineVoltagePrefix: 'PhVph',
  mandatoryPhasePoints: ['AphB', 'AphC', 'PhV', 'PhVphA', 'PhVphB', 'PPV', 'PhVphAB'],
});
export const METER_WYE = integerMeter({
  id: 203, name: 'ac_meter_abcn', lineVoltagePrefix: 'PhVph',
  mandatoryPhasePoints: [...ALL_PHASE_CURRENTS, 'PhV', 'PhVphA', 'PhVphB', 'PhVphC', 'PPV', 'PhVphAB', 'PhVphBC', 'PhVphCA'],
});
export const METER_DELTA = integerMeter({
  id: 204, name: 'ac_meter_abc', lineVoltagePrefix: 'PhVph',
  mandatoryPhasePoints: [...ALL_PHASE_CURRENTS, 'PPV', 'PhVphAB', 'PhVphBC', 'PhVphCA'],
});
export const METER_SINGLE_PHASE_FLOAT = floatMeter({
  id: 211, name: 'ac_meter_an_or_ab_float',
  mandatoryPhasePoints: ['AphA'],
});
export const METER_SPLIT_PHASE_FLOAT = floatMeter({
  id: 212, name: 'ac_meter_abn_float',
  mandatoryPhasePoints: ['AphA', 'AphB', 'PhV', 'PhVphA', 'PhVphB', 'PPV', 'PPVphAB'],
});
export const METER_WYE_FLOAT = floatMeter({
  id: 213, name: 'ac_meter_abcn_float',
  mandatoryPhasePoints: [...ALL_PHASE_CURRENTS, 'PhV', 'PhVphA', 'PhVphB', 'PhVphC', 'PPV', 'PPVphAB', 'PPVphBC', 'PPVphCA'],
});
export const METER_DELTA_FLOAT = floatMeter({
  id: 214, name: 'ac_meter_abc_float',
  mandatoryPhasePoints: [...ALL_PHASE_CURRENTS, 'PPV', 'PPVphAB', 'PPVphBC', 'PPVphCA'],
});
