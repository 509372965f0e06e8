/**
 * The short decimal code installers compare out of band (the SFDI idea of IEEE 2030.5):
 * 10 digits from the fingerprint plus a Verhoeff check digit, shown as 1234-5678-901.
 *
 * Verhoeff rather than Luhn because it catches every single-digit error AND every
 * adjacent transposition (Luhn misses 09 <-> 90).
 *
 * The code is a comparison aid, not a secret: 10 digits are ~33 bits, so someone able to
 * generate ~10^10 keys could make a key whose code matches another's. Pairing therefore
 * also needs physical presence during the pairing window (see docs/identity.md).
 */
import { FINGERPRINT_PATTERN } from './peer-id.js';

const DIGITS = 10;

// Multiplication table of the dihedral group D5, the permutation table and the inverses.
const D: readonly (readonly number[])[] = [
  [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
  [1, 2, 3, 4, 0, 6, 7, 8, 9, 5],
  [2, 3, 4, 0, 1, 7, 8, 9, 5, 6],
  [3, 4, 0, 1, 2, 8, 9, 5, 6, 7],
  [4, 0, 1, 2, 3, 9, 5, 6, 7, 8],
  [5, 9, 8, 7, 6, 0, 4, 3, 2, 1],
  [6, 5, 9, 8, 7, 1, 0, 4, 3, 2],
  [7, 6, 5, 9, 8, 2, 1, 0, 4, 3],
  [8, 7, 6, 5, 9, 3, 2, 1, 0, 4],
  [9, 8, 7, 6, 5, 4, 3, 2, 1, 0],
];
const P: readonly (readonly number[])[] = [
  [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
  [1, 5, 7, 6, 2, 8, 3, 0, 9, 4],
  [5, 8, 0, 3, 7, 9, 6, 1, 4, 2],
  [8, 9, 1, 6, 0, 4, 3, 5, 2, 7],
  [9, 4, 5, 3, 1, 2, 6, 8, 7, 0],
  [4, 2, 8, 6, 5, 7, 3, 9, 0, 1],
  [2, 7, 9, 3, 8, 0, 6, 4, 1, 5],
  [7, 0, 4, 6, 9, 1, 3, 2, 5, 8],
];
const INV: readonly number[] = [0, 4, 3, 2, 1, 5, 6, 7, 8, 9];

function verhoeffChecksum(digits: string, hasCheckDigit: boolean): number {
  let c = 0;
  const offset = hasCheckDigit ? 0 : 1;
  for (let i = 0; i < digits.length; i++) {
    const digit = digits.charCodeAt(digits.length - 1 - i) - 48;
    c = D[c]![P[(i + offset) % 8]![digit]!]!;
  }
  return c;
}

/** The Verhoeff check digit to append to a string of decimal digits. */
export function verhoeffDigit(digits: string): number {
  if (!/^\d+$/.test(digits)) throw new RangeError('verhoeffDigit needs decimal digits');
  return INV[verhoeffChecksum(digits, false)]!;
}

/** True when the last digit is the Verhoeff check digit of the ones before it. */
export function verhoeffValid(digitsWithCheck: string): boolean {
  return /^\d{2,}$/.test(digitsWithCheck) && verhoeffChecksum(digitsWithCheck, true) === 0;
}

/**
 * The 11 digits (no separators) for a fingerprint: the first 64 bits of the fingerprint
 * modulo 10^10 (bias below 10^-9), then the check digit.
 */
export function checkCodeDigits(fingerprint: string): string {
  if (!FINGERPRINT_PATTERN.test(fingerprint)) throw new RangeError(`not a fingerprint: ${fingerprint}`);
  const value = BigInt(`0x${fingerprint.slice(0, 16)}`) % 10n ** BigInt(DIGITS);
  const body = value.toString().padStart(DIGITS, '0');
  return `${body}${verhoeffDigit(body)}`;
}

/** 11 digits as 1234-5678-901. */
export function formatCheckCode(digits: string): string {
  if (!/^\d{11}$/.test(digits)) throw new RangeError('a check code has 11 digits');
  return `${digits.slice(0, 4)}-${digits.slice(4, 8)}-${digits.slice(8)}`;
}

/** The displayed check code of a fingerprint. */
export function checkCodeOf(fingerprint: string): string {
  return formatCheckCode(checkCodeDigits(fingerprint));
}

/** The 11 digits of a code as typed: dashes and spaces are ignored; undefined if not 11 digits. */
export function normalizeCheckCode(typed: string): string | undefined {
  const digits = typed.replace(/[\s-]/g, '');
  return /^\d{11}$/.test(digits) ? digits : undefined;
}

/** True when `typed` is a well-formed code whose check digit is right (not whose peer it is). */
export function isValidCheckCode(typed: string): boolean {
  const digits = normalizeCheckCode(typed);
  return digits !== undefined && verhoeffValid(digits);
}

/** True when `typed` is the check code of `fingerprint`. */
export function checkCodeMatches(fingerprint: string, typed: string): boolean {
  const digits = normalizeCheckCode(typed);
  return digits !== undefined && digits === checkCodeDigits(fingerprint);
}
