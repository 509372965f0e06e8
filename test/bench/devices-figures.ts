/**
 * Pure part of the device benchmark: which registers a poll wants, and how
 * many Modbus requests reading them takes with the planner, with one read per
 * point, and at the fewest possible (test/bench/min-requests.ts, a brute-force
 * DP that shares no code with the planner).
 */
import { ManualClock } from '../../agent/core/clock.js';
import type { Role } from '../../agent/household/quantities.js';
import { planBlocks, MAX_READ_REGISTERS, type ReadPlan, type WantedSpan } from '../../agent/devices/planner.js';
import type { RegisterReader } from '../../agent/devices/reader.js';
import { discoverSunSpec, type ChainDevice, type ChainModel } from '../../agent/devices/sunspec/discover.js';
import { modelDef } from '../../agent/devices/sunspec/registry.js';
import { householdModels } from '../../agent/devices/sunspec/roles.js';
import { householdSpans } from '../../agent/devices/sunspec/spans.js';
import type { PointDef } from '../../agent/devices/sunspec/types.js';
import { ModbusError } from '../../agent/devices/modbus/errors.js';
import { householdParams } from '../../agent/sim/physics/household.js';
import { SimulatedHousehold } from '../../agent/sim/physics/simulated-household.js';
import { layoutFor, type Quirk } from '../../agent/sim/sunspec/layout.js';
import { SimulatedSunSpecSpace } from '../../agent/sim/sunspec/space.js';
import { minRequests } from './min-requests.js';

/** The models of a simulated hybrid system whose every point a "full poll" reads. */
export const FULL_POLL_MODELS: readonly number[] = [1, 103, 160, 124, 203];
export const HOUSEHOLD_ROLES: readonly Role[] = ['pv', 'battery', 'grid'];

/** The SunSpec chain of one unit, as discovery finds it. */
export interface UnitChain {
  unit: number;
  devices: ChainDevice[];
}

/** A unit's wanted spans, with how many points they are (one naive read each). */
export interface UnitSpans {
  unit: number;
  spans: WantedSpan[];
  /** Points (a value with its scale factor is one point). */
  points: number;
}

export interface PollFigures {
  /** The planner's request count. */
  requests: number;
  /** One request per point (a scaled value's request also covers its scale factor). */
  naiveRequests: number;
  /** The fewest requests possible (DP reference). */
  minRequests: number;
  /** Registers the planner's requests read. */
  registers: number;
  /** Problems the planner reported (should be none). */
  planErrors: string[];
}

/** Reads straight from a simulated register space, for discovery without a server. */
function spaceReader(space: SimulatedSunSpecSpace, unit: number): RegisterReader {
  return {
    read: async (fc, address, count) => {
      const words = space.read(unit, fc, address, count);
      if (!Array.isArray(words)) throw new ModbusError('exception', `exception ${words.exception} at ${address}+${count}`, { code: words.exception });
      return words;
    },
  };
}

/**
 * The chains the simulator serves for these quirks (a hybrid inverter with
 * battery, and the meter), found by the agent's own discovery on an
 * in-memory register space: no server, fixed clock, deterministic.
 */
export async function simulatedChains(quirks: readonly Quirk[]): Promise<UnitChain[]> {
  const clock = new ManualClock();
  const household = new SimulatedHousehold({ clock, params: householdParams({ pv: { pvWp: 5000 }, battery: { capacityWh: 10_000 } }), seed: 1 });
  const space = new SimulatedSunSpecSpace(household, layoutFor(quirks, true), { manufacturer: 'tonari', serialPrefix: 'BENCH', version: '0' });
  const chains: UnitChain[] = [];
  for (const unit of space.units().sort((a, b) => a - b)) {
    const chain = await discoverSunSpec(spaceReader(space, unit));
    chains.push({ unit, devices: chain.devices });
  }
  return chains;
}

function fits(model: ChainModel, offset: number, size: number): boolean {
  return offset + size <= 2 + model.length;
}

