/**
 * decodeModel against hand-built register images, written the way a device
 * would send them (one line per register or point, offsets from the model start).
 */
import t from 'tap';
import { decodeModel, encodeModel } from '../../agent/devices/sunspec/decode.js';
import { modelDef } from '../../agent/devices/sunspec/registry.js';
import type { ModelDef } from '../../agent/devices/sunspec/types.js';

function def(id: number): ModelDef {
  const model = modelDef(id);
  if (!model) throw new Error(`model ${id} missing`);
  return model;
}

/** ASCII text, two characters per register, high byte first, NUL padded to `registers`. */
function ascii(text: string, registers: number): number[] {
  const words: number[] = [];
  for (let i = 0; i < registers; i++) words.push(((text.charCodeAt(2 * i) || 0) << 8) | (text.charCodeAt(2 * i + 1) || 0));
  return words;
}

const NI16 = 0x8000;
const NIU16 = 0xffff;

// Model 1 as SolarEdge sends it, but with the spec length 66 (Pad present).
const common66 = [
  1, 66, //                   0 ID, 1 L
  ...ascii('SolarEdge ', 16), // 2 Mn (trailing space trimmed)
  ...ascii('SE5000H-RW000BNN4', 16), // 18 Md
  ...ascii('', 8), //           34 Opt (not implemented)
  ...ascii('0004.0017', 8), //  42 Vr
  ...ascii('7E123456', 16), //  50 SN
  1, //                         66 DA
  0x0067, //                    67 Pad (SolarEdge junk)
];

t.test('model 1 with L=66', async (t) => {
  t.equal(common66.length, 68);
  t.same(ascii('So', 1), [0x536f], 'helper: high byte first');
  const decoded = decodeModel(def(1), common66, 0, 66);
  t.strictSame(decoded, {
    id: 1,
    length: 66,
    values: { Mn: 'SolarEdge', Md: 'SE5000H-RW000BNN4', Opt: undefined, Vr: '0004.0017', SN: '7E123456', DA: 1, Pad: undefined },
    groups: [],
  });
});

t.test('model 1 with L=65 (SolarEdge/Fronius): DA present, Pad absent, next model not misread', async (t) => {
  // SunS at 40000, model 1 at 40002, the inverter model header right after 40002+2+65 = 40069.
  const block = [0x5375, 0x6e53, 1, 65, ...common66.slice(2, 67), 103, 50];
  t.equal(block.indexOf(103), 2 + 67, 'DID 103 sits at 40069');
  const decoded = decodeModel(def(1), block, 2, 65);
  t.equal(decoded.length, 65);
  t.equal(decoded.values.SN, '7E123456');
  t.equal(decoded.values.DA, 1);
  t.equal(decoded.values.Pad, undefined);
  // With L=64 the last register of the body is SN's; DA would be the next model's ID and must not be read.
  const shorter = decodeModel(def(1), [1, 64, ...common66.slice(2, 66), 103, 50], 0, 64);
  t.equal(shorter.values.SN, '7E123456');
  t.equal(shorter.values.DA, undefined);
});

t.test('model 103: W=4321 W with W_SF=0, NI DCW gives undefined (not 0)', async (t) => {
  const block = [
    103, 50, //          0 ID, 1 L
    1234, 411, 412, 411, // 2 A, AphA, AphB, AphC
    0xfffe, //           6 A_SF = -2
    NIU16, NIU16, NIU16, // 7 PPVphAB..CA not implemented
    2301, 2299, 2310, // 10 PhVphA..C
    0xffff, //          13 V_SF = -1 (0xFFFF)
    4321, //            14 W
    0, //               15 W_SF
    5002, 0xfffe, //    16 Hz, 17 Hz_SF = -2
    NI16, NI16, //      18 VA, 19 VA_SF
    NI16, NI16, //      20 VAr, 21 VAr_SF
    0xfc18, 0xfffe, //  22 PF = -1000, 23 PF_SF = -2
    0x0001, 0x86a0, //  24 WH = 100000 (acc32)
    0, //               26 WH_SF
    NIU16, NI16, //     27 DCA, 28 DCA_SF
    NIU16, NI16, //     29 DCV, 30 DCV_SF
    NI16, 0, //         31 DCW not implemented, 32 DCW_SF = 0
    412, NI16, NI16, NI16, 0xffff, // 33 TmpCab, TmpSnk, TmpTrns, TmpOt, 37 Tmp_SF = -1
    4, NIU16, //        38 St = MPPT, 39 StVnd
    0, 0, 0, 0, //      40 Evt1, 42 Evt2
    0, 0, 0, 0, 0, 0, 0, 0, // 44–51 EvtVnd1..4
  ];
  t.equal(block.length, 52);
  const { values } = decodeModel(def(103), block, 0, 50);
  t.equal(values.W, 4321);
  t.equal(values.W_SF, 0);
  t.equal(values.DCW, undefined);
  t.equal(values.DCW_SF, 0);
  t.equal(values.A, 12.34);
  t.equal(values.AphB, 4.12);
  t.equal(values.PhVphA, 230.1);
  t.equal(values.V_SF, -1);
  t.equal(values.Hz, 50.02);
  t.equal(values.VA, undefined);
  t.equal(values.PF, -10);
  t.equal(values.WH, 100000);
  t.equal(values.DCA, undefined);
  t.equal(values.TmpCab, 41.2);
  t.equal(values.TmpSnk, undefined);
  t.equal(values.St, 4);
  t.equal(values.Evt1, 0);
});

