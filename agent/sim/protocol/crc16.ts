/** CRC-16/MODBUS (poly 0xA001 reflected, init 0xFFFF), as used by RTU frames. */
const TABLE: Uint16Array = (() => {
  const table = new Uint16Array(256);
  for (let n = 0; n < 256; n++) {
    let crc = n;
    for (let bit = 0; bit < 8; bit++) crc = crc & 1 ? (crc >>> 1) ^ 0xa001 : crc >>> 1;
    table[n] = crc;
  }
  return table;
})();

export function crc16Modbus(bytes: Uint8Array, start = 0, end = bytes.length): number {
  let crc = 0xffff;
  for (let i = start; i < end; i++) crc = (crc >>> 8) ^ TABLE[(crc ^ bytes[i]!) & 0xff]!;
  return crc;
}

/** Returns `frame` followed by its CRC, low byte first (the RTU wire order). */
export function appendCrc(frame: Uint8Array): Buffer {
  const crc = crc16Modbus(frame);
  const out = Buffer.alloc(frame.length + 2);
  out.set(frame, 0);
  out.writeUInt16LE(crc, frame.length);
  return out;
}

/** True when the last two bytes of `frame` are the CRC of the bytes before them. */
export function hasValidCrc(frame: Uint8Array): boolean {
  if (frame.length < 3) return false;
  const expected = crc16Modbus(frame, 0, frame.length - 2);
  return frame[frame.length - 2] === (expected & 0xff) && frame[frame.length - 1] === expected >>> 8;
}
