/** What the service watchdog reads from a running agent: poll progress, the broker, the status line. */
import type { RunningAgent } from '../app/agent.js';
import type { BrokerHealth } from './health.js';
import { statusText } from './status.js';
import type { AgentProbe } from './watchdog.js';

export function agentProbe(agent: Pick<RunningAgent, 'poller' | 'neighbours'>): AgentProbe {
  return {
    pollCycles: () => agent.poller.cyclesCompleted(),
    broker: () => brokerHealth(agent.neighbours),
    status: (problems) => statusText({ household: agent.poller.state(), peers: connectedPeers(agent.neighbours), problems }),
  };
}

function brokerHealth(neighbours: RunningAgent['neighbours']): BrokerHealth {
  if (!neighbours) return { kind: 'off' };
  if (!neighbours.broker) return { kind: 'external' };
  return { kind: 'embedded', listening: neighbours.broker.listening() };
}

function connectedPeers(neighbours: RunningAgent['neighbours']): number | undefined {
  if (!neighbours) return undefined;
  return neighbours.mesh.peers().filter((p) => p.state === 'connected').length;
}
