import t from 'tap';
import { classifyObservation } from '../../agent/discovery/classify.js';
import type { InstanceObservation } from '../../agent/discovery/packet.js';
import { newIdentity } from './helpers.js';

const me = newIdentity();
const a = newIdentity();
const other = newIdentity();
const self = { ...me, zone: 'z1', port: 8883, host: `${me.peerId}.local` };

function obs(id: { peerId: string; fingerprint: string }, over: Partial<InstanceObservation> = {}, fp = id.fingerprint): InstanceObservation {
  return {
    instance: id.peerId, fqdn: `${id.peerId}._tonari._tcp.local`, goodbye: false,
    srv: { port: 8883, host: `${id.peerId}.local` },
    txt: { id: id.peerId, v: '1', zone: 'z1', port: '8883', fp },
    addresses: [], ...over,
  };
}
const none = (): undefined => undefined;

t.test('a valid neighbour advert is observed', async (t) => {
  const v = classifyObservation(obs(a), '169.254.1.2', self, none);
  t.equal(v.action, 'observe');
});

t.test('our own advert heard back is "own"; our goodbye too', async (t) => {
  t.same(classifyObservation(obs(me), '169.254.1.1', self, none), { action: 'own' });
  t.same(classifyObservation(obs(me, { goodbye: true }), '169.254.1.1', self, none), { action: 'own' });
});

t.test('someone else advertising our id is a conflict, whatever the fingerprint', async (t) => {
  const sameFpOtherPort = classifyObservation(obs(me, { srv: { port: 1, host: `${me.peerId}.local` }, txt: { id: me.peerId, v: '1', zone: 'z1', port: '1', fp: me.fingerprint } }), '169.254.1.9', self, none);
  t.match(sameFpOtherPort, { action: 'conflict', conflict: { kind: 'own-id-claimed', peerId: me.peerId, source: '169.254.1.9' } });
  const otherFp = classifyObservation(obs(me, {}, other.fingerprint), '169.254.1.9', self, none);
  t.match(otherFp, { action: 'conflict', conflict: { kind: 'own-id-claimed', claimedFingerprint: other.fingerprint, knownFingerprint: me.fingerprint } });
});

t.test('a neighbour id with a fingerprint that does not derive it is a conflict', async (t) => {
  const v = classifyObservation(obs(a, {}, other.fingerprint), '169.254.1.9', self, (id) => (id === a.peerId ? a.fingerprint : undefined));
  t.same(v, { action: 'conflict', conflict: { kind: 'fingerprint-mismatch', peerId: a.peerId, claimedFingerprint: other.fingerprint, knownFingerprint: a.fingerprint, source: '169.254.1.9' } });
  const unknown = classifyObservation(obs(a, {}, other.fingerprint), '169.254.1.9', self, none);
  t.notOk('knownFingerprint' in (unknown.action === 'conflict' ? unknown.conflict : {}));
});

t.test('malformed, incomplete and goodbye records', async (t) => {
  t.same(classifyObservation(obs(a, { txt: { id: a.peerId } }), 'x', self, none), { action: 'malformed', reason: 'bad-fingerprint' });
  t.same(classifyObservation(obs(a, { txt: undefined }), 'x', self, none), { action: 'touch', peerId: a.peerId });
  t.same(classifyObservation(obs(a, { srv: undefined }), 'x', self, none), { action: 'touch', peerId: a.peerId });
  t.same(classifyObservation(obs(a, { goodbye: true }), 'x', self, none), { action: 'goodbye', peerId: a.peerId });
  t.equal(classifyObservation(obs(a), 'x', undefined, none).action, 'observe', 'browse-only has no self');
});
