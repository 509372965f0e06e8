/**
 * The API's pure parts without I/O: household and health views, the day's slots (DST
 * days included) with own orders and clearing, earnings and savings, the events log,
 * Home Assistant payloads, and the broker ACL for local-only topics.
 */
import t from 'tap';
import { counterGrowth, EventLog, stateChanges } from '../../agent/api/events.js';
import { discoveryConfigs, HA_SENSORS, haState, haTopics } from '../../agent/api/ha-payloads.js';
import {
  clearingOf, dayBounds, deviceHealth, earningsView, householdView, money, ordersView, settlementsView, slotsView, type SlotBooks,
} from '../../agent/api/views.js';
import { ManualClock } from '../../agent/core/clock.js';
import { buildHouseholdState } from '../../agent/household/state.js';
import type { TradeRow } from '../../agent/market/trades.js';
import type { ClearingResult, Order } from '../../agent/market/types.js';
import { Rejections } from '../../agent/mesh/rejections.js';
import {
  hubMayPublish, hubMayReceive, isLocalOnlyTopic, localMayReceive, localMaySubscribe, neighbourMayReceive, neighbourMaySubscribe, ownerMayPublish,
} from '../../broker/acl.js';

const NOON_JST = Date.UTC(2026, 5, 21, 3, 0, 0);
const HOUR = 3_600_000;
const O = 'tamh6gxaizvclqyqxzmbnqs';
const P = 'tbbbbbbbbbbbbbbbbbbbbbb';

t.test('householdView and deviceHealth', async (t) => {
  const now = 1_000_000;
  const ok = buildHouseholdState([
    { device: 'inverter', roles: ['pv', 'battery'], at: now, ok: true, values: { pvW: 3000, acW: 2500, batteryW: -500, socPct: 61.5, pvWh: 1000 } },
    { device: 'meter', roles: ['grid'], at: now, ok: true, values: { gridW: -1800, gridImportWh: 50, gridExportWh: 70 } },
  ], now, 5000);
  const view = householdView(ok)!;
  t.strictSame(view, {
    at: now, pvW: 3000, loadW: 700, gridW: -1800, batteryW: -500, socPct: 61.5, gridImportWh: 50, gridExportWh: 70, pvWh: 1000,
    quality: { pvW: 'ok', loadW: 'ok', gridW: 'ok', batteryW: 'ok', socPct: 'ok', gridImportWh: 'ok', gridExportWh: 'ok', pvWh: 'ok' },
    reasons: {},
  });
  t.equal(deviceHealth(ok, now + 1000, 5000), 'ok');
  t.equal(deviceHealth(ok, now + 6000, 5000), 'stale', 'no newer state: stale');
  t.equal(deviceHealth(undefined, now, 5000), 'stale', 'none yet');

  const failing = buildHouseholdState([
    { device: 'inverter', roles: ['pv', 'battery'], at: now - 1000, ok: false, values: { pvW: 3000, acW: 2500, batteryW: -500, socPct: 61.5 } },
    { device: 'meter', roles: ['grid'], at: now, ok: true, values: { gridW: -1800 } },
  ], now, 5000);
  const v = householdView(failing)!;
  t.equal(v.pvW, 3000, 'a stale value keeps its last value');
  t.equal(v.quality.pvW, 'stale');
  t.equal(v.reasons.pvW, 'last poll of inverter failed');
  t.equal(v.gridImportWh, null, 'missing is null, never 0');
  t.equal(v.quality.gridImportWh, 'missing');
  t.equal(deviceHealth(failing, now, 5000), 'failing');
  t.equal(householdView(undefined), null);
});

t.test('dayBounds and slotsView follow the local calendar, DST days included', async (t) => {
  t.strictSame(dayBounds(NOON_JST, { slotMinutes: 30, timeZone: 'Asia/Tokyo' }), { start: Date.UTC(2026, 5, 20, 15), end: Date.UTC(2026, 5, 21, 15) });
  const base = { slotMinutes: 30 as const, openSlots: 0, gateMs: 5 * 60_000, zone: 'default', books: undefined };
  t.equal(slotsView({ ...base, timeZone: 'Asia/Tokyo', now: NOON_JST }).slots.length, 48);
  t.equal(slotsView({ ...base, timeZone: 'Europe/Berlin', now: Date.UTC(2026, 2, 29, 11) }).slots.length, 46, 'spring forward: 46 half hours');
  t.equal(slotsView({ ...base, timeZone: 'Europe/Berlin', now: Date.UTC(2026, 9, 25, 11) }).slots.length, 50, 'fall back: 50 half hours');
  t.equal(slotsView({ ...base, slotMinutes: 60, timeZone: 'Europe/Berlin', now: Date.UTC(2026, 9, 25, 11) }).slots.length, 25);

  const view = slotsView({ ...base, timeZone: 'Asia/Tokyo', now: NOON_JST, openSlots: 48 });
  t.equal(view.slots.length, 48 + 25, 'all of today and the open slots into tomorrow (to 12:00), each once');
  t.equal(view.slots.filter((s) => s.phase === 'open').length, 48);
  const at = (slot: number) => view.slots.find((s) => s.slot === slot)!;
  t.equal(at(NOON_JST).phase, 'delivering', 'the slot holding now');
  t.equal(at(NOON_JST - HOUR / 2).phase, 'ended');
  t.equal(at(NOON_JST + HOUR / 2).phase, 'open', 'the next slot is open until 5 minutes before it starts');
});

