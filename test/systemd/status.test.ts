import t from 'tap';
import { buildHouseholdState } from '../../agent/household/state.js';
import { MAX_STATUS_CHARS, oneLine, statusText } from '../../agent/service/status.js';

const NOW = 1_800_000_000_000;
function household(values: Record<string, number>, ok = true) {
  return buildHouseholdState([
    { device: 'inverter', roles: ['pv', 'battery'], at: NOW - 100, ok, values },
    { device: 'meter', roles: ['grid'], at: NOW - 100, ok, values },
  ], NOW, 5_000);
}

t.test('the status line names PV, load, grid direction, SoC and peers', async (t) => {
  const h = household({ pvW: 2100, batteryW: 0, socPct: 45.4, gridW: -1300, gridImportWh: 1, gridExportWh: 2, pvWh: 3 });
  t.equal(statusText({ household: h, peers: 3, problems: [] }), 'PV 2.1 kW, load 0.8 kW, grid export 1.3 kW, SoC 45 %, 3 peers');
  t.equal(statusText({ household: h, peers: 1, problems: [] }).endsWith(', 1 peer'), true);
  t.equal(statusText({ household: h, peers: undefined, problems: [] }).includes('peer'), false, 'no mesh, no peer count');
});

t.test('stale and missing values say so; no reading yet before the first poll', async (t) => {
  const stale = household({ pvW: 500, batteryW: 0, socPct: 80, gridW: 900 }, false);
  t.match(statusText({ household: stale, peers: 0, problems: [] }), /^PV 0\.5 kW \(stale\), .*grid import 0\.9 kW \(stale\)/);
  const missing = household({ gridW: 100 });
  t.match(statusText({ household: missing, peers: 0, problems: [] }), /^PV n\/a, load n\/a, grid import 0\.1 kW, SoC n\/a/);
  t.equal(statusText({ household: undefined, peers: 2, problems: [] }), 'no reading yet, 2 peers');
});

t.test('problems come first', async (t) => {
  t.equal(statusText({ household: undefined, peers: 0, problems: ['poll loop made no progress for 75 s', 'embedded broker is not listening'] }),
    'unhealthy: poll loop made no progress for 75 s; embedded broker is not listening | no reading yet, 0 peers');
});

t.test('one line, bounded', async (t) => {
  t.equal(oneLine('a\nb\r\nc\0d'), 'a b c d');
  const long = oneLine('x'.repeat(1000));
  t.equal(long.length, MAX_STATUS_CHARS);
  t.equal(long.endsWith('…'), true);
});
