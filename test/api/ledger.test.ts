/**
 * Contracts, settlements and earnings from the ledger: the tail follows a real ledger
 * file (records appended by Ledger, countersigned contracts, a half-written line), and
 * a running agent's API shows the contracts in its ledger over HTTP, in the event
 * stream and in the metrics.
 */
import { appendFileSync, copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { LedgerTail } from '../../agent/api/ledger-tail.js';
import { systemClock } from '../../agent/core/clock.js';
import { silentLogger } from '../../agent/core/log.js';
import { loadOrCreateIdentity, type AgentIdentity } from '../../agent/identity/key-store.js';
import { contractBody, signFill } from '../../agent/ledger/fill-signature.js';
import { Ledger, LEDGER_FILE } from '../../agent/ledger/index.js';
import { apiConfig, getJson, startApiAgent, stateDir, until } from './helpers.js';

type Appender = Pick<Ledger, 'append'>;

/** A contract between `me` and `other` (both sign the fill), and optionally its settlement, appended to `ledger`. */
async function trade(ledger: Appender, me: AgentIdentity, other: AgentIdentity, o: { id: string; slot: number; side: 'sell' | 'buy'; energyWh: number; price: number; delivered?: number; status?: string }) {
  const [seller, buyer] = o.side === 'sell' ? [me, other] : [other, me];
  const fill = {
    slot: o.slot, zone: 'default', sellOrder: `s-${o.id}`, buyOrder: `b-${o.id}`, seller: seller.peerId, buyer: buyer.peerId,
    energyWh: o.energyWh, priceSenPerKWh: o.price, buyerPaysSenPerKWh: o.price, sellerGetsSenPerKWh: o.price,
  };
  await ledger.append('contract', `contract:${o.id}`, contractBody(fill, [signFill(fill, me), signFill(fill, other)], me.peerId) as unknown as Record<string, unknown>);
  if (o.delivered !== undefined) {
    const kind = o.status === 'disputed' ? 'dispute' : 'settlement';
    await ledger.append(kind, `${kind}:${o.id}`, { contract: o.id, status: o.status ?? 'settled', deliveredWh: o.delivered, paymentMillisen: o.delivered * o.price });
  }
}

const HOUR = 3_600_000;

t.test('the tail reads what was appended, and only whole lines', async (t) => {
  const dir = stateDir(t, 'lt');
  const me = await loadOrCreateIdentity(join(dir), { clock: systemClock, log: silentLogger() });
  const otherDir = stateDir(t, 'lt2');
  const other = await loadOrCreateIdentity(otherDir, { clock: systemClock, log: silentLogger() });
  const file = join(dir, LEDGER_FILE);
  const ledger = await Ledger.open(file, { identity: me, clock: systemClock, log: silentLogger() });
  t.teardown(() => ledger.close());
  const tail = new LedgerTail(file);

  await ledger.append('note', 'note:1', { text: 'hello' });
  await trade(ledger, me, other, { id: 'c1', slot: 1_000 * HOUR, side: 'sell', energyWh: 2000, price: 1500, delivered: 1800 });
  t.equal((await tail.trades()).length, 1);
  const v1 = tail.version;
  t.strictSame(await tail.trades(), [{ contract: 'c1', slot: 1_000 * HOUR, side: 'sell', counterparty: other.peerId, energyWh: 2000, priceSenPerKWh: 1500, status: 'settled', deliveredWh: 1800, amountMillisen: 2_700_000 }]);
  await ledger.append('note', 'note:2', { text: 'not a trade' });
  await tail.refresh();
  t.equal(tail.records, 4);
  t.equal(tail.version, v1, 'no trade record: trades unchanged');
  await trade(ledger, me, other, { id: 'c2', slot: 1_001 * HOUR, side: 'buy', energyWh: 1000, price: 2000 });
  const rows = await tail.trades();
  t.strictSame(rows.map((r) => [r.contract, r.side, r.status, r.amountMillisen]), [['c1', 'sell', 'settled', 2_700_000], ['c2', 'buy', 'contracted', null]]);
  t.ok(tail.version > v1);

  const page = await tail.page(2, 2);
  t.strictSame(page.records.map((r) => [r.seq, r.kind, r.key]), [[2, 'contract', 'contract:c1'], [3, 'settlement', 'settlement:c1']]);
  t.equal(page.next, 4);
  t.strictSame((await tail.page(5, 10)).records.map((r) => r.seq), [5]);
  t.equal((await tail.page(5, 10)).next, null);

  // A copy with half a line at its end (a write in progress): whole lines only, the rest once it is complete.
  const copy = join(dir, 'copy.jsonl');
  const lines = readFileSync(file, 'utf8').split('\n').filter(Boolean);
  writeFileSync(copy, `${lines.slice(0, 2).join('\n')}\n${lines[2]!.slice(0, 40)}`);
  const partial = new LedgerTail(copy);
  await partial.refresh();
  t.equal(partial.records, 2, 'the half-written line is left for later');
  t.strictSame((await partial.trades()).map((r) => r.status), ['contracted']);
  appendFileSync(copy, `${lines[2]!.slice(40)}\n`);
  t.equal(partial.records, 2);
  t.strictSame((await partial.trades()).map((r) => r.status), ['settled'], 'completed: the settlement is read');
  t.equal(partial.records, 3);
  // Garbage lines are skipped, not fatal.
  appendFileSync(copy, 'not json\n{"also":"not a record"}\n');
  await partial.refresh();
  t.equal(partial.records, 3);
  // A replaced (shorter) file is read again from the start.
  copyFileSync(join(dir, LEDGER_FILE), copy);
  writeFileSync(copy, `${lines[0]}\n`);
  await partial.refresh();
  t.equal(partial.records, 1);
  t.strictSame(await partial.trades(), []);
  t.strictSame(await new LedgerTail(join(dir, 'none.jsonl')).trades(), [], 'no file yet: no trades');
});

t.test('a running agent shows the contracts in its ledger: HTTP, stream, metrics', async (t) => {
  const agent = await startApiAgent(t, apiConfig(stateDir(t, 'lc')));
  const base = agent.api!.url!;
  const me = agent.neighbours!.identity;
  const other = await loadOrCreateIdentity(stateDir(t, 'lo'), { clock: systemClock, log: silentLogger() });
  const controller = new AbortController();
  t.teardown(() => controller.abort());
  const stream = await fetch(new URL('api/stream', base), { signal: controller.signal });
  let text = '';
  void (async () => {
    const decoder = new TextDecoder();
    try {
      for await (const chunk of stream.body!) text += decoder.decode(chunk as Uint8Array, { stream: true });
    } catch { /* aborted */ }
  })();

  const today = agent.model.today();
  const ledger = agent.market!.ledger;
  await trade(ledger, me, other, { id: 'sale', slot: today.start + 10 * HOUR, side: 'sell', energyWh: 2000, price: 1500, delivered: 1800 });
  await trade(ledger, me, other, { id: 'buy', slot: today.start + 20 * HOUR, side: 'buy', energyWh: 1000, price: 2000, delivered: 1000, status: 'settled-by-timeout' });
  await trade(ledger, me, other, { id: 'old', slot: today.start - 5 * HOUR, side: 'sell', energyWh: 100, price: 1000, delivered: 100 });
  await trade(ledger, me, other, { id: 'open', slot: today.end + HOUR, side: 'sell', energyWh: 700, price: 1800 });

  const contracts = (await getJson(new URL('api/contracts', base).href)).body.contracts;
  t.strictSame(contracts.map((c: { contract: string; status: string }) => [c.contract, c.status]), [['old', 'settled'], ['sale', 'settled'], ['buy', 'settled-by-timeout'], ['open', 'contracted']]);
  t.match(contracts[1], { side: 'sell', counterparty: other.peerId, energyWh: 2000, priceSenPerKWh: 1500, deliveredWh: 1800, amountMillisen: 2_700_000 });
  t.match(contracts[2], { side: 'buy', deliveredWh: 1000, amountMillisen: -2_000_000 });
  const settlements = (await getJson(new URL('api/settlements', base).href)).body.settlements;
  t.equal(settlements.length, 3);
  const earnings = (await getJson(new URL('api/earnings', base).href)).body;
  t.strictSame(earnings.today, { soldWh: 1800, boughtWh: 1000, receivedMillisen: 2_700_000, paidMillisen: 2_000_000, savingsMillisen: (1500 - 850) * 1800 + (3000 - 2000) * 1000 });
  t.strictSame(earnings.total, { soldWh: 1900, boughtWh: 1000, receivedMillisen: 2_800_000, paidMillisen: 2_000_000, savingsMillisen: (1500 - 850) * 1800 + (3000 - 2000) * 1000 + (1000 - 850) * 100 });

  await until('contract events on the stream', () => (text.match(/event: contract\n/g) ?? []).length >= 4, 5000);
  const rows = [...text.matchAll(/event: contract\ndata: (.*)\n/g)].map((m) => JSON.parse(m[1]!) as { contract: string });
  t.strictSame(rows.map((r) => r.contract).sort(), ['buy', 'old', 'open', 'sale'], 'one contract event per contract');

  const metrics = await (await fetch(new URL('metrics', base))).text();
  t.match(metrics, /\ntonari_contracts_total\{side="sell"\} 3\n/);
  t.match(metrics, /\ntonari_contracts_total\{side="buy"\} 1\n/);
  t.match(metrics, /\ntonari_contracts\{side="sell",status="contracted"\} 1\n/);
  t.match(metrics, /\ntonari_settled_energy_wh_total\{side="sell"\} 1900\n/);
  t.match(metrics, /\ntonari_settled_amount_yen_total\{side="sell"\} 28\n/);
  t.match(metrics, /\ntonari_settled_amount_yen_total\{side="buy"\} 20\n/);
  t.match(metrics, /\ntonari_ledger_records 7\n/);
  const status = (await getJson(new URL('api/status', base).href)).body;
  t.strictSame(status.ledger, { records: 7, healthy: true });
});
