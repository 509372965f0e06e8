import t from 'tap';
import { assertValidSelf, decodeTxt, encodeAdvertTxt, validateAdvert, type TxtRecord } from '../../agent/discovery/txt.js';
import { newIdentity } from './helpers.js';

const a = newIdentity();
const b = newIdentity();

function fields(txt: Partial<TxtRecord> = {}, extra: { instance?: string; port?: number; host?: string } = {}) {
  const base: TxtRecord = { id: a.peerId, v: '1', zone: 'z1', port: '8883', fp: a.fingerprint };
  const merged = { ...base, ...txt } as TxtRecord;
  for (const key of Object.keys(merged)) if (merged[key] === undefined) delete merged[key];
  return { instance: extra.instance ?? a.peerId, txt: merged, port: extra.port ?? 8883, host: extra.host ?? `${a.peerId}.local` };
}

t.test('our own advert round-trips through encode, decode and validation', async (t) => {
  const self = { ...a, zone: 'z1', port: 8883 };
  assertValidSelf(self);
  const txt = encodeAdvertTxt(self);
  t.same(txt, { id: a.peerId, v: '1', zone: 'z1', port: '8883', fp: a.fingerprint });
  const decoded = decodeTxt(Object.entries(txt).map(([k, v]) => Buffer.from(`${k}=${v}`)));
  const check = validateAdvert({ instance: a.peerId, txt: decoded, port: 8883, host: 'h.local' });
  t.same(check, { ok: true, advert: { peerId: a.peerId, fingerprint: a.fingerprint, zone: 'z1', version: 1, port: 8883, host: 'h.local' } });
});

t.test('assertValidSelf refuses what neighbours would reject', async (t) => {
  t.throws(() => assertValidSelf({ ...a, zone: 'z1', port: 0 }));
  t.throws(() => assertValidSelf({ ...a, zone: 'bad zone', port: 1 }));
  t.throws(() => assertValidSelf({ peerId: a.peerId, fingerprint: b.fingerprint, zone: 'z', port: 1 }));
  t.throws(() => assertValidSelf({ peerId: 'agent-a', fingerprint: a.fingerprint, zone: 'z', port: 1 }));
});

t.test('decodeTxt: keys case-insensitive, first wins, no-value entries dropped', async (t) => {
  const out = decodeTxt([Buffer.from('ID=x'), Buffer.from('id=y'), Buffer.from('flag'), Buffer.from('=v'), Buffer.from('fp=a=b'), 'zone=q', 42]);
  t.same(out, { id: 'x', fp: 'a=b', zone: 'q' });
  t.same(decodeTxt(undefined), {});
  t.same(decodeTxt(Buffer.from('v=1')), { v: '1' });
});

t.test('validateAdvert rejects each malformed field with its reason', async (t) => {
  const cases: Array<[string, ReturnType<typeof fields>]> = [
    ['bad-id', fields({ id: 'agent-a' })],
    ['bad-id', fields({ id: undefined })],
    ['instance-not-id', fields({}, { instance: b.peerId })],
    ['bad-fingerprint', fields({ fp: a.fingerprint.toUpperCase() })],
    ['bad-fingerprint', fields({ fp: undefined })],
    ['bad-version', fields({ v: '0' })],
    ['bad-version', fields({ v: 'one' })],
    ['bad-zone', fields({ zone: '' })],
    ['bad-zone', fields({ zone: 'a zone' })],
    ['bad-port', fields({ port: '0' })],
    ['bad-port', fields({ port: '70000' })],
    ['bad-port', fields({ port: '88.3' })],
    ['port-not-srv-port', fields({}, { port: 8884 })],
    ['bad-host', fields({}, { host: '' })],
  ];
  for (const [reason, f] of cases) {
    const check = validateAdvert(f);
    t.equal(check.ok, false, `${reason}: ${JSON.stringify(f.txt)}`);
    if (!check.ok) t.equal(check.reason, reason);
  }
});

t.test('a fingerprint that does not derive the id is a mismatch, not garbage', async (t) => {
  const check = validateAdvert(fields({ fp: b.fingerprint }));
  t.same(check, { ok: false, reason: 'fingerprint-mismatch', peerId: a.peerId, fingerprint: b.fingerprint });
});
