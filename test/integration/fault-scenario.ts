/**
 * One fault scenario: poll a device before, during and after a fault on the
 * same link, and check that every poll either throws or returns exactly the
 * simulator's values at that clock time (the physics clock moves a minute
 * before every poll, so a stale or misrouted reply shows as a wrong value).
 */
import type { Test } from 'tap';
import type { PollableDevice } from '../../agent/devices/device.js';
import type { DeviceMeasurement } from '../../agent/household/quantities.js';
import type { HouseholdState } from '../../agent/sim/physics/household.js';
import { delay, MINUTE, type Sim } from './helpers.js';

export interface FaultOutcome {
  /** Polls that threw, with the error kinds, before the first good poll after the fault. */
  failures: string[];
  /** Polls until the device read correctly again (failures + 1), or Infinity. */
  pollsToRecover: number;
}

export interface ScenarioOptions {
  /** Most polls to wait for recovery. */
  maxPolls: number;
  /** Most real time to wait for recovery. */
  maxMs: number;
  /** Real time between polls. */
  gapMs?: number;
  /** Good polls required after recovery. */
  after?: number;
  /** Require a good poll before injecting the fault (default true; false when `inject` ends a fault). */
  checkBefore?: boolean;
}

/** A poll whose values, if it returns, must be exactly `expected(state)`. */
export async function exactPoll(t: Test, s: Sim, device: PollableDevice, expected: (state: HouseholdState) => DeviceMeasurement, what: string): Promise<{ ok: boolean; kind?: string }> {
  await s.clock.advance(MINUTE);
  let got: DeviceMeasurement;
  try {
    got = await device.poll();
  } catch (err) {
    return { ok: false, kind: String((err as { kind?: unknown }).kind ?? (err as Error).name) };
  }
  t.strictSame(got, expected(s.state()), `${what}: the values read are the simulator's at ${new Date(s.clock.now()).toISOString()}`);
  return { ok: true };
}

export async function faultScenario(
  t: Test, s: Sim, device: PollableDevice, expected: (state: HouseholdState) => DeviceMeasurement,
  inject: () => void | Promise<void>, options: ScenarioOptions,
): Promise<FaultOutcome> {
  if (options.checkBefore ?? true) t.ok((await exactPoll(t, s, device, expected, 'before the fault')).ok, 'the device reads before the fault');
  await inject();
  const failures: string[] = [];
  const deadline = Date.now() + options.maxMs;
  let pollsToRecover = Infinity;
  for (let i = 1; i <= options.maxPolls && Date.now() <= deadline; i++) {
    const result = await exactPoll(t, s, device, expected, `poll ${i} after the fault`);
    if (result.ok) { pollsToRecover = i; break; }
    failures.push(result.kind ?? 'unknown');
    await delay(options.gapMs ?? 50);
  }
  t.ok(Number.isFinite(pollsToRecover), `recovered within ${options.maxPolls} polls and ${options.maxMs} ms (failures: ${failures.join(', ')})`);
  for (let i = 0; i < (options.after ?? 2); i++) {
    t.ok((await exactPoll(t, s, device, expected, 'after recovery')).ok, 'keeps reading after recovery');
  }
  return { failures, pollsToRecover };
}
