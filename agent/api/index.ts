/**
 * The agent's read-only side taps (DESIGN "Side taps"): the read model, the local HTTP
 * API with the dashboard, Prometheus metrics and the event stream, Home Assistant
 * discovery on the embedded broker, and the status `tonari status` reads over the
 * control socket. Started after the neighbours and the market, stopped before them.
 */
import { isLoopbackHost } from '../config/schema.js';
import type { Clock } from '../core/clock.js';
import type { Logger } from '../core/log.js';
import { dashboardAssets } from './dashboard/index.js';
import { currentHaState, startHomeAssistant, type RunningHomeAssistant } from './home-assistant.js';
import { haTopics } from './ha-payloads.js';
import { ApiMetrics } from './metrics.js';
import { ReadModel, type ApiSources } from './read-model.js';
import { ApiListenError, startApiServer, type ApiServer } from './server.js';
import { StreamHub, type StreamOptions } from './stream.js';

export { ApiListenError } from './server.js';
export { ReadModel, type ApiSources } from './read-model.js';
export { currentHaState };

export interface ApiOptions {
  /** Event stream tuning (tests). */
  stream?: StreamOptions;
  /** How often the Home Assistant state is published. Default 10 s. */
  haStateEveryMs?: number;
  /**
   * The clock that paces the event stream and Home Assistant publishing. Default the agent's
   * clock; an accelerated agent (--speed) passes the real clock, so a browser gets updates at
   * a human pace instead of a hundred a second.
   */
  pace?: Clock;
}

export interface RunningApi {
  model: ReadModel;
  /** The dashboard's URL; undefined when api.enabled is false. */
  url: string | undefined;
  server: ApiServer | undefined;
  homeAssistant: RunningHomeAssistant | undefined;
  stop(): Promise<void>;
}

/** Whether Home Assistant discovery runs for this config: on, embedded broker, a local listener to read it on. */
export function homeAssistantActive(config: ApiSources['config']): boolean {
  return config.homeAssistant.enabled && config.mesh.enabled && config.mesh.broker === undefined && config.mesh.localPort !== null;
}

/** The topic roots Home Assistant needs readable on the local listener (the broker's localTopics), or undefined when it is off. */
export function homeAssistantTopics(config: ApiSources['config']): ((peerId: string) => string[]) | undefined {
  if (!homeAssistantActive(config)) return undefined;
  return (peerId) => haTopics(peerId, config.homeAssistant.discoveryPrefix).localRoots;
}

/** The token rule (also a config cross-check): beyond loopback the API needs api.token. */
export function apiTokenProblem(config: ApiSources['config']): string | undefined {
  const { api } = config;
  if (!api.enabled || isLoopbackHost(api.listen.host) || api.token !== undefined) return undefined;
  return `api.listen.host ${api.listen.host} is reachable beyond this machine: set api.token (32 to 256 printable characters) or listen on 127.0.0.1`;
}

/**
 * Starts the watchers of `model`, the HTTP server (api.enabled) and Home Assistant
 * discovery (homeAssistant.enabled, embedded broker). Throws ApiListenError when the
 * server cannot listen, or listens beyond loopback without api.token.
 */
export async function startApi(model: ReadModel, options: ApiOptions & { log: Logger }): Promise<RunningApi> {
  const log = options.log.child({ mod: 'api' });
  const { sources } = model;
  const { config, neighbours } = sources;
  const problem = apiTokenProblem(config);
  if (problem) throw new ApiListenError(problem, 'no_token');

  await model.start();
  const parts: { server?: ApiServer; metrics?: ApiMetrics; ha?: RunningHomeAssistant } = {};
  const stop = async () => {
    await parts.ha?.stop().catch((error: Error) => log.warn({ err: error.message }, 'Home Assistant stop failed'));
    await parts.server?.close();
    parts.metrics?.close();
    model.stop();
  };
  try {
    if (config.api.enabled) {
      parts.metrics = new ApiMetrics(model);
      const hub = new StreamHub(model, options.pace ?? sources.clock, log, options.stream);
      parts.server = await startApiServer({
        host: config.api.listen.host, port: config.api.listen.port, token: config.api.token,
        model, metrics: parts.metrics, hub, assets: dashboardAssets, log,
      });
      log.info({ url: parts.server.url, token: config.api.token !== undefined }, 'dashboard');
    } else {
      log.info('local HTTP API off (api.enabled: false)');
    }
    if (homeAssistantActive(config) && neighbours?.broker) {
      parts.ha = await startHomeAssistant({
        broker: neighbours.broker, model, peerId: neighbours.identity.peerId, discoveryPrefix: config.homeAssistant.discoveryPrefix,
        clock: options.pace ?? sources.clock, log, ...(options.haStateEveryMs !== undefined ? { stateEveryMs: options.haStateEveryMs } : {}),
      });
    } else if (config.homeAssistant.enabled) {
      const why = !config.mesh.enabled ? 'mesh.enabled is false' : config.mesh.broker ? 'external-broker mode' : 'mesh.localPort is none';
      log.info({ why }, 'Home Assistant discovery off: it is published on the embedded broker\'s local listener');
    }
  } catch (error) {
    await stop();
    throw error;
  }
  return { model, url: parts.server?.url, server: parts.server, homeAssistant: parts.ha, stop };
}