t.test('model 113 float: NaN gives undefined', async (t) => {
  const nan = [0x7fc0, 0x0000];
  const block = [
    113, 60, //                 0 ID, 1 L
    0x4366, 0x199a, ...nan, ...nan, ...nan, // 2 A = 230.1 (f32), AphA..C NaN
    ...nan, ...nan, ...nan, //  10 PPVphAB..CA
    0x4366, 0x199a, ...nan, ...nan, // 16 PhVphA = 230.1
    0x4587, 0x0c00, //          22 W = 4321.5
    0x4248, 0x147b, //          24 Hz = 50.02 (f32)
    ...nan, ...nan, ...nan, //  26 VA, VAr, PF
    0x47f1, 0x2060, //          32 WH = 123456.75
    ...nan, ...nan, //          34 DCA, DCV
    0xffc0, 0x0000, //          38 DCW = negative NaN
    0x3f00, 0x0000, ...nan, ...nan, ...nan, // 40 TmpCab = 0.5, TmpSnk, TmpTrns, TmpOt
    4, NIU16, //                48 St, StVnd
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, // 50–61 Evt1..EvtVnd4
  ];
  t.equal(block.length, 62);
  const { values } = decodeModel(def(113), block, 0, 60);
  t.equal(values.A, Math.fround(230.1));
  t.equal(values.AphA, undefined);
  t.equal(values.W, 4321.5);
  t.equal(values.Hz, Math.fround(50.02));
  t.equal(values.WH, 123456.75);
  t.equal(values.DCW, undefined);
  t.equal(values.TmpCab, 0.5);
  t.equal(values.St, 4);
});

/** Model 160 fixed block: DCA_SF −2, DCV_SF −1, DCW_SF 0, DCWH_SF 0, Evt 0, N, TmsPer. */
const mpptFixed = (n: number) => [160, 8 + n * 20, 0xfffe, 0xffff, 0, 0, 0, 0, n, 0];

function tracker(id: number, name: string, dca: number, dcv: number, dcw: number, dcwh: number): number[] {
  return [
    id, //                      0 ID
    ...ascii(name, 8), //       1 IDStr
    dca, dcv, dcw, //           9 DCA, 10 DCV, 11 DCW
    dcwh >>> 16, dcwh & 0xffff, // 12 DCWH (acc32)
    0x6553, 0xf100, //          14 Tms
    NI16, //                    16 Tmp not implemented
    4, //                       17 DCSt = MPPT
    0, 0, //                    18 DCEvt
  ];
}

t.test('model 160 with 2 trackers', async (t) => {
  const block = [...mpptFixed(2), ...tracker(1, 'PV1', 512, 3805, 1948, 1_234_567), ...tracker(2, 'PV2', 0, 120, 0, 0)];
  t.equal(block.length, 2 + 48);
  const decoded = decodeModel(def(160), block, 0, 48);
  t.equal(decoded.values.N, 2);
  t.equal(decoded.values.DCA_SF, -2);
  t.equal(decoded.groups.length, 2);
  t.strictSame(decoded.groups[0], {
    ID: 1, IDStr: 'PV1', DCA: 5.12, DCV: 380.5, DCW: 1948, DCWH: 1_234_567, Tms: 0x6553f100, Tmp: undefined, DCSt: 4, DCEvt: 0,
  });
  t.equal(decoded.groups[1]?.DCW, 0, 'a real 0 W stays 0');
  t.equal(decoded.groups[1]?.DCWH, undefined, 'acc32 0 is not implemented');
  t.equal(decoded.groups[1]?.DCV, 12);
});

