/**
 * A tiny seeded PRNG (mulberry32) with its state as a plain number, so that
 * immutable simulation states can carry it and replay exactly.
 */

export type RandomState = number;

export function seedRandom(seed: number): RandomState {
  // Mix the seed so that nearby seeds give unrelated streams.
  let s = (Math.floor(seed) ^ 0x9e3779b9) >>> 0;
  s = Math.imul(s ^ (s >>> 16), 0x85ebca6b) >>> 0;
  s = Math.imul(s ^ (s >>> 13), 0xc2b2ae35) >>> 0;
  return (s ^ (s >>> 16)) >>> 0;
}

/** Uniform in [0, 1) and the next state. */
export function nextUniform(state: RandomState): [number, RandomState] {
  const next = (state + 0x6d2b79f5) >>> 0;
  let t = next;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return [((t ^ (t >>> 14)) >>> 0) / 4294967296, next];
}

/** Standard normal (Box–Muller) and the next state. */
export function nextGaussian(state: RandomState): [number, RandomState] {
  const [u1, s1] = nextUniform(state);
  const [u2, s2] = nextUniform(s1);
  return [Math.sqrt(-2 * Math.log(1 - u1)) * Math.cos(2 * Math.PI * u2), s2];
}

/** Mutable convenience wrapper for code that owns its stream (e.g. server jitter). */
export class SeededRandom {
  private state: RandomState;

  constructor(seed: number) {
    this.state = seedRandom(seed);
  }

  uniform(): number {
    const [value, next] = nextUniform(this.state);
    this.state = next;
    return value;
  }
}
