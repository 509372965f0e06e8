/**
 * Browser code, part 1 of /dashboard.js: DOM and formatting helpers.
 *
 * Plain ES2020 for the browser, kept as a string because production runs
 * what tsc emits and there is no bundler. Inside String.raw there are no
 * backticks and no dollar-brace sequences (TypeScript would interpolate them).
 * Text from the API (names, reasons, ids from neighbours) only ever reaches
 * the page through textContent or text nodes: nothing is parsed as HTML.
 */
export const formatJs = String.raw`
const DASH = '\u2014';

const $ = (id) => document.getElementById(id);

/**
 * Creates an element. props: class, text (textContent), title, testid, or any
 * fixed attribute name; children: elements or strings (added as text nodes).
 */
function h(tag, props, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(props || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key === 'class') el.className = value;
    else if (key === 'text') el.textContent = String(value);
    else if (key === 'title') el.title = String(value);
    else if (key === 'testid') el.dataset.testid = String(value);
    else el.setAttribute(key, String(value));
  }
  for (const child of children) if (child !== null && child !== undefined && child !== false) el.append(child);
  return el;
}

/** Sets text only when it changed (keeps the DOM quiet under once-a-second updates). */
function setText(el, text) {
  const value = String(text);
  if (el && el.textContent !== value) el.textContent = value;
}

/** Replaces the classes of the form is-* on el with the given one. */
function setState(el, state) {
  if (!el) return;
  for (const c of Array.from(el.classList)) if (c.startsWith('is-')) el.classList.remove(c);
  if (state) el.classList.add('is-' + state);
}

const isNum = (v) => typeof v === 'number' && Number.isFinite(v);

function fixed(value, digits) {
  return new Intl.NumberFormat('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits }).format(value);
}

/** Magnitude of a power in kW, e.g. "3.42"; the direction is said in words elsewhere. */
function kWNumber(w) {
  const kw = Math.abs(w) / 1000;
  return fixed(kw, kw >= 10 ? 1 : 2);
}

/** Energy from Wh: "0.85 kWh", "12.3 kWh", "1,234 kWh". */
function kWh(wh) {
  if (!isNum(wh)) return DASH;
  const k = wh / 1000;
  const a = Math.abs(k);
  return fixed(k, a < 10 ? 2 : a < 1000 ? 1 : 0) + ' kWh';
}

/** Money from millisen (100,000 millisen = 1 yen): "¥12.34", "−¥5.00", "¥1,234". */
function yen(millisen) {
  if (!isNum(millisen)) return DASH;
  const y = millisen / 100000;
  const a = Math.abs(y);
  const text = '\u00a5' + fixed(a, a < 1000 ? 2 : 0);
  return (y < 0 && text !== '\u00a50.00' ? '\u2212' : '') + text;
}

/** A price from sen/kWh: "¥18.50/kWh". */
function price(senPerKWh) {
  return isNum(senPerKWh) ? '\u00a5' + fixed(senPerKWh / 100, 2) + '/kWh' : DASH;
}

const hhmm = new Intl.DateTimeFormat('en-GB', { hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });
const hhmmss = new Intl.DateTimeFormat('en-GB', { hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23' });
const dayMonth = new Intl.DateTimeFormat('en-GB', { day: 'numeric', month: 'short' });

const clock = (ms) => (isNum(ms) ? hhmm.format(ms) : DASH);
const clockSeconds = (ms) => (isNum(ms) ? hhmmss.format(ms) : DASH);

/** "4 s ago", "3 min ago", "2 h ago", "5 d ago". */
function ago(ms) {
  if (!isNum(ms)) return DASH;
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return s + ' s ago';
  if (s < 3600) return Math.floor(s / 60) + ' min ago';
  if (s < 86400) return Math.floor(s / 3600) + ' h ago';
  return Math.floor(s / 86400) + ' d ago';
}

/** A peer id shortened for people ("tabc4f7x2q…"); the full one goes in a title. */
function shortId(id) {
  const s = String(id == null ? '' : id);
  return s.length > 12 ? s.slice(0, 10) + '\u2026' : s;
}
`;
