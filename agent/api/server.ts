/**
 * The local HTTP API (docs/api.md) on node:http: read-only JSON endpoints, the event
 * stream, Prometheus /metrics and the dashboard's files. GET and HEAD only. Every
 * answer carries a restrictive Content-Security-Policy and nosniff; JSON is never
 * cached. With api.token set every request must carry it (auth.ts); without one the
 * server listens on loopback only and answers only requests for a loopback host.
 */
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { Logger } from '../core/log.js';
import { authorize } from './auth.js';
import type { Asset } from './dashboard/index.js';
import type { ApiMetrics } from './metrics.js';
import { DEFAULT_LEDGER_PAGE, MAX_LEDGER_PAGE, type ReadModel } from './read-model.js';
import type { StreamHub } from './stream.js';

/** The API could not listen (port taken, address not on this machine, no permission). */
export class ApiListenError extends Error {
  override readonly name = 'ApiListenError';
  constructor(message: string, readonly reason: string) {
    super(message);
  }
}

export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'Content-Security-Policy': "default-src 'self'; base-uri 'none'; frame-ancestors 'none'; form-action 'none'",
  'X-Content-Type-Options': 'nosniff',
  'X-Frame-Options': 'DENY',
  'Referrer-Policy': 'no-referrer',
};

export interface ApiServerOptions {
  host: string;
  port: number;
  /** Required of every request when set (auth.ts). */
  token: string | undefined;
  model: ReadModel;
  metrics: ApiMetrics;
  hub: StreamHub;
  assets: Readonly<Record<string, Asset>>;
  log: Logger;
}

export interface ApiServer {
  /** Where the dashboard is, e.g. http://127.0.0.1:7464/ (a wildcard address shows as 127.0.0.1). */
  readonly url: string;
  readonly address: { host: string; port: number };
  close(): Promise<void>;
}

class HttpError extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
  }
}

type JsonRoute = (query: URLSearchParams) => unknown;

function jsonRoutes(model: ReadModel): Record<string, JsonRoute> {
  return {
    '/api/status': () => model.status(),
    '/api/household': () => model.household(),
    '/api/peers': () => model.peers(),
    '/api/slots': () => model.slots(),
    '/api/orders': () => model.orders(),
    '/api/contracts': () => model.contracts(),
    '/api/settlements': () => model.settlements(),
    '/api/earnings': () => model.earnings(),
    '/api/events': () => model.recentEvents(),
    '/api/ledger': (query) => model.ledgerPage(integerParam(query, 'from', 1, 1, Number.MAX_SAFE_INTEGER), integerParam(query, 'limit', DEFAULT_LEDGER_PAGE, 1, Number.MAX_SAFE_INTEGER)),
  };
}

/** A query parameter that must be a whole number of at least `min` (larger ones are capped later). */
export function integerParam(query: URLSearchParams, name: string, byDefault: number, min: number, max: number): number {
  const text = query.get(name);
  if (text === null || text === '') return byDefault;
  if (!/^\d{1,16}$/.test(text)) throw new HttpError(400, `${name} must be a whole number, got ${JSON.stringify(text.slice(0, 40))}`);
  const value = Number(text);
  if (value < min || value > max) throw new HttpError(400, `${name} must be at least ${min}`);
  return value;
}

function formatHost(host: string): string {
  return host.includes(':') ? `[${host}]` : host;
}

