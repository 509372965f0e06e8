/**
 * Home Assistant MQTT discovery on the agent's own broker: retained discovery configs,
 * a retained JSON state at most every `stateEveryMs`, and a retained availability
 * (`online` at start, `offline` on stop). Local tools read them on the plaintext
 * listener (mesh.localPort); neighbours never receive them (broker ACL).
 *
 * There is no separate last will: the agent publishes in-process on its own broker, so
 * when the process dies the broker dies with it. Home Assistant then loses its
 * connection and marks the entities unavailable; the retained messages are gone with
 * the broker's memory and are published again at the next start.
 */
import type { Clock, TimerHandle } from '../core/clock.js';
import type { Logger } from '../core/log.js';
import { discoveryConfigs, haState, haTopics, PAYLOAD_AVAILABLE, PAYLOAD_NOT_AVAILABLE, type HaState } from './ha-payloads.js';
import type { ReadModel } from './read-model.js';

export const DEFAULT_HA_STATE_EVERY_MS = 10_000;

export interface HaPublisher {
  publish(topic: string, payload: string, options: { qos: 0 | 1; retain: boolean }): Promise<void>;
}

export interface HomeAssistantOptions {
  broker: HaPublisher;
  model: ReadModel;
  peerId: string;
  discoveryPrefix: string;
  clock: Clock;
  log: Logger;
  stateEveryMs?: number;
}

export interface RunningHomeAssistant {
  readonly topics: ReturnType<typeof haTopics>;
  /** Publishes the state now (also done every stateEveryMs). */
  publishState(): Promise<HaState>;
  stop(): Promise<void>;
}

/** The state from the read model: household, today's money, neighbours connected, today's contracts. */
export async function currentHaState(model: ReadModel): Promise<HaState> {
  const day = model.today();
  const [earnings, trades] = await Promise.all([model.earnings(), model.trades()]);
  return haState({
    household: model.household(),
    today: earnings.today,
    peersConnected: model.status().peers.connected,
    contractsToday: trades.filter((t) => t.slot >= day.start && t.slot < day.end).length,
  });
}

export async function startHomeAssistant(options: HomeAssistantOptions): Promise<RunningHomeAssistant> {
  const { broker, model, clock, peerId } = options;
  const log = options.log.child({ mod: 'home-assistant' });
  const every = options.stateEveryMs ?? DEFAULT_HA_STATE_EVERY_MS;
  const topics = haTopics(peerId, options.discoveryPrefix);
  const retained = (topic: string, payload: string) => broker.publish(topic, payload, { qos: 1, retain: true });

  const device = { peerId, name: model.sources.config.household.name, version: model.sources.version, discoveryPrefix: options.discoveryPrefix };
  for (const config of discoveryConfigs(device)) await retained(config.topic, JSON.stringify(config.payload));
  const publishState = async () => {
    const state = await currentHaState(model);
    await retained(topics.state, JSON.stringify(state));
    return state;
  };
  await publishState();
  await retained(topics.availability, PAYLOAD_AVAILABLE);
  log.info({ discovery: `${options.discoveryPrefix}/sensor/${topics.node}/+/config`, state: topics.state, availability: topics.availability }, 'Home Assistant discovery published');

  let timer: TimerHandle | undefined;
  let inflight: Promise<unknown> = Promise.resolve();
  const tick = () => {
    inflight = publishState().catch((error: Error) => log.warn({ err: error.message }, 'Home Assistant state not published'));
    timer = clock.setTimer(tick, every);
  };
  timer = clock.setTimer(tick, every);

  return {
    topics,
    publishState,
    async stop() {
      timer?.cancel();
      timer = undefined;
      await inflight;
      await retained(topics.availability, PAYLOAD_NOT_AVAILABLE).catch((error: Error) => log.warn({ err: error.message }, 'Home Assistant offline not published'));
    },
  };
}
