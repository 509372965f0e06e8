import t from 'tap';
import { createControlHandler, type ControlTarget } from '../../agent/control/handler.js';
import type { ControlResponse } from '../../agent/control/protocol.js';
import type { ConfirmResult, RemoveResult } from '../../agent/identity/trust-store.js';

const FP = 'ab'.repeat(32);

function fakeTarget() {
  const calls: unknown[][] = [];
  const target: ControlTarget = {
    identity: () => ({ peerId: 'tself', fingerprint: 'cd'.repeat(32), checkCode: '1234-5678-901', zone: 'default', broker: { host: '127.0.0.1', port: 1 }, local: null, cluster: null, discovery: 'off' }),
    peers: () => { throw new Error('boom'); },
    openPairingWindow: (ms) => { calls.push(['open', ms]); return { closesAt: 1000 + ms }; },
    closePairingWindow: () => { calls.push(['close']); },
    pending: () => ({ open: true, closesAt: 5, pending: [] }),
    confirm: async (fp, code): Promise<ConfirmResult> => {
      calls.push(['confirm', fp, code]);
      return code === 'right' ? { status: 'added', peer: { peerId: 'tpeer', fingerprint: fp, source: 'paired' } } : { status: 'refused', reason: 'wrong_code' };
    },
    add: async (fp, code, name): Promise<ConfirmResult> => {
      calls.push(['add', fp, code, name]);
      return { status: 'refused', reason: 'already_trusted' };
    },
    remove: async (fp): Promise<RemoveResult> => { calls.push(['remove', fp]); return fp === FP ? 'removed' : 'configured'; },
  };
  return { target, calls };
}

t.test('requests are validated before the target sees them', async (t) => {
  const { target, calls } = fakeTarget();
  const handle = createControlHandler(target);
  const cases: [unknown, ControlResponse][] = [
    [[1, 2], { ok: false, error: { code: 'malformed', message: 'a request is one JSON object per line' } }],
    ['peers', { ok: false, error: { code: 'malformed', message: 'a request is one JSON object per line' } }],
    [{ id: 7, cmd: 'reboot' }, { id: 7, ok: false, error: { code: 'unknown_command', message: 'unknown command "reboot"; known: identity, peers, status, pair-open, pair-close, pair-pending, pair-confirm, pair-add, pair-remove' } }],
    [{ id: 'x', cmd: 'pair-open' }, { id: 'x', ok: false, error: { code: 'bad_request', message: 'windowMs: Invalid input: expected number, received undefined' } }],
    [{ cmd: 'pair-open', windowMs: 10 }, { ok: false, error: { code: 'bad_request', message: 'windowMs: Too small: expected number to be >=1000' } }],
    [{ cmd: 'pair-open', windowMs: 7_200_000 }, { ok: false, error: { code: 'bad_request', message: 'windowMs: Too big: expected number to be <=3600000' } }],
    [{ cmd: 'identity', extra: true }, { ok: false, error: { code: 'bad_request', message: 'identity: Unrecognized key: "extra"' } }],
    [{ cmd: 'pair-confirm', fingerprint: 'nope', code: '1' }, { ok: false, error: { code: 'bad_fingerprint', message: 'not a fingerprint (64 hex digits): nope' } }],
  ];
  for (const [request, response] of cases) t.same(await handle(request), response, JSON.stringify(request));
  t.same(calls, [], 'nothing reached the target');
});

t.test('commands map to the target; refusals become error codes', async (t) => {
  const { target, calls } = fakeTarget();
  const errors: string[] = [];
  const handle = createControlHandler(target, (error, cmd) => errors.push(`${cmd}: ${(error as Error).message}`));
  t.same(await handle({ id: 1, cmd: 'pair-open', windowMs: 60_000 }), { id: 1, ok: true, result: { closesAt: 61_000, checkCode: '1234-5678-901' } });
  t.same(await handle({ cmd: 'pair-pending' }), { ok: true, result: { open: true, closesAt: 5, pending: [] } });
  const colons = Array(32).fill('AB').join(':');
  t.same(await handle({ cmd: 'pair-confirm', fingerprint: colons, code: 'right' }), { ok: true, result: { peerId: 'tpeer', fingerprint: FP, name: null } });
  t.match(await handle({ cmd: 'pair-confirm', fingerprint: FP, code: 'wrong' }), { ok: false, error: { code: 'wrong_code' } });
  t.match(await handle({ cmd: 'pair-add', fingerprint: FP, code: 'c', name: 'Suzuki' }), { ok: false, error: { code: 'already_trusted', message: 'this neighbour is already trusted' } });
  t.same(await handle({ cmd: 'pair-remove', fingerprint: FP }), { ok: true, result: { fingerprint: FP } });
  t.match(await handle({ cmd: 'pair-remove', fingerprint: 'ef'.repeat(32) }), { ok: false, error: { code: 'configured' } });
  t.same(await handle({ cmd: 'pair-close' }), { ok: true, result: {} });
  t.same(await handle({ id: 9, cmd: 'peers' }), { id: 9, ok: false, error: { code: 'internal', message: 'the agent could not do this; see its log' } }, 'a failing target is an internal error');
  t.same(errors, ['peers: boom']);
  t.same(calls, [
    ['open', 60_000], ['confirm', FP, 'right'], ['confirm', FP, 'wrong'], ['add', FP, 'c', 'Suzuki'], ['remove', FP], ['remove', 'ef'.repeat(32)], ['close'],
  ], 'fingerprints reach the target normalized');
});
