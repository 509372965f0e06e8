/**
 * The narrow surface of bonjour-service + multicast-dns that discovery uses,
 * so the I/O class can be driven by a fake in tests.
 */
import { EventEmitter } from 'node:events';
import { Bonjour } from 'bonjour-service';

/** A multicast-dns instance: emits 'ready', 'error', 'warning', 'query', 'response'. */
export interface MdnsSocket extends EventEmitter {
  query(query: { questions: Array<{ name: string; type: string }> }, callback?: (err?: Error | null) => void): void;
  destroy(callback?: () => void): void;
}

/** A published service: emits 'up' once announced. */
export interface PublishedService extends EventEmitter {
  stop(callback?: () => void): void;
}

export interface PublishConfig {
  name: string;
  type: string;
  protocol: 'tcp';
  port: number;
  host: string;
  txt: Record<string, string>;
}

export interface MdnsStack {
  readonly mdns: MdnsSocket;
  publish(config: PublishConfig): PublishedService;
  unpublishAll(callback: () => void): void;
  destroy(callback: () => void): void;
}

export interface MdnsStackOptions {
  /** UDP port; 5353 except in tests. */
  port?: number;
  /** Logs errors bonjour-service reports through its errorCallback (whose default throws). */
  onError: (err: unknown) => void;
}

/**
 * Opens bonjour-service bound to 0.0.0.0 (security.md F6: never `interface`
 * alone, or the responder never sees multicast queries). Bind failures arrive
 * later as an 'error' event on `mdns`; attach listeners before returning to
 * the event loop.
 */
export function openBonjour(options: MdnsStackOptions): MdnsStack {
  const mdnsOptions: Record<string, unknown> = { bind: '0.0.0.0' };
  if (options.port !== undefined) mdnsOptions.port = options.port;
  const bonjour = new Bonjour(mdnsOptions as ConstructorParameters<typeof Bonjour>[0], (err: unknown) => options.onError(err));
  const server = (bonjour as unknown as { server?: { mdns?: MdnsSocket } }).server;
  if (!server?.mdns) throw new Error('bonjour-service internals changed: no server.mdns');
  const mdns = server.mdns;
  return {
    mdns,
    publish: (config) => bonjour.publish({ ...config, probe: true }) as unknown as PublishedService,
    unpublishAll: (callback) => bonjour.unpublishAll(callback),
    destroy: (callback) => bonjour.destroy(callback),
  };
}
