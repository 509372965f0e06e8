/**
 * Gives each demo household its own source address on loopback. On a LAN every
 * home connects to its neighbours' brokers from its own IP; on one machine every
 * agent connects from 127.0.0.1, and an embedded broker admits only a few
 * connections per source address (a flood guard), so a community of more than
 * LOOPBACK_MAX_HOUSEHOLDS could not mesh. For such a community the launcher puts
 * one relay between each pair: agent A dials its relay for neighbour B on
 * 127.0.0.1, and the relay connects on to B's broker from A's own address in
 * 127.0.0.0/8. The relay only copies bytes: TLS with the pinned keys still runs
 * end to end between the agents.
 *
 * Linux routes all of 127.0.0.0/8 to the loopback interface. Where a source
 * address cannot be bound (macOS has only 127.0.0.1 by default), the relay
 * connects from 127.0.0.1 as the agent would have.
 */
import net from 'node:net';
import { DEMO_HOST } from './config-text.js';

/** Household `index` connects from 127.0.100.(index + 1). */
export function householdSourceAddress(index: number): string {
  if (!Number.isInteger(index) || index < 0 || index > 253) throw new RangeError(`no loopback source address for household ${index}`);
  return `127.0.100.${index + 1}`;
}

export interface RelayRoute {
  /** The connecting household's index (decides the source address). */
  from: number;
  /** The broker's household index and its port on 127.0.0.1. */
  to: number;
  targetPort: number;
}

export interface RunningRelays {
  /** The port on 127.0.0.1 that household `from` dials to reach household `to`. */
  portFor(from: number, to: number): number;
  /** Connections whose source address could not be bound, so they came from 127.0.0.1 (then no more are tried). */
  readonly unboundSources: number;
  close(): Promise<void>;
}

export async function startLoopbackRelays(routes: readonly RelayRoute[]): Promise<RunningRelays> {
  const servers = new Map<string, net.Server>();
  const sockets = new Set<net.Socket>();
  let unboundSources = 0;
  const key = (from: number, to: number) => `${from}>${to}`;
  const track = (socket: net.Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  };

  let bindable = true;
  const forward = (client: net.Socket, route: RelayRoute) => {
    const localAddress = bindable ? householdSourceAddress(route.from) : undefined;
    const upstream = net.connect({ host: DEMO_HOST, port: route.targetPort, ...(localAddress ? { localAddress } : {}) });
    track(upstream);
    let connected = false;
    let retrying = false;
    const onClientClose = () => upstream.destroy();
    client.once('close', onClientClose);
    upstream.on('error', (error: NodeJS.ErrnoException) => {
      if (!connected && !retrying && localAddress && error.code === 'EADDRNOTAVAIL') {
        retrying = true;
        bindable = false;
        unboundSources++;
        client.off('close', onClientClose);
        forward(client, route);
        return;
      }
      client.destroy();
    });
    upstream.once('connect', () => {
      connected = true;
      client.pipe(upstream);
      upstream.pipe(client);
      client.resume();
    });
    upstream.once('close', () => { if (!retrying) client.destroy(); });
  };

  try {
    for (const route of routes) {
      const server = net.createServer({ pauseOnConnect: true }, (client) => {
        track(client);
        client.on('error', () => client.destroy());
        forward(client, route);
      });
      await new Promise<void>((resolve, reject) => { server.once('error', reject); server.listen(0, DEMO_HOST, resolve); });
      servers.set(key(route.from, route.to), server);
    }
  } catch (error) {
    await closeAll(servers, sockets);
    throw error;
  }

  return {
    portFor(from, to) {
      const server = servers.get(key(from, to));
      if (!server) throw new RangeError(`no relay from household ${from} to ${to}`);
      return (server.address() as net.AddressInfo).port;
    },
    get unboundSources() { return unboundSources; },
    close: () => closeAll(servers, sockets),
  };
}

async function closeAll(servers: Map<string, net.Server>, sockets: Set<net.Socket>): Promise<void> {
  for (const s of sockets) s.destroy();
  await Promise.all([...servers.values()].map((server) => new Promise<void>((resolve) => server.close(() => resolve()))));
}
