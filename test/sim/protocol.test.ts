import t from 'tap';
import fc from 'fast-check';
import { appendCrc, crc16Modbus, hasValidCrc } from '../../agent/sim/protocol/crc16.js';
import { MbapFrameExtractor, encodeMbap } from '../../agent/sim/protocol/mbap.js';
import {
  ExceptionCode,
  buildExceptionPdu,
  buildReadResponsePdu,
  buildRequestPdu,
  buildWriteResponsePdu,
  parseRequestPdu,
} from '../../agent/sim/protocol/pdu.js';
import { RtuRequestExtractor, encodeRtu } from '../../agent/sim/protocol/rtu.js';

const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex');

t.test('CRC16/MODBUS known vectors', async (t) => {
  t.same(appendCrc(hex('01 03 00 00 00 0A')).subarray(6), hex('C5 CD'));
  t.equal(crc16Modbus(Buffer.from('123456789', 'latin1')), 0x4b37, 'catalogue check value');
  t.same(appendCrc(hex('11 03 00 6B 00 03')).subarray(6), hex('76 87'), 'Modbus spec example');
  t.ok(hasValidCrc(hex('01 03 00 00 00 0A C5 CD')));
  t.notOk(hasValidCrc(hex('01 03 00 00 00 0A CD C5')), 'byte order matters');
});

t.test('parseRequestPdu accepts FC 3/4/6/16 and validates quantities', async (t) => {
  t.same(parseRequestPdu(hex('03 9C 40 00 7D')), { ok: true, request: { kind: 'read', functionCode: 3, address: 40000, count: 125 } });
  t.same(parseRequestPdu(hex('04 00 10 00 01')), { ok: true, request: { kind: 'read', functionCode: 4, address: 16, count: 1 } });
  t.same(parseRequestPdu(hex('06 00 01 FF FF')), { ok: true, request: { kind: 'write-single', functionCode: 6, address: 1, value: 0xffff } });
  t.same(parseRequestPdu(hex('10 00 02 00 02 04 00 0A 01 02')), {
    ok: true,
    request: { kind: 'write-multiple', functionCode: 16, address: 2, values: [10, 258] },
  });
  t.same(parseRequestPdu(hex('03 00 00 00 7E')), { ok: false, functionCode: 3, exception: ExceptionCode.IllegalDataValue }, '126 regs');
  t.same(parseRequestPdu(hex('03 00 00 00 00')), { ok: false, functionCode: 3, exception: 3 }, '0 regs');
  t.same(parseRequestPdu(hex('03 FF FF 00 02')), { ok: false, functionCode: 3, exception: 2 }, 'past 0xFFFF');
  t.same(parseRequestPdu(hex('10 00 00 00 02 03 00 0A 01')), { ok: false, functionCode: 16, exception: 3 }, 'byte count mismatch');
  t.same(parseRequestPdu(hex('10 00 00 00 01 02 00 0A 01')), { ok: false, functionCode: 16, exception: 3 }, 'trailing bytes');
  const q124 = Buffer.concat([hex('10 00 00 00 7C F8'), Buffer.alloc(248)]);
  t.same(parseRequestPdu(q124), { ok: false, functionCode: 16, exception: 3 }, '124 registers in FC16');
  t.same(parseRequestPdu(hex('01 00 00 00 01')), { ok: false, functionCode: 1, exception: ExceptionCode.IllegalFunction });
  t.same(parseRequestPdu(hex('03 00 00')), { ok: false, functionCode: 3, exception: 3 }, 'short PDU');
});

t.test('request PDUs round-trip through build and parse', async (t) => {
  fc.assert(
    fc.property(
      fc.oneof(
        fc.record({ kind: fc.constant('read' as const), functionCode: fc.constantFrom(3 as const, 4 as const), address: fc.integer({ min: 0, max: 65535 - 125 }), count: fc.integer({ min: 1, max: 125 }) }),
        fc.record({ kind: fc.constant('write-single' as const), functionCode: fc.constant(6 as const), address: fc.integer({ min: 0, max: 65535 }), value: fc.integer({ min: 0, max: 65535 }) }),
        fc.record({ kind: fc.constant('write-multiple' as const), functionCode: fc.constant(16 as const), address: fc.integer({ min: 0, max: 65535 - 123 }), values: fc.array(fc.integer({ min: 0, max: 65535 }), { minLength: 1, maxLength: 123 }) }),
      ),
      (request) => {
        t.same(parseRequestPdu(buildRequestPdu(request)), { ok: true, request });
      },
    ),
    { numRuns: 200 },
  );
});