t.test('slot phases at the edges', async (t) => {
  const slot = NOON_JST;
  const gate = slot - 5 * 60_000;
  const base = { slotMinutes: 30 as const, timeZone: 'Asia/Tokyo', openSlots: 1, gateMs: 5 * 60_000, zone: 'default', books: undefined };
  const phase = (now: number) => slotsView({ ...base, now }).slots.find((s) => s.slot === slot)!.phase;
  t.equal(phase(gate - 1), 'open');
  t.equal(phase(gate), 'closed');
  t.equal(phase(slot - 1), 'closed');
  t.equal(phase(slot), 'delivering');
  t.equal(phase(slot + HOUR / 2 - 1), 'delivering');
  t.equal(phase(slot + HOUR / 2), 'ended');
});

t.test('own orders and clearing in the slots and orders views', async (t) => {
  const slot = NOON_JST + HOUR;
  const order = (o: Partial<Order>): Order => ({ id: 'x', owner: O, slot, slotMinutes: 30, side: 'sell', energyWh: 500, limitSenPerKWh: 1200, feeSenPerKWh: 0, zone: 'default', rev: 1, ...o });
  const result: ClearingResult = {
    slot, slotMinutes: 30, digest: 'd', welfareMillisen: 0,
    prices: [{ zone: 'default', priceSenPerKWh: 1700 }, { zone: 'north', priceSenPerKWh: 1900 }],
    fills: [
      { slot, zone: 'default', sellOrder: 'a', buyOrder: 'b', seller: O, buyer: P, energyWh: 400, priceSenPerKWh: 1700, buyerPaysSenPerKWh: 1700, sellerGetsSenPerKWh: 1700 },
      { slot, zone: 'default', sellOrder: 'c', buyOrder: 'd', seller: P, buyer: O, energyWh: 100, priceSenPerKWh: 1700, buyerPaysSenPerKWh: 1700, sellerGetsSenPerKWh: 1700 },
      { slot, zone: 'north', sellOrder: 'e', buyOrder: 'f', seller: P, buyer: O, energyWh: 999, priceSenPerKWh: 1900, buyerPaysSenPerKWh: 1900, sellerGetsSenPerKWh: 1900 },
    ],
  };
  const own = new Map<number, Order>([[slot, order({ id: 'mine', rev: 3 })], [slot + HOUR / 2, order({ id: 'gone', slot: slot + HOUR / 2, energyWh: 0, rev: 2 })]]);
  const books: SlotBooks = {
    ownOrder: (s) => (own.has(s) ? { order: own.get(s)! } : undefined),
    orderSet: (s) => (s === slot ? [order({}), order({ id: 'y', owner: P, side: 'buy' })] : []),
    result: (s) => (s === slot ? result : undefined),
  };
  const view = slotsView({ slotMinutes: 30, timeZone: 'Asia/Tokyo', now: NOON_JST, openSlots: 4, gateMs: 5 * 60_000, zone: 'default', books });
  const entry = view.slots.find((s) => s.slot === slot)!;
  t.strictSame(entry, { slot, end: slot + HOUR / 2, gateAt: slot - 5 * 60_000, phase: 'open', own: { side: 'sell', energyWh: 500, limitSenPerKWh: 1200 }, orders: 2, clearing: { priceSenPerKWh: 1700, energyWh: 500 } });
  t.equal(view.slots.find((s) => s.slot === slot + HOUR / 2)!.own, null, 'a cancelled own order is no order');
  t.strictSame(clearingOf(result, 'south'), null, 'a zone that did not trade');
  t.strictSame(clearingOf(undefined, 'default'), null, 'not cleared');
  t.strictSame(ordersView([slot, slot + HOUR / 2, slot + HOUR], books), { orders: [{ id: 'mine', slot, side: 'sell', energyWh: 500, limitSenPerKWh: 1200, zone: 'default' }] });
  t.strictSame(ordersView([slot], undefined), { orders: [] }, 'no market: no orders');
});

