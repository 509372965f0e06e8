import t from 'tap';
import { discoverSunSpec, NotSunSpecError } from '../../agent/devices/sunspec/discover.js';
import type { RegisterReader } from '../../agent/devices/reader.js';

class LinkError extends Error {
  constructor(readonly kind: string, readonly code?: number) { super(kind); }
}

/**
 * An in-memory register image that answers like a device: unmapped registers
 * raise exception 2, optionally a timeout instead.
 */
function image(entries: Record<number, number[]>, opts: { unmapped?: 'exception' | 'timeout' | 'connection' } = {}): RegisterReader & { reads: string[] } {
  const regs = new Map<number, number>();
  for (const [start, words] of Object.entries(entries)) words.forEach((w, i) => regs.set(Number(start) + i, w));
  const reads: string[] = [];
  return {
    reads,
    async read(_fc, address, count) {
      reads.push(`${address}+${count}`);
      const out: number[] = [];
      for (let a = address; a < address + count; a++) {
        const w = regs.get(a);
        if (w === undefined) throw new LinkError(opts.unmapped ?? 'exception', 2);
        out.push(w);
      }
      return out;
    },
  };
}

const SUNS = [0x5375, 0x6e53];
const model = (id: number, length: number) => [id, length, ...new Array<number>(length).fill(0)];

t.test('walks a spec-conformant chain at 40000 to the end marker', async (t) => {
  const chain = [...SUNS, ...model(1, 66), ...model(103, 50), ...model(160, 48), ...model(124, 24), ...model(802, 62), 0xffff, 0];
  const dev = image({ 40000: chain });
  const res = await discoverSunSpec(dev);
  t.equal(res.baseAddress, 40000);
  t.equal(res.end, 'end-marker');
  t.equal(res.devices.length, 1);
  t.same(res.devices[0]!.models.map((m) => [m.id, m.address, m.length]), [
    [1, 40002, 66], [103, 40070, 50], [160, 40122, 48], [124, 40172, 24], [802, 40198, 62],
  ]);
});

t.test('falls back to base 0 and then 50000', async (t) => {
  const at0 = await discoverSunSpec(image({ 0: [...SUNS, ...model(1, 66), 0xffff, 0] }));
  t.equal(at0.baseAddress, 0);
  const at50000 = await discoverSunSpec(image({ 50000: [...SUNS, ...model(1, 66), 0xffff, 0] }));
  t.equal(at50000.baseAddress, 50000);
});

t.test('trusts the reported length: SolarEdge model 1 of 65 and a meter as second device', async (t) => {
  const chain = [...SUNS, ...model(1, 65), ...model(103, 50), ...model(1, 65), ...model(203, 105), 0xffff, 0];
  const res = await discoverSunSpec(image({ 40000: chain }));
  t.equal(res.devices.length, 2);
  t.same(res.devices[0]!.models.map((m) => [m.id, m.address]), [[1, 40002], [103, 40069]]);
  t.same(res.devices[1]!.models.map((m) => [m.id, m.address]), [[1, 40121], [203, 40188]]);
  t.equal(res.devices[1]!.index, 1);
});

t.test('tolerates a chain without an end marker (exception past the end, SMA style)', async (t) => {
  const dev = image({ 40000: [...SUNS, ...model(1, 66), ...model(103, 50)] });
  const res = await discoverSunSpec(dev);
  t.equal(res.end, 'exception');
  t.same(res.devices[0]!.models.map((m) => m.id), [1, 103]);
});

t.test('reads the id alone when the two-register header read fails at the end', async (t) => {
  // Only the id register of the end marker exists (Kostal/SMA answer 1 register, refuse 2).
  const dev = image({ 40000: [...SUNS, ...model(1, 66), 0xffff] });
  const res = await discoverSunSpec(dev);
  t.equal(res.end, 'end-marker');
  t.same(dev.reads.slice(-2), ['40070+2', '40070+1']);
});

t.test('a zero id ends the chain', async (t) => {
  const res = await discoverSunSpec(image({ 40000: [...SUNS, ...model(1, 66), 0, 0] }));
  t.equal(res.end, 'zero');
  t.equal(res.devices[0]!.models.length, 1);
});

t.test('timeouts at the end are tolerated; the walk keeps what it read', async (t) => {
  const res = await discoverSunSpec(image({ 40000: [...SUNS, ...model(1, 66), ...model(101, 50)] }, { unmapped: 'timeout' }));
  t.equal(res.end, 'timeout');
  t.same(res.devices[0]!.models.map((m) => m.id), [1, 101]);
});

t.test('no marker anywhere is a clear error; a broken link is not hidden', async (t) => {
  await t.rejects(discoverSunSpec(image({ 40000: [1, 2, 3] })), NotSunSpecError);
  await t.rejects(discoverSunSpec(image({}, { unmapped: 'connection' })), new LinkError('connection', 2));
});

t.test('a runaway chain is bounded', async (t) => {
  const many: number[] = [...SUNS];
  for (let i = 0; i < 300; i++) many.push(...model(64001, 2));
  const res = await discoverSunSpec(image({ 40000: many }), { maxModels: 50 });
  t.equal(res.end, 'model-limit');
  t.equal(res.devices[0]!.models.length, 50);
});

t.test('progress events report each probe and model', async (t) => {
  const events: string[] = [];
  await discoverSunSpec(image({ 0: [...SUNS, ...model(1, 66), 0xffff, 0] }), { onProgress: (e) => events.push(e.type === 'probe' ? `probe ${e.baseAddress}` : `model ${e.id}`) });
  t.same(events, ['probe 40000', 'probe 0', 'model 1']);
});
