/**
 * `npm run bench:mesh`: the mesh's cost, on loopback only (127.0.0.x, ephemeral ports).
 *
 * (a) Time from start to full mesh for 3 and 10 agents: real identities,
 *     trust stores, embedded brokers and Mesh instances in this process
 *     (mesh-agents.ts); the clock runs until every agent has every link 'connected'.
 * (b) QoS 1 throughput of the embedded broker, every guard on, in its own
 *     process, against Mosquitto on its own port in the same run, with the same
 *     clients, payload and kind of TLS (mesh-throughput.ts).
 * (c) The broker's RSS under a flood of oversized packets, bounded in count and
 *     time, with the broker alone in a child process (mesh-flood.ts).
 *
 * Prints tables; the last line of stdout is one JSON object with the headline figures.
 * Figures, not pass/fail: the machines are shared and noisy.
 */
import { measureFlood, DEFAULT_FLOOD, type FloodFigures } from './mesh-flood.js';
import { measureMeshUp, type MeshUpFigures } from './mesh-agents.js';
import { bestRate, headlineJson, median, medianCpu, ratio, round, table, throughputRatio } from './mesh-figures.js';
import { findMosquitto, mosquittoVersion } from './mesh-procs.js';
import { measureThroughput, DEFAULT_THROUGHPUT, type MosquittoBinary, type ThroughputFigures } from './mesh-throughput.js';

const out = (line = '') => process.stdout.write(`${line}\n`);
const fmt = (n: number, digits = 2) => (Number.isFinite(n) ? n.toFixed(digits) : 'n/a');
/** A table cell: the first line, at most 60 characters (the errors are printed in full below the table). */
const shortNote = (note: string | undefined) => {
  const line = (note ?? '').split('\n')[0]!;
  return line.length > 60 ? `${line.slice(0, 57)}...` : line;
};
const indent = (lines: string[]) => lines.forEach((l) => out(`    ${l}`));

/** Runs per mesh size; the median counts. */
const MESH_RUNS = 3;
const MESH_CAP_MS = 30_000;
/** Alternating rounds of hub, Mosquitto with Nagle, Mosquitto with TCP_NODELAY; the best of each counts. */
const THROUGHPUT_ROUNDS = 3;

// ---------------------------------------------------------------- (a)

async function meshUp(): Promise<{ runs: MeshUpFigures[]; seconds3: number; seconds10: number }> {
  const runs: MeshUpFigures[] = [];
  for (const n of [3, 10]) {
    for (let i = 0; i < MESH_RUNS; i++) runs.push(await measureMeshUp(n, MESH_CAP_MS));
  }
  const of = (n: number) => median(runs.filter((r) => r.agents === n).map((r) => r.seconds));
  return { runs, seconds3: of(3), seconds10: of(10) };
}

function printMeshUp(runs: MeshUpFigures[]): void {
  out(`(a) Time from start to full mesh (identities created, trust stores, embedded brokers and Meshes started in one process,`);
  out(`    every agent trusting and linking to every other; ${MESH_RUNS} runs per size, cap ${MESH_CAP_MS / 1000} s; headline = median)`);
  indent(table(
    ['agents', 'run', 'all started s', 'full mesh s', 'links', 'broker sessions', 'conn_limit', 'tls_rejected'],
    runs.map((r, i) => [
      r.agents, (i % MESH_RUNS) + 1, fmt(r.startSeconds, 3), Number.isFinite(r.seconds) ? fmt(r.seconds, 3) : 'CAP HIT',
      `${r.connectedLinks}/${r.agents * (r.agents - 1)}`, r.brokerPeers, r.connLimitRejections, r.tlsRejections,
    ]),
  ));
  out('    full mesh s = from before the first identity is created until every agent has N-1 links connected');
  out('    (CONNACK and every subscription acknowledged). Per-address connection limit raised to 32: on loopback all');
  out('    neighbours share 127.0.0.1; every other broker guard is at its product default.');
}

// ---------------------------------------------------------------- (b)

function printThroughput(f: ThroughputFigures, mosquitto: MosquittoBinary | undefined): void {
  const s = f.settings;
  out(`(b) Throughput, QoS 1, one ${f.payloadBytes}-byte signed envelope per message, one subscriber, mutual TLS 1.3 with pinned Ed25519 keys;`);
  out(`    broker in its own process; ${s.warmup} warm-up then ${s.count} messages per run, at most ${s.window} unreceived, cap ${s.capMs / 1000} s;`);
  out('    the same mqtt.js clients for every broker (in the bench process, TCP_NODELAY on their sockets)');
  indent(table(
    ['setup', 'received', 's', 'msg/s', 'broker CPU µs/msg', 'clients CPU µs/msg', 'note'],
    f.rows.map((r) => [
      r.label, `${r.received}/${r.sent}`, fmt(r.ms / 1000, 2), fmt(r.msgsPerSecond, 0), fmt(r.brokerCpuUsPerMsg, 1), fmt(r.clientCpuUsPerMsg, 1), shortNote(r.note),
    ]),
  ));
  const hub = bestRate(f.rows, 'hub');
  const mq = bestRate(f.rows, 'mosquitto');
  out(`    like for like: best aedes hub ${fmt(hub, 0)} msg/s / best Mosquitto ${fmt(mq, 0)} msg/s = ${fmt(throughputRatio(f.rows), 3)} (target >= 0.7)`);
  const cpuHub = medianCpu(f.rows, 'hub');
  const cpuMq = medianCpu(f.rows, 'mosquitto');
  out(`    broker CPU per message (median): aedes hub ${fmt(cpuHub, 1)} µs, Mosquitto ${fmt(cpuMq, 1)} µs (${fmt(ratio(cpuHub, cpuMq), 2)}x).`);
  out('    The clients share the machine\'s cores with the broker, so msg/s is end to end and partly client-bound;');
  out('    CPU per message is the broker\'s own cost.');
  out('    aedes: every guard on (pinned TLS, packet guard, ACL, client id bound to the key, connection limits, product aedes tuning).');
  if (mosquitto) {
    out(`    Mosquitto ${mosquitto.version} (${mosquitto.path}): TLS 1.3 listener on its own ephemeral port, client certificate required`);
    out('    (the clients\' self-signed certificates as its CA file), CN as user name, a per-client topic ACL, no persistence,');
    out('    no cap on in-flight QoS 1 messages (aedes has none; Mosquitto\'s default of 20 would throttle it); with Nagle as the');
    out('    embedded broker has it, and with TCP_NODELAY. The ratio takes the best Mosquitto run of either setting.');
  }
  for (const e of f.errors) out(`    error: ${e}`);
}