t.test('earnings: money of settled trades, savings against the utility', async (t) => {
  const tariff = { retailSenPerKWh: 3000, buybackSenPerKWh: 850 };
  const row = (r: Partial<TradeRow>): TradeRow => ({ contract: 'c', slot: NOON_JST, side: 'sell', counterparty: P, energyWh: 2000, priceSenPerKWh: 1500, status: 'settled', deliveredWh: 1800, amountMillisen: 1800 * 1500, ...r });
  const sale = row({ contract: 's' });
  const purchase = row({ contract: 'p', side: 'buy', energyWh: 1000, priceSenPerKWh: 2000, deliveredWh: 1000, amountMillisen: -2_000_000, status: 'settled-by-timeout' });
  const open = row({ contract: 'o', status: 'contracted', deliveredWh: null, amountMillisen: null });
  const yesterday = row({ contract: 'y', slot: NOON_JST - 24 * HOUR, deliveredWh: 100, amountMillisen: 150_000 });
  t.strictSame(money([sale], tariff), { soldWh: 1800, boughtWh: 0, receivedMillisen: 2_700_000, paidMillisen: 0, savingsMillisen: (1500 - 850) * 1800 }, 'sale: (price − buyback) × delivered');
  t.strictSame(money([purchase], tariff), { soldWh: 0, boughtWh: 1000, receivedMillisen: 0, paidMillisen: 2_000_000, savingsMillisen: (3000 - 2000) * 1000 }, 'purchase: (retail − price) × delivered');
  t.strictSame(money([open], tariff), { soldWh: 0, boughtWh: 0, receivedMillisen: 0, paidMillisen: 0, savingsMillisen: 0 }, 'not settled yet: nothing');
  const day = dayBounds(NOON_JST, { slotMinutes: 30, timeZone: 'Asia/Tokyo' });
  const earnings = earningsView([sale, purchase, open, yesterday], tariff, day);
  t.strictSame(earnings.today, { soldWh: 1800, boughtWh: 1000, receivedMillisen: 2_700_000, paidMillisen: 2_000_000, savingsMillisen: 1_170_000 + 1_000_000 });
  t.equal(earnings.total.soldWh, 1900, 'total includes yesterday');
  t.equal(earnings.total.savingsMillisen, 1_170_000 + 1_000_000 + (150_000 - 850 * 100));
  t.strictSame(settlementsView([sale, open]), { settlements: [{ contract: 's', slot: NOON_JST, status: 'settled', deliveredWh: 1800, amountMillisen: 2_700_000 }] });
});

t.test('the events log: newest first, bounded, repeats folded', async (t) => {
  const clock = new ManualClock(0);
  const log = new EventLog(clock, 3, 10_000);
  const heard: string[] = [];
  const off = log.onEvent((e) => heard.push(`${e.kind}:${e.reason}`));
  log.add({ kind: 'message_rejected', reason: 'bad_sig', peer: P });
  await clock.advance(1000);
  const folded = log.add({ kind: 'message_rejected', reason: 'bad_sig', peer: P });
  t.equal(folded.count, 2, 'the same event within the window is folded');
  log.add({ kind: 'message_rejected', reason: 'bad_sig', peer: O });
  t.strictSame(log.list().map((e) => [e.peer, e.count]), [[O, 1], [P, 2]], 'another peer is another event; newest first');
  await clock.advance(20_000);
  log.add({ kind: 'message_rejected', reason: 'bad_sig', peer: P });
  log.add({ kind: 'device_failing', reason: 'poll failed', device: 'inverter' });
  t.strictSame(log.list().map((e) => [e.kind, e.at]), [['device_failing', 21_000], ['message_rejected', 21_000], ['message_rejected', 1000]], 'at most 3; the oldest dropped');
  t.strictSame(log.list()[0], { at: 21_000, kind: 'device_failing', reason: 'poll failed', device: 'inverter', count: 1 });
  t.equal(heard.length, 4, 'listeners hear new entries, not folded repeats');
  off();
  log.add({ kind: 'peer_up', reason: 'connected', peer: P });
  t.equal(heard.length, 4, 'unsubscribed');

  t.strictSame(counterGrowth({ a: 1, b: 2 }, { a: 1, b: 5, c: 1 }), { b: 3, c: 1 });
  t.strictSame(stateChanges(new Map([['x', 'connected'], ['y', 'waiting']]), new Map([['x', 'waiting'], ['z', 'connected']])), [
    { key: 'x', from: 'connected', to: 'waiting' }, { key: 'z', from: undefined, to: 'connected' }, { key: 'y', from: 'waiting', to: undefined },
  ]);

  const rejections = new Rejections();
  const counted: string[] = [];
  rejections.onCount(() => { throw new Error('a broken listener'); });
  const stop = rejections.onCount((reason, peer) => counted.push(`${reason}/${peer ?? '-'}`));
  rejections.count('replay', P);
  rejections.count('malformed');
  stop();
  rejections.count('rate', P);
  t.strictSame(counted, [`replay/${P}`, 'malformed/-'], 'the mesh\'s drops reach the listener; a throwing one changes nothing');
  t.equal(rejections.snapshot().total, 3, 'every drop still counted');
});

