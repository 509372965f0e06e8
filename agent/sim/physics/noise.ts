/**
 * Smooth seeded noise: an Ornstein–Uhlenbeck / AR(1) process with unit
 * variance whose correlation decays with time constant `tauMs`, so the result
 * does not depend on the step size.
 */
import { nextGaussian, type RandomState } from './random.js';

export function stepAr1(x: number, random: RandomState, dtMs: number, tauMs: number): [number, RandomState] {
  if (dtMs <= 0) return [x, random];
  const phi = Math.exp(-dtMs / tauMs);
  const [z, next] = nextGaussian(random);
  return [phi * x + Math.sqrt(1 - phi * phi) * z, next];
}

/** Fraction of clear-sky irradiance that gets through: 1 when `cloudiness` is 0. */
export function cloudFactor(x: number, cloudiness: number): number {
  return 1 - cloudiness * (0.5 + 0.5 * Math.tanh(x));
}
