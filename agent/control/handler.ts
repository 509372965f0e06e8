/**
 * Request handling of the control socket, without any I/O: one decoded request
 * in, one response out. The socket server (server.ts) only frames lines.
 */
import type { ConfirmResult, RemoveResult } from '../identity/trust-store.js';
import { normalizeFingerprint } from '../identity/trusted-peers-file.js';
import {
  parseRequest, type ControlRequest, type ControlResponse, type ErrorCode, type IdentityResult, type PeersResult, type PendingResult,
  type StatusResult,
} from './protocol.js';

/** What the running agent offers to the control socket. */
export interface ControlTarget {
  identity(): IdentityResult;
  peers(): PeersResult;
  /** `tonari status`; absent when the agent runs without a read model. */
  status?(): Promise<StatusResult>;
  openPairingWindow(ms: number): { closesAt: number };
  closePairingWindow(): void;
  pending(): PendingResult;
  confirm(fingerprint: string, code: string): Promise<ConfirmResult>;
  /** Pairs a neighbour by fingerprint and code without a window (`tonari pair --add`). */
  add(fingerprint: string, code: string, name?: string): Promise<ConfirmResult>;
  remove(fingerprint: string): Promise<RemoveResult>;
}

export type ControlHandler = (request: unknown) => Promise<ControlResponse>;

class Refusal extends Error {
  constructor(readonly code: ErrorCode, message: string) {
    super(message);
  }
}

const REFUSALS: Partial<Record<string, string>> = {
  window_closed: 'no pairing window is open',
  not_pending: 'this neighbour is not waiting to be paired (it has not connected during the window, or was dropped after 3 wrong codes)',
  wrong_code: 'the check code does not belong to this fingerprint; one of them was mistyped, or it is not the neighbour you think',
  bad_name: 'the name must be 1-64 printable characters',
  already_trusted: 'this neighbour is already trusted',
  configured: 'this neighbour is listed under trust.peers in the configuration; remove it there',
  not_found: 'this neighbour is not a paired neighbour',
};

function fingerprintOf(text: string): string {
  const fingerprint = normalizeFingerprint(text);
  if (!fingerprint) throw new Refusal('bad_fingerprint', `not a fingerprint (64 hex digits): ${text.slice(0, 80)}`);
  return fingerprint;
}

async function run(target: ControlTarget, request: ControlRequest): Promise<unknown> {
  switch (request.cmd) {
    case 'identity': return target.identity();
    case 'peers': return target.peers();
    case 'status':
      if (!target.status) throw new Refusal('unavailable', 'this agent does not report its status (started without the local API)');
      return target.status();
    case 'pair-open': return { ...target.openPairingWindow(request.windowMs), checkCode: target.identity().checkCode };
    case 'pair-close': target.closePairingWindow(); return {};
    case 'pair-pending': return target.pending();
    case 'pair-confirm':
    case 'pair-add': {
      const fingerprint = fingerprintOf(request.fingerprint);
      const result = request.cmd === 'pair-confirm' ? await target.confirm(fingerprint, request.code) : await target.add(fingerprint, request.code, request.name);
      if (result.status === 'refused') throw new Refusal(result.reason, REFUSALS[result.reason] ?? `refused (${result.reason})`);
      return { peerId: result.peer.peerId, fingerprint: result.peer.fingerprint, name: result.peer.name ?? null };
    }
    case 'pair-remove': {
      const fingerprint = fingerprintOf(request.fingerprint);
      const result = await target.remove(fingerprint);
      if (result !== 'removed') throw new Refusal(result, REFUSALS[result] ?? result);
      return { fingerprint };
    }
  }
}

export function createControlHandler(target: ControlTarget, onError?: (error: unknown, cmd: string) => void): ControlHandler {
  return async (value) => {
    const parsed = parseRequest(value);
    if (!parsed.ok) return { ...(parsed.id !== undefined ? { id: parsed.id } : {}), ok: false, error: { code: parsed.code, message: parsed.message } };
    const { request } = parsed;
    const id = request.id !== undefined ? { id: request.id } : {};
    try {
      return { ...id, ok: true, result: await run(target, request) };
    } catch (error) {
      if (error instanceof Refusal) return { ...id, ok: false, error: { code: error.code, message: error.message } };
      onError?.(error, request.cmd);
      return { ...id, ok: false, error: { code: 'internal', message: 'the agent could not do this; see its log' } };
    }
  };
}