/**
 * Every point of the chosen models in one unit's chain: fixed points and
 * every repetition of a group (160's modules), each scaled value bundled with
 * its scale factor as the agent does (a `#sf` span per value).
 */
export function fullPollSpans(chain: UnitChain, modelIds: readonly number[] = FULL_POLL_MODELS): UnitSpans {
  const spans: WantedSpan[] = [];
  let points = 0;
  for (const device of chain.devices) {
    for (const model of device.models) {
      const def = modelDef(model.id);
      if (!def || !modelIds.includes(model.id)) continue;
      const add = (key: string, point: PointDef, offset: number, scope: readonly PointDef[], scopeOffset: number) => {
        if (!fits(model, offset, point.size)) return;
        points++;
        const sfName = typeof point.sf === 'string' ? point.sf : undefined;
        // A group point's scale factor is looked up in its repetition first, then in the fixed block (as the model tables define).
        const inScope = sfName === undefined ? undefined : scope.find((p) => p.name === sfName);
        const sf = sfName === undefined ? undefined : inScope ?? def.points.find((p) => p.name === sfName);
        const sfOffset = sf === undefined ? undefined : (inScope ? scopeOffset : 0) + sf.offset;
        const bundled = sf !== undefined && sfOffset !== undefined && fits(model, sfOffset, sf.size);
        spans.push({ key, address: model.address + offset, size: point.size, fc: 3, ...(bundled ? { bundle: key } : {}) });
        if (bundled) spans.push({ key: `${key}#sf`, address: model.address + sfOffset!, size: sf!.size, fc: 3, bundle: key });
      };
      const prefix = `u${chain.unit}.${model.id}@${model.address}`;
      for (const p of def.points) add(`${prefix}.${p.name}`, p, p.offset, def.points, 0);
      const group = def.group;
      if (group) {
        const repetitions = Math.max(0, Math.floor((2 + model.length - group.offset) / group.size));
        for (let i = 0; i < repetitions; i++) {
          const start = group.offset + i * group.size;
          for (const p of group.points) add(`${prefix}.${group.name}${i}.${p.name}`, p, start + p.offset, group.points, start);
        }
      }
    }
  }
  return { unit: chain.unit, spans, points };
}

/**
 * The agent's own poll set for one unit: what a SunSpecDevice configured with
 * these roles reads from each logical device of the chain (householdSpans).
 */
export function householdPollSpans(chain: UnitChain, roles: readonly Role[] = HOUSEHOLD_ROLES): UnitSpans {
  const spans: WantedSpan[] = [];
  for (const device of chain.devices) {
    // Keys are per device ("inverter.W"); prefix them so two logical devices in one chain never collide.
    for (const s of householdSpans(householdModels(device.models, roles))) {
      spans.push({ ...s, key: `d${device.index}.${s.key}`, ...(s.bundle !== undefined ? { bundle: `d${device.index}.${s.bundle}` } : {}) });
    }
  }
  return { unit: chain.unit, spans, points: spans.filter((s) => !s.key.endsWith('#sf')).length };
}

export function plan(spans: readonly WantedSpan[], maxGap: number): ReadPlan {
  return planBlocks(spans, { maxRegisters: MAX_READ_REGISTERS, maxGap, barriers: [] });
}

/** Planner, naive and minimum request counts, summed over units (a request never spans two units). */
export function pollFigures(units: readonly UnitSpans[], maxGap: number): PollFigures {
  const out: PollFigures = { requests: 0, naiveRequests: 0, minRequests: 0, registers: 0, planErrors: [] };
  for (const u of units) {
    const p = plan(u.spans, maxGap);
    out.requests += p.blocks.length;
    out.registers += p.blocks.reduce((s, b) => s + b.count, 0);
    out.planErrors.push(...p.unreadable.map((k) => `unit ${u.unit}: ${k} unreadable`), ...p.errors.map((e) => `unit ${u.unit}: ${e.keys.join(',')}: ${e.reason}`));
    out.naiveRequests += u.points;
    out.minRequests += minRequests(u.spans, { maxRegisters: MAX_READ_REGISTERS, maxGap, barriers: [] });
  }
  return out;
}
