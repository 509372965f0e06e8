export { sunPosition, type SunPosition } from './sun.js';
export { airMass, clearSkyIrradiance, planeOfArrayIrradiance, type ClearSkyIrradiance, type PanelOrientation } from './irradiance.js';
export { trackerReadings, inverterAcPowerW, type PvParams, type TrackerConfig, type TrackerReading } from './pv.js';
export { loadProfileW, noisyLoadW, localHourOfDay, timeZoneOffsetMs, type LoadParams } from './load.js';
export {
  feasibleBatteryPowerW,
  integrateSoc,
  requestedBatteryPowerW,
  batteryVoltageV,
  type BatteryParams,
  type BatteryControl,
} from './battery.js';
export {
  householdParams,
  initialHouseholdState,
  stepHousehold,
  TOKYO,
  type GridParams,
  type HouseholdParams,
  type HouseholdParamsOverrides,
  type HouseholdState,
  type TrackerState,
} from './household.js';
export { SimulatedHousehold, type SimulatedHouseholdOptions, type HouseholdListener } from './simulated-household.js';
export { seedRandom, nextUniform, nextGaussian, SeededRandom, type RandomState } from './random.js';
export { stepAr1, cloudFactor } from './noise.js';
