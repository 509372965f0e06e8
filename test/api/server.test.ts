/**
 * The local HTTP API of a running agent (simulated household, mesh and market on
 * 127.0.0.1) over real HTTP: the documented shapes with the agent's real values, values
 * that move with the household, own orders in slots, orders and the ledger, security
 * events from a real refusal, errors, security headers and the DNS-rebinding guard.
 */
import http from 'node:http';
import net from 'node:net';
import t from 'tap';
import type { HouseholdState } from '../../agent/household/state.js';
import { apiConfig, getJson, startApiAgent, stateDir, until } from './helpers.js';

/** One raw HTTP request with headers fetch may not set (Host). */
function rawGet(url: string, headers: Record<string, string>): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { headers }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => { body += c.toString(); });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

t.test('the JSON endpoints answer with the running agent\'s values', async (t) => {
  const states = new Map<number, HouseholdState>();
  const agent = await startApiAgent(t, apiConfig(stateDir(t)), { onState: (s) => states.set(s.at, s) });
  const base = agent.api!.url!;
  t.match(base, /^http:\/\/127\.0\.0\.1:\d+\/$/, 'the dashboard URL');
  const api = (path: string) => getJson(new URL(path, base).href);

  const first = await until('a complete household', async () => {
    const { body } = await api('api/household');
    return body && Object.values(body.quality).every((q) => q === 'ok') ? body : undefined;
  });
  const state = states.get(first.at);
  t.ok(state, 'the household the API shows is a state the poller published');
  for (const key of ['pvW', 'loadW', 'gridW', 'batteryW', 'socPct', 'gridImportWh', 'gridExportWh', 'pvWh'] as const) {
    t.equal(first[key], state![key].value, `${key} is the poller's value`);
  }
  t.strictSame(first.reasons, {}, 'no reasons while everything is ok');
  t.ok(first.pvW > 0, 'noon: PV produces');

  await new Promise((r) => setTimeout(r, 1500));
  const second = (await api('api/household')).body;
  t.ok(second.at > first.at, 'a newer state 1.5 s later');
  t.ok(second.pvWh > first.pvWh, `the PV energy counter moved (${first.pvWh} → ${second.pvWh} Wh)`);

  const status = await api('api/status');
  t.equal(status.status, 200);
  t.equal(status.headers.get('cache-control'), 'no-store', 'JSON is never cached');
  t.equal(status.headers.get('content-type'), 'application/json; charset=utf-8');
  t.equal(status.headers.get('x-content-type-options'), 'nosniff');
  t.match(status.headers.get('content-security-policy'), /default-src 'self'/);
  t.match(status.body, {
    version: /^\d+\.\d+\.\d+/, name: 'Sato house', peerId: agent.neighbours!.identity.peerId, fingerprint: agent.neighbours!.identity.fingerprint,
    zone: 'default', now: Number, startedAt: Number, simulated: true,
    health: { devices: 'ok', broker: 'ok', market: 'ok' }, peers: { connected: 0, known: 0 }, ledger: { records: 0, healthy: true },
  });
  t.ok(status.body.startedAt <= status.body.now && status.body.now <= Date.now(), 'times are the agent\'s clock');

  const peers = (await api('api/peers')).body;
  t.match(peers, { now: Number, self: { peerId: agent.neighbours!.identity.peerId, zone: 'default' }, cluster: null, peers: [], candidates: [], pairing: { open: false }, refused: { broker: Object, tls: Object, trust: Object, mesh: Object } });

  // Slots: today in Tokyo from midnight, and every open slot.
  const slots = (await api('api/slots')).body;
  t.equal(slots.slotMinutes, 30);
  const starts: number[] = slots.slots.map((s: { slot: number }) => s.slot);
  t.strictSame(starts, [...starts].sort((a, b) => a - b), 'in order');
  t.equal((starts[0]! + 9 * 3_600_000) % 86_400_000, 0, 'the first slot starts at midnight in Tokyo');
  t.equal(slots.slots.filter((s: { phase: string }) => s.phase === 'open').length, 48, 'the 48 open slots');
  t.ok(slots.slots.some((s: { phase: string }) => s.phase === 'delivering'), 'the slot of now is delivering');
  for (const s of slots.slots) {
    const want = slots.now < s.gateAt ? 'open' : slots.now < s.slot ? 'closed' : slots.now < s.end ? 'delivering' : 'ended';
    if (s.phase !== want) t.fail(`slot ${s.slot} is ${s.phase}, expected ${want}`);
    t.equal(s.end - s.slot, 30 * 60_000);
    t.equal(s.slot - s.gateAt, 5 * 60_000);
  }

  // An own order, placed through the market session, shows in orders, slots, the ledger and the status.
  const open = slots.slots.find((s: { phase: string }) => s.phase === 'open').slot as number;
  const session = agent.market!.session!;
  const want = { side: 'sell' as const, energyWh: 1234, limitSenPerKWh: 1500, feeSenPerKWh: 0, zone: 'default' };
  await session.placeOrder(open, want);
  await session.placeOrder(open, { ...want, energyWh: 1500 });
  const signed = await session.placeOrder(open, { ...want, energyWh: 1700 });
  const orders = (await api('api/orders')).body;
  t.strictSame(orders, { orders: [{ id: signed.order.id, slot: open, side: 'sell', energyWh: 1700, limitSenPerKWh: 1500, zone: 'default' }] });
  const slot = (await api('api/slots')).body.slots.find((s: { slot: number }) => s.slot === open);
  t.strictSame(slot.own, { side: 'sell', energyWh: 1700, limitSenPerKWh: 1500 });
  t.equal(slot.orders, 1, 'the book holds one live order (the latest revision)');
  t.equal(slot.clearing, null, 'not cleared yet');
  t.equal((await api('api/status')).body.ledger.records, 3, 'three order revisions in the ledger');

  const page1 = (await api('api/ledger?from=1&limit=2')).body;
  t.equal(page1.records.length, 2);
  t.strictSame(page1.records.map((r: { seq: number }) => r.seq), [1, 2]);
  t.equal(page1.next, 3);
  t.equal(page1.records[0].kind, 'order');
  t.equal(page1.records[0].signer, agent.neighbours!.identity.peerId);
  const page2 = (await api(`api/ledger?from=${page1.next}`)).body;
  t.strictSame(page2.records.map((r: { seq: number; key: string }) => [r.seq, r.key]), [[3, `order:${signed.order.id}`]]);
  t.equal(page2.next, null, 'the end');
  t.strictSame((await api('api/ledger?from=99')).body, { records: [], next: null });
  for (const bad of ['api/ledger?limit=abc', 'api/ledger?from=0', 'api/ledger?from=-1', 'api/ledger?limit=0']) {
    const res = await api(bad);
    t.equal(res.status, 400, `${bad}: 400`);
    t.type(res.body.error, 'string');
  }

  t.strictSame((await api('api/contracts')).body, { contracts: [] });
  t.strictSame((await api('api/settlements')).body, { settlements: [] });
  const zero = { soldWh: 0, boughtWh: 0, receivedMillisen: 0, paidMillisen: 0, savingsMillisen: 0 };
  t.strictSame((await api('api/earnings')).body, { today: zero, total: zero });

  // A real refusal: garbage on the broker's TLS port fails the handshake.
  t.strictSame((await api('api/events')).body, { events: [] }, 'no events yet');
  const tls = agent.neighbours!.broker!.tlsAddress();
  const socket = net.connect(tls.port, tls.host, () => socket.write('GET / HTTP/1.0\r\n\r\n'));
  socket.on('error', () => {});
  const events = await until('a tls_refused event', async () => {
    const body = (await api('api/events')).body;
    return body.events.length > 0 ? body.events : undefined;
  });
  socket.destroy();
  t.match(events, [{ at: Number, kind: 'tls_refused', reason: 'handshake', count: 1 }]);
});