t.test('Home Assistant payloads', async (t) => {
  const topics = haTopics(O, 'homeassistant');
  t.strictSame(topics, { node: 'tonari_tamh6gxa', state: `tonari/${O}/ha/state`, availability: `tonari/${O}/ha/availability`, localRoots: ['homeassistant', `tonari/${O}/ha`] });
  const configs = discoveryConfigs({ peerId: O, name: 'Sato house', version: '9.9.9', discoveryPrefix: 'homeassistant' });
  t.equal(configs.length, HA_SENSORS.length);
  t.equal(new Set(configs.map((c) => c.payload.unique_id)).size, configs.length, 'unique ids are unique');
  for (const c of configs) {
    t.match(c.topic, /^homeassistant\/sensor\/tonari_tamh6gxa\/[a-z_]+\/config$/);
    t.ok(ownerMayPublish(O, c.topic, topics.localRoots), `the broker lets the owner publish ${c.topic}`);
  }
  const state = haState({
    household: {
      at: 1, pvW: 3000, loadW: 500, gridW: -2000, batteryW: null, socPct: 50, gridImportWh: 10, gridExportWh: 20, pvWh: 30,
      quality: { pvW: 'ok', loadW: 'stale', gridW: 'ok', batteryW: 'missing', socPct: 'ok', gridImportWh: 'ok', gridExportWh: 'ok', pvWh: 'ok' }, reasons: {},
    },
    today: { soldWh: 0, boughtWh: 0, receivedMillisen: 1_234_567, paidMillisen: 34_567, savingsMillisen: 505 },
    peersConnected: 2, contractsToday: 3,
  });
  t.strictSame(state, {
    pv_w: 3000, load_w: null, grid_w: -2000, battery_w: null, soc_pct: 50, grid_import_wh: 10, grid_export_wh: 20,
    earnings_today_yen: 12, savings_today_yen: 0.01, peers_connected: 2, contracts_today: 3,
  }, 'stale and missing values are null (unknown in Home Assistant); money in yen');
  t.strictSame(haState({ household: null, today: { soldWh: 0, boughtWh: 0, receivedMillisen: 0, paidMillisen: 0, savingsMillisen: 0 }, peersConnected: 0, contractsToday: 0 }).pv_w, null);
});

t.test('broker ACL: local-only topic roots', async (t) => {
  const roots = haTopics(O, 'homeassistant').localRoots;
  const config = `homeassistant/sensor/tonari_tamh6gxa/pv_power/config`;
  const state = `tonari/${O}/ha/state`;
  for (const filter of ['homeassistant/#', 'homeassistant/+/+/config', `tonari/${O}/ha/#`, `tonari/${O}/ha/state`]) {
    t.ok(localMaySubscribe(filter, roots), `local may subscribe ${filter}`);
    t.notOk(localMaySubscribe(filter), `not without the roots: ${filter}`);
  }
  for (const filter of ['#', 'homeassistant', '+/sensor/#', 'tonari/#', `tonari/+/ha/#`, 'elsewhere/#']) t.notOk(localMaySubscribe(filter, roots), `denied: ${filter}`);
  t.ok(localMayReceive(config, roots) && localMayReceive(state, roots));
  t.notOk(localMayReceive(config), 'without the roots nothing outside the namespace');
  t.notOk(isLocalOnlyTopic('homeassistant', roots), 'the root itself is not a topic below it');

  t.ok(ownerMayPublish(O, state, roots));
  t.notOk(ownerMayPublish(O, state), 'only with the roots');
  for (const topic of ['homeassistant/#', 'homeassistant/+/x', 'elsewhere/x', `tonari/v1/${O}/other`, `tonari/v1/${P}/status`, 'homeassistant/\u0000x']) {
    t.notOk(ownerMayPublish(O, topic, [...roots, 'tonari/v1']), `owner may not publish ${JSON.stringify(topic)}`);
  }
  t.ok(ownerMayPublish(O, `tonari/v1/${O}/status`, roots), 'the namespace as before');

  // Neighbours and hub members: nothing of it.
  t.notOk(neighbourMaySubscribe(O, P, 'homeassistant/#'));
  t.notOk(neighbourMayReceive(O, P, config));
  t.notOk(neighbourMayReceive(O, P, state));
  t.notOk(hubMayReceive(P, config));
  t.notOk(hubMayPublish(P, `homeassistant/sensor/x/y/config`), 'a hub member cannot publish discovery');
  t.notOk(hubMayPublish(P, `tonari/${P}/ha/state`));
});