t.test('model 160 with 4 trackers (Fronius GEN24: 3 = battery charge, 4 = discharge)', async (t) => {
  const block = [
    ...mpptFixed(4),
    ...tracker(1, 'String 1', 612, 4012, 2455, 9_000_000),
    ...tracker(2, 'String 2', 300, 3900, 1170, 4_000_000),
    ...tracker(3, 'StCha 3', 0, 5120, 0, 800_000),
    ...tracker(4, 'StDisCha 4', 850, 5120, 4352, 750_000),
  ];
  const decoded = decodeModel(def(160), block, 0, 88);
  t.equal(decoded.groups.length, 4);
  t.same(decoded.groups.map((g) => g.IDStr), ['String 1', 'String 2', 'StCha 3', 'StDisCha 4']);
  t.same(decoded.groups.map((g) => g.DCW), [2455, 1170, 0, 4352]);
  t.equal(decoded.groups[3]?.DCA, 8.5);

  // N not implemented: the count comes from L.
  const niCount = [...block];
  niCount[8] = NIU16;
  t.equal(decodeModel(def(160), niCount, 0, 88).groups.length, 4);
  // N claims more than L holds: only the repetitions inside L.
  t.equal(decodeModel(def(160), block.slice(0, 2 + 68), 0, 68).groups.length, 3);
  // N smaller than L holds: trust N.
  const twoOfFour = [...block];
  twoOfFour[8] = 2;
  t.equal(decodeModel(def(160), twoOfFour, 0, 88).groups.length, 2);
});

t.test('model 124: ChaState with SF -1, bitfields and enums unscaled', async (t) => {
  const block = [
    124, 24, //             0 ID, 1 L
    5000, //                2 WChaMax
    100, 100, //            3 WChaGra, 4 WDisChaGra
    2, //                   5 StorCtl_Mod = DISCHARGE limit
    NIU16, //               6 VAChaMax
    100, //                 7 MinRsvPct
    523, //                 8 ChaState = 52.3 %
    NIU16, //               9 StorAval
    512, //                10 InBatV
    3, //                  11 ChaSt = DISCHARGING
    0xec78, //             12 OutWRte = -5000 (raw)
    10000, //              13 InWRte
    0, 3600, 0, //         14 WinTms, RvrtTms, RmpTms
    1, //                  17 ChaGriSet = GRID
    0, 0xfffe, //          18 WChaMax_SF = 0, 19 WChaDisChaGra_SF = -2
    NI16, 0xffff, //       20 VAChaMax_SF, 21 MinRsvPct_SF = -1
    0xffff, NI16, //       22 ChaState_SF = -1, 23 StorAval_SF
    0xffff, 0xfffe, //     24 InBatV_SF = -1, 25 InOutWRte_SF = -2
  ];
  t.equal(block.length, 26);
  const { values } = decodeModel(def(124), block, 0, 24);
  t.equal(values.ChaState, 52.3);
  t.equal(values.ChaState_SF, -1);
  t.equal(values.StorCtl_Mod, 2);
  t.equal(values.ChaSt, 3);
  t.equal(values.OutWRte, -50);
  t.equal(values.InWRte, 100);
  t.equal(values.InOutWRte_RvrtTms, 3600);
  t.equal(values.WChaGra, 1);
  t.equal(values.MinRsvPct, 10);
  t.equal(values.InBatV, 51.2);
  t.equal(values.VAChaMax, undefined);
  t.equal(values.StorAval, undefined);
});

t.test('model 802: SoC with SF -1; W without its SF is undefined', async (t) => {
  const block = new Array<number>(64).fill(0);
  block[0] = 802;
  block[1] = 62;
  block[2] = 100; //       AHRtg
  block[3] = 1020; //      WHRtg
  block[11] = 873; //      SoC = 87.3 %
  block[44] = 0xfff6; //   A = -10 (charging)
  block[47] = 0xfb1e; //   W = -1250
  block[56] = 0xffff; //   SoC_SF = -1
  block[53] = 1; //        WHRtg_SF = 1
  block[63] = 0; //        W_SF = 0
  const decoded = decodeModel(def(802), block, 0, 62);
  t.equal(decoded.values.SoC, 87.3);
  t.equal(decoded.values.WHRtg, 10200);
  t.equal(decoded.values.W, -1250);
  t.equal(decoded.values.A, -10);
  block[63] = NI16;
  t.equal(decodeModel(def(802), block, 0, 62).values.W, undefined, 'NI W_SF');
  block[63] = 11;
  t.equal(decodeModel(def(802), block, 0, 62).values.W, undefined, 'SF out of −10..10');
});