t.test('errors, methods, HEAD, the dashboard and the Host guard', async (t) => {
  const agent = await startApiAgent(t, apiConfig(stateDir(t)));
  const base = agent.api!.url!;

  const post = await fetch(new URL('api/status', base), { method: 'POST', body: '{}' });
  t.equal(post.status, 405);
  t.equal(post.headers.get('allow'), 'GET, HEAD');
  t.match(await post.json(), { error: /read-only/ });
  for (const method of ['PUT', 'DELETE', 'PATCH', 'OPTIONS']) t.equal((await fetch(new URL('api/status', base), { method })).status, 405, `${method}: 405`);

  const missing = await fetch(new URL('api/nothing-here', base));
  t.equal(missing.status, 404);
  t.match(await missing.json(), { error: 'no such endpoint: /api/nothing-here' });

  const head = await fetch(new URL('api/status', base), { method: 'HEAD' });
  t.equal(head.status, 200);
  t.equal(head.headers.get('content-type'), 'application/json; charset=utf-8');
  t.equal(await head.text(), '', 'HEAD has no body');

  const page = await fetch(base);
  t.equal(page.status, 200);
  t.equal(page.headers.get('content-type'), 'text/html; charset=utf-8');
  t.match(page.headers.get('content-security-policy'), /^default-src 'self'/);
  t.equal(page.headers.get('x-content-type-options'), 'nosniff');
  t.match(await page.text(), /^<!doctype html>/i);
  for (const asset of ['dashboard.js', 'dashboard.css', 'favicon.svg']) {
    const res = await fetch(new URL(asset, base));
    t.equal(res.status, 200, `${asset} is served`);
    await res.arrayBuffer();
  }

  // A web page reaching 127.0.0.1 through a rebound DNS name sends its own Host.
  const rebound = await rawGet(new URL('api/status', base).href, { Host: 'evil.example:7464' });
  t.equal(rebound.status, 403, 'a foreign Host is refused when no token protects the API');
  t.match(JSON.parse(rebound.body), { error: /localhost only/ });
  for (const host of ['localhost', `localhost:${new URL(base).port}`, '127.0.0.1', '[::1]:80']) {
    t.equal((await rawGet(new URL('api/status', base).href, { Host: host })).status, 200, `Host ${host} is fine`);
  }
});
