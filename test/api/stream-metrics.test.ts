/**
 * The event stream and /metrics of a running agent: household events that change,
 * heartbeats, an `event` frame from a real refusal, the stream limit, streams closed
 * when the agent stops; Prometheus text that parses, with plausible values equal to
 * the JSON endpoints.
 */
import net from 'node:net';
import t from 'tap';
import { apiConfig, delay, getJson, startApiAgent, stateDir, until } from './helpers.js';

interface Frame {
  event: string;
  data: any;
}

/** Follows an SSE response: parsed frames and comment lines as they arrive. */
function follow(res: Response) {
  const frames: Frame[] = [];
  const comments: string[] = [];
  let ended = false;
  const done = (async () => {
    const decoder = new TextDecoder();
    let buffer = '';
    const reader = res.body!.getReader();
    try {
      for (;;) {
        const { value, done: finished } = await reader.read();
        if (finished) break;
        buffer += decoder.decode(value, { stream: true });
        for (let end = buffer.indexOf('\n\n'); end !== -1; end = buffer.indexOf('\n\n')) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          let event = 'message';
          let data: string | undefined;
          for (const line of block.split('\n')) {
            if (line.startsWith(':')) comments.push(line);
            else if (line.startsWith('event: ')) event = line.slice(7);
            else if (line.startsWith('data: ')) data = line.slice(6);
          }
          if (data !== undefined) frames.push({ event, data: JSON.parse(data) });
        }
      }
    } catch {
      // aborted
    }
    ended = true;
  })();
  return { frames, comments, done, get ended() { return ended; } };
}

t.test('/api/stream: a first picture, household events that change, heartbeats, security events, a limit', async (t) => {
  const agent = await startApiAgent(t, apiConfig(stateDir(t)), { api: { stream: { heartbeatMs: 1000, maxStreams: 2 } } });
  const url = new URL('api/stream', agent.api!.url!).href;
  const controller = new AbortController();
  const res = await fetch(url, { signal: controller.signal });
  t.equal(res.status, 200);
  t.equal(res.headers.get('content-type'), 'text/event-stream; charset=utf-8');
  t.equal(res.headers.get('cache-control'), 'no-store');
  const stream = follow(res);

  await until('the first picture', () => ['status', 'household', 'peers', 'slots'].every((e) => stream.frames.some((f) => f.event === e)), 5000);
  t.strictSame(stream.frames.slice(0, 4).map((f) => f.event), ['status', 'household', 'peers', 'slots'], 'status, household, peers and slots at once');
  t.equal(stream.frames[0]!.data.peerId, agent.neighbours!.identity.peerId);

  const households = () => stream.frames.filter((f) => f.event === 'household' && f.data !== null).map((f) => f.data);
  await until('three household events', () => households().length >= 4, 10_000);
  const seen = households();
  const ats = seen.map((h) => h.at);
  t.strictSame(ats, [...new Set(ats)].sort((a, b) => a - b), 'each household event is a newer state');
  for (let i = 2; i < ats.length; i++) t.ok(ats[i]! - ats[i - 1]! >= 500, `at most about one a second (${ats[i]! - ats[i - 1]!} ms apart)`);
  t.ok(seen.at(-1).pvWh > seen[1].pvWh, 'the PV energy counter moved between events');
  t.match(seen.at(-1), { pvW: Number, loadW: Number, gridW: Number, batteryW: Number, socPct: Number, quality: { pvW: 'ok' } });
  await until('a heartbeat', () => stream.comments.includes(': keepalive'), 3000);
  t.pass('heartbeat comments keep the stream alive');

  // A refusal on the broker becomes an `event` frame.
  const tls = agent.neighbours!.broker!.tlsAddress();
  const socket = net.connect(tls.port, tls.host, () => socket.write('not tls\r\n\r\n'));
  socket.on('error', () => {});
  const event = await until('an event frame', () => stream.frames.find((f) => f.event === 'event'), 5000);
  socket.destroy();
  t.match(event.data, { kind: 'tls_refused', reason: 'handshake', count: 1, at: Number });

  // The limit: two streams, a third is refused until one closes.
  const second = new AbortController();
  const res2 = await fetch(url, { signal: second.signal });
  t.equal(res2.status, 200, 'a second stream');
  const third = await fetch(url);
  t.equal(third.status, 503, 'a third is refused');
  t.equal(third.headers.get('retry-after'), '10');
  t.match(await third.json(), { error: /too many event streams/ });
  second.abort();
  await res2.body?.cancel().catch(() => {});
  const again = await until('room for a stream again', async () => {
    const r = await fetch(url);
    if (r.status === 200) return r;
    await r.body?.cancel();
    return undefined;
  }, 5000);
  const other = follow(again);

  // Stopping the agent ends the open streams; stop does not hang on them.
  const started = Date.now();
  await agent.stop();
  t.ok(Date.now() - started < 5000, `stop returns promptly with streams open (${Date.now() - started} ms)`);
  await Promise.race([Promise.all([stream.done, other.done]), delay(3000)]);
  t.ok(stream.ended && other.ended, 'both streams ended');
  controller.abort();
});

