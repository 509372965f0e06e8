/**
 * KPIs of a community run (market.md c.5; gsy-e formulas, market.md b.1), as a table for
 * people and as one JSON object. Everything except `timing` is a function of the options
 * and the seed: the same seed gives the same report.
 *
 * - tradedWh: Σ energy delivered on contracts (settleSlot: min of the seller's and the
 *   buyer's pro-rata meter shares); contractedWh: Σ contracted.
 * - selfSufficiency = (Σ load − Σ utility import after P2P netting) / Σ load;
 *   baselineSelfSufficiency = (Σ load − Σ grid import) / Σ load (same households,
 *   same batteries, no market).
 * - savings = Σ baseline cost − Σ cost (settlement: the utility-only bill at retail and
 *   buyback vs utility flows + P2P payments); savingsPercent = |savings / baseline| × 100.
 * - peakImportRatio = max over slots of Σ utility import / max over slots of Σ grid import.
 * - welfareRatio = Σ realised / Σ optimum, where per slot the optimum clears the union of
 *   every household's latest order and realised sums (buyer value − seller cost) × Wh
 *   over the contracts recorded; 1 when the optimum is 0.
 * - messagesPerContract = bus messages sent (a publish counts once) / contracts;
 *   deliveriesPerContract counts every copy delivered.
 * - timing.clearingMs: mean and max of the central clearSlot per slot (not deterministic).
 */
import type { CommunityRun } from './runner.js';

export interface CommunityReport {
  households: number;
  days: number;
  seed: number;
  loss: number;
  slots: number;
  contracts: number;
  oneSidedContracts: number;
  mismatches: number;
  ordersPlaced: number;
  tradedWh: number;
  contractedWh: number;
  loadWh: number;
  pvWh: number;
  exportedWh: number;
  importedWh: number;
  utilityImportWh: number;
  selfSufficiency: number;
  baselineSelfSufficiency: number;
  costYen: number;
  baselineCostYen: number;
  savingsYen: number;
  savingsPercent: number;
  peakImportWh: number;
  baselinePeakImportWh: number;
  peakImportRatio: number;
  welfareOptimumYen: number;
  welfareRealisedYen: number;
  welfareRatio: number;
  messages: number;
  deliveries: number;
  lost: number;
  messagesPerContract: number;
  deliveriesPerContract: number;
  perHousehold: { index: number; peerId: string; pvPeakW: number; batteryWh: number; loadWh: number; boughtWh: number; soldWh: number;
    baselineCostYen: number; costYen: number; savingsYen: number; savingsPercent: number }[];
  timing: { wallMs: number; clearingMsMean: number; clearingMsMax: number };
}

const yen = (millisen: number) => Math.round(millisen / 1000) / 100;
const ratio = (a: number, b: number, whenZero = 1) => (b === 0 ? whenZero : round(a / b, 6));
const round = (x: number, digits: number) => Number(x.toFixed(digits));
const sum = <T>(xs: readonly T[], f: (x: T) => number) => xs.reduce((s, x) => s + f(x), 0);

export function communityReport(run: CommunityRun): CommunityReport {
  const loadWh = sum(run.slots, (s) => s.loadWh);
  const importedWh = sum(run.slots, (s) => s.importedWh);
  const utilityImportWh = sum(run.slots, (s) => s.utilityImportWh);
  const cost = sum(run.perHousehold, (h) => h.costMillisen);
  const baseline = sum(run.perHousehold, (h) => h.baselineCostMillisen);
  const optimum = sum(run.slots, (s) => s.optimumMillisen);
  const realised = sum(run.slots, (s) => s.realisedMillisen);
  const peak = Math.max(0, ...run.slots.map((s) => s.utilityImportWh));
  const baselinePeak = Math.max(0, ...run.slots.map((s) => s.importedWh));
  const clearing = run.slots.map((s) => s.clearingMs);
  return {
    households: run.options.households,
    days: run.options.days,
    seed: run.options.seed,
    loss: run.options.loss,
    slots: run.slots.length,
    contracts: run.contracts,
    oneSidedContracts: run.oneSidedContracts,
    mismatches: run.mismatches,
    ordersPlaced: run.ordersPlaced,
    tradedWh: sum(run.slots, (s) => s.tradedWh),
    contractedWh: sum(run.slots, (s) => s.contractedWh),
    loadWh,
    pvWh: sum(run.perHousehold, (h) => h.pvWh),
    exportedWh: sum(run.slots, (s) => s.exportedWh),
    importedWh,
    utilityImportWh,
    selfSufficiency: ratio(loadWh - utilityImportWh, loadWh, 0),
    baselineSelfSufficiency: ratio(loadWh - importedWh, loadWh, 0),
    costYen: yen(cost),
    baselineCostYen: yen(baseline),
    savingsYen: yen(baseline - cost),
    savingsPercent: baseline === 0 ? 0 : round(Math.abs((baseline - cost) / baseline) * 100 * Math.sign(baseline - cost), 3),
    peakImportWh: peak,
    baselinePeakImportWh: baselinePeak,
    peakImportRatio: ratio(peak, baselinePeak),
    welfareOptimumYen: yen(optimum),
    welfareRealisedYen: yen(realised),
    welfareRatio: ratio(realised, optimum),
    messages: run.bus.sent,
    deliveries: run.bus.delivered,
    lost: run.bus.lost,
    messagesPerContract: run.contracts === 0 ? 0 : round(run.bus.sent / run.contracts, 3),
    deliveriesPerContract: run.contracts === 0 ? 0 : round(run.bus.delivered / run.contracts, 3),
    perHousehold: run.households.map((h, i) => {
      const p = run.perHousehold[i]!;
      const saved = p.baselineCostMillisen - p.costMillisen;
      return {
        index: h.index, peerId: h.peerId, pvPeakW: h.pvPeakW, batteryWh: h.batteryWh, loadWh: p.loadWh, boughtWh: p.p2pBoughtWh, soldWh: p.p2pSoldWh,
        baselineCostYen: yen(p.baselineCostMillisen), costYen: yen(p.costMillisen), savingsYen: yen(saved),
        savingsPercent: p.baselineCostMillisen === 0 ? 0 : round((saved / Math.abs(p.baselineCostMillisen)) * 100, 3),
      };
    }),
    timing: {
      wallMs: Math.round(run.wallMs),
      clearingMsMean: clearing.length ? round(sum(clearing, (x) => x) / clearing.length, 4) : 0,
      clearingMsMax: round(Math.max(0, ...clearing), 4),
    },
  };
}