t.test('response PDUs', async (t) => {
  t.same(buildExceptionPdu(3, 2), hex('83 02'));
  t.same(buildExceptionPdu(16, 4), hex('90 04'));
  t.same(buildReadResponsePdu(3, [0x5375, 0x6e53]), hex('03 04 53 75 6E 53'));
  t.same(buildWriteResponsePdu({ kind: 'write-single', functionCode: 6, address: 5, value: 7 }), hex('06 00 05 00 07'));
  t.same(buildWriteResponsePdu({ kind: 'write-multiple', functionCode: 16, address: 5, values: [1, 2, 3] }), hex('10 00 05 00 03'));
});

t.test('MBAP extractor handles split and coalesced frames', async (t) => {
  const a = encodeMbap({ transactionId: 1, protocolId: 0, unitId: 1, pdu: hex('03 00 00 00 02') });
  const b = encodeMbap({ transactionId: 2, protocolId: 0, unitId: 7, pdu: hex('06 00 01 00 05') });
  const stream = Buffer.concat([a, b]);
  fc.assert(
    fc.property(fc.array(fc.integer({ min: 1, max: stream.length - 1 }), { maxLength: 6 }), (cuts) => {
      const points = [...new Set(cuts)].sort((x, y) => x - y);
      const extractor = new MbapFrameExtractor();
      const frames = [];
      let from = 0;
      for (const to of [...points, stream.length]) {
        const result = extractor.push(stream.subarray(from, to));
        t.equal(result.error, undefined);
        frames.push(...result.frames);
        from = to;
      }
      t.same(frames.map((f) => [f.transactionId, f.unitId, f.pdu.toString('hex')]), [[1, 1, '0300000002'], [2, 7, '0600010005']]);
      t.equal(extractor.bufferedBytes(), 0);
    }),
    { numRuns: 100 },
  );
});

t.test('MBAP extractor rejects an insane length or protocol id', async (t) => {
  const extractor = new MbapFrameExtractor();
  const result = extractor.push(hex('00 01 00 00 FF FF 01 03'));
  t.match(result.error, /length/);
  t.match(extractor.push(encodeMbap({ transactionId: 3, protocolId: 0, unitId: 1, pdu: hex('03 00 00 00 01') })).error, /length/, 'stays broken');
  t.match(new MbapFrameExtractor().push(hex('00 01 00 05 00 06 01 03 00 00 00 01')).error, /protocol/);
  t.match(new MbapFrameExtractor().push(hex('00 01 00 00 00 01 01')).error, /length 1/);
});

t.test('RTU extractor frames by function code, with splits and coalescing', async (t) => {
  const r1 = encodeRtu({ unitId: 1, pdu: hex('03 00 00 00 0A') });
  const r2 = encodeRtu({ unitId: 2, pdu: hex('10 00 02 00 02 04 00 0A 01 02') });
  const r3 = encodeRtu({ unitId: 3, pdu: hex('2B 0E 01 00') }); // unsupported FC, found by CRC
  t.same(r1, hex('01 03 00 00 00 0A C5 CD'));
  const stream = Buffer.concat([r1, r2, r3]);
  fc.assert(
    fc.property(fc.array(fc.integer({ min: 1, max: stream.length - 1 }), { maxLength: 8 }), (cuts) => {
      const points = [...new Set(cuts)].sort((x, y) => x - y);
      const extractor = new RtuRequestExtractor();
      const frames = [];
      let from = 0;
      for (const to of [...points, stream.length]) {
        frames.push(...extractor.push(stream.subarray(from, to)).frames);
        from = to;
      }
      t.same(frames.map((f) => [f.unitId, f.pdu.toString('hex')]), [[1, '030000000a'], [2, '100002000204000a0102'], [3, '2b0e0100']]);
    }),
    { numRuns: 100 },
  );
});

t.test('RTU extractor discards a bad-CRC frame silently and recovers', async (t) => {
  const bad = hex('01 03 00 00 00 0A CD C5');
  const good = encodeRtu({ unitId: 1, pdu: hex('04 00 01 00 01') });
  const extractor = new RtuRequestExtractor();
  const result = extractor.push(Buffer.concat([bad, good]));
  t.equal(result.discardedBytes, 8);
  t.same(result.frames.map((f) => f.pdu.toString('hex')), ['0400010001']);
  extractor.push(hex('01 03 00'));
  t.equal(extractor.reset(), 3, 'reset drops a partial frame');
  t.equal(extractor.push(good).frames.length, 1);
});
