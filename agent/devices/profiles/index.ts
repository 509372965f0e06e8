export type { FunctionCode, Profile, ProfileDefaults, ProfilePoint, ProfileSpan } from './types.js';
export { ProfileError, parseProfile, profileProblems, profileSchema } from './schema.js';
export { loadProfileFile, parseProfileText } from './load.js';
export { builtinProfileDir, builtinProfileNames, findPackageRoot, loadBuiltinProfile, resolveProfile } from './builtin.js';
export {
  decodePointValue, decodeProfileValues, encodePointValue, encodeProfileImage, encodeProfileWrite,
  lookupFromBlocks, lookupFromImage, profileReadSpans,
  type RegisterBlock, type RegisterImage, type RegisterLookup, type RegisterWrite,
} from './values.js';
export { CANONICAL_UNIT, UNITS, WELL_KNOWN_POINTS, isWellKnownPoint, type Quantity, type UnitName, type WellKnownPoint } from './units.js';
