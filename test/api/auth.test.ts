/**
 * Who may use the API: the pure decision (bearer token, ?token= → cookie and redirect,
 * cookie, the loopback Host guard), then a running agent with api.token set answering
 * over real HTTP, its log never holding the token; an agent that would listen beyond
 * loopback without a token, or on a port that is taken, refuses to start and says why.
 */
import net from 'node:net';
import { Writable } from 'node:stream';
import t from 'tap';
import { authorize, COOKIE_NAME, cookieValue, isLoopbackHostHeader, sameSecret, sessionValue } from '../../agent/api/auth.js';
import { ApiListenError } from '../../agent/api/server.js';
import { startAgent } from '../../agent/app/agent.js';
import { ScaledClock, systemClock } from '../../agent/core/clock.js';
import { createLogger } from '../../agent/core/log.js';
import { freePort } from '../app/helpers.js';
import { apiConfig, NOON_JST, startApiAgent, stateDir } from './helpers.js';

const TOKEN = 'k3Y-0123456789abcdefghijklmnopqrstuvwxyz_ABC';

t.test('authorize (pure)', async (t) => {
  t.strictSame(authorize({ url: '/api/status', host: '127.0.0.1:7464' }, undefined), { ok: true }, 'no token: loopback Host is enough');
  t.match(authorize({ url: '/api/status', host: 'attacker.example' }, undefined), { ok: false, status: 403 }, 'no token: a foreign Host is refused');
  t.match(authorize({ url: '/api/status' }, undefined), { ok: false, status: 403 }, 'no Host at all is refused');
  for (const host of ['localhost', 'localhost:1', '127.0.0.1', '127.1.2.3:80', '[::1]', '[::1]:7464']) t.ok(isLoopbackHostHeader(host), host);
  for (const host of ['127.0.0.1.evil.example', 'localhost.evil', '10.0.0.1', '[::2]', 'evil.example:127', '']) t.notOk(isLoopbackHostHeader(host), host);

  t.strictSame(authorize({ url: '/api/status', authorization: `Bearer ${TOKEN}`, host: 'gateway.lan' }, TOKEN), { ok: true }, 'the right bearer token');
  t.strictSame(authorize({ url: '/api/status', authorization: `bearer ${TOKEN}` }, TOKEN), { ok: true }, 'scheme is case-insensitive');
  t.match(authorize({ url: '/api/status', authorization: `Bearer ${TOKEN}x` }, TOKEN), { ok: false, status: 401, error: 'wrong token' });
  t.match(authorize({ url: '/api/status', authorization: 'Bearer short' }, TOKEN), { ok: false, status: 401 }, 'another length is just wrong');
  t.match(authorize({ url: '/api/status', authorization: `Basic ${TOKEN}` }, TOKEN), { ok: false, status: 401, error: /a token is needed/ });
  t.match(authorize({ url: '/api/status' }, TOKEN), { ok: false, status: 401, error: /Authorization: Bearer TOKEN/ });

  const redirect = authorize({ url: `/api/ledger?from=2&token=${encodeURIComponent(TOKEN)}&limit=3` }, TOKEN);
  t.match(redirect, { ok: 'redirect', location: '/api/ledger?from=2&limit=3' }, 'redirected to the same URL without the token');
  if (redirect.ok !== 'redirect') throw new Error('no redirect');
  t.match(redirect.setCookie, new RegExp(`^${COOKIE_NAME}=[A-Za-z0-9_-]{43}; Path=/; HttpOnly; SameSite=Strict; Max-Age=\\d+$`));
  t.notMatch(redirect.setCookie, TOKEN, 'the cookie does not hold the token itself');
  t.match(authorize({ url: `/?token=${encodeURIComponent(TOKEN)}` }, TOKEN), { ok: 'redirect', location: '/' });
  t.match(authorize({ url: '/?token=nope' }, TOKEN), { ok: false, status: 401 });

  const cookie = `other=1; ${COOKIE_NAME}=${sessionValue(TOKEN)}; more=2`;
  t.equal(cookieValue(cookie, COOKIE_NAME), sessionValue(TOKEN));
  t.strictSame(authorize({ url: '/api/stream', cookie }, TOKEN), { ok: true }, 'the session cookie');
  t.match(authorize({ url: '/api/stream', cookie: `${COOKIE_NAME}=${sessionValue(`${TOKEN}2`)}` }, TOKEN), { ok: false, status: 401, error: /session has expired/ }, 'a cookie of another token');
  t.ok(sameSecret('a', 'a'));
  t.notOk(sameSecret('a', 'ab'));
});

