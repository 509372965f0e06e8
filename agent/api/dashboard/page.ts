/**
 * The dashboard's HTML: a static skeleton that /dashboard.js fills in. Every
 * value starts as "—" (unknown), never as a zero. No inline script or style:
 * the API serves the page under `Content-Security-Policy: default-src 'self'`.
 * Elements the script or the tests look up carry `id` or `data-testid`.
 */

/** Line icons (24×24, stroked in the node's colour by the stylesheet). */
const ICONS: Record<string, string> = {
  pv: '<circle cx="12" cy="12" r="4"/><path d="M12 2v2M12 20v2M4.9 4.9l1.4 1.4M17.7 17.7l1.4 1.4M2 12h2M20 12h2M4.9 19.1l1.4-1.4M17.7 6.3l1.4-1.4"/>',
  grid: '<path d="M12 2 7 22M12 2l5 20M5 7h14M7.5 12h9M6 17h12"/>',
  load: '<path d="M3 11.5 12 4l9 7.5M5.5 9.5V20h13V9.5M10 20v-5h4v5"/>',
  battery: '<rect x="2" y="7" width="18" height="10" rx="2"/><path d="M22 11v2M6 10.5v3M10 10.5v3"/>',
};

/** One node of the power-flow diagram: label, big value, and a line under it. */
function flowNode(key: string, label: string, testid: string, extra = ''): string {
  return String.raw`
        <div class="node node-${key} is-missing" id="node-${key}" data-testid="${key}-node">
          <div class="node-head"><svg class="node-icon" viewBox="0 0 24 24" aria-hidden="true">${ICONS[key] ?? ''}</svg><span class="node-label">${label}</span></div>
          <div class="node-value" id="${key}-power" data-testid="${testid}">—</div>
          <div class="node-sub" id="${key}-sub">no data</div>${extra}
        </div>`;
}

/** A connector between a node and the home: a line whose dots move in the direction of the power. */
function connector(key: string, axis: 'h' | 'v'): string {
  return `<div class="link link-${axis} link-${key} is-unknown" id="link-${key}" data-testid="${key}-flow" aria-hidden="true"><span class="link-line"></span></div>`;
}

const batterySoc = String.raw`
          <div class="soc" title="state of charge">
            <span class="soc-value" id="soc" data-testid="soc">—</span>
            <span class="soc-bar"><span class="soc-fill" id="soc-fill"></span></span>
          </div>`;