/** Prometheus text exposition → samples by name with labels. */
function parseMetrics(text: string) {
  const samples: { name: string; labels: Record<string, string>; value: number }[] = [];
  const types = new Map<string, string>();
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const type = /^# TYPE (\S+) (\S+)$/.exec(line);
    if (type) { types.set(type[1]!, type[2]!); continue; }
    if (line.startsWith('# HELP ')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m) throw new Error(`unparseable line: ${line}`);
    const labels: Record<string, string> = {};
    for (const pair of (m[2] ?? '').match(/[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\]|\\.)*"/g) ?? []) {
      const eq = pair.indexOf('=');
      labels[pair.slice(0, eq)] = JSON.parse(pair.slice(eq + 1)) as string;
    }
    samples.push({ name: m[1]!, labels, value: Number(m[3]) });
  }
  const get = (name: string, labels: Record<string, string> = {}) =>
    samples.find((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))?.value;
  return { samples, types, get };
}

t.test('/metrics: Prometheus text with the agent\'s values', async (t) => {
  const agent = await startApiAgent(t, apiConfig(stateDir(t)));
  const base = agent.api!.url!;
  await until('a complete household', async () => {
    const { body } = await getJson(new URL('api/household', base).href);
    return body && Object.values(body.quality).every((q) => q === 'ok');
  });
  const open = (await getJson(new URL('api/slots', base).href)).body.slots.filter((s: { phase: string }) => s.phase === 'open');
  const order = { energyWh: 800, limitSenPerKWh: 2000, feeSenPerKWh: 0, zone: 'default' };
  await agent.market!.session!.placeOrder(open[0].slot, { ...order, side: 'sell' });
  await agent.market!.session!.placeOrder(open[1].slot, { ...order, side: 'sell' });
  await agent.market!.session!.placeOrder(open[2].slot, { ...order, side: 'buy' });
  // Frozen: the same household for the JSON and the metrics.
  await agent.poller.stop();

  const res = await fetch(new URL('metrics', base));
  t.equal(res.status, 200);
  t.match(res.headers.get('content-type'), /^text\/plain; version=0\.0\.4/);
  const m = parseMetrics(await res.text());
  const household = (await getJson(new URL('api/household', base).href)).body;
  const status = (await getJson(new URL('api/status', base).href)).body;

  t.equal(m.get('tonari_info', { version: status.version, peer_id: status.peerId }), 1);
  t.ok(m.get('tonari_modbus_requests_total', { link: 'sim' })! > 0, 'Modbus requests counted after polls');
  t.equal(m.types.get('tonari_modbus_requests_total'), 'counter');
  t.equal(m.get('tonari_modbus_errors_total', { link: 'sim', kind: 'timeout' }), 0, 'no timeouts against the simulator');
  const latency = m.get('tonari_modbus_latency_seconds', { link: 'sim' })!;
  t.ok(latency > 0 && latency < 1, `EWMA latency in seconds (${latency})`);
  t.equal(m.get('tonari_modbus_connected', { link: 'sim' }), 1);
  t.equal(m.types.get('tonari_device_poll_duration_seconds'), 'histogram');
  const cycles = m.get('tonari_device_poll_duration_seconds_count')!;
  t.ok(cycles > 0, `poll cycles observed (${cycles})`);
  t.ok(m.get('tonari_device_poll_duration_seconds_bucket', { le: '+Inf' }) === cycles);

  t.equal(m.get('tonari_power_watts', { quantity: 'pv' }), household.pvW, 'PV power equals /api/household');
  t.equal(m.get('tonari_power_watts', { quantity: 'load' }), household.loadW);
  t.equal(m.get('tonari_power_watts', { quantity: 'grid' }), household.gridW);
  t.equal(m.get('tonari_power_watts', { quantity: 'battery' }), household.batteryW);
  t.equal(m.get('tonari_battery_soc_ratio'), household.socPct / 100);
  t.equal(m.get('tonari_energy_wh', { counter: 'grid_import' }), household.gridImportWh);
  t.equal(m.get('tonari_energy_wh', { counter: 'grid_export' }), household.gridExportWh);
  t.equal(m.get('tonari_energy_wh', { counter: 'pv' }), household.pvWh);
  for (const key of ['pvW', 'loadW', 'gridW', 'batteryW', 'socPct', 'gridImportWh', 'gridExportWh', 'pvWh']) {
    t.equal(m.get('tonari_reading_stale', { quantity: key }), household.quality[key] === 'ok' ? 0 : 1, `${key} stale flag`);
  }

  t.equal(m.get('tonari_peers', { state: 'connected' }), 0);
  t.equal(m.get('tonari_msg_rejected_total', { reason: 'bad_sig' }), 0);
  t.equal(m.types.get('tonari_msg_rejected_total'), 'counter');
  t.equal(m.get('tonari_tls_rejected_total', { reason: 'handshake' }), 0);
  t.equal(m.get('tonari_broker_refused_total', { reason: 'acl' }), 0);
  t.equal(m.get('tonari_log_recovery_events_total'), 0);
  t.equal(m.get('tonari_ledger_records'), 3);
  t.equal(m.get('tonari_ledger_healthy'), 1);
  t.equal(m.get('tonari_orders', { side: 'sell' }), 2);
  t.equal(m.get('tonari_orders', { side: 'buy' }), 1);
  t.equal(m.get('tonari_contracts_total', { side: 'sell' }), 0);
  t.equal(m.get('tonari_settled_energy_wh_total', { side: 'sell' }), 0);
  t.equal(m.get('tonari_settled_amount_yen_total', { side: 'buy' }), 0);

  // Scrapes at once do not disturb each other.
  const texts = await Promise.all([1, 2, 3, 4].map(async () => (await fetch(new URL('metrics', base))).text()));
  for (const text of texts) t.equal(parseMetrics(text).get('tonari_power_watts', { quantity: 'pv' }), household.pvW, 'concurrent scrape complete');

  // A refusal shows in the counters.
  const tls = agent.neighbours!.broker!.tlsAddress();
  const socket = net.connect(tls.port, tls.host, () => socket.write('not tls\r\n\r\n'));
  socket.on('error', () => {});
  await until('the refusal counted', async () => {
    const again = parseMetrics(await (await fetch(new URL('metrics', base))).text());
    return again.get('tonari_tls_rejected_total', { reason: 'handshake' }) === 1 && again.get('tonari_broker_refused_total', { reason: 'tls_rejected' }) === 1;
  }, 5000);
  socket.destroy();
  t.pass('tls_rejected_total{reason="handshake"} and broker_refused_total{reason="tls_rejected"} count it');
});
