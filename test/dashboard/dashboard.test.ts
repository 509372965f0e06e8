/**
 * The dashboard in a real browser against real agents: two agents (a household
 * with solar and battery, and a neighbour without) started as `tonari run --speed`
 * starts them, on one accelerated clock, their simulated households read over
 * Modbus, meshed over their brokers on 127.0.0.1, each serving the local API.
 * Headless Chromium loads the first one's dashboard (with its API token, as a
 * household would open it from the LAN) under the API's CSP and checks
 * what a household looks at: live power values that move, the neighbour, today's
 * slots with its own orders, earnings, events. Screenshots (desktop and phone,
 * light and dark) go to dist/test-artifacts/ for people to look at.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import t, { type Test } from 'tap';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { startAgent, type RunningAgent } from '../../agent/app/agent.js';
import { defaultConfig, type Config } from '../../agent/config/index.js';
import { ScaledClock, systemClock } from '../../agent/core/clock.js';
import { silentLogger } from '../../agent/core/log.js';
import { makeNodes, removeNodes, type Node } from '../app/helpers.js';
import { ROOT } from '../helpers/build.js';
import { requireTool, toolAvailable } from '../helpers/tools.js';

const CHROMIUM = '/usr/bin/chromium';
const ARTIFACTS = path.join(ROOT, 'dist/test-artifacts');
/** A 30-minute slot lasts 15 s: a few seconds show the household moving and the market at work. */
const SPEED = 120;
/** Late morning: the 11:30 slot is being delivered, and the 12:00 slot's gate closes 7.5 s (real) in. */
const SIM_START = Date.parse('2026-06-21T11:30:00+09:00');
/** The home agent's API wants a token: the browser opens /?token= once and lives on the cookie. */
const TOKEN = 'dashboard-test-token-0123456789abcdefghij';
/** Installer-given names are data too: this one must show as text, never become markup. */
const HOSTILE_NAME = '<img src=x onerror=alert(1)>';

const POWER_IDS = ['pv-power', 'load-power', 'grid-power', 'battery-power'] as const;
const KW = /^\d+(\.\d+)?kW$/;

async function until<T>(what: string, probe: () => Promise<T | undefined | false>, ms: number): Promise<T> {
  const deadline = Date.now() + ms;
  let last: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined && value !== false) return value;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

const text = async (page: Page, testid: string) => ((await page.getByTestId(testid).first().textContent()) ?? '').trim();

/** `me`'s configuration: everything on 127.0.0.1, the other one its static, trusted neighbour (named `otherName`). */
function agentConfig(me: Node, other: Node, options: { name: string; otherName: string; pvWp: number; batteryWh: number; token?: string }): Config {
  const base = defaultConfig();
  return {
    ...base,
    stateDir: me.stateDir,
    household: { ...base.household, name: options.name, timezone: 'Asia/Tokyo', zone: 'default' },
    poll: { interval: 30_000, staleAfter: 600_000 }, // stale after 5 s of real time: a loaded CI machine is not a failing device
    simulator: { ...base.simulator, seed: 7, pvWp: options.pvWp, batteryWh: options.batteryWh },
    mesh: {
      ...base.mesh,
      listen: { host: '127.0.0.1', port: me.port }, localPort: null, discovery: false,
      peers: [{ host: '127.0.0.1', port: other.port, fingerprint: other.identity.fingerprint }],
    },
    trust: { peers: [{ fingerprint: other.identity.fingerprint, name: options.otherName }] },
    api: { ...base.api, listen: { host: '127.0.0.1', port: 0 }, ...(options.token ? { token: options.token } : {}) },
  };
}

/** An agent as `tonari run --speed` starts it: the whole agent on the accelerated clock, Modbus I/O in real time. */
function start(config: Config, clock: ScaledClock): Promise<RunningAgent> {
  return startAgent(config, {
    clock, log: silentLogger(), statusEveryMs: 0, simulatorClock: clock, ioClock: systemClock,
    neighbours: { linkOptions: { keepaliveSeconds: 1, backoff: { initialMs: 100, maxMs: 500 } } },
    // With an ioClock the stream is paced in real time: look for changes every 250 ms, refresh every 5 s.
    api: { stream: { tickMs: 250, refreshMs: 5000, heartbeatMs: 5000 } },
  });
}

