/**
 * The per-sender anti-replay window (as in IPsec, RFC 4303 §3.4.3): the highest sequence
 * number accepted and a bitmap of which of the `size` numbers at and below it were seen.
 * A number above the high-water mark is new; one inside the window is new once; one
 * below the window is refused, because it can no longer be told apart from a replay.
 * Pure functions over plain data.
 */
export interface WindowState {
  /** Highest sequence number accepted (0: none yet). */
  hi: number;
  /** Bit i set: sequence number hi - i was accepted. */
  mask: bigint;
}

export type WindowVerdict = 'new' | 'duplicate' | 'too_old';

export const EMPTY_WINDOW: Readonly<WindowState> = Object.freeze({ hi: 0, mask: 0n });

export function windowVerdict(state: WindowState, seq: number, size: number): WindowVerdict {
  if (seq > state.hi) return 'new';
  const offset = state.hi - seq;
  if (offset >= size) return 'too_old';
  return (state.mask >> BigInt(offset)) & 1n ? 'duplicate' : 'new';
}

/** The window after accepting `seq`; call only when `windowVerdict` said 'new'. */
export function windowAccept(state: WindowState, seq: number, size: number): WindowState {
  const full = (1n << BigInt(size)) - 1n;
  if (seq > state.hi) {
    const shift = seq - state.hi;
    const mask = shift >= size ? 1n : ((state.mask << BigInt(shift)) | 1n) & full;
    return { hi: seq, mask };
  }
  return { hi: state.hi, mask: (state.mask | (1n << BigInt(state.hi - seq))) & full };
}