export async function startApiServer(options: ApiServerOptions): Promise<ApiServer> {
  const { model, metrics, hub, assets, log, token } = options;
  const routes = jsonRoutes(model);
  const sockets = new Set<Socket>();

  const send = (res: ServerResponse, head: boolean, status: number, contentType: string, body: string, extra: Record<string, string> = {}) => {
    res.writeHead(status, { ...SECURITY_HEADERS, 'Content-Type': contentType, 'Content-Length': String(Buffer.byteLength(body)), ...extra });
    res.end(head ? undefined : body);
  };
  const sendJson = (res: ServerResponse, head: boolean, status: number, value: unknown, extra: Record<string, string> = {}) =>
    send(res, head, status, 'application/json; charset=utf-8', JSON.stringify(value), { 'Cache-Control': 'no-store', ...extra });

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const head = req.method === 'HEAD';
    const target = req.url ?? '/';
    const decision = authorize({ url: target, authorization: req.headers.authorization, cookie: req.headers.cookie, host: req.headers.host }, token);
    if (decision.ok === false) return sendJson(res, head, decision.status, { error: decision.error }, decision.status === 401 ? { 'WWW-Authenticate': 'Bearer realm="tonari"' } : {});
    if (decision.ok === 'redirect') {
      res.writeHead(303, { ...SECURITY_HEADERS, Location: decision.location, 'Set-Cookie': decision.setCookie, 'Cache-Control': 'no-store', 'Content-Length': '0' });
      return res.end();
    }
    if (req.method !== 'GET' && !head) return sendJson(res, false, 405, { error: `${req.method ?? 'this method'} is not allowed: the API is read-only (GET, HEAD)` }, { Allow: 'GET, HEAD' });
    let url: URL;
    try {
      url = new URL(target, 'http://api.invalid');
    } catch {
      return sendJson(res, head, 400, { error: 'malformed request target' });
    }
    const path = url.pathname;
    const route = routes[path];
    if (route) return sendJson(res, head, 200, await route(url.searchParams));
    if (path === '/metrics') return send(res, head, 200, metrics.contentType, await metrics.scrape(), { 'Cache-Control': 'no-store' });
    if (path === '/api/stream') {
      if (head) return send(res, true, 200, 'text/event-stream; charset=utf-8', '', { 'Cache-Control': 'no-store' });
      if (!(await hub.add(res, SECURITY_HEADERS))) return sendJson(res, false, 503, { error: 'too many event streams open; try again later' }, { 'Retry-After': '10' });
      return;
    }
    const asset = Object.hasOwn(assets, path) ? assets[path] : undefined;
    if (asset) return send(res, head, 200, asset.contentType, asset.body, { 'Cache-Control': 'no-cache' });
    return sendJson(res, head, 404, { error: `no such endpoint: ${path.slice(0, 200)}` });
  };

  const server = http.createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (error instanceof HttpError) {
        if (!res.headersSent) sendJson(res, req.method === 'HEAD', error.status, { error: error.message });
        return;
      }
      log.error({ err: (error as Error).message, path: (req.url ?? '').split('?')[0] }, 'API request failed');
      if (!res.headersSent) sendJson(res, req.method === 'HEAD', 500, { error: 'the agent could not answer this; see its log' });
      else res.destroy();
    });
  });
  server.headersTimeout = 10_000;
  server.requestTimeout = 30_000;
  server.maxConnections = 64;
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  server.on('clientError', (_error, socket) => { if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n'); else socket.destroy(); });

  await new Promise<void>((resolve, reject) => {
    const onError = (error: NodeJS.ErrnoException) => reject(listenError(error, options.host, options.port));
    server.once('error', onError);
    server.listen(options.port, options.host, () => {
      server.off('error', onError);
      resolve();
    });
  });
  server.on('error', (error) => log.error({ err: error.message }, 'API server error'));
  hub.start();

  const bound = server.address() as AddressInfo;
  const address = { host: bound.address, port: bound.port };
  const shown = address.host === '0.0.0.0' || address.host === '::' ? '127.0.0.1' : address.host;
  let closing: Promise<void> | undefined;
  return {
    url: `http://${formatHost(shown)}:${address.port}/`,
    address,
    close() {
      closing ??= (async () => {
        hub.closeAll();
        const closed = new Promise<void>((resolve) => server.close(() => resolve()));
        server.closeAllConnections();
        for (const socket of sockets) socket.destroy();
        await closed;
      })();
      return closing;
    },
  };
}

function listenError(error: NodeJS.ErrnoException, host: string, port: number): Error {
  const where = `${formatHost(host)}:${port}`;
  switch (error.code) {
    case 'EADDRINUSE':
      return new ApiListenError(`the local API cannot listen on ${where}: the port is in use (another tonari agent, or another program); stop it or set api.listen.port (0 picks a free port)`, 'in_use');
    case 'EADDRNOTAVAIL':
      return new ApiListenError(`the local API cannot listen on ${where}: ${host} is not an address of this machine (see api.listen.host)`, 'no_address');
    case 'EACCES':
      return new ApiListenError(`the local API cannot listen on ${where}: permission denied (ports below 1024 need privileges; see api.listen.port)`, 'denied');
    default:
      return new ApiListenError(`the local API cannot listen on ${where}: ${error.message} (see api.listen)`, error.code ?? 'listen');
  }
}
