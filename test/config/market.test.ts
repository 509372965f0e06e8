import t from 'tap';
import { ConfigError } from '../../agent/config/errors.js';
import { configToYaml, defaultConfig, parseConfigText } from '../../agent/config/parse.js';
import { batteryFromConfig, forecastPolicyFromConfig } from '../../agent/market/forecast.js';
import { strategyFromConfig } from '../../agent/market/strategy.js';

function problems(text: string): string[] {
  try {
    parseConfigText(text, 'x.yaml');
  } catch (error) {
    if (error instanceof ConfigError) return error.format().split('\n');
    throw error;
  }
  return ['(no problem reported)'];
}

t.test('market defaults', async (t) => {
  t.same(defaultConfig().market, {
    enabled: true,
    slotMinutes: 30,
    openSlots: 48,
    gateClosure: 300_000,
    reconcile: 20_000,
    timeZone: 'Asia/Tokyo',
    sellFloorSenPerKWh: 1000,
    buyCapSenPerKWh: 2500,
    wheelingFeeSenPerKWh: 0,
    safetyMarginPct: 10,
    battery: { reserveSocPct: 20, maySell: false },
    utility: { retailSenPerKWh: 3000, buybackSenPerKWh: 850 },
    settlement: { toleranceWh: 50, tolerancePct: 5, readingTimeout: 7_200_000 },
  });
  t.same(parseConfigText('market:\n  battery:\n  utility:\n', 'x.yaml').market, defaultConfig().market, 'empty values mean defaults');
});

t.test('market values given replace defaults; durations become milliseconds; --print round-trips', async (t) => {
  const config = parseConfigText(`
household: { zone: kita-2 }
market:
  enabled: false
  slotMinutes: 15
  openSlots: 96
  gateClosure: 1h
  timeZone: Europe/Berlin
  sellFloorSenPerKWh: 1200
  buyCapSenPerKWh: 1200
  wheelingFeeSenPerKWh: 472
  safetyMarginPct: 12.5
  battery: { reserveSocPct: 30, maySell: true, capacityWh: 9800, maxPowerW: 3000 }
  utility: { retailSenPerKWh: 3591, buybackSenPerKWh: 800 }
  settlement: { toleranceWh: 0, tolerancePct: 2.5, readingTimeout: 30m }
`, 'x.yaml');
  t.same(config.market, {
    enabled: false, slotMinutes: 15, openSlots: 96, gateClosure: 3_600_000, reconcile: 20_000, timeZone: 'Europe/Berlin',
    sellFloorSenPerKWh: 1200, buyCapSenPerKWh: 1200, wheelingFeeSenPerKWh: 472, safetyMarginPct: 12.5,
    battery: { reserveSocPct: 30, maySell: true, capacityWh: 9800, maxPowerW: 3000 },
    utility: { retailSenPerKWh: 3591, buybackSenPerKWh: 800 },
    settlement: { toleranceWh: 0, tolerancePct: 2.5, readingTimeout: 1_800_000 },
  });
  const yaml = configToYaml(config);
  t.match(yaml, /gateClosure: 1h\n/);
  t.match(yaml, /readingTimeout: 30m\n/);
  t.same(parseConfigText(yaml, 'printed.yaml'), config);

  t.same(strategyFromConfig(config), {
    slotMinutes: 15, zone: 'kita-2', sellFloorSenPerKWh: 1200, buyCapSenPerKWh: 1200, feeSenPerKWh: 472, minOrderWh: 100,
  });
  t.same(batteryFromConfig(config.market.battery), { capacityWh: 9800, reserveSocPct: 30, maxChargeW: 3000, maxDischargeW: 3000 });
  t.match(forecastPolicyFromConfig(config.market), { safetyMarginPct: 12.5, batteryMaySell: true, pvSurplus: 'charge-first' });
});

t.test('battery capacity and power fall back to the devices; 0 or nothing means no battery', async (t) => {
  const battery = defaultConfig().market.battery;
  t.equal(batteryFromConfig(battery), undefined);
  t.equal(batteryFromConfig(battery, { maxPowerW: 3000 }), undefined);
  t.same(batteryFromConfig(battery, { capacityWh: 10_000 }), { capacityWh: 10_000, reserveSocPct: 20, maxChargeW: undefined, maxDischargeW: undefined });
  t.same(batteryFromConfig({ ...battery, maxPowerW: 2000 }, { capacityWh: 10_000, maxPowerW: 5000 })?.maxChargeW, 2000, 'config wins');
  t.equal(batteryFromConfig({ ...battery, capacityWh: 0 }, { capacityWh: 10_000 }), undefined, 'capacityWh: 0 says there is none');
});

