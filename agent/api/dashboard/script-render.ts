/**
 * Browser code, part 2 of /dashboard.js: one render function per card, each
 * taking the JSON of its endpoint (docs/api.md) and drawing it. Missing data
 * shows as "—", stale data greyed with a "stale" tag: never as a zero.
 */
export const renderJs = String.raw`
/* ---------- header: GET /api/status ---------- */

const HEALTH = {
  devices: { ok: 'ok', stale: 'warn', failing: 'bad' },
  broker: { ok: 'ok', external: 'ok', down: 'bad', off: 'off' },
  market: { ok: 'ok', stopped: 'bad', off: 'off' },
};

function renderStatus(status) {
  if (!status) return;
  const name = typeof status.name === 'string' && status.name ? status.name : 'tonari';
  setText($('household-name'), name);
  document.title = name === 'tonari' ? 'tonari' : name + ' \u00b7 tonari';
  const peerId = $('peer-id');
  setText(peerId, status.peerId ? 'peer ' + shortId(status.peerId) : DASH);
  peerId.title = status.peerId ? status.peerId + (status.fingerprint ? '\nfingerprint ' + status.fingerprint : '') : '';
  setText($('zone'), status.zone ? 'zone ' + status.zone : '');
  $('simulated').hidden = status.simulated !== true;
  const health = status.health || {};
  for (const part of ['devices', 'broker', 'market']) {
    const chip = $('health-' + part);
    const value = typeof health[part] === 'string' ? health[part] : null;
    setState(chip, value ? HEALTH[part][value] || 'warn' : 'unknown');
    setText(chip.querySelector('b'), value || DASH);
    chip.title = part + ': ' + (value || 'unknown');
  }
  const bits = ['tonari ' + (status.version || '')];
  if (isNum(status.startedAt)) bits.push('running since ' + dayMonth.format(status.startedAt) + ' ' + clock(status.startedAt));
  if (status.ledger && isNum(status.ledger.records)) {
    bits.push('ledger ' + status.ledger.records + ' records' + (status.ledger.healthy === false ? ' \u2014 DAMAGED, trading stopped' : ''));
  }
  if (status.peers && isNum(status.peers.known)) bits.push(status.peers.connected + ' of ' + status.peers.known + ' neighbours connected');
  setText($('footer'), bits.join(' \u00b7 '));
}

/* ---------- power flow: GET /api/household ---------- */

/** One value of the household: { value, quality: ok|stale|missing, reason }. */
function reading(household, key, pageStale) {
  if (!household) return { value: null, quality: 'missing', reason: 'no household state yet' };
  const raw = household[key];
  const value = isNum(raw) ? raw : null;
  const given = household.quality && household.quality[key];
  let quality = value === null ? 'missing' : given === 'stale' ? 'stale' : 'ok';
  let reason = (household.reasons && household.reasons[key]) || '';
  if (quality === 'ok' && pageStale) {
    quality = 'stale';
    reason = pageStale;
  }
  return { value, quality, reason };
}

/** Words for a direction: a value under this many watts counts as none. */
const IDLE_W = 20;

const NODES = {
  pv: { key: 'pvW', words: (w) => (w > IDLE_W ? 'producing' : 'idle') },
  load: { key: 'loadW', words: () => 'using' },
  grid: { key: 'gridW', words: (w) => (w > IDLE_W ? 'importing' : w < -IDLE_W ? 'exporting' : 'balanced') },
  battery: { key: 'batteryW', words: (w) => (w > IDLE_W ? 'discharging' : w < -IDLE_W ? 'charging' : 'idle') },
};

function renderNode(name, r) {
  const node = $('node-' + name);
  setState(node, r.quality);
  node.title = r.reason || '';
  const value = $(name + '-power');
  const sub = $(name + '-sub');
  if (r.quality === 'missing') {
    setText(value, DASH);
    setText(sub, 'no data');
    return;
  }
  const parts = [kWNumber(r.value), h('small', { text: 'kW' })];
  if (r.quality === 'stale') parts.push(h('span', { class: 'stale-tag', text: 'stale' }));
  const wanted = parts.map((p) => (typeof p === 'string' ? p : p.textContent)).join('');
  if (value.textContent !== wanted) value.replaceChildren(...parts);
  setText(sub, NODES[name].words(r.value));
}

/**
 * A connector's motion: toward the home ('in'), away ('out'), 'idle', or
 * 'unknown' when the value is missing or stale (old data does not move).
 */
function renderLink(name, r, inWhenPositive) {
  const link = $('link-' + name);
  let state = 'unknown';
  if (r.quality === 'ok') {
    if (Math.abs(r.value) <= IDLE_W) state = 'idle';
    else state = (r.value > 0) === inWhenPositive ? 'in' : 'out';
  }
  setState(link, state);
  if (state === 'in' || state === 'out') {
    const a = Math.abs(r.value);
    link.classList.add(a >= 3000 ? 'is-fast' : a < 500 ? 'is-slow' : 'is-normal');
  }
}

function renderHousehold(household, pageStale) {
  const r = {};
  for (const [name, spec] of Object.entries(NODES)) {
    r[name] = reading(household, spec.key, pageStale);
    renderNode(name, r[name]);
  }
  renderLink('pv', r.pv, true);
  renderLink('grid', r.grid, true);
  renderLink('battery', r.battery, true);

  const soc = reading(household, 'socPct', pageStale);
  const fill = $('soc-fill');
  if (soc.quality === 'missing') {
    setText($('soc'), DASH);
    fill.style.width = '0';
  } else {
    const pct = Math.max(0, Math.min(100, soc.value));
    setText($('soc'), fixed(pct, 0) + ' %');
    fill.style.width = pct + '%';
  }
  $('soc').title = soc.quality === 'ok' ? 'state of charge' : soc.quality + (soc.reason ? ': ' + soc.reason : '');

  const meter = (id, key) => {
    const m = reading(household, key, pageStale);
    const el = $(id);
    setText(el, m.quality === 'missing' ? DASH : kWh(m.value) + (m.quality === 'stale' ? ' (stale)' : ''));
    setState(el, m.quality);
    el.title = m.quality === 'ok' ? 'meter reading' : m.quality + (m.reason ? ': ' + m.reason : '');
  };
  meter('meter-import', 'gridImportWh');
  meter('meter-export', 'gridExportWh');
  meter('meter-pv', 'pvWh');

  const note = $('flow-at');
  if (pageStale) {
    setText(note, pageStale);
    setState(note, 'stale');
  } else {
    setText(note, household && isNum(household.at) ? 'as of ' + clockSeconds(household.at) : 'waiting for data');
    setState(note, null);
  }
}

/* ---------- neighbours: GET /api/peers ---------- */

const PEER_STATE = { connected: 'ok', connecting: 'warn', waiting: 'warn', untrusted: 'bad', stopped: 'off', unreachable: 'off' };

function peerRow(row, extraAgeMs) {
  const id = String(row.peerId || '');
  const name = row.name ? String(row.name) : null;
  const meta = [];
  if (isNum(row.lastSeenAgeMs)) meta.push('seen ' + ago(row.lastSeenAgeMs + extraAgeMs));
  else meta.push('never seen');
  if (isNum(row.rttMs)) meta.push('RTT ' + Math.round(row.rttMs) + ' ms');
  if (row.address && row.address.host) meta.push(row.address.host + ':' + row.address.port);
  const dropped = Object.values(row.rejections || {}).reduce((sum, n) => sum + (isNum(n) ? n : 0), 0);
  if (dropped > 0) meta.push(dropped + ' messages dropped');
  return h('li', { class: 'is-' + (PEER_STATE[row.state] || 'off'), title: id, testid: 'peer-row' },
    h('span', { class: 'dot' }),
    h('span', { class: 'peer-name' }, name || shortId(id), name ? h('span', { class: 'mono', text: shortId(id) }) : null),
    h('span', { class: 'peer-state', text: String(row.state || 'unknown') }),
    h('span', { class: 'peer-meta', text: meta.join(' \u00b7 ') }));
}

function renderPeers(peers, receivedAt) {
  const list = $('peers');
  const extra = $('peers-extra');
  if (!peers || !Array.isArray(peers.peers)) {
    list.replaceChildren(h('li', { class: 'empty', text: 'Neighbours are not available (is the mesh off?)' }));
    setText($('peers-summary'), DASH);
    extra.hidden = true;
    return;
  }
  const extraAgeMs = Math.max(0, Date.now() - receivedAt);
  const order = (row) => (row.state === 'connected' ? 0 : row.state === 'untrusted' ? 2 : 1);
  const rows = peers.peers.slice().sort((a, b) => order(a) - order(b) || String(a.name || a.peerId).localeCompare(String(b.name || b.peerId)));
  const trusted = rows.filter((row) => row.state !== 'untrusted');
  const connected = rows.filter((row) => row.state === 'connected').length;
  setText($('peers-summary'), trusted.length ? connected + ' of ' + trusted.length + ' connected' : 'none yet');
  if (rows.length === 0) {
    list.replaceChildren(h('li', { class: 'empty', text: 'No neighbours yet. Pair with them: tonari pair --window 10m' }));
  } else {
    list.replaceChildren(...rows.map((row) => peerRow(row, extraAgeMs)));
  }
  const notes = [];
  if (peers.cluster) notes.push('Every neighbour is reached through the shared broker ' + peers.cluster.host + ':' + peers.cluster.port + ' (' + peers.cluster.state + ').');
  const candidates = Array.isArray(peers.candidates) ? peers.candidates.length : 0;
  if (candidates > 0) notes.push(candidates + (candidates === 1 ? ' more agent' : ' more agents') + ' seen nearby, not paired.');
  if (peers.pairing && peers.pairing.open) notes.push('Pairing window open until ' + clock(peers.pairing.closesAt) + ' (' + (peers.pairing.pending || 0) + ' waiting).');
  setText(extra, notes.join(' '));
  extra.hidden = notes.length === 0;
}

/* ---------- today's market: GET /api/slots and /api/contracts ---------- */

const DAY_MS = 86400000;
const SIDE_WORD = { sell: 'sold', buy: 'bought' };

/** The slot's own live order, or null (an order of 0 Wh is a withdrawal). */
const ownOrder = (slot) => (slot.own && isNum(slot.own.energyWh) && slot.own.energyWh > 0 ? slot.own : null);

/** A second, quieter line inside a table cell. */
const subLine = (text) => h('span', { class: 'sub', text });

function orderCell(own) {
  if (!own) return h('td', { class: 'dim', 'data-label': 'Your order', text: DASH });
  const limit = (own.side === 'sell' ? 'min ' : 'max ') + price(own.limitSenPerKWh);
  return h('td', { 'data-label': 'Your order', title: (own.side === 'sell' ? 'sell at no less than ' : 'buy at no more than ') + price(own.limitSenPerKWh) },
    h('span', { class: 'nowrap' }, h('span', { class: 'side side-' + own.side, text: own.side }), ' ' + kWh(own.energyWh)), subLine(limit));
}

function contractCell(rows) {
  if (rows.length === 0) return h('td', { class: 'dim', 'data-label': 'Contract', text: DASH });
  const td = h('td', { 'data-label': 'Contract' });
  for (const c of rows) {
    const line = h('span', { class: 'contract' },
      h('span', { class: 'side side-' + c.side, text: SIDE_WORD[c.side] || String(c.side) }), ' ' + kWh(c.energyWh) + ' at ' + price(c.priceSenPerKWh));
    const status = [h('span', { class: 'status-' + c.status, text: String(c.status || '') })];
    if (isNum(c.amountMillisen)) status.push(' \u00b7 ' + yen(c.amountMillisen));
    td.append(line, h('span', { class: 'sub' }, ...status));
  }
  td.title = rows.map((c) => 'contract ' + c.contract + ' with ' + c.counterparty).join('\n');
  return td;
}

function slotRow(slot, contracts) {
  const phase = String(slot.phase || '');
  const c = slot.clearing;
  const quiet = !ownOrder(slot) && !c && contracts.length === 0;
  return h('tr', { class: phase + (quiet ? ' quiet' : ''), 'data-slot': slot.slot },
    h('td', { class: 'slot-time', 'data-label': 'Time', text: clock(slot.slot) + '\u2013' + clock(slot.end) }),
    h('td', { class: 'slot-phase', 'data-label': 'Phase' }, h('span', { class: 'phase phase-' + phase, text: phase || DASH })),
    orderCell(ownOrder(slot)),
    h('td', { class: 'num', 'data-label': 'Book', title: 'live orders in the book', text: isNum(slot.orders) ? String(slot.orders) : DASH }),
    c ? h('td', { class: 'num', 'data-label': 'Clearing' }, price(c.priceSenPerKWh), subLine(kWh(c.energyWh) + ' matched'))
      : h('td', { class: 'dim', 'data-label': 'Clearing', text: DASH }),
    contractCell(contracts));
}

function timelineCell(slot, contracts) {
  const own = ownOrder(slot);
  const classes = ['cell'];
  const side = own ? own.side : contracts.length ? contracts[0].side : null;
  if (side) classes.push(side);
  if (contracts.length) classes.push('traded');
  if (slot.phase === 'ended') classes.push('ended');
  if (slot.phase === 'delivering') classes.push('now');
  const what = contracts.length ? contracts.map((c) => (SIDE_WORD[c.side] || c.side) + ' ' + kWh(c.energyWh)).join(', ')
    : own ? own.side + ' ' + kWh(own.energyWh) : 'no order';
  return h('span', { class: classes.join(' '), title: clock(slot.slot) + ' ' + slot.phase + ': ' + what });
}

const slotsView = { showLater: false, userScrolled: false };

function renderSlots(data, contractsBySlot) {
  const body = $('slots-body');
  const timeline = $('timeline');
  const more = $('slots-more');
  if (!data || !Array.isArray(data.slots)) {
    body.replaceChildren(h('tr', { class: 'empty' }, h('td', { colspan: 6, text: 'The market is not available' })));
    timeline.replaceChildren();
    setText($('slots-summary'), DASH);
    more.hidden = true;
    return;
  }
  const slots = data.slots.slice().sort((a, b) => a.slot - b.slot);
  const dayStart = slots.length ? slots[0].slot : 0;
  const today = slots.filter((s) => s.slot < dayStart + DAY_MS);
  const later = slots.filter((s) => s.slot >= dayStart + DAY_MS);
  const contractsOf = (s) => contractsBySlot.get(s.slot) || [];

  timeline.replaceChildren(...today.map((s) => timelineCell(s, contractsOf(s))));
  const rows = today.map((s) => slotRow(s, contractsOf(s)));
  if (slotsView.showLater && later.length) {
    rows.push(h('tr', { class: 'day' }, h('td', { colspan: 6, text: 'Open slots from ' + dayMonth.format(later[0].slot) })));
    for (const s of later) rows.push(slotRow(s, contractsOf(s)));
  }
  if (rows.length === 0) rows.push(h('tr', { class: 'empty' }, h('td', { colspan: 6, text: 'No slots yet' })));
  body.replaceChildren(...rows);

  more.hidden = later.length === 0;
  setText(more, slotsView.showLater ? 'Hide later slots' : 'Show ' + later.length + ' later open slots');

  const traded = today.reduce((n, s) => n + contractsOf(s).length, 0);
  const now = isNum(data.now) ? data.now : Date.now();
  const nextGate = slots.filter((s) => s.phase === 'open' && isNum(s.gateAt) && s.gateAt > now).reduce((m, s) => Math.min(m, s.gateAt), Infinity);
  const summary = [traded + (traded === 1 ? ' contract today' : ' contracts today')];
  if (nextGate < Infinity) summary.push('next gate ' + clock(nextGate));
  setText($('slots-summary'), summary.join(' \u00b7 '));

  followCurrentSlot();
}

/**
 * Keeps the slot being delivered (or the next open one) at the top of the table,
 * until the user scrolls the table themselves. Only the table scrolls, never the page.
 */
function followCurrentSlot() {
  if (slotsView.userScrolled) return;
  const scroller = $('slots-scroll');
  const current = scroller.querySelector('tr.delivering') || scroller.querySelector('tr.open');
  if (!current) return;
  const head = scroller.querySelector('thead');
  const headHeight = head && head.offsetParent !== null ? head.offsetHeight : 0;
  const top = current.getBoundingClientRect().top - scroller.getBoundingClientRect().top + scroller.scrollTop;
  scroller.scrollTop = Math.max(0, top - headHeight);
}

/* ---------- money: GET /api/earnings ---------- */

function renderMoney(period, money) {
  const net = $('earnings-' + period);
  const ok = money && isNum(money.receivedMillisen) && isNum(money.paidMillisen);
  const value = ok ? money.receivedMillisen - money.paidMillisen : null;
  setText(net, yen(value));
  setState(net, isNum(value) && value < 0 ? 'neg' : null);
  setText($('savings-' + period), money && isNum(money.savingsMillisen) ? yen(money.savingsMillisen) : DASH);
  const energy = $('energy-' + period);
  if (money && isNum(money.soldWh)) energy.replaceChildren(h('span', { text: 'sold ' + kWh(money.soldWh) }), h('span', { text: 'bought ' + kWh(money.boughtWh) }));
  else setText(energy, DASH);
  net.title = ok ? 'received ' + yen(money.receivedMillisen) + ', paid ' + yen(money.paidMillisen) : '';
}

function renderEarnings(earnings) {
  renderMoney('today', earnings && earnings.today);
  renderMoney('total', earnings && earnings.total);
}

/* ---------- events: GET /api/events ---------- */

/** Event kinds that mean things got better (the rest are refusals and faults). */
const GOOD_EVENT = /(^|_)(up|recovered)$/;

function eventRow(e, today) {
  const kind = String(e.kind || 'event');
  const words = kind.replace(/_/g, ' ');
  const when = isNum(e.at) ? (new Date(e.at).toDateString() === today ? clock(e.at) : dayMonth.format(e.at)) : DASH;
  const about = [];
  if (e.peer) about.push(h('span', { class: 'event-peer mono', text: shortId(e.peer), title: String(e.peer) }));
  if (e.device) about.push(h('span', { class: 'event-peer', text: String(e.device) }));
  if (isNum(e.count) && e.count > 1) about.push(h('span', { class: 'event-count', text: '\u00d7' + e.count }));
  return h('li', { class: GOOD_EVENT.test(kind) ? 'is-ok' : 'is-bad', testid: 'event-row', title: isNum(e.at) ? new Date(e.at).toString() : '' },
    h('span', { class: 'event-time', text: when }),
    h('span', { class: 'event-kind' }, h('span', { class: 'dot' }), words.charAt(0).toUpperCase() + words.slice(1), ...about),
    h('span', { class: 'event-reason', text: String(e.reason || '') }));
}

/** now: the agent's time (it may run faster than the wall clock in a simulation). */
function renderEvents(events, now) {
  const list = $('events');
  if (!Array.isArray(events)) {
    list.replaceChildren(h('li', { class: 'empty', text: 'Events are not available' }));
    return;
  }
  if (events.length === 0) {
    list.replaceChildren(h('li', { class: 'empty', text: 'Nothing to report: no refusals, no faults.' }));
    setText($('events-summary'), '');
    return;
  }
  const today = new Date(isNum(now) ? now : Date.now()).toDateString();
  list.replaceChildren(...events.slice(0, 30).map((e) => eventRow(e, today)));
  setText($('events-summary'), events.length + ' recent');
}
`;