// ---------------------------------------------------------------- (c)

function printFlood(f: FloodFigures): void {
  const s = f.settings;
  const flood = f.phases.find((p) => p.name === 'flood');
  out(`(c) Embedded broker (agent mode, product limits, own process) under an oversized-packet flood: ${s.workers} trusted clients,`);
  out(`    each from its own 127.0.0.x, one attempt at a time; ${s.attempts} attempts per phase, cap ${s.capMs / 1000} s per phase;`);
  out('    broker RSS from /proc every 50 ms; peak = during the phase and 2 s after; each phase starts after a full GC');
  indent(table(
    ['phase', 'attempts', 's', 'RSS before MB', 'peak MB', 'growth MB', 'after GC MB', 'heap used MB'],
    f.phases.map((p) => [p.name, p.attempts, fmt(p.seconds, 1), fmt(p.rssBeforeMB, 1), fmt(p.rssPeakMB, 1), fmt(p.growthMB, 2), fmt(p.rssAfterGcMB, 1), fmt(p.heapAfterGc.heapUsed, 1)]),
  ));
  if (flood) {
    out(`    flood attempts: ${Object.entries(flood.byKind).map(([k, v]) => `${k} ${v.attempts} (${v.closed} closed by the broker)`).join(', ')};`);
    out(`    announced ${fmt(flood.announcedMB, 0)} MiB, written ${fmt(flood.writtenMB, 1)} MiB`);
  }
  out('    warm-up and control: the same count of well-behaved connections (CONNECT, CONNACK, DISCONNECT), before and after');
  out(`    the flood. floodRssGrowthMB = the flood's growth (target < 10); JS heap used before: ${fmt(f.heapBefore.heapUsed, 1)} MB.`);
  out(`    broker counted: ${Object.entries(f.rejected).map(([k, v]) => `${k} ${v}`).join(', ')}`);
  out(`    a normal neighbour afterwards: ${f.servesAfterwards ? 'connected, subscribed and received 10/10' : 'NOT SERVED'}`);
  for (const e of f.errors) out(`    error: ${e}`);
}

// ---------------------------------------------------------------- main

/** Runs one part; a failure is printed and its figures become NaN (null in the JSON), the other parts still run. */
async function part<T>(name: string, run: () => Promise<T>): Promise<T | undefined> {
  try {
    return await run();
  } catch (error) {
    out(`${name} FAILED: ${error instanceof Error ? error.stack ?? error.message : String(error)}`);
    return undefined;
  }
}

async function main(): Promise<void> {
  const started = performance.now();
  out('tonari mesh benchmark (figures only; loopback; compare ratios measured side by side in one run)');
  out();

  const mesh = await part('(a) time to full mesh', meshUp);
  if (mesh) printMeshUp(mesh.runs);
  out();

  const path = findMosquitto();
  const mosquitto = path ? { path, version: mosquittoVersion(path) } : undefined;
  if (!mosquitto) {
    out('!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!');
    out('!!! MOSQUITTO NOT FOUND (/usr/sbin/mosquitto or on PATH): no like-for-like comparison, ratio reported as null.');
    out('!!! Install it with: sudo apt-get install mosquitto');
    out('!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!');
  }
  const throughput = await part('(b) throughput', () => measureThroughput(mosquitto, DEFAULT_THROUGHPUT, THROUGHPUT_ROUNDS));
  if (throughput) printThroughput(throughput, mosquitto);
  out();

  const flood = await part('(c) flood', () => measureFlood(DEFAULT_FLOOD));
  if (flood) printFlood(flood);
  out();

  out(`total ${fmt((performance.now() - started) / 1000, 1)} s`);
  out(headlineJson({
    meshSeconds3: mesh?.seconds3 ?? NaN,
    meshSeconds10: mesh?.seconds10 ?? NaN,
    throughputRatioVsMosquitto: throughput && mosquitto ? round(throughputRatio(throughput.rows), 3) : NaN,
    floodRssGrowthMB: flood?.growthMB ?? NaN,
  }));
}

// Exit explicitly (after stdout drains): the children are stopped by then, and the exit hook kills any left.
main().then(
  () => process.stdout.write('', () => process.exit(0)),
  (err: unknown) => {
    process.stderr.write(`bench:mesh failed: ${err instanceof Error ? err.stack ?? err.message : String(err)}\n`, () => process.exit(1));
  },
);