export const dashboardHtml = String.raw`<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <meta name="color-scheme" content="light dark">
  <meta name="referrer" content="no-referrer">
  <title>tonari</title>
  <link rel="icon" href="/favicon.svg" type="image/svg+xml">
  <link rel="stylesheet" href="/dashboard.css">
  <script src="/dashboard.js" defer></script>
</head>
<body>
  <header class="top">
    <div class="brand">
      <img class="logo" src="/favicon.svg" alt="" width="36" height="36">
      <div class="who">
        <h1><span id="household-name" data-testid="household-name">tonari</span></h1>
        <div class="ids">
          <span class="mono" id="peer-id" data-testid="peer-id" title="this agent's peer id">—</span>
          <span id="zone" class="zone"></span>
          <span id="simulated" class="badge badge-sim" hidden>simulated</span>
        </div>
      </div>
    </div>
    <div class="status-line">
      <div class="connection is-connecting" id="connection" data-testid="connection" data-state="connecting" role="status" aria-live="polite">
        <span class="dot"></span><span id="connection-text">connecting…</span>
      </div>
      <ul class="health" data-testid="health" aria-label="health">
        <li class="chip is-unknown" id="health-devices" data-testid="health-devices"><span class="dot"></span>devices <b>—</b></li>
        <li class="chip is-unknown" id="health-broker" data-testid="health-broker"><span class="dot"></span>broker <b>—</b></li>
        <li class="chip is-unknown" id="health-market" data-testid="health-market"><span class="dot"></span>market <b>—</b></li>
      </ul>
    </div>
  </header>

  <div class="banner" id="banner" data-testid="banner" role="alert" hidden></div>

  <main class="cards">
    <div class="col col-main">
      <section class="card card-flow" aria-labelledby="flow-title" data-testid="power-flow">
        <div class="card-head">
          <h2 id="flow-title">Power now</h2>
          <span class="card-note" id="flow-at" data-testid="flow-at">waiting for data</span>
        </div>
        <div class="flow" id="flow">
          <div class="flow-pv">${flowNode('pv', 'Solar', 'pv-power')}</div>
          <div class="flow-link-pv">${connector('pv', 'v')}</div>
          <div class="flow-grid">${flowNode('grid', 'Grid', 'grid-power')}</div>
          <div class="flow-link-grid">${connector('grid', 'h')}</div>
          <div class="flow-home">${flowNode('load', 'Home', 'load-power')}</div>
          <div class="flow-link-battery">${connector('battery', 'h')}</div>
          <div class="flow-battery">${flowNode('battery', 'Battery', 'battery-power', batterySoc)}</div>
        </div>
        <dl class="meters" id="meters" data-testid="meters">
          <div><dt>Grid bought</dt><dd id="meter-import">—</dd></div>
          <div><dt>Grid sold</dt><dd id="meter-export">—</dd></div>
          <div><dt>Solar made</dt><dd id="meter-pv">—</dd></div>
        </dl>
      </section>

      <section class="card card-slots" aria-labelledby="slots-title">
        <div class="card-head">
          <h2 id="slots-title">Today's market</h2>
          <span class="card-note" id="slots-summary" data-testid="slots-summary">—</span>
        </div>
        <div class="timeline" id="timeline" data-testid="timeline" aria-hidden="true"></div>
        <div class="timeline-axis" aria-hidden="true"><span>00</span><span>06</span><span>12</span><span>18</span><span>24</span></div>
        <ul class="legend" aria-hidden="true">
          <li><span class="swatch sw-sell"></span>selling</li>
          <li><span class="swatch sw-buy"></span>buying</li>
          <li><span class="swatch sw-traded"></span>contract</li>
          <li><span class="swatch sw-now"></span>now</li>
        </ul>
        <div class="slots-scroll" id="slots-scroll" tabindex="0" aria-label="slots of the day">
          <table class="slots" data-testid="slots">
            <thead>
              <tr><th scope="col">Time</th><th scope="col">Phase</th><th scope="col">Your order</th><th scope="col">Book</th><th scope="col">Clearing</th><th scope="col">Contract</th></tr>
            </thead>
            <tbody id="slots-body"><tr class="empty"><td colspan="6">Loading…</td></tr></tbody>
          </table>
        </div>
        <button type="button" class="more" id="slots-more" hidden></button>
      </section>
    </div>
    <div class="col col-side">
      <section class="card card-money" aria-labelledby="money-title" data-testid="earnings">
        <div class="card-head">
          <h2 id="money-title">Trading with neighbours</h2>
        </div>
        <div class="money">
          <div class="money-period">
            <h3>Today</h3>
            <div class="stat"><span class="stat-label">Earned (net)</span><span class="stat-value" id="earnings-today" data-testid="earnings-today">—</span></div>
            <div class="stat"><span class="stat-label">Saved vs utility</span><span class="stat-value stat-save" id="savings-today" data-testid="savings-today">—</span></div>
            <div class="stat-foot" id="energy-today" data-testid="energy-today">—</div>
          </div>
          <div class="money-period">
            <h3>All time</h3>
            <div class="stat"><span class="stat-label">Earned (net)</span><span class="stat-value" id="earnings-total" data-testid="earnings-total">—</span></div>
            <div class="stat"><span class="stat-label">Saved vs utility</span><span class="stat-value stat-save" id="savings-total" data-testid="savings-total">—</span></div>
            <div class="stat-foot" id="energy-total" data-testid="energy-total">—</div>
          </div>
        </div>
        <p class="hint">Saved: what each settled trade gained over the utility (its retail price for what you bought, its buyback price for what you sold).</p>
      </section>

      <section class="card card-peers" aria-labelledby="peers-title">
        <div class="card-head">
          <h2 id="peers-title">Neighbours</h2>
          <span class="card-note" id="peers-summary" data-testid="peers-summary">—</span>
        </div>
        <ul class="peers" id="peers" data-testid="peers"><li class="empty">Loading…</li></ul>
        <p class="hint" id="peers-extra" hidden></p>
      </section>

      <section class="card card-events" aria-labelledby="events-title">
        <div class="card-head">
          <h2 id="events-title">Security and health</h2>
          <span class="card-note" id="events-summary"></span>
        </div>
        <ul class="events" id="events" data-testid="events"><li class="empty">Loading…</li></ul>
      </section>
    </div>




  </main>

  <footer class="foot" id="footer" data-testid="footer">tonari</footer>
</body>
</html>
`;
