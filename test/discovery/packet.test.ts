import t from 'tap';
import { parseResponse, type DnsRecord } from '../../agent/discovery/packet.js';
import { SERVICE_FQDN } from '../../agent/discovery/txt.js';

const fqdn = `tabc._tonari._tcp.local`;
const advert = (ttl = 4500): DnsRecord[] => [
  { name: '_tonari._tcp.local', type: 'PTR', ttl, data: fqdn },
  { name: fqdn, type: 'SRV', ttl: 120, data: { port: 8883, target: 'tabc.local' } },
  { name: fqdn, type: 'TXT', ttl, data: [Buffer.from('id=tabc'), Buffer.from('v=1')] },
  { name: 'tabc.local', type: 'AAAA', ttl: 120, data: 'fe80::1' },
  { name: 'tabc.local', type: 'A', ttl: 120, data: '169.254.1.2' },
  { name: 'other.local', type: 'A', ttl: 120, data: '10.0.0.9' },
];

t.test('one complete advert: srv, txt and addresses (IPv4 first, only the target\'s)', async (t) => {
  const obs = parseResponse({ answers: advert().slice(0, 1), additionals: advert().slice(1) }, SERVICE_FQDN);
  t.same(obs, [{ instance: 'tabc', fqdn, goodbye: false, srv: { port: 8883, host: 'tabc.local' }, txt: { id: 'tabc', v: '1' }, addresses: ['169.254.1.2', 'fe80::1'] }]);
});

t.test('names compare case-insensitively, trailing dots ignored, instance keeps its case', async (t) => {
  const obs = parseResponse({ answers: [{ name: '_TONARI._tcp.local.', type: 'PTR', ttl: 10, data: 'TAbc._tonari._tcp.local.' }] }, SERVICE_FQDN);
  t.equal(obs.length, 1);
  t.equal(obs[0]?.instance, 'TAbc');
  t.equal(obs[0]?.srv, undefined);
});

t.test('TTL 0 PTR or SRV is a goodbye', async (t) => {
  t.equal(parseResponse({ answers: advert(0) }, SERVICE_FQDN)[0]?.goodbye, true);
  const srvBye = parseResponse({ answers: [{ name: fqdn, type: 'SRV', ttl: 0, data: { port: 1, target: 'x' } }] }, SERVICE_FQDN);
  t.equal(srvBye[0]?.goodbye, true);
});

t.test('other service types, odd records and junk are ignored', async (t) => {
  const obs = parseResponse({
    answers: [
      { name: '_http._tcp.local', type: 'PTR', ttl: 10, data: 'web._http._tcp.local' },
      { name: '_tonari._tcp.local', type: 'PTR', ttl: 10, data: 'elsewhere.local' },
      { name: '_tonari._tcp.local', type: 'PTR', ttl: 10, data: { not: 'a string' } },
      { name: fqdn, type: 'SRV', ttl: 10, data: 'garbage' },
      null as unknown as DnsRecord,
    ],
  }, SERVICE_FQDN);
  t.same(obs, [{ instance: 'tabc', fqdn, goodbye: false, addresses: [] }]);
  t.same(parseResponse({}, SERVICE_FQDN), []);
});
