/**
 * The local control protocol between `tonari peers` / `tonari pair` and the
 * running agent: a unix socket `control.sock` in the state directory, one JSON
 * object per line each way, one response per request, in order.
 *
 *   → {"id": 1, "cmd": "pair-open", "windowMs": 600000}
 *   ← {"id": 1, "ok": true, "result": {"closesAt": 1760000000000}}
 *   ← {"id": 2, "ok": false, "error": {"code": "unknown_command", "message": "…"}}
 *
 * See docs/identity.md ("The control socket").
 */
import * as z from 'zod';
import type { HouseholdView, StatusView } from '../api/types.js';

export const CONTROL_SOCKET = 'control.sock';
/** Longest request line, newline excluded; a longer one is answered `too_big` and the connection closed. */
export const MAX_REQUEST_BYTES = 4096;
/** Bounds of a pairing window opened over the socket. */
export const MIN_WINDOW_MS = 1000;
export const MAX_WINDOW_MS = 3_600_000;

export const COMMANDS = ['identity', 'peers', 'status', 'pair-open', 'pair-close', 'pair-pending', 'pair-confirm', 'pair-add', 'pair-remove'] as const;
export type CommandName = (typeof COMMANDS)[number];

const id = z.union([z.string().max(64), z.int()]).optional();
const text = (max: number) => z.string().min(1).max(max);

const requestSchema = z.discriminatedUnion('cmd', [
  z.strictObject({ id, cmd: z.literal('identity') }),
  z.strictObject({ id, cmd: z.literal('peers') }),
  z.strictObject({ id, cmd: z.literal('status') }),
  z.strictObject({ id, cmd: z.literal('pair-open'), windowMs: z.int().min(MIN_WINDOW_MS).max(MAX_WINDOW_MS) }),
  z.strictObject({ id, cmd: z.literal('pair-close') }),
  z.strictObject({ id, cmd: z.literal('pair-pending') }),
  z.strictObject({ id, cmd: z.literal('pair-confirm'), fingerprint: text(200), code: text(40) }),
  z.strictObject({ id, cmd: z.literal('pair-add'), fingerprint: text(200), code: text(40), name: text(64).optional() }),
  z.strictObject({ id, cmd: z.literal('pair-remove'), fingerprint: text(200) }),
]);

export type ControlRequest = z.output<typeof requestSchema>;
export type RequestId = string | number | undefined;

export type ErrorCode =
  | 'malformed' | 'too_big' | 'unknown_command' | 'bad_request' | 'internal'
  // status: the agent has no read model (an embedding without agent/api)
  | 'unavailable'
  // refusals of the trust store
  | 'window_closed' | 'not_pending' | 'wrong_code' | 'bad_fingerprint' | 'already_trusted' | 'too_many_pending' | 'bad_name' | 'unknown_peer'
  // pair-remove
  | 'configured' | 'not_found';

export type ControlResponse =
  | { id?: string | number; ok: true; result: unknown }
  | { id?: string | number; ok: false; error: { code: ErrorCode; message: string } };

export type ParsedRequest =
  | { ok: true; request: ControlRequest }
  | { ok: false; id: RequestId; code: ErrorCode; message: string };

/** Validates one decoded request line. */
export function parseRequest(value: unknown): ParsedRequest {
  const rawId = typeof value === 'object' && value !== null ? (value as { id?: unknown }).id : undefined;
  const echoId = typeof rawId === 'string' && rawId.length <= 64 ? rawId : Number.isSafeInteger(rawId) ? rawId as number : undefined;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return { ok: false, id: undefined, code: 'malformed', message: 'a request is one JSON object per line' };
  }
  const cmd = (value as { cmd?: unknown }).cmd;
  if (typeof cmd !== 'string' || !(COMMANDS as readonly string[]).includes(cmd)) {
    return { ok: false, id: echoId, code: 'unknown_command', message: `unknown command ${JSON.stringify(cmd)}; known: ${COMMANDS.join(', ')}` };
  }
  const parsed = requestSchema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue?.path.length ? issue.path.join('.') : cmd;
    return { ok: false, id: echoId, code: 'bad_request', message: `${where}: ${issue?.message ?? 'invalid'}` };
  }
  return { ok: true, request: parsed.data };
}

// ---- results ----

export interface IdentityResult {
  peerId: string;
  fingerprint: string;
  checkCode: string;
  zone: string;
  /** The embedded broker's TLS listener; null in external-broker mode. */
  broker: { host: string; port: number } | null;
  local: { host: string; port: number } | null;
  /** External-broker mode: the shared cluster and our connection to it; null otherwise. */
  cluster: { host: string; port: number; state: string } | null;
  discovery: string;
}

export type NeighbourState = 'connecting' | 'connected' | 'waiting' | 'stopped' | 'untrusted' | 'unreachable';

/** One row of `tonari peers`. */
export interface NeighbourRow {
  peerId: string;
  name: string | null;
  fingerprint: string;
  /** Link state for trusted neighbours; `untrusted` for a key we do not trust; `unreachable` for a trusted one with no address. */
  state: NeighbourState;
  source: 'static' | 'mdns' | 'inbound' | 'cluster' | null;
  address: { host: string; port: number } | null;
  lastSeen: number | null;
  lastSeenAgeMs: number | null;
  rttMs: number | null;
  online: boolean | null;
  /** Messages from this neighbour dropped, by reason (non-zero only). */
  rejections: Record<string, number>;
}

export interface PeersResult {
  now: number;
  self: { peerId: string; fingerprint: string; zone: string };
  /** External-broker mode: the shared cluster every neighbour is reached through; null with the embedded broker. */
  cluster: { host: string; port: number; state: string } | null;
  peers: NeighbourRow[];
  /** Neighbours seen over mDNS (hints), as discovery reports them. */
  candidates: { peerId: string; fingerprint: string; zone: string; addresses: string[]; port: number }[];
  pairing: { open: boolean; closesAt: number | null; pending: number };
  /** Refusals and drops by reason: broker (connections), trust (pairing), mesh (messages). */
  refused: {
    broker: Record<string, number>;
    tls: Record<string, number>;
    trust: Record<string, number>;
    mesh: Record<string, number>;
  };
}

export interface PendingResult {
  open: boolean;
  closesAt: number | null;
  pending: { peerId: string; fingerprint: string; name: string | null; proposedAt: number }[];
}

/** `tonari status`: the object of GET /api/status, the household state, and where the dashboard is. */
export type StatusResult = StatusView & {
  household: HouseholdView | null;
  /** The dashboard's URL; null when the HTTP API does not run. */
  dashboard: string | null;
  /** Today's trades (local day of market.timeZone): contracts and their money. */
  today: { contracts: number; soldWh: number; boughtWh: number; receivedMillisen: number; paidMillisen: number; savingsMillisen: number };
};
