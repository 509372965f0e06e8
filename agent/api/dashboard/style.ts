/**
 * The dashboard's stylesheet (/dashboard.css). Light and dark colours follow
 * prefers-color-scheme; under 700 px the cards stack in one column; motion
 * stops under prefers-reduced-motion (arrows still show the direction).
 */
export const dashboardCss = String.raw`
:root {
  color-scheme: light dark;
  --bg: #f3f5f7;
  --card: #ffffff;
  --text: #1a1f25;
  --muted: #5d6874;
  --faint: #8a949e;
  --line: #dfe3e8;
  --soft: #eef1f4;
  --pv: #d98e00;
  --pv-soft: #fff4dc;
  --grid: #6a55d8;
  --grid-soft: #efecff;
  --home: #2a73d6;
  --home-soft: #e6f0fd;
  --battery: #16935a;
  --battery-soft: #e2f6ec;
  --sell: #e39a13;
  --buy: #3178d4;
  --ok: #16935a;
  --warn: #c27c00;
  --bad: #cf3b3b;
  --stale: #9aa3ad;
  --shadow: 0 1px 2px rgba(16, 24, 40, .06), 0 1px 3px rgba(16, 24, 40, .08);
  --radius: 14px;
  --mono: ui-monospace, "SFMono-Regular", "DejaVu Sans Mono", Menlo, Consolas, monospace;
}

@media (prefers-color-scheme: dark) {
  :root {
    --bg: #0e1115;
    --card: #171b21;
    --text: #e8ebef;
    --muted: #a1abb6;
    --faint: #77828d;
    --line: #2a3139;
    --soft: #1f252c;
    --pv: #ffb52e;
    --pv-soft: #2e2512;
    --grid: #a493ff;
    --grid-soft: #241f3d;
    --home: #5ea2ff;
    --home-soft: #15243a;
    --battery: #3ccf8a;
    --battery-soft: #12291f;
    --sell: #ffb52e;
    --buy: #5ea2ff;
    --ok: #3ccf8a;
    --warn: #f0b03a;
    --bad: #ff6b6b;
    --stale: #6b7580;
    --shadow: none;
  }
}

* { box-sizing: border-box; }

html { -webkit-text-size-adjust: 100%; text-size-adjust: 100%; }

body {
  margin: 0;
  background: var(--bg);
  color: var(--text);
  font: 15px/1.45 system-ui, -apple-system, "Segoe UI", "Noto Sans", "Noto Sans CJK JP", "Hiragino Sans", sans-serif;
  font-variant-numeric: tabular-nums;
}

h1, h2, h3 { margin: 0; font-weight: 650; }
h1 { font-size: 1.3rem; line-height: 1.2; }
h2 { font-size: 1.02rem; }
h3 { font-size: .8rem; text-transform: uppercase; letter-spacing: .06em; color: var(--muted); font-weight: 600; }

.mono { font-family: var(--mono); font-size: .85em; }
[hidden] { display: none !important; }

/* ---- header ---- */

.top {
  display: flex;
  flex-wrap: wrap;
  align-items: center;
  justify-content: space-between;
  gap: 10px 20px;
  max-width: 1180px;
  margin: 0 auto;
  padding: 18px 20px 8px;
}

.brand { display: flex; align-items: center; gap: 12px; min-width: 0; }
.logo { flex: none; border-radius: 9px; }
.who { min-width: 0; }
.who h1 span { overflow-wrap: anywhere; }
.ids { display: flex; flex-wrap: wrap; align-items: center; gap: 4px 10px; color: var(--muted); font-size: .85rem; }
.zone:empty { display: none; }

.badge {
  display: inline-block;
  padding: 0 8px;
  border-radius: 999px;
  font-size: .75rem;
  font-weight: 600;
  line-height: 1.6;
}
.badge-sim { background: var(--grid-soft); color: var(--grid); }

.status-line { display: flex; flex-wrap: wrap; align-items: center; gap: 8px; }

.health { display: flex; flex-wrap: wrap; gap: 6px; margin: 0; padding: 0; list-style: none; }

.chip, .connection {
  display: inline-flex;
  align-items: center;
  gap: 6px;
  padding: 4px 10px;
  border: 1px solid var(--line);
  border-radius: 999px;
  background: var(--card);
  font-size: .82rem;
  color: var(--muted);
  white-space: nowrap;
}
.chip b { color: var(--text); font-weight: 600; }

.dot { width: 8px; height: 8px; border-radius: 50%; background: var(--stale); flex: none; }
.is-ok .dot { background: var(--ok); }
.is-warn .dot { background: var(--warn); }
.is-bad .dot { background: var(--bad); }
.is-off .dot { background: var(--stale); }

.connection { font-weight: 600; color: var(--text); }
.connection.is-live .dot { background: var(--ok); animation: pulse 2s ease-in-out infinite; }
.connection.is-connecting .dot, .connection.is-reconnecting .dot { background: var(--warn); }
.connection.is-polling .dot { background: var(--warn); }
.connection.is-offline .dot { background: var(--bad); }
.connection.is-offline { color: var(--bad); }

.agent-unreachable .health .dot, .agent-unreachable .peers .dot { background: var(--stale); }
.agent-unreachable .health, .agent-unreachable .peers { opacity: .6; }

@keyframes pulse { 0%, 100% { opacity: 1; } 50% { opacity: .35; } }

.banner {
  max-width: 1140px;
  margin: 8px auto 0;
  padding: 10px 14px;
  border-radius: 10px;
  background: var(--soft);
  border-left: 4px solid var(--bad);
}

/* ---- cards ---- */

.cards {
  display: grid;
  grid-template-columns: minmax(0, 1.7fr) minmax(0, 1fr);
  align-items: start;
  gap: 16px;
  max-width: 1180px;
  margin: 0 auto;
  padding: 12px 20px 8px;
}
.col { display: flex; flex-direction: column; gap: 16px; min-width: 0; }

.card {
  min-width: 0;
  background: var(--card);
  border: 1px solid var(--line);
  border-radius: var(--radius);
  box-shadow: var(--shadow);
  padding: 16px 18px;
}

.card-head { display: flex; flex-wrap: wrap; align-items: baseline; justify-content: space-between; gap: 4px 12px; margin-bottom: 12px; }
.card-note { color: var(--muted); font-size: .85rem; }
.card-note.is-stale { color: var(--warn); font-weight: 600; }
.hint { margin: 12px 0 0; color: var(--muted); font-size: .8rem; }
.empty { color: var(--muted); list-style: none; }

/* ---- power flow ---- */

.flow {
  display: grid;
  grid-template-columns: minmax(0, 1fr) 2.6rem minmax(0, 1fr) 2.6rem minmax(0, 1fr);
  grid-template-rows: auto 2.2rem auto;
  grid-template-areas:
    ".    .      pv    .       ."
    ".    .      lpv   .       ."
    "grid lgrid  home  lbat    battery";
  align-items: center;
}
.flow-pv { grid-area: pv; }
.flow-link-pv { grid-area: lpv; height: 100%; }
.flow-grid { grid-area: grid; }
.flow-link-grid { grid-area: lgrid; }
.flow-home { grid-area: home; }
.flow-link-battery { grid-area: lbat; }
.flow-battery { grid-area: battery; }

.node {
  --accent: var(--home);
  --accent-soft: var(--home-soft);
  position: relative;
  min-height: 128px;
  padding: 10px 12px;
  border: 2px solid var(--accent);
  border-radius: 16px;
  background: var(--accent-soft);
  text-align: center;
  transition: border-color .3s, background-color .3s;
}
.node-pv { --accent: var(--pv); --accent-soft: var(--pv-soft); }
.node-grid { --accent: var(--grid); --accent-soft: var(--grid-soft); }
.node-battery { --accent: var(--battery); --accent-soft: var(--battery-soft); }

.node-head { display: flex; align-items: center; justify-content: center; gap: 6px; color: var(--accent); font-weight: 650; font-size: .9rem; }
.node-icon { width: 20px; height: 20px; flex: none; fill: none; stroke: currentColor; stroke-width: 2; stroke-linecap: round; stroke-linejoin: round; }
.node-value { margin-top: 4px; font-size: 1.9rem; font-weight: 700; line-height: 1.15; letter-spacing: -.01em; white-space: nowrap; }
.node-value small { font-size: .55em; font-weight: 600; color: var(--muted); margin-left: 2px; }
.node-sub { margin-top: 2px; color: var(--muted); font-size: .82rem; min-height: 1.2em; }

.node.is-stale, .node.is-missing { --accent: var(--stale); --accent-soft: var(--soft); border-style: dashed; }
.node.is-stale .node-value { color: var(--muted); }
.node.is-missing .node-value { color: var(--faint); }
.node .stale-tag {
  display: inline-block;
  margin-left: 6px;
  padding: 0 6px;
  border-radius: 999px;
  background: var(--warn);
  color: #fff;
  font-size: .7rem;
  font-weight: 700;
  text-transform: uppercase;
  letter-spacing: .04em;
  vertical-align: 2px;
}

.soc { display: flex; align-items: center; gap: 8px; margin-top: 8px; }
.soc-value { font-size: 1.15rem; font-weight: 700; min-width: 3.6em; text-align: left; }
.soc-bar { position: relative; flex: 1; height: 10px; border-radius: 5px; background: var(--line); overflow: hidden; }
.soc-fill { position: absolute; inset: 0 auto 0 0; width: 0; background: var(--battery); border-radius: 5px; transition: width .6s; }
.node.is-stale .soc-fill, .node.is-missing .soc-fill { background: var(--stale); }
.node.is-stale .soc-value { color: var(--muted); }

/* Connectors: a track with moving dots; .is-in flows toward the home, .is-out away from it. */
.link { position: relative; display: flex; align-items: center; justify-content: center; width: 100%; height: 100%; min-height: 2rem; }
.link-line { position: relative; display: block; border-radius: 3px; background-color: var(--line); }
.link-h .link-line { width: 100%; height: 4px; }
.link-v .link-line { width: 4px; height: 100%; min-height: 2rem; }
.link-pv { --accent: var(--pv); }
.link-grid { --accent: var(--grid); }
.link-battery { --accent: var(--battery); }

.link.is-in .link-line, .link.is-out .link-line {
  background-color: transparent;
  background-image: radial-gradient(circle, var(--accent) 2.5px, transparent 3px);
  animation-duration: 1.2s;
  animation-timing-function: linear;
  animation-iteration-count: infinite;
}
.link-h.is-in .link-line, .link-h.is-out .link-line { background-size: 12px 4px; height: 6px; background-repeat: repeat-x; }
.link-v.is-in .link-line, .link-v.is-out .link-line { background-size: 6px 12px; width: 6px; background-repeat: repeat-y; }
.link.is-fast .link-line { animation-duration: .6s; }
.link.is-slow .link-line { animation-duration: 2.4s; }

/* Grid sits left of home and battery right of it: "in" runs left-to-right for grid, right-to-left for battery. */
.link-grid.is-in .link-line, .link-battery.is-out .link-line { animation-name: flow-right; }
.link-grid.is-out .link-line, .link-battery.is-in .link-line { animation-name: flow-left; }
.link-pv.is-in .link-line { animation-name: flow-down; }

@keyframes flow-right { from { background-position: 0 center; } to { background-position: 12px center; } }
@keyframes flow-left { from { background-position: 12px center; } to { background-position: 0 center; } }
@keyframes flow-down { from { background-position: center 0; } to { background-position: center 12px; } }

.link::after {
  position: absolute;
  color: var(--accent);
  font-size: 14px;
  line-height: 1;
  background: var(--card);
  padding: 0 1px;
}
.link-grid.is-in::after, .link-battery.is-out::after { content: "▶"; }
.link-grid.is-out::after, .link-battery.is-in::after { content: "◀"; }
.link-pv.is-in::after { content: "▼"; }
.link.is-unknown .link-line { background: repeating-linear-gradient(90deg, var(--line) 0 4px, transparent 4px 8px); }
.link-v.is-unknown .link-line { background: repeating-linear-gradient(180deg, var(--line) 0 4px, transparent 4px 8px); }

.meters { display: grid; grid-template-columns: repeat(3, minmax(0, 1fr)); gap: 8px; margin: 16px 0 0; padding-top: 12px; border-top: 1px solid var(--line); }
.meters div { min-width: 0; }
.meters dt { color: var(--muted); font-size: .78rem; }
.meters dd { margin: 0; font-weight: 600; font-size: 1rem; overflow-wrap: anywhere; }
.meters dd.is-stale, .meters dd.is-missing { color: var(--faint); }

/* ---- money ---- */

.money { display: grid; grid-template-columns: 1fr 1fr; gap: 16px; }
.money-period { display: flex; flex-direction: column; gap: 8px; min-width: 0; }
.stat { display: flex; flex-direction: column; }
.stat-label { color: var(--muted); font-size: .8rem; }
.stat-value { font-size: 1.75rem; font-weight: 700; line-height: 1.2; white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
.stat-value.is-neg { color: var(--bad); }
.stat-save { color: var(--ok); font-size: 1.3rem; }
.stat-foot { display: flex; flex-direction: column; color: var(--muted); font-size: .8rem; }

/* ---- neighbours ---- */

.peers, .events { margin: 0; padding: 0; list-style: none; }
.peers li:not(.empty) {
  display: grid;
  grid-template-columns: auto minmax(0, 1fr) auto;
  grid-template-areas: "dot name state" "dot meta meta";
  align-items: center;
  gap: 0 10px;
  padding: 9px 0;
  border-top: 1px solid var(--line);
}
.peers li:first-child { border-top: 0; }
.peers .dot { grid-area: dot; width: 10px; height: 10px; }
.peer-name { grid-area: name; font-weight: 600; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
.peer-name .mono { color: var(--muted); font-weight: 400; margin-left: 6px; }
.peer-state { grid-area: state; font-size: .8rem; font-weight: 600; color: var(--muted); }
.peer-meta { grid-area: meta; color: var(--muted); font-size: .8rem; }
.peers .is-ok .peer-state { color: var(--ok); }
.peers .is-bad .peer-state { color: var(--bad); }
.peers .is-warn .peer-state { color: var(--warn); }

/* ---- slots ---- */

.timeline { display: flex; gap: 1px; height: 28px; border-radius: 6px; overflow: hidden; background: var(--line); }
.timeline .cell { position: relative; flex: 1; min-width: 0; background: var(--soft); }
.timeline .cell.sell { background: color-mix(in srgb, var(--sell) 45%, var(--soft)); }
.timeline .cell.buy { background: color-mix(in srgb, var(--buy) 45%, var(--soft)); }
.timeline .cell.traded.sell { background: var(--sell); }
.timeline .cell.traded.buy { background: var(--buy); }
.timeline .cell.ended { opacity: .55; }
.timeline .cell.now { box-shadow: inset 0 0 0 2px var(--text); opacity: 1; }
.timeline-axis { display: flex; justify-content: space-between; margin-top: 2px; color: var(--faint); font-size: .72rem; }

.legend { display: flex; flex-wrap: wrap; gap: 4px 14px; margin: 8px 0 10px; padding: 0; list-style: none; color: var(--muted); font-size: .78rem; }
.legend li { display: inline-flex; align-items: center; gap: 5px; }
.swatch { display: inline-block; width: 12px; height: 12px; border-radius: 3px; }
.sw-sell { background: color-mix(in srgb, var(--sell) 45%, var(--soft)); }
.sw-buy { background: color-mix(in srgb, var(--buy) 45%, var(--soft)); }
.sw-traded { background: linear-gradient(135deg, var(--sell) 50%, var(--buy) 50%); }
.sw-now { box-shadow: inset 0 0 0 2px var(--text); }

.slots-scroll { max-height: 460px; overflow: auto; border: 1px solid var(--line); border-radius: 10px; overscroll-behavior: contain; }
.slots { width: 100%; border-collapse: collapse; font-size: .88rem; }
.slots th { position: sticky; top: 0; z-index: 1; background: var(--soft); color: var(--muted); font-weight: 600; font-size: .76rem; text-align: left; text-transform: uppercase; letter-spacing: .04em; }
.slots th, .slots td { padding: 7px 10px; border-bottom: 1px solid var(--line); vertical-align: top; }
.slots td.num { white-space: nowrap; }
.slots tr:last-child td { border-bottom: 0; }
.slots .slot-time { font-weight: 600; white-space: nowrap; }
.slots tr.ended td { color: var(--muted); }
.slots tr.delivering td { background: color-mix(in srgb, var(--home) 12%, var(--card)); }
.slots .empty td { color: var(--muted); text-align: center; padding: 18px; }
.slots .day td { background: var(--soft); font-weight: 600; color: var(--muted); font-size: .8rem; }
.side { font-weight: 700; }
.slots .sub, .slots .contract { display: block; }
.slots .sub { color: var(--muted); font-size: .78rem; white-space: nowrap; }
.slots .nowrap { white-space: nowrap; }
.side-sell { color: var(--sell); }
.side-buy { color: var(--buy); }
.dim { color: var(--faint); }
.phase { display: inline-block; padding: 0 7px; border-radius: 999px; background: var(--soft); color: var(--muted); font-size: .75rem; font-weight: 600; }
.phase-open { color: var(--ok); }
.phase-delivering { color: var(--home); }
.status-disputed, .status-provisional { color: var(--warn); font-weight: 600; }

.more {
  margin-top: 10px;
  padding: 6px 12px;
  border: 1px solid var(--line);
  border-radius: 8px;
  background: var(--card);
  color: var(--text);
  font: inherit;
  font-size: .85rem;
  cursor: pointer;
}
.more:hover { background: var(--soft); }

/* ---- events ---- */

.events li:not(.empty) { display: grid; grid-template-columns: auto minmax(0, 1fr); gap: 0 10px; padding: 8px 0; border-top: 1px solid var(--line); font-size: .86rem; }
.events li:first-child { border-top: 0; }
.event-time { color: var(--muted); white-space: nowrap; }
.event-kind { display: flex; flex-wrap: wrap; align-items: center; gap: 0 6px; font-weight: 650; overflow-wrap: anywhere; }
.event-count { color: var(--muted); font-weight: 600; font-size: .8rem; }
.event-reason { grid-column: 2; color: var(--muted); overflow-wrap: anywhere; }
.event-peer { color: var(--muted); font-weight: 400; }

.foot { max-width: 1180px; margin: 0 auto; padding: 6px 20px 24px; color: var(--faint); font-size: .78rem; }

/* ---- narrow screens: one column ---- */

@media (max-width: 900px) {
  .node-value { font-size: 1.6rem; }
  .flow { grid-template-columns: minmax(0, 1fr) 1.6rem minmax(0, 1fr) 1.6rem minmax(0, 1fr); }
}

@media (max-width: 700px) {
  body { font-size: 15px; }
  .top { padding: 14px 14px 4px; }
  .status-line { gap: 5px; }
  .chip, .connection { padding: 3px 8px; font-size: .76rem; gap: 5px; }
  /* One column, in the order a phone user wants: power, money, neighbours, market, events. */
  .cards { display: flex; flex-direction: column; align-items: stretch; gap: 12px; padding: 10px 10px 8px; }
  .col { display: contents; }
  .card-flow { order: 1; }
  .card-money { order: 2; }
  .card-peers { order: 3; }
  .card-slots { order: 4; }
  .card-events { order: 5; }
  .card { padding: 14px 12px; }
  .flow { grid-template-columns: minmax(0, 1fr) 1rem minmax(0, 1fr) 1rem minmax(0, 1fr); grid-template-rows: auto 1.8rem auto; }
  .node { min-height: 118px; padding: 8px 4px; border-radius: 12px; }
  .node-head { font-size: .8rem; gap: 4px; }
  .node-icon { width: 16px; height: 16px; }
  .node-value { font-size: 1.3rem; }
  .node-sub { font-size: .74rem; }
  .node .stale-tag { display: block; width: max-content; margin: 2px auto 0; }
  .soc { flex-direction: column; gap: 3px; margin-top: 4px; }
  .soc-value { text-align: center; min-width: 0; font-size: 1rem; }
  .soc-bar { width: 80%; flex: none; height: 8px; }
  .link::after { font-size: 10px; }
  .meters dd { font-size: .9rem; }
  .stat-value { font-size: 1.45rem; }
  .stat-save { font-size: 1.15rem; }

  /* The slot table becomes one block per slot. */
  .slots-scroll { max-height: 520px; }
  .slots thead { display: none; }
  .slots, .slots tbody { display: block; }
  .slots tr { display: grid; grid-template-columns: auto 1fr; gap: 2px 10px; padding: 8px 10px; border-bottom: 1px solid var(--line); }
  .slots tr:last-child { border-bottom: 0; }
  .slots tr.empty, .slots tr.day { display: block; }
  .slots td { padding: 0; border: 0; }
  .slots td[data-label]:not(.slot-time):not(.slot-phase)::before { content: attr(data-label) ": "; color: var(--faint); font-size: .78rem; }
  .slots td.slot-time { grid-column: 1; }
  .slots td.slot-phase { grid-column: 2; justify-self: end; }
  .slots td:not(.slot-time):not(.slot-phase) { grid-column: 1 / -1; }
  .slots td.dim { display: none; }
  .slots tr.quiet { padding-top: 6px; padding-bottom: 6px; }
  .slots tr.quiet td:not(.slot-time):not(.slot-phase) { display: none; }
  .slots .sub { display: inline; margin-left: 6px; }
  .slots .contract { display: inline; }
  .slots tr.delivering td { background: transparent; }
  .slots tr.delivering { background: color-mix(in srgb, var(--home) 12%, var(--card)); }
}

@media (prefers-reduced-motion: reduce) {
  .link .link-line, .connection .dot { animation: none !important; }
}
`;
