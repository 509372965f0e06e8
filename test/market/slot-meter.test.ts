import t from 'tap';
import { SlotMeter } from '../../agent/market/slot-meter.js';

const SLOT = 30 * 60_000;
const between = (from: number, to: number) => {
  const out: number[] = [];
  for (let s = Math.floor(from / SLOT) * SLOT + SLOT; s <= to; s += SLOT) out.push(s);
  return out;
};

t.test('energy per slot from register values interpolated at the boundaries', async (t) => {
  const meter = new SlotMeter(between, { maxGapMs: 5 * 60_000 });
  // 1 Wh imported per minute, 2 Wh exported per minute, sampled every 4 minutes from 10 minutes before slot 0.
  for (let at = -10 * 60_000; at <= 70 * 60_000; at += 4 * 60_000) meter.add({ at, importWh: 1000 + at / 60_000, exportWh: 5000 + (2 * at) / 60_000 });
  t.same(meter.energy(0, SLOT), { importedWh: 30, exportedWh: 60 });
  t.same(meter.energy(SLOT, 2 * SLOT), { importedWh: 30, exportedWh: 60 });
  t.equal(meter.energy(2 * SLOT, 3 * SLOT), undefined, 'the end boundary is not reached yet');
});

t.test('a gap longer than allowed, or a register that goes back, leaves the boundary unknown', async (t) => {
  const meter = new SlotMeter(between, { maxGapMs: 5 * 60_000 });
  meter.add({ at: -60_000, importWh: 10, exportWh: 0 });
  meter.add({ at: 9 * 60_000, importWh: 20, exportWh: 0 }); // 10-minute gap over the boundary
  meter.add({ at: SLOT - 60_000, importWh: 40, exportWh: 0 });
  meter.add({ at: SLOT + 60_000, importWh: 30, exportWh: 0 }); // went back: meter replaced
  t.equal(meter.energy(0, SLOT), undefined);
});
