/**
 * The market inside `tonari run`: the ledger, the energy history, the slot meter and the
 * protocol session over the mesh. Every minute the forecast and strategy decide the
 * orders of the open slots (placed, amended, or withdrawn when the data no longer back
 * them); every second the session advances; after each slot the contracts are settled
 * against both meters and the settlement is recorded in the ledger.
 *
 * A damaged ledger stops trading (reported at error level, never hidden); the agent
 * keeps reading its devices.
 */
import { join } from 'node:path';
import type { Config } from '../config/index.js';
import type { Clock, TimerHandle } from '../core/clock.js';
import type { Logger } from '../core/log.js';
import type { HouseholdState } from '../household/state.js';
import type { AgentIdentity } from '../identity/key-store.js';
import { writeFileAtomic } from '../identity/atomic-file.js';
import { LEDGER_FILE, Ledger } from '../ledger/index.js';
import { batteryFromConfig, forecastPolicyFromConfig, forecastSlots } from '../market/forecast.js';
import { EnergyHistory } from '../market/history.js';
import { MarketSession, type ContractRecord, type SignedOrder, type SignedReading } from '../market/session.js';
import { settleSlot, settlementRecord, type Contract } from '../market/settlement.js';
import { SlotMeter } from '../market/slot-meter.js';
import { openSlots, slotEnd, type SlotMinutes } from '../market/slots.js';
import { desiredOrders, orderChanges, strategyFromConfig } from '../market/strategy.js';
import type { Mesh } from '../mesh/mesh.js';
import { readFile } from 'node:fs/promises';

export const HISTORY_FILE = 'history.json';
const MARKET_KINDS = new Set(['order', 'order-digest', 'order-fetch', 'orders', 'fill-sign', 'meter']);

export interface RunningMarket {
  session: MarketSession | undefined;
  ledger: Ledger;
  history: EnergyHistory;
  /** Feed every household state. */
  onState(state: HouseholdState): void;
  stop(): Promise<void>;
}

export interface MarketOptions {
  clock: Clock;
  log: Logger;
  identity: AgentIdentity;
  mesh: Mesh;
  /** How often orders are re-planned. Default 60 s. */
  replanMs?: number;
  /** How often the protocol advances. Default 1 s. */
  tickMs?: number;
  /** What the devices (or the simulated household) say about PV and battery size, for the prior and the battery plan. */
  equipment?: { pvPeakW?: number | undefined; batteryWh?: number | undefined; batteryMaxPowerW?: number | undefined };
}

