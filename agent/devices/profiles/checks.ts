/**
 * Rules that span several keys or points. They read the raw data, skipping
 * whatever the schema rejects, so that they still run (and are reported with
 * everything else) when other keys of the profile are invalid.
 */
import type { Problem } from '../../config/errors.js';
import { REGISTERS, type NumericType } from '../codec.js';
import { UNITS, UNIT_NAMES, WELL_KNOWN_POINTS, isUnitName, isWellKnownPoint } from './units.js';

const INTEGER_TEXT = /^(-?[0-9]+|0x[0-9a-f]+)$/i;

/** The integer a sentinel denotes, or undefined if it is malformed (the schema reports that). */
function sentinelInteger(value: unknown): bigint | undefined {
  if (typeof value === 'number') return Number.isSafeInteger(value) ? BigInt(value) : undefined;
  if (typeof value !== 'string' || !INTEGER_TEXT.test(value)) return undefined;
  return value.startsWith('-') ? -BigInt(value.slice(1)) : BigInt(value);
}

/**
 * A sentinel as a non-negative bit pattern of the type's width (so -1 and
 * 0xFFFF are the same s16 sentinel); undefined if it is malformed or does not fit.
 */
export function sentinelBits(value: unknown, type: NumericType): bigint | undefined {
  const n = sentinelInteger(value);
  if (n === undefined) return undefined;
  const bits = BigInt(REGISTERS[type] * 16);
  const lowest = type.startsWith('s') ? -(1n << (bits - 1n)) : 0n;
  if (n < lowest || n > (1n << bits) - 1n) return undefined;
  return n < 0n ? n + (1n << bits) : n;
}

function orList(values: readonly string[]): string {
  return values.length < 2 ? values.join('') : `${values.slice(0, -1).join(', ')} or ${values.at(-1)}`;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isType(value: unknown): value is NumericType {
  return typeof value === 'string' && Object.hasOwn(REGISTERS, value);
}

interface Placed {
  name: string;
  fc: unknown;
  first: number;
  last: number;
}

/** Where a point sits, if its address and type are valid. */
function placement(name: string, point: Record<string, unknown>): Placed | undefined {
  const { address, type } = point;
  if (!Number.isInteger(address) || (address as number) < 0 || (address as number) > 65535 || !isType(type)) return undefined;
  return { name, fc: point.fc ?? 3, first: address as number, last: (address as number) + REGISTERS[type] - 1 };
}

function checkPoint(name: string, point: Record<string, unknown>, problems: Problem[]): void {
  const at = (...rest: (string | number)[]) => ['points', name, ...rest];
  const add = (path: (string | number)[], message: string) => problems.push({ path, anchor: 'value', message });
  const placed = placement(name, point);
  if (placed && placed.last > 65535) {
    add(at('address'), `${String(point.type)} at ${placed.first} needs ${placed.last - placed.first + 1} registers and runs past 65535`);
  }
  if (isWellKnownPoint(name)) {
    const wanted = WELL_KNOWN_POINTS[name].quantity;
    const units = orList(UNIT_NAMES.filter((u) => UNITS[u].quantity === wanted));
    if (point.unit === undefined) {
      add(at(), `the well-known point ${name} measures ${wanted} and needs a unit: ${units}`);
    } else if (typeof point.unit === 'string' && isUnitName(point.unit) && UNITS[point.unit].quantity !== wanted) {
      add(at('unit'), `the well-known point ${name} measures ${wanted}: unit must be ${units}, got "${point.unit}"`);
    }
  }
  const writable = point.access === 'rw';
  if (writable && point.fc === 4) add(at('access'), 'input registers (fc 4) cannot be written; writable points need fc 3');
  for (const key of ['min', 'max'] as const) {
    if (point[key] !== undefined && !writable) add(at(key), `${key} only applies to writable points (access: rw)`);
  }
  if (typeof point.min === 'number' && typeof point.max === 'number' && point.min > point.max) {
    add(at('min'), `min ${point.min} is greater than max ${point.max}`);
  }
  if (isType(point.type)) {
    const type = point.type;
    const list = Array.isArray(point.sentinel) ? point.sentinel : point.sentinel === undefined ? [] : [point.sentinel];
    list.forEach((value, i) => {
      if (sentinelInteger(value) !== undefined && sentinelBits(value, type) === undefined) {
        add(Array.isArray(point.sentinel) ? at('sentinel', i) : at('sentinel'), `sentinel ${String(value)} does not fit in ${type}`);
      }
    });
  }
}

/** Two points may share registers only if they cover exactly the same ones (two views of one value). */
function checkOverlaps(placed: Placed[], problems: Problem[]): void {
  for (let j = 0; j < placed.length; j++) {
    const b = placed[j]!;
    const clash = placed.slice(0, j).find((a) => a.fc === b.fc && a.first <= b.last && b.first <= a.last && !(a.first === b.first && a.last === b.last));
    if (clash) {
      problems.push({
        path: ['points', b.name, 'address'],
        anchor: 'value',
        message: `registers ${b.first}..${b.last} overlap point ${clash.name} (fc ${String(clash.fc)}, registers ${clash.first}..${clash.last})`,
      });
    }
  }
}

export function crossCheckProfile(data: unknown): Problem[] {
  if (!isRecord(data) || !isRecord(data.points)) return [];
  const points = Object.entries(data.points).filter((entry): entry is [string, Record<string, unknown>] => isRecord(entry[1]));
  const problems: Problem[] = [];
  if (Object.keys(data.points).length === 0) problems.push({ path: ['points'], anchor: 'key', message: 'a profile needs at least one point' });
  for (const [name, point] of points) checkPoint(name, point, problems);
  checkOverlaps(points.flatMap(([name, point]) => placement(name, point) ?? []), problems);
  return problems;
}
