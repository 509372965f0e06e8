/**
 * Browser code, part 3 of /dashboard.js: the data. Loads every endpoint once,
 * then follows /api/stream (server-sent events). When the stream fails it
 * reconnects with exponential backoff and, meanwhile, polls the endpoints
 * every 10 s so the page never silently freezes. The connection indicator
 * says which of these is happening.
 */
export const liveJs = String.raw`
const POLL_MS = 10000;
const RETRY_MIN_MS = 1000;
const RETRY_MAX_MS = 30000;
/** Household values older than this (no update from the agent) are shown as stale. */
const HOUSEHOLD_STALE_MS = 25000;
const EARNINGS_REFRESH_MS = 60000;
const MAX_EVENTS = 50;

const data = {
  status: null,
  household: null,
  householdAt: 0,
  peers: null,
  peersAt: 0,
  slots: null,
  contracts: new Map(),
  earnings: null,
  events: null,
};

/* ---------- applying what arrives (from fetch or from the stream) ---------- */

/** The agent's latest time (it runs faster than the wall clock in an accelerated simulation). */
function agentNow() {
  const times = [data.household && data.household.at, data.status && data.status.now, data.slots && data.slots.now].filter(isNum);
  return times.length ? Math.max(...times) : Date.now();
}

function householdStaleness() {
  if (!data.household || !data.householdAt) return '';
  const age = Date.now() - data.householdAt;
  return age > HOUSEHOLD_STALE_MS ? 'no update for ' + ago(age).replace(' ago', '') : '';
}

function contractsBySlot() {
  const bySlot = new Map();
  for (const c of data.contracts.values()) {
    if (!bySlot.has(c.slot)) bySlot.set(c.slot, []);
    bySlot.get(c.slot).push(c);
  }
  return bySlot;
}

const apply = {
  status(status) { data.status = status; renderStatus(status); },
  household(household) {
    data.household = household;
    data.householdAt = Date.now();
    renderHousehold(household, householdStaleness());
  },
  peers(peers) { data.peers = peers; data.peersAt = Date.now(); renderPeers(peers, data.peersAt); },
  slots(slots) { data.slots = slots; renderSlots(slots, contractsBySlot()); },
  contracts(body) {
    data.contracts = new Map();
    for (const c of (body && body.contracts) || []) data.contracts.set(c.contract, c);
    renderSlots(data.slots, contractsBySlot());
  },
  contract(row) {
    if (!row || !row.contract) return;
    data.contracts.set(row.contract, row);
    renderSlots(data.slots, contractsBySlot());
    refreshEarningsSoon();
  },
  earnings(earnings) { data.earnings = earnings; renderEarnings(earnings); },
  events(body) { data.events = (body && Array.isArray(body.events)) ? body.events.slice(0, MAX_EVENTS) : []; renderEvents(data.events, agentNow()); },
  event(row) {
    if (!row) return;
    const key = (e) => [e.at, e.kind, e.reason, e.peer].join('|');
    const events = (data.events || []).filter((e) => key(e) !== key(row));
    events.unshift(row);
    data.events = events.slice(0, MAX_EVENTS);
    renderEvents(data.events, agentNow());
  },
};

/* ---------- fetching ---------- */

class HttpError extends Error {
  constructor(path, status) { super(path + ': HTTP ' + status); this.status = status; }
}

function showBanner(text) {
  const banner = $('banner');
  setText(banner, text);
  banner.hidden = !text;
}

async function getJson(path) {
  const response = await fetch(path, { credentials: 'same-origin', cache: 'no-store', headers: { Accept: 'application/json' } });
  if (response.status === 401) {
    showBanner('This dashboard needs the API token: open it once as /?token=YOUR_TOKEN (api.token in tonari.yaml).');
    throw new HttpError(path, 401);
  }
  if (!response.ok) throw new HttpError(path, response.status);
  return response.json();
}

const ENDPOINTS = [
  ['/api/status', 'status'],
  ['/api/household', 'household'],
  ['/api/peers', 'peers'],
  ['/api/contracts', 'contracts'],
  ['/api/slots', 'slots'],
  ['/api/earnings', 'earnings'],
  ['/api/events', 'events'],
];

/** Loads the given endpoints (all by default); resolves true if /api/status answered. */
async function load(which) {
  const wanted = ENDPOINTS.filter(([, name]) => !which || which.includes(name));
  const results = await Promise.allSettled(wanted.map(([path]) => getJson(path)));
  let statusOk = !wanted.some(([, name]) => name === 'status');
  results.forEach((result, i) => {
    const name = wanted[i][1];
    if (result.status === 'fulfilled') {
      apply[name](result.value);
      if (name === 'status') statusOk = true;
    } else if (result.reason instanceof HttpError && result.reason.status === 404 && name !== 'status') {
      apply[name](null); // that part of the agent is off (no mesh, no market)
    }
  });
  if (statusOk) showBannerIfAuthorised();
  return statusOk;
}

function showBannerIfAuthorised() {
  const banner = $('banner');
  if (!banner.hidden && /token/.test(banner.textContent)) showBanner('');
}

let earningsTimer = null;
function refreshEarningsSoon() {
  if (earningsTimer) return;
  earningsTimer = setTimeout(() => {
    earningsTimer = null;
    load(['earnings']).catch(() => {});
  }, 1000);
}

/* ---------- the connection: stream, backoff, polling ---------- */

const conn = { source: null, live: false, retryMs: RETRY_MIN_MS, retryAt: 0, retryTimer: null, pollTimer: null, pollOk: null, everLive: false };

function setConnection(state, text) {
  // While the agent is unreachable, its last health and neighbour states are history: grey them.
  document.body.classList.toggle('agent-unreachable', state === 'offline');
  const el = $('connection');
  setState(el, state);
  el.dataset.state = state;
  setText($('connection-text'), text);
}

function describeConnection() {
  if (conn.live) return setConnection('live', 'live');
  const wait = Math.max(0, Math.ceil((conn.retryAt - Date.now()) / 1000));
  const retry = conn.retryTimer ? (wait > 0 ? 'reconnecting in ' + wait + ' s' : 'reconnecting\u2026') : 'connecting\u2026';
  if (conn.pollOk === false) return setConnection('offline', 'agent unreachable \u00b7 ' + retry);
  if (conn.pollOk === true) return setConnection('polling', 'polling every 10 s \u00b7 ' + retry);
  return setConnection(conn.everLive ? 'reconnecting' : 'connecting', retry);
}

const STREAM_EVENTS = ['status', 'household', 'peers', 'slots', 'contract', 'event'];

function connect() {
  conn.retryTimer = null;
  if (typeof EventSource !== 'function') {
    startPolling();
    return;
  }
  const source = new EventSource('/api/stream');
  conn.source = source;
  source.addEventListener('open', () => {
    const wasDown = conn.everLive;
    conn.live = true;
    conn.everLive = true;
    conn.retryMs = RETRY_MIN_MS;
    stopPolling();
    describeConnection();
    // Catch up on what was missed while the stream was down (contracts and events are sent one row at a time).
    if (wasDown) load().catch(() => {});
  });
  for (const name of STREAM_EVENTS) {
    source.addEventListener(name, (event) => {
      let body;
      try { body = JSON.parse(event.data); } catch (e) { return; }
      apply[name](body);
    });
  }
  source.addEventListener('error', () => {
    // Take reconnection into our own hands: the browser's own retry has no backoff and gives up on HTTP errors.
    source.close();
    if (conn.source !== source) return;
    conn.source = null;
    conn.live = false;
    const wait = Math.round(conn.retryMs * (0.8 + Math.random() * 0.4));
    conn.retryMs = Math.min(conn.retryMs * 2, RETRY_MAX_MS);
    conn.retryAt = Date.now() + wait;
    conn.retryTimer = setTimeout(connect, wait);
    startPolling();
    describeConnection();
  });
}

async function poll() {
  const ok = await load(['status']).catch(() => false);
  if (ok) await load(['household', 'peers', 'slots', 'earnings']).catch(() => {});
  if (conn.pollTimer === null) return; // the stream came back meanwhile
  conn.pollOk = ok;
  describeConnection();
}

function startPolling() {
  if (conn.pollTimer !== null) return;
  conn.pollOk = null;
  conn.pollTimer = setInterval(poll, POLL_MS);
  poll();
}

function stopPolling() {
  if (conn.pollTimer !== null) clearInterval(conn.pollTimer);
  conn.pollTimer = null;
  conn.pollOk = null;
}

/* ---------- start ---------- */

function tick() {
  // Ages move on between messages, and a household that stopped updating turns stale.
  renderHousehold(data.household, householdStaleness());
  if (data.peers) renderPeers(data.peers, data.peersAt);
  describeConnection();
}

function start() {
  $('slots-more').addEventListener('click', () => {
    slotsView.showLater = !slotsView.showLater;
    renderSlots(data.slots, contractsBySlot());
  });
  // The table follows the current slot until the user scrolls it (scroll events alone are also ours).
  const scroller = $('slots-scroll');
  for (const type of ['wheel', 'touchstart', 'pointerdown', 'keydown']) {
    scroller.addEventListener(type, () => { slotsView.userScrolled = true; }, { passive: true });
  }
  window.addEventListener('resize', followCurrentSlot);
  describeConnection();
  load().catch(() => {});
  connect();
  setInterval(tick, 1000);
  setInterval(() => { if (conn.live) load(['earnings', 'events']).catch(() => {}); }, EARNINGS_REFRESH_MS);
}

if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start);
else start();
`;
