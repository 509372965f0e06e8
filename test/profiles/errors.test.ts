import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { ConfigError } from '../../agent/config/errors.js';
import { ProfileError, loadProfileFile, parseProfile, parseProfileText } from '../../agent/devices/profiles/index.js';

const dir = join(dirname(fileURLToPath(import.meta.url)), 'fixtures', 'broken');

/** Broken profile files and the exact lines an installer sees for each. */
const cases: Record<string, string[]> = {
  'unknown-key.yaml': [
    '5:48: points.pvPower.scal: unknown key (did you mean "scale"?)',
  ],
  'bad-type.yaml': [
    '7:11: points.pvPower.type: expected one of u16, s16, u32, s32, u64, s64, f32, f64, got "int32"',
  ],
  'overlap.yaml': [
    '6:25: points.gridPower.address: registers 101..102 overlap point pvPower (fc 3, registers 100..101)',
    '7:25: points.pvAlias.address: registers 100..101 overlap point gridPower (fc 3, registers 101..102)',
  ],
  'address-out-of-range.yaml': [
    '5:23: points.pvPower.address: expected an integer from 0 to 65535, got 70000',
  ],
  'runs-past-end.yaml': [
    '6:26: points.energy.address: u32 at 65535 needs 2 registers and runs past 65535',
  ],
  'wrong-unit.yaml': [
    '5:53: points.gridPower.unit: the well-known point gridPower measures power: unit must be W or kW, got "kWh"',
    '6:21: points.gridImportEnergy: the well-known point gridImportEnergy measures energy and needs a unit: Wh, kWh or MWh',
  ],
  'bad-yaml.yaml': [
    '6:3: YAML: Flow map in block collection must be sufficiently indented and end with a }',
  ],
  'bad-word-order.yaml': [
    '4:12: wordOrder: expected big or little, got "swapped"',
    '6:59: points.pvPower.wordOrder: expected big or little, got "lsw"',
  ],
  'bad-point-name.yaml': [
    '5:3: points.pv-power: expected a point name of letters, digits and _ (not starting with a digit), got "pv-power"',
  ],
  'missing-keys.yaml': [
    '1:1: missing required key "source"',
    '1:7: name: expected a profile name of lowercase letters, digits and dashes, e.g. huawei-sun2000, got "Missing Keys"',
    '4:12: points.pvPower: missing required key "type"',
  ],
  'bad-sentinel-and-write.yaml': [
    '4:22: defaults.timeout: expected a duration with a unit, such as 500ms or 2s, got 5',
    '6:70: points.batterySoc.sentinel[1]: sentinel 65536 does not fit in u16',
    '7:64: points.limit.access: input registers (fc 4) cannot be written; writable points need fc 3',
    '8:54: points.setpoint.min: min only applies to writable points (access: rw)',
  ],
  'duplicate-point.yaml': [
    '6:3: duplicate key "pvPower"',
  ],
};

for (const [name, lines] of Object.entries(cases)) {
  t.test(`broken profile ${name}`, async (t) => {
    const file = join(dir, name);
    const error = await loadProfileFile(file).then(() => undefined, (e: unknown) => e);
    t.ok(error instanceof ConfigError, 'fails with a ConfigError');
    t.same((error as ConfigError).message.split('\n'), lines.map((line) => `${file}:${line}`));
  });
}

t.test('an unreadable profile file is reported with its path', async (t) => {
  const file = join(dir, 'no-such-profile.yaml');
  await t.rejects(loadProfileFile(file), { message: `${file}: cannot read: no such file` });
});

t.test('an empty file and a non-mapping are rejected at 1:1', async (t) => {
  t.throws(() => parseProfileText('', 'p.yaml'), { message: 'p.yaml:1:1: expected a mapping (key: value lines), got nothing' });
  t.throws(() => parseProfileText('just text\n', 'p.yaml'), { message: 'p.yaml:1:1: expected a mapping (key: value lines), got "just text"' });
});

t.test('parseProfile validates plain values without positions', async (t) => {
  const value = {
    name: 'plain', title: 't', source: 's',
    points: { batterySoc: { address: 10, type: 'u16', unit: 'V' }, extra: { address: 11, type: 'f32', scale: 0 } },
  };
  const error = t.throws(() => parseProfile(value)) as unknown;
  t.ok(error instanceof ProfileError);
  t.same((error as ProfileError).message.split('\n'), [
    'points.extra.scale: expected a non-zero number, got 0',
    'points.batterySoc.unit: the well-known point batterySoc measures percent: unit must be %, got "V"',
  ]);
  t.throws(() => parseProfile({ name: 'empty', title: 't', source: 's', points: {} }), { message: 'points: a profile needs at least one point' });
});

t.test('identical register ranges may be read as two points; different fc never overlap', async (t) => {
  const profile = parseProfile({
    name: 'aliases', title: 't', source: 's',
    points: {
      statusWord: { address: 100, type: 'u32' },
      statusSigned: { address: 100, type: 's32' },
      inputTwin: { address: 101, fc: 4, type: 'u32' },
    },
  });
  t.equal(profile.points.length, 3);
});