export async function startMarket(config: Config, options: MarketOptions): Promise<RunningMarket> {
  const { clock, identity, mesh } = options;
  const log = options.log.child({ mod: 'market' });
  const market = config.market;
  const slotMinutes = market.slotMinutes as SlotMinutes;

  const ownOrders: SignedOrder[] = [];
  const ledger = await Ledger.open(join(config.stateDir, LEDGER_FILE), {
    identity, log: options.log, clock,
    // Own orders of slots still open are restored into the session below; older ones are not kept in memory.
    onRecord: (record) => {
      if (record.kind === 'order' && (record.body as unknown as SignedOrder).order.slot > clock.now()) ownOrders.push(record.body as unknown as SignedOrder);
    },
  });
  // The profile follows the home's own clock; the slot calendar is the community's (market.timeZone).
  const historyOptions = { slotMinutes, timeZone: config.household.timezone, latitudeDeg: config.household.latitude, pvPeakW: options.equipment?.pvPeakW };
  const history = await loadHistory(join(config.stateDir, HISTORY_FILE), historyOptions, log);
  const meter = new SlotMeter((from, to) => {
    const boundaries: number[] = [];
    for (let s = slotEnd(from, slotMinutes, market.timeZone); s <= to; s = slotEnd(s, slotMinutes, market.timeZone)) boundaries.push(s);
    return boundaries;
  });
  let latest: HouseholdState | undefined;

  const strategy = strategyFromConfig(config);
  const policy = forecastPolicyFromConfig(market);
  const battery = batteryFromConfig(market.battery, { capacityWh: options.equipment?.batteryWh, maxPowerW: options.equipment?.batteryMaxPowerW });
  const tariff = { retailSenPerKWh: market.utility.retailSenPerKWh, buybackSenPerKWh: market.utility.buybackSenPerKWh };

  let session: MarketSession | undefined;
  const timers: TimerHandle[] = [];
  /** Work started by the timers and not finished yet; stop() waits for it before closing the ledger. */
  const inflight = new Set<Promise<void>>();
  let stopping = false;
  let unsubscribe: (() => void) | undefined;
  if (!ledger.healthy) {
    log.error({ file: ledger.file, faults: ledger.faults.length }, 'the ledger is damaged: trading is stopped until it is repaired (tonari ledger verify shows where)');
  } else if (market.enabled) {
    const active = new MarketSession({
      identity, ledger, clock, log,
      transport: { publish: (type, body) => mesh.publish(type, body), send: (to, type, body) => mesh.send(to, type, body) },
      keyOf: (peerId) => mesh.keyOf(peerId),
      slotMinutes, gateMs: market.gateClosure, reconcileMs: market.reconcile, readingTimeoutMs: market.settlement.readingTimeout,
      meterFor: (slot) => meter.energy(slot, slotEnd(slot, slotMinutes, market.timeZone)),
      onContract: (contract) => log.info({ contract: contract.id, slot: new Date(contract.fill.slot).toISOString(), energyWh: contract.fill.energyWh, priceSenPerKWh: contract.fill.priceSenPerKWh, seller: contract.fill.seller, buyer: contract.fill.buyer }, 'contract'),
      onDelivered: (slot, contracts, readings) => settle(slot, contracts, readings),
    });
    session = active;
    const restored = active.restoreOwnOrders(ownOrders);
    if (restored > 0) log.info({ orders: restored }, 'own open orders restored from the ledger');
    unsubscribe = mesh.onEnvelope((envelope) => {
      if (MARKET_KINDS.has(envelope.type)) void active.receive(envelope.type, envelope.from, envelope.body);
    });
    const loop = (every: number, work: () => Promise<void>) => {
      let running = false;
      const run = () => {
        if (stopping) return;
        if (!running) {
          running = true;
          const done = work().catch((error: Error) => log.error({ err: error.message }, 'market step failed')).finally(() => {
            running = false;
            inflight.delete(done);
          });
          inflight.add(done);
        }
        timers[index] = clock.setTimer(run, every);
      };
      const index = timers.length;
      timers.push(clock.setTimer(run, every));
    };
    loop(options.tickMs ?? 1000, () => active.tick());
    loop(options.replanMs ?? 60_000, () => replan(active));
    log.info({ slotMinutes, gateMs: market.gateClosure, zone: strategy.zone, sellFloor: strategy.sellFloorSenPerKWh, buyCap: strategy.buyCapSenPerKWh }, 'market open');
  } else {
    log.info('market disabled (market.enabled: false)');
  }

  /** Orders for the open slots from the forecast; withdrawn where the data no longer back them. */
  async function replan(active: MarketSession): Promise<void> {
    if (!latest) return;
    const now = clock.now();
    const slots = openSlots(now, slotMinutes, market.openSlots, market.timeZone, market.gateClosure / 60_000);
    const forecast = forecastSlots({ now, slots, slotMinutes, household: latest, expectation: history, recent: history.recentW(now), battery, policy });
    const live = slots.flatMap((slot) => {
      const own = active.ownOrder(slot);
      return own ? [own.order] : [];
    });
    const changes = orderChanges(live, desiredOrders(forecast, strategy), { slots });
    for (const want of [...changes.place, ...changes.amend.map((a) => a.desired)]) {
      await active.placeOrder(want.slot, want).catch((error: Error) => log.warn({ err: error.message, slot: want.slot }, 'order not placed'));
    }
    for (const order of changes.cancel) {
      const why = forecast.find((f) => f.slot === order.slot)?.reason ?? 'the forecast no longer has it';
      await active.placeOrder(order.slot, { ...order, energyWh: 0 }).catch((error: Error) => log.warn({ err: error.message }, 'order not withdrawn'));
      log.info({ slot: new Date(order.slot).toISOString(), why }, 'order withdrawn');
    }
  }

  async function settle(slot: number, contracts: ContractRecord[], readings: SignedReading[]): Promise<void> {
    const asContracts: Contract[] = contracts.map((c) => ({ ...c.fill, id: c.id }));
    const meterReadings = readings.map((r) => r.reading);
    const result = settleSlot({
      slot, slotMinutes, contracts: asContracts, readings: meterReadings, nowMs: clock.now(), tariff,
      timeoutMs: market.settlement.readingTimeout, toleranceWh: market.settlement.toleranceWh, tolerancePct: market.settlement.tolerancePct,
    });
    for (const settled of result.contracts) {
      const contract = asContracts.find((c) => c.id === settled.id)!;
      const kind = settled.status === 'disputed' ? 'dispute' : 'settlement';
      const body = { ...settlementRecord(contract, meterReadings, settled), readings: readings.filter((r) => r.reading.peerId === contract.seller || r.reading.peerId === contract.buyer) };
      await ledger.append(kind, `${kind}:${settled.id}`, body as unknown as Parameters<Ledger['append']>[2]);
      log[kind === 'dispute' ? 'warn' : 'info']({ contract: settled.id, status: settled.status, deliveredWh: settled.deliveredWh, paymentMillisen: settled.paymentMillisen }, kind === 'dispute' ? 'contract disputed' : 'contract settled');
    }
  }

  let lastSavedAt = clock.now();
  return {
    session, ledger, history,
    onState(state) {
      latest = state;
      history.observe(state);
      const imp = state.gridImportWh;
      const exp = state.gridExportWh;
      if (imp.quality === 'ok' && exp.quality === 'ok' && imp.value !== undefined && exp.value !== undefined && imp.at !== undefined) {
        meter.add({ at: imp.at, importWh: imp.value, exportWh: exp.value });
      }
      if (state.at - lastSavedAt > 15 * 60_000) {
        lastSavedAt = state.at;
        void saveHistory(join(config.stateDir, HISTORY_FILE), history).catch((error: Error) => log.warn({ err: error.message }, 'history not saved'));
      }
    },
    async stop() {
      stopping = true;
      for (const timer of timers) timer.cancel();
      await Promise.all([...inflight]);
      unsubscribe?.();
      await saveHistory(join(config.stateDir, HISTORY_FILE), history).catch(() => undefined);
      await ledger.close();
    },
  };
}

async function loadHistory(file: string, options: ConstructorParameters<typeof EnergyHistory>[0], log: Logger): Promise<EnergyHistory> {
  try {
    return EnergyHistory.fromJSON(JSON.parse(await readFile(file, 'utf8')), options);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') log.warn({ file, err: (error as Error).message }, 'energy history unreadable; starting from the prior');
    return new EnergyHistory(options);
  }
}

async function saveHistory(file: string, history: EnergyHistory): Promise<void> {
  await writeFileAtomic(file, JSON.stringify(history.toJSON()), { mode: 0o600 });
}