t.test('an agent with api.token: requests need it; the log never shows it', async (t) => {
  const lines: string[] = [];
  const destination = new Writable({ write(chunk: Buffer, _enc, done) { lines.push(chunk.toString()); done(); } });
  const log = createLogger({ level: 'debug', destination });
  const config = apiConfig(stateDir(t, 'tok'), (c) => ({ ...c, api: { ...c.api, token: TOKEN } }));
  const agent = await startApiAgent(t, config, { log });
  const base = agent.api!.url!;
  const get = (path: string, headers: Record<string, string> = {}) => fetch(new URL(path, base), { headers, redirect: 'manual' });

  const none = await get('api/status');
  t.equal(none.status, 401, 'no token: 401');
  t.equal(none.headers.get('www-authenticate'), 'Bearer realm="tonari"');
  t.match(await none.json(), { error: /a token is needed/ });
  t.equal((await get('api/status', { Authorization: 'Bearer wrong-token-wrong-token-wrong-token' })).status, 401, 'wrong token: 401');
  t.equal((await get('metrics')).status, 401, '/metrics too');
  t.equal((await get('')).status, 401, 'the dashboard too');
  const ok = await get('api/status', { Authorization: `Bearer ${TOKEN}` });
  t.equal(ok.status, 200);
  t.equal((await ok.json() as { name: string }).name, 'Sato house');
  t.equal((await get('metrics', { Authorization: `Bearer ${TOKEN}` })).status, 200);

  const login = await get(`?token=${encodeURIComponent(TOKEN)}`);
  t.equal(login.status, 303, 'a browser opening ?token= is redirected');
  t.equal(login.headers.get('location'), '/');
  const setCookie = login.headers.get('set-cookie')!;
  t.match(setCookie, /HttpOnly/);
  t.match(setCookie, /SameSite=Strict/);
  const cookie = setCookie.split(';')[0]!;
  const page = await get('', { Cookie: cookie });
  t.equal(page.status, 200, 'the cookie opens the dashboard');
  t.match(page.headers.get('content-type'), /^text\/html/);
  await page.arrayBuffer();
  const controller = new AbortController();
  const stream = await fetch(new URL('api/stream', base), { headers: { Cookie: cookie }, signal: controller.signal });
  t.equal(stream.status, 200, 'and the event stream (EventSource sends cookies, not headers)');
  controller.abort();
  t.equal((await get('api/status', { Cookie: `${COOKIE_NAME}=forged` })).status, 401, 'a forged cookie: 401');

  await agent.stop();
  const text = lines.join('');
  t.notMatch(text, TOKEN, 'the token is in no log line');
  const dashboard = lines.map((l) => JSON.parse(l) as { msg: string; url?: string; token?: unknown }).find((l) => l.msg === 'dashboard');
  t.match(dashboard, { url: base, token: true }, 'one info line `dashboard` with the url (and only whether a token is set)');
});

t.test('refusing to start: beyond loopback without a token, or a port already taken', async (t) => {
  const options = { clock: systemClock, log: createLogger({ level: 'silent' }), statusEveryMs: 0, simulatorClock: new ScaledClock(NOON_JST, 60), neighbours: {}, api: {} };
  const dir = stateDir(t, 'refuse');
  const open = apiConfig(dir, (c) => ({ ...c, api: { ...c.api, listen: { host: '0.0.0.0', port: 0 } } }));
  const error = await startAgent(open, options).then(() => undefined, (e: unknown) => e);
  t.type(error, ApiListenError);
  t.match((error as Error).message, /api\.listen\.host 0\.0\.0\.0 is reachable beyond this machine: set api\.token/);

  const blocker = net.createServer();
  const port = await freePort();
  await new Promise<void>((resolve) => blocker.listen(port, '127.0.0.1', resolve));
  t.teardown(() => new Promise<void>((resolve) => blocker.close(() => resolve())));
  const busy = apiConfig(dir, (c) => ({ ...c, api: { ...c.api, listen: { host: '127.0.0.1', port } } }));
  const inUse = await startAgent(busy, options).then(() => undefined, (e: unknown) => e);
  t.type(inUse, ApiListenError);
  t.equal((inUse as ApiListenError).reason, 'in_use');
  t.match((inUse as Error).message, new RegExp(`cannot listen on 127\\.0\\.0\\.1:${port}: the port is in use .*api\\.listen\\.port \\(0 picks a free port\\)`));

  // Nothing was left running: the same state directory starts cleanly afterwards.
  const agent = await startApiAgent(t, apiConfig(dir));
  t.ok(agent.api?.url, 'the agent starts on the same state directory');
  await agent.stop();
});