/** The report without `timing`: what the same seed must reproduce byte for byte. */
export function deterministicPart(report: CommunityReport): Omit<CommunityReport, 'timing'> {
  const { timing: _timing, ...rest } = report;
  return rest;
}

const pct = (x: number) => `${(x * 100).toFixed(1)} %`;
const kwh = (wh: number) => `${(wh / 1000).toFixed(1)} kWh`;

export function formatReport(r: CommunityReport): string {
  const lines = [
    `community of ${r.households} households, ${r.days} day(s), seed ${r.seed}, loss ${r.loss}`,
    '',
    `  energy traded locally       ${kwh(r.tradedWh)} delivered (${kwh(r.contractedWh)} contracted) in ${r.contracts} contracts`,
    `  self-sufficiency            ${pct(r.selfSufficiency)} (utility only: ${pct(r.baselineSelfSufficiency)})`,
    `  community savings           ${r.savingsYen.toFixed(2)} 円 = ${r.savingsPercent.toFixed(1)} % of the utility-only bill of ${r.baselineCostYen.toFixed(2)} 円`,
    `  peak grid import            ${kwh(r.peakImportWh)} per slot vs ${kwh(r.baselinePeakImportWh)} (${(r.peakImportRatio * 100).toFixed(1)} % of baseline)`,
    `  welfare vs central optimum  ${(r.welfareRatio * 100).toFixed(2)} % (${r.welfareRealisedYen.toFixed(2)} of ${r.welfareOptimumYen.toFixed(2)} 円)`,
    `  messages per contract       ${r.messagesPerContract} sent, ${r.deliveriesPerContract} delivered (${r.messages} sent, ${r.lost} lost)`,
    `  clearing time per slot      mean ${r.timing.clearingMsMean.toFixed(3)} ms, max ${r.timing.clearingMsMax.toFixed(3)} ms; wall ${(r.timing.wallMs / 1000).toFixed(1)} s`,
  ];
  if (r.oneSidedContracts > 0 || r.mismatches > 0) lines.push(`  protocol                    ${r.oneSidedContracts} contracts recorded by one side only, ${r.mismatches} fill mismatches`);
  lines.push('');
  const rows = r.perHousehold;
  const show = rows.length <= 20 ? rows : [...rows].sort((a, b) => b.savingsYen - a.savingsYen || a.index - b.index).filter((_, i, all) => i < 5 || i >= all.length - 5);
  if (rows.length > 20) lines.push('  the five households that saved most and least:');
  lines.push('  house   PV kW  batt kWh  load kWh  bought kWh  sold kWh  baseline 円   cost 円  saved 円  saved %');
  for (const h of show) {
    lines.push(`  ${String(h.index).padStart(5)}  ${(h.pvPeakW / 1000).toFixed(1).padStart(6)}  ${(h.batteryWh / 1000).toFixed(1).padStart(8)}  ${(h.loadWh / 1000).toFixed(1).padStart(8)}  ${(h.boughtWh / 1000).toFixed(1).padStart(10)}  ${(h.soldWh / 1000).toFixed(1).padStart(8)}  ${h.baselineCostYen.toFixed(0).padStart(11)}  ${h.costYen.toFixed(0).padStart(8)}  ${h.savingsYen.toFixed(0).padStart(8)}  ${h.savingsPercent.toFixed(1).padStart(7)}`);
  }
  return lines.join('\n');
}
