/**
 * The market's shared vocabulary. Money and energy are integers everywhere:
 * prices in sen/kWh (1 円 = 100 sen), energy in Wh, amounts of money in
 * millisen (Wh × sen/kWh = millisen, so no rounding happens inside a trade).
 */

/** Start of a slot, ms since the epoch (UTC instant of the local-time boundary). */
export type SlotStart = number;

export type Side = 'sell' | 'buy';

/**
 * One order: one agent, one slot, one side. An agent holds at most one live
 * order per slot; an amendment replaces it (higher `rev`), a cancellation is an
 * order with `energyWh` 0. The order set of a slot is the highest revision per
 * (owner, slot).
 */
export interface Order {
  /** Content id: SHA-256 (hex) of the canonical JSON of every other field; what digests and fills refer to. */
  id: string;
  /** Peer id of the agent that placed (and signed) it. */
  owner: string;
  slot: SlotStart;
  /** Slot length in minutes (15, 30 or 60); part of the order so peers with different settings never match. */
  slotMinutes: number;
  side: Side;
  /** Energy offered (sell) or wanted (buy), Wh, integer >= 0; 0 cancels. */
  energyWh: number;
  /** Seller: lowest acceptable price; buyer: highest. Integer sen/kWh. */
  limitSenPerKWh: number;
  /**
   * The wheeling fee this side bears, integer sen/kWh (0 behind one meter or on a
   * private line). A buyer's effective value is limit − fee; a seller's effective cost
   * is limit + fee; a fill needs value >= cost.
   */
  feeSenPerKWh: number;
  /** Trade only with orders of the same zone. */
  zone: string;
  /** Revision, starting at 1; a higher revision replaces a lower one. */
  rev: number;
}

/** One matched quantity between one sell and one buy order. */
export interface Fill {
  slot: SlotStart;
  zone: string;
  sellOrder: string;
  buyOrder: string;
  seller: string;
  buyer: string;
  energyWh: number;
  /** The uniform clearing price of the slot and zone, sen/kWh, before fees. */
  priceSenPerKWh: number;
  /** What the buyer pays per kWh including its fee; what the seller receives excluding its fee. */
  buyerPaysSenPerKWh: number;
  sellerGetsSenPerKWh: number;
}

export interface ClearingResult {
  slot: SlotStart;
  /** Slot length in minutes of the orders cleared (orders of other lengths never match). */
  slotMinutes: number;
  /** Digest of the order set cleared (see orderSetDigest). */
  digest: string;
  /** One entry per zone that traded, sorted by zone. */
  prices: { zone: string; priceSenPerKWh: number }[];
  fills: Fill[];
  /** Σ (buyer value − seller cost) × Wh over the fills, in millisen (sen/kWh × Wh): what welfare-maximisation maximises. */
  welfareMillisen: number;
}
