/** Modbus request limits and argument checks (programming errors throw RangeError before anything is queued). */
export const MAX_READ_COUNT = 125;
export const MAX_WRITE_COUNT = 123;

export function validateUnit(unit: number): void {
  if (!Number.isInteger(unit) || unit < 0 || unit > 255) throw new RangeError(`unit id must be an integer in 0..255, got ${unit}`);
}

export function validateRange(address: number, count: number, max: number): void {
  if (!Number.isInteger(address) || address < 0 || address > 0xffff) throw new RangeError(`address must be an integer in 0..65535, got ${address}`);
  if (!Number.isInteger(count) || count < 1 || count > max || address + count > 0x10000) {
    throw new RangeError(`register count must be an integer in 1..${max} ending inside the register space, got ${count} at ${address}`);
  }
}
