import t from 'tap';
import { CandidateBook, type Candidate } from '../../agent/app/candidates.js';

const candidate = (peerId: string, over: Partial<Candidate> = {}): Candidate => ({
  peerId, fingerprint: `${peerId}-fp`, source: 'mdns', address: { host: '10.0.0.1', port: 8883 }, zone: 'default', lastSeen: 0, ...over,
});

t.test('a static entry is never replaced by an advert or a knock; a knock keeps a known address', async (t) => {
  const book = new CandidateBook();
  book.note(candidate('s', { source: 'static', address: { host: '192.168.2.60', port: 8883 } }));
  const kept = book.note(candidate('s', { address: { host: '10.0.0.9', port: 1 }, lastSeen: 50 }));
  t.same([kept.source, kept.address, kept.lastSeen], ['static', { host: '192.168.2.60', port: 8883 }, 50]);
  book.note(candidate('m', { lastSeen: 1 }));
  const knocked = book.note(candidate('m', { source: 'inbound', address: undefined, lastSeen: 2 }));
  t.same([knocked.source, knocked.address, knocked.lastSeen], ['mdns', { host: '10.0.0.1', port: 8883 }, 2]);
  t.equal(book.byFingerprint('m-fp')?.peerId, 'm');
  t.ok(book.remove('m'));
  t.equal(book.get('m'), undefined);
});

t.test('the book is bounded: the oldest non-static candidate goes first', async (t) => {
  const book = new CandidateBook(3);
  book.note(candidate('s', { source: 'static', lastSeen: 0 }));
  for (let i = 1; i <= 5; i++) book.note(candidate(`k${i}`, { source: 'inbound', address: undefined, lastSeen: i }));
  t.equal(book.size, 3);
  t.same(book.list().map((c) => c.peerId).sort(), ['k4', 'k5', 's']);
});