/** What went wrong in the page: console errors, uncaught exceptions, failed or refused requests. */
function watch(page: Page): string[] {
  const problems: string[] = [];
  page.on('console', (m) => { if (m.type() === 'error') problems.push(`console: ${m.text()}`); });
  page.on('pageerror', (e) => problems.push(`exception: ${e.message}`));
  page.on('requestfailed', (r) => problems.push(`request failed: ${r.url()} ${r.failure()?.errorText ?? ''}`));
  page.on('response', (r) => { if (r.status() >= 400) problems.push(`HTTP ${r.status()}: ${r.url()}`); });
  return problems;
}

async function screenshot(t: Test, page: Page, file: string): Promise<void> {
  const target = path.join(ARTIFACTS, file);
  await page.screenshot({ path: target, fullPage: true });
  t.ok(existsSync(target) && statSync(target).size > 20_000, `${path.relative(ROOT, target)} written (${existsSync(target) ? statSync(target).size : 0} bytes)`);
}

t.test('the dashboard shows a live household, its neighbour and its market', async (t) => {
  if (!requireTool(t, toolAvailable(CHROMIUM, ['--version']), 'chromium (headless browser for the dashboard test)', 'chromium')) return;
  mkdirSync(ARTIFACTS, { recursive: true });

  const nodes = await makeNodes(['tanaka', 'suzuki']);
  const [me, next] = nodes as [Node, Node];
  const agents: RunningAgent[] = [];
  const profile = mkdtempSync(path.join(tmpdir(), 'tn-chromium-'));
  let context: BrowserContext | undefined;
  t.teardown(async () => {
    await context?.close().catch(() => {});
    for (const agent of agents) await agent.stop();
    removeNodes(nodes);
    rmSync(profile, { recursive: true, force: true });
  });
  const clock = new ScaledClock(SIM_START, SPEED);
  agents.push(await start(agentConfig(me, next, { name: 'Tanaka house', otherName: 'Suzuki', pvWp: 6000, batteryWh: 10_000, token: TOKEN }), clock));
  agents.push(await start(agentConfig(next, me, { name: 'Suzuki house', otherName: HOSTILE_NAME, pvWp: 0, batteryWh: 0 }), clock));
  const [home, neighbour] = agents as [RunningAgent, RunningAgent];
  const homeUrl = home.api?.url;
  const neighbourUrl = neighbour.api?.url;
  t.ok(homeUrl && neighbourUrl, `the agents serve their dashboards (${homeUrl}, ${neighbourUrl})`);
  if (!homeUrl || !neighbourUrl) return;

  context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    viewport: { width: 1280, height: 900 },
    colorScheme: 'light',
    timezoneId: 'Asia/Tokyo', // the household's: the day's slots run from 00:00 to 24:00
    locale: 'en-GB',
  });
  const page = context.pages()[0] ?? await context.newPage();
  const problems = watch(page);

  t.equal((await fetch(homeUrl)).status, 401, 'the home agent\'s dashboard needs its token');
  await page.goto(`${homeUrl}?token=${TOKEN}`);
  t.equal(page.url(), homeUrl, 'opened with ?token=, the browser is sent on to / with a cookie (no token in the address bar)');
  await until('the live stream', async () => (await page.getByTestId('connection').getAttribute('data-state')) === 'live', 15_000);
  await until('the status', async () => (await page.title()) === 'Tanaka house · tonari', 10_000);
  t.pass('the title names the household');
  t.equal(await text(page, 'connection'), 'live', 'the connection indicator says live');
  t.equal(await text(page, 'household-name'), 'Tanaka house', 'the header names the household');
  t.match(await text(page, 'peer-id'), new RegExp(`^peer ${me.identity.peerId.slice(0, 10)}`), 'and shows the short peer id');
  t.match(await text(page, 'health-devices'), /devices\s*ok/, 'devices healthy');
  t.match(await text(page, 'health-broker'), /broker\s*ok/, 'broker healthy');
  t.match(await text(page, 'health-market'), /market\s*ok/, 'market running');

  // Power: numbers in kW, then different numbers a few seconds later (the stream, not a reload).
  const power = async () => Promise.all(POWER_IDS.map((id) => text(page, id)));
  const first = await until('power values', async () => {
    const values = await power();
    return values.every((v) => KW.test(v)) ? values : undefined;
  }, 15_000);
  t.pass(`power values shown: ${first.join(', ')}`);
  t.match(await text(page, 'soc'), /^\d+ %$/, 'battery state of charge in %');
  t.equal((await text(page, 'pv-power')) !== '0.00kW', true, 'late-morning sun: PV is not zero');
  const second = await until('the power values to change', async () => {
    const values = await power();
    return values[0] !== first[0] || values[1] !== first[1] ? values : undefined;
  }, 10_000);
  t.not(second.slice(0, 2).join(), first.slice(0, 2).join(), `values change live: PV and load ${first.slice(0, 2).join(' / ')} → ${second.slice(0, 2).join(' / ')}`);
  t.match(await text(page, 'flow-at'), /^as of \d\d:\d\d:\d\d$/, 'the time of the reading is shown');

  // The neighbour: connected, under the name the installer gave it.
  const peerRow = page.getByTestId('peer-row');
  await until('the neighbour connected', async () => /connected/.test((await peerRow.first().textContent()) ?? ''), 20_000);
  t.equal(await peerRow.count(), 1, 'one neighbour');
  t.match(await peerRow.first().textContent(), /Suzuki/, 'named as in trust.peers');
  // Last seen is on the agent's clock, 120 times faster: a second of real time reads as 2 min.
  t.match(await peerRow.first().textContent(), /seen (\d+ s|\d+ min) ago/, 'with when it was last heard');
  t.equal(await text(page, 'peers-summary'), '1 of 1 connected', 'summary');

  // The market: today's slots, the household's own sell order from its forecast.
  const slots = page.getByTestId('slots');
  await until('today\'s slots', async () => (await slots.locator('tbody tr[data-slot]').count()) >= 40, 15_000);
  t.ok((await page.locator('#timeline .cell').count()) >= 40, 'the timeline has a cell per slot of the day');
  t.equal(await slots.locator('tr.delivering').count(), 1, 'one slot is being delivered now');
  await until('a sell order of the household', async () => (await slots.locator('.side-sell').count()) > 0, 30_000);
  t.pass('the household\'s own sell order shows in the slot table');
  t.match(await text(page, 'slots-summary'), /contracts? today/, 'slot summary');

  // Money and events: rendered, with real numbers (zero yen is a real number here, not a placeholder).
  t.match(await text(page, 'earnings-today'), /^−?¥\d/, 'earnings today in yen');
  t.match(await text(page, 'earnings-total'), /^−?¥\d/, 'earnings in total in yen');
  t.match(await text(page, 'savings-today'), /^−?¥\d/, 'savings today in yen');
  t.notMatch(await text(page, 'events'), /Loading/, 'the events list rendered');
  t.ok(await page.getByTestId('event-row').count() >= 1, 'the neighbour coming up is an event');

  // The 12:00 slot clears at its gate: the contract with the neighbour arrives over the stream...
  const contract = slots.locator('td[data-label="Contract"] .contract');
  await until('a contract in the slot table', async () => (await contract.count()) > 0, 30_000);
  t.match(await contract.first().textContent(), /^sold \d+\.\d\d kWh at ¥\d+\.\d\d\/kWh$/, `the contract: ${await contract.first().textContent()}`);
  t.ok(await page.locator('#timeline .cell.traded').count() >= 1, 'and marks its slot on the timeline');
  // ...and once the slot is delivered and settled, the money follows.
  const earned = await until('earnings after settlement', async () => {
    const value = await text(page, 'earnings-today');
    return value !== '¥0.00' ? value : undefined;
  }, 45_000);
  t.match(earned, /^¥\d+\.\d\d$/, `earned today: ${earned}`);
  t.match(await text(page, 'energy-today'), /^sold \d+\.\d\d kWh/, 'sold energy today');

  await screenshot(t, page, 'dashboard.png');
  await page.setViewportSize({ width: 390, height: 844 });
  await page.waitForTimeout(300);
  t.ok(Number(await page.evaluate('document.documentElement.scrollWidth')) <= 390, 'on a phone nothing overflows sideways');
  await screenshot(t, page, 'dashboard-phone.png');
  await page.emulateMedia({ colorScheme: 'dark' });
  await page.waitForTimeout(300);
  await screenshot(t, page, 'dashboard-phone-dark.png');
  await page.setViewportSize({ width: 1280, height: 900 });
  await page.waitForTimeout(300);
  await screenshot(t, page, 'dashboard-dark.png');

  t.same(problems, [], 'no console errors, exceptions or failed requests');

  // The neighbour's dashboard names the first household with markup in its name: shown as text, never parsed.
  const other = await context.newPage();
  const otherProblems = watch(other);
  await other.goto(neighbourUrl);
  const otherRow = other.getByTestId('peer-row');
  await until('the neighbour\'s peer row', async () => ((await otherRow.first().textContent()) ?? '').includes(HOSTILE_NAME), 20_000);
  t.equal(await other.locator('#peers img').count(), 0, 'a name with markup stays text');
  t.same(otherProblems, [], 'no problems on the neighbour\'s dashboard either');
});
