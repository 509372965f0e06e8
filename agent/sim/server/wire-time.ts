/**
 * Time an RTU exchange occupies an RS-485 line (Modbus over serial line spec
 * §2.5.1.1): each character is `bitsPerChar` bits (10 for 8N1, 11 for 8E1/8N2),
 * and frames are separated by t3.5 = 3.5 characters, fixed at 1.75 ms above
 * 19200 baud.
 */

export interface WireTimeOptions {
  bitsPerChar?: number;
  /** Time the device needs between the end of the request and its reply. */
  turnaroundMs?: number;
}

export function charTimeMs(baudRate: number, bitsPerChar = 10): number {
  if (!(baudRate > 0)) throw new RangeError(`baudRate must be > 0, got ${baudRate}`);
  return (bitsPerChar * 1000) / baudRate;
}

export function interFrameGapMs(baudRate: number, bitsPerChar = 10): number {
  return baudRate > 19200 ? 1.75 : 3.5 * charTimeMs(baudRate, bitsPerChar);
}

/**
 * Request + response frame times, one inter-frame gap after each, plus the
 * device turnaround: the least time one request/response cycle can take.
 */
export function rtuWireTimeMs(requestBytes: number, responseBytes: number, baudRate: number, options: WireTimeOptions = {}): number {
  const bits = options.bitsPerChar ?? 10;
  return (
    (requestBytes + responseBytes) * charTimeMs(baudRate, bits) + 2 * interFrameGapMs(baudRate, bits) + (options.turnaroundMs ?? 0)
  );
}