t.test('market errors, each at its file:line:col', async (t) => {
  t.same(problems(`market:
  slotMinutes: 20
  openSlots: 0
  gateClosure: 5
  timeZone: Tokio
  sellFloorSenPerKWh: 10.5
  buyCapSenPerKWh: -1
  safetyMarginPct: 95
  battery:
    reserveSocPct: 101
    maySell: yes
    capacityWh: 5.5
    maxPowerW: 0
  utility: { retailSenPerKWh: "30 yen" }
  settlement: { readingTimeout: 3d, tolerancePct: 120 }
  bidding: aggressive
`), [
    'x.yaml:2:16: market.slotMinutes: expected 15, 30 or 60, got 20',
    'x.yaml:3:14: market.openSlots: expected an integer from 1 to 192, got 0',
    'x.yaml:4:16: market.gateClosure: expected a duration with a unit, such as 500ms or 2s, got 5',
    'x.yaml:5:13: market.timeZone: expected an IANA time zone such as Asia/Tokyo, got "Tokio"',
    'x.yaml:6:23: market.sellFloorSenPerKWh: expected an integer from 0 to 100000, got 10.5',
    'x.yaml:7:20: market.buyCapSenPerKWh: expected an integer from 0 to 100000, got -1',
    'x.yaml:8:20: market.safetyMarginPct: expected a number from 0 to 90, got 95',
    'x.yaml:10:20: market.battery.reserveSocPct: expected a number from 0 to 100, got 101',
    'x.yaml:11:14: market.battery.maySell: expected true or false, got "yes"',
    'x.yaml:12:17: market.battery.capacityWh: expected an integer from 0 to 1000000, got 5.5',
    'x.yaml:13:16: market.battery.maxPowerW: expected an integer from 1 to 1000000, got 0',
    'x.yaml:14:31: market.utility.retailSenPerKWh: expected an integer from 0 to 100000, got "30 yen"',
    'x.yaml:15:33: market.settlement.readingTimeout: expected a duration with a unit, such as 500ms or 2s, got "3d"',
    'x.yaml:15:51: market.settlement.tolerancePct: expected a number from 0 to 100, got 120',
    'x.yaml:16:3: market.bidding: unknown key (expected one of: enabled, slotMinutes, openSlots, gateClosure, reconcile, timeZone, '
    + 'sellFloorSenPerKWh, buyCapSenPerKWh, wheelingFeeSenPerKWh, safetyMarginPct, battery, utility, settlement)',
  ]);
  t.same(problems('market:\n  gateClosure: 7h\n  settlement:\n    readingTimeout: 30s\n'), [
    'x.yaml:2:16: market.gateClosure: expected a duration from 0s to 6h, got "7h"',
    'x.yaml:4:21: market.settlement.readingTimeout: expected a duration from 1m to 48h, got "30s"',
  ]);
  t.same(problems('market:\n  battery:\n    reservSocPct: 10\n'), [
    'x.yaml:3:5: market.battery.reservSocPct: unknown key (did you mean "reserveSocPct"?)',
  ]);
  t.same(problems('market: true\n'), ['x.yaml:1:9: market: expected a mapping (key: value lines), got true']);
});

t.test('the sell floor must not exceed the buy cap: reported where the file sets it', async (t) => {
  t.same(problems('market:\n  sellFloorSenPerKWh: 2600\n'), [
    'x.yaml:2:23: market.sellFloorSenPerKWh: expected at most market.buyCapSenPerKWh (2500), got 2600: '
    + 'the lowest selling price must not exceed the highest buying price',
  ]);
  t.same(problems('market:\n  buyCapSenPerKWh: 900\n'), [
    'x.yaml:2:20: market.buyCapSenPerKWh: expected at least market.sellFloorSenPerKWh (1000), got 900: '
    + 'the highest buying price must not be below the lowest selling price',
  ]);
  t.same(problems('market:\n  buyCapSenPerKWh: 1500\n  sellFloorSenPerKWh: 1501\n'), [
    'x.yaml:3:23: market.sellFloorSenPerKWh: expected at most market.buyCapSenPerKWh (1500), got 1501: '
    + 'the lowest selling price must not exceed the highest buying price',
  ]);
  t.equal(parseConfigText('market: { sellFloorSenPerKWh: 2000, buyCapSenPerKWh: 2000 }\n', 'x.yaml').market.buyCapSenPerKWh, 2000, 'equal is fine');
  // An invalid price is reported once, by the schema, not again by the cross-check.
  t.same(problems('market:\n  sellFloorSenPerKWh: 200000\n'), [
    'x.yaml:2:23: market.sellFloorSenPerKWh: expected an integer from 0 to 100000, got 200000',
  ]);
  // The cross-check still runs when another section is invalid.
  t.same(problems('log: { level: loud }\nmarket: { buyCapSenPerKWh: 0 }\n'), [
    'x.yaml:1:15: log.level: expected fatal, error, warn, info, debug, trace or silent, got "loud"',
    'x.yaml:2:28: market.buyCapSenPerKWh: expected at least market.sellFloorSenPerKWh (1000), got 0: '
    + 'the highest buying price must not be below the lowest selling price',
  ]);
});