t.test('model 203: negative W is export, TotWhImp acc32, acc32 0 is undefined', async (t) => {
  const block = new Array<number>(2 + 105).fill(0);
  block[0] = 203;
  block[1] = 105;
  block[16] = 5001; block[17] = 0xfffe; // Hz = 50.01
  block[18] = 0xf380; //                  W = -3200 (exporting)
  block[19] = 0xfbc0; //                  WphA = -1088
  block[22] = 0; //                       W_SF
  block[38] = 0; block[39] = 0; //        TotWhExp = 0 → not implemented
  block[46] = 0x0012; block[47] = 0xd687; // TotWhImp = 1234567
  block[48] = 0xffff; block[49] = 0xffff; // TotWhImpPhA all ones → undefined
  block[54] = 0xffff; //                  TotWh_SF = -1
  const { values } = decodeModel(def(203), block, 0, 105);
  t.equal(values.W, -3200);
  t.equal(values.WphA, -1088);
  t.equal(values.Hz, 50.01);
  t.equal(values.TotWhImp, 123456.7);
  t.equal(values.TotWhExp, undefined);
  t.equal(values.TotWhImpPhA, undefined);
  t.equal(values.Evt, 0);
});

t.test('model 213 float meter', async (t) => {
  const block = new Array<number>(2 + 124).fill(0);
  block[0] = 213;
  block[1] = 124;
  [block[28], block[29]] = [0xc49a, 0x5000]; // 28 W = -1234.5
  [block[60], block[61]] = [0x47c0, 0xe6a0]; // 60 TotWhExp = 98765.25
  [block[68], block[69]] = [0x47f1, 0x2060]; // 68 TotWhImp = 123456.75
  [block[26], block[27]] = [0x7fc0, 0x0000]; // 26 Hz = NaN
  const { values } = decodeModel(def(213), block, 0, 124);
  t.equal(values.W, -1234.5);
  t.equal(values.TotWhExp, 98765.25);
  t.equal(values.TotWhImp, 123456.75);
  t.equal(values.Hz, undefined);
  t.equal(values.WphA, 0, 'a float 0 is a real 0');
});

t.test('decodeModel reads at an offset in a larger block and checks the ID', async (t) => {
  const image = [0x5375, 0x6e53, ...common66, 0xffff, 0];
  t.equal(decodeModel(def(1), image, 2, 66).values.Md, 'SE5000H-RW000BNN4');
  t.throws(() => decodeModel(def(103), image, 2, 66), /holds model 1, not 103/);
  // L longer than the spec: extra registers are ignored.
  const longer = [1, 70, ...common66.slice(2), 0x1111, 0x2222, 0x3333, 0x4444];
  t.equal(decodeModel(def(1), longer, 0, 70).values.DA, 1);
});

t.test('encodeModel builds the register image', async (t) => {
  const block = encodeModel(def(103), { W: 4321, W_SF: 0, A: 12.34, A_SF: -2, WH: 100000, WH_SF: 0, St: 4 });
  t.equal(block.length, 52);
  t.same(block.slice(0, 3), [103, 50, 1234]);
  t.equal(block[14], 4321);
  t.equal(block[6], 0xfffe);
  t.same(block.slice(24, 26), [0x0001, 0x86a0]);
  t.equal(block[31], 0x8000, 'missing DCW is the int16 sentinel');
  t.equal(block[27], 0xffff, 'missing DCA is the uint16 sentinel');
  t.equal(block[38], 4);

  t.equal(encodeModel(def(124), { OutWRte: -50, InOutWRte_SF: -2 })[12], 0xec78, 'raw = round(value / 10^SF)');
  t.equal(encodeModel(def(124), { OutWRte: 33.337, InOutWRte_SF: -2 })[12], 3334);

  const solarEdgeCommon = encodeModel(def(1), { Mn: 'SolarEdge', DA: 1 }, [], { length: 65 });
  t.equal(solarEdgeCommon.length, 67);
  t.same(solarEdgeCommon.slice(0, 4), [1, 65, 0x536f, 0x6c61]);
  t.equal(solarEdgeCommon[66], 1, 'DA still inside L=65');

  const mppt = encodeModel(def(160), { DCW_SF: 0 }, [{ DCW: 100 }, { DCW: 200 }]);
  t.equal(mppt.length, 2 + 48);
  t.equal(mppt[1], 48);
  t.equal(mppt[8], 2, 'N defaults to the number of repetitions');
  t.equal(mppt[10 + 11], 100);
  t.equal(mppt[30 + 11], 200);
  t.equal(encodeModel(def(160), { N: undefined }, [{}])[8], 0xffff, 'an explicit undefined N is written as NI');

  t.throws(() => encodeModel(def(103), { W: 10 }), /needs a value for its scale factor W_SF/);
  t.throws(() => encodeModel(def(103), { Watts: 10 }), /has no point Watts/);
  t.throws(() => encodeModel(def(103), { W: 40000, W_SF: 0 }), RangeError);
  t.throws(() => encodeModel(def(103), {}, [{}]), /no repeating group/);
});
