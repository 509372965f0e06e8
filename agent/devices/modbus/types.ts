/** One physical Modbus connection as configured (durations in ms). */
interface LinkTiming {
  name: string;
  /** Per-request timeout; also bounds connecting. */
  timeout: number;
  /** Wait after each (re)connect before the first request (Huawei needs ~1500). */
  connectDelay: number;
  /** Quiet time between the end of one request and the start of the next. */
  interRequestDelay: number;
}

export type LinkSpec =
  /** Modbus/TCP (MBAP framing, transaction ids). */
  | (LinkTiming & { type: 'tcp'; host: string; port: number })
  /** Raw RTU frames with CRC through a transparent TCP↔RS-485 gateway; replies carry no transaction id. */
  | (LinkTiming & { type: 'rtu-over-tcp'; host: string; port: number })
  | (LinkTiming & {
    type: 'rtu';
    path: string;
    baudRate: number;
    parity: 'none' | 'even' | 'odd';
    dataBits: 7 | 8;
    stopBits: 1 | 2;
  });

/** Identity of the physical endpoint: two specs with the same key must share one link. */
export function endpointKey(spec: LinkSpec): string {
  return spec.type === 'rtu' ? `serial:${spec.path}` : `tcp:${spec.host.toLowerCase()}:${spec.port}`;
}
