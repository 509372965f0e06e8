/** Reads registers of one device (one unit id on one link). */
export interface RegisterReader {
  read(fc: 3 | 4, address: number, count: number): Promise<number[]>;
}

/** Writes holding registers of one device (FC16). */
export interface RegisterWriter {
  write(address: number, values: number[]): Promise<void>;
}

/** The `kind` of a link-layer error ('timeout', 'exception', 'connection', ...), if it has one. */
export function errorKind(err: unknown): string | undefined {
  if (typeof err === 'object' && err !== null && 'kind' in err && typeof (err as { kind: unknown }).kind === 'string') {
    return (err as { kind: string }).kind;
  }
  return undefined;
}

/** The Modbus exception code of an exception reply, if the error is one. */
export function exceptionCode(err: unknown): number | undefined {
  if (errorKind(err) !== 'exception') return undefined;
  const code = (err as { code?: unknown }).code;
  return typeof code === 'number' ? code : undefined;
}
