/**
 * `npm run bench:devices`: the device layer's cost.
 *
 * (a) Modbus requests per poll: the planner, one read per point, and the
 *     fewest possible (exhaustive DP in min-requests.ts), for a full poll of
 *     the simulated hybrid system and for the agent's own household poll set;
 *     plus the requests a SunSpecDevice really sends to the simulator.
 * (b) Poll cycle time over RTU at 9600 baud (socat pty pair, simulator
 *     emulating wire time) against the wire-time limit of the same requests.
 * (c) RSS and CPU of `tonari run` polling a separate `tonari simulate` every second.
 *
 * Prints a table; the last line of stdout is one JSON object with the headline figures.
 * Timings are figures, not pass/fail: the machines are shared and noisy.
 */
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { systemClock } from '../../agent/core/clock.js';
import { silentLogger } from '../../agent/core/log.js';
import { ModbusLink, type LinkSpec } from '../../agent/devices/modbus/index.js';
import { defaultMaxGap, type ReadBlock } from '../../agent/devices/planner.js';
import { SunSpecDevice } from '../../agent/devices/sunspec/device.js';
import type { Role } from '../../agent/household/quantities.js';
import { unitReader } from '../../agent/app/devices.js';
import { rtuWireTimeMs } from '../../agent/sim/server/wire-time.js';
import { startSimulator, type RunningSimulator } from '../../agent/sim/simulator.js';
import {
  FULL_POLL_MODELS, fullPollSpans, householdPollSpans, plan, pollFigures, simulatedChains, type PollFigures, type UnitSpans,
} from './devices-figures.js';
import { delay, measureProcs, spawnTracked, startPtyPair, tempDir, waitFor, type ProcFigures, type Tracked } from './devices-procs.js';

const TCP_GAP = defaultMaxGap('tcp');
const RTU_GAP = defaultMaxGap('rtu');
const BAUD = 9600;
/** The agent's devices on the simulated household (as `tonari run --demo` configures them). */
const AGENT_DEVICES: { name: string; unit: number; roles: Role[] }[] = [
  { name: 'inverter', unit: 1, roles: ['pv', 'battery'] },
  { name: 'meter', unit: 2, roles: ['grid'] },
];

const log = silentLogger();
const out = (line = '') => process.stdout.write(`${line}\n`);
const fmt = (n: number, digits = 2) => (Number.isFinite(n) ? n.toFixed(digits) : String(n));
const pad = (s: string | number, w: number) => String(s).padStart(w);

function sunSpecDevices(link: ModbusLink, maxGap: number): SunSpecDevice[] {
  return AGENT_DEVICES.map((d) => new SunSpecDevice({
    name: d.name, roles: d.roles, reader: unitReader(link, d.unit), subdevice: 0, invertGrid: false, maxGap, log,
  }));
}

// ---------------------------------------------------------------- (a) requests

interface RequestRow { label: string; maxGap: number; units: UnitSpans[]; figures: PollFigures }

async function requestFigures(): Promise<{ rows: RequestRow[]; full: PollFigures; householdTcp: PollFigures }> {
  const solarEdge = await simulatedChains(['solaredge']);
  const plain = await simulatedChains([]);
  const row = (label: string, maxGap: number, units: UnitSpans[]): RequestRow => ({ label, maxGap, units, figures: pollFigures(units, maxGap) });
  const rows = [
    row(`full poll, one chain (solaredge layout)`, TCP_GAP, solarEdge.map((c) => fullPollSpans(c))),
    row(`full poll, units 1+2 (default layout)`, TCP_GAP, plain.map((c) => fullPollSpans(c))),
    row(`household set, units 1+2 (agent)`, TCP_GAP, plain.map((c) => householdPollSpans(c))),
    row(`full poll, one chain (solaredge layout)`, RTU_GAP, solarEdge.map((c) => fullPollSpans(c))),
    row(`household set, units 1+2 (agent)`, RTU_GAP, plain.map((c) => householdPollSpans(c))),
  ];
  return { rows, full: rows[0]!.figures, householdTcp: rows[2]!.figures };
}

function printRequestTable(rows: RequestRow[]): void {
  out(`(a) Modbus requests per poll (models ${FULL_POLL_MODELS.join(', ')}: every point, each scaled value with its scale factor)`);
  out(`    ${'poll set'.padEnd(42)}${pad('maxGap', 7)}${pad('spans', 7)}${pad('planner', 9)}${pad('naive', 7)}${pad('min(DP)', 9)}${pad('registers', 11)}  planner=min`);
  for (const r of rows) {
    const f = r.figures;
    const spans = r.units.reduce((s, u) => s + u.spans.length, 0);
    out(`    ${r.label.padEnd(42)}${pad(r.maxGap, 7)}${pad(spans, 7)}${pad(f.requests, 9)}${pad(f.naiveRequests, 7)}${pad(f.minRequests, 9)}${pad(f.registers, 11)}  ${f.requests === f.minRequests ? 'yes' : 'NO'}`);
    for (const e of f.planErrors) out(`      plan error: ${e}`);
  }
}

/** One poll of the household set by the agent's SunSpecDevices against a real simulator over TCP: requests on the wire. */
async function wireRequestCount(): Promise<{ planned: number; onWire: number }> {
  let sim: RunningSimulator | undefined;
  let link: ModbusLink | undefined;
  try {
    sim = await startSimulator({ clock: systemClock, log, transport: { kind: 'tcp', host: '127.0.0.1', port: 0 } });
    const { port } = sim.server.address();
    link = new ModbusLink({ name: 'bench', type: 'tcp', host: '127.0.0.1', port, timeout: 2000, connectDelay: 0, interRequestDelay: 0 }, { logger: log });
    const devices = sunSpecDevices(link, TCP_GAP);
    for (const d of devices) await d.poll(); // discovery + first poll
    const before = sim.server.requestCount();
    for (const d of devices) await d.poll();
    const onWire = sim.server.requestCount() - before;
    return { planned: devices.reduce((s, d) => s + (d.requestsPerPoll() ?? NaN), 0), onWire };
  } finally {
    await link?.close();
    await sim?.close();
  }
}

// ---------------------------------------------------------------- (b) RTU cycle

interface RtuFigures {
  interRequestDelay: number;
  cycles: number;
  requestsPerCycle: number;
  /** Requests the simulator saw per cycle (must equal requestsPerCycle). */
  seenPerCycle: number;
  meanMs: number;
  minMs: number;
  maxMs: number;
  limitMs: number;
  ratio: number;
}

/** Wire-time limit of one cycle: every FC3 request is 8 bytes, its reply 5 + 2·count. */
function wireLimitMs(blocks: readonly ReadBlock[]): number {
  return blocks.reduce((s, b) => s + rtuWireTimeMs(8, 5 + 2 * b.count, BAUD), 0);
}

async function rtuCycle(interRequestDelays: readonly number[], maxCycles: number, budgetMs: number): Promise<RtuFigures[]> {
  // The requests of one cycle: the planner's blocks for the household set of each unit (the devices' own plans,
  // checked below against their requestsPerPoll() and against what the simulator sees).
  const blocks = (await simulatedChains([])).flatMap((c) => plan(householdPollSpans(c).spans, RTU_GAP).blocks);
  const limitMs = wireLimitMs(blocks);
  const pty = await startPtyPair();
  let sim: RunningSimulator | undefined;
  try {
    sim = await startSimulator({
      clock: systemClock, log, transport: { kind: 'rtu', path: pty.a, baudRate: BAUD }, emulateWireTime: { baudRate: BAUD },
    });
    const results: RtuFigures[] = [];
    for (const interRequestDelay of interRequestDelays) {
      const spec: LinkSpec = {
        name: `rtu-${interRequestDelay}`, type: 'rtu', path: pty.b, baudRate: BAUD, parity: 'none', dataBits: 8, stopBits: 1,
        timeout: 2000, connectDelay: 0, interRequestDelay,
      };
      const link = new ModbusLink(spec, { logger: log });
      try {
        const devices = sunSpecDevices(link, RTU_GAP);
        await Promise.all(devices.map((d) => d.poll())); // discovery, then one warm-up cycle
        await Promise.all(devices.map((d) => d.poll()));
        const planned = devices.reduce((sum, d) => sum + (d.requestsPerPoll() ?? NaN), 0);
        if (planned !== blocks.length) throw new Error(`devices plan ${planned} requests per cycle, the planner on the same spans ${blocks.length}`);
        const times: number[] = [];
        const seenBefore = sim.server.requestCount();
        const deadline = performance.now() + budgetMs;
        while (times.length < maxCycles && performance.now() < deadline) {
          const t0 = performance.now();
          await Promise.all(devices.map((d) => d.poll())); // as the Poller does: devices in parallel, the link serialises
          times.push(performance.now() - t0);
        }
        const meanMs = times.reduce((s, t) => s + t, 0) / times.length;
        results.push({
          interRequestDelay, cycles: times.length, requestsPerCycle: blocks.length,
          seenPerCycle: (sim.server.requestCount() - seenBefore) / times.length,
          meanMs, minMs: Math.min(...times), maxMs: Math.max(...times), limitMs, ratio: meanMs / limitMs,
        });
      } finally {
        await link.close();
      }
    }
    return results;
  } finally {
    await sim?.close();
    await pty.close();
  }
}

// ---------------------------------------------------------------- (c) tonari run

interface RunFigures { agent: ProcFigures; simulator: ProcFigures; polls: string }

async function runFigures(warmUpMs: number, sampleMs: number): Promise<RunFigures> {
  const bin = resolve(fileURLToPath(new URL('../../agent/cli/bin.js', import.meta.url)));
  const dir = tempDir('tonari-bench-run-');
  let simulate: Tracked | undefined;
  let run: Tracked | undefined;
  try {
    simulate = spawnTracked(process.execPath, [bin, 'simulate', '--host', '127.0.0.1', '--port', '0']);
    await waitFor(() => /simulated household on tcp 127\.0\.0\.1:\d+/.test(simulate!.output()) || simulate!.child.exitCode !== null, 15_000, 'tonari simulate to listen');
    const port = Number(/simulated household on tcp 127\.0\.0\.1:(\d+)/.exec(simulate.output())?.[1]);
    if (!Number.isInteger(port) || port <= 0) throw new Error(`tonari simulate did not start: ${simulate.output().slice(-2000)}`);
    const config = join(dir, 'tonari.yaml');
    writeFileSync(config, [
      'log:', '  level: info',
      'poll:', '  interval: 1s',
      'links:', '  sim:', '    type: tcp', '    host: 127.0.0.1', `    port: ${port}`,
      'devices:',
      '  inverter:', '    type: sunspec', '    link: sim', '    unit: 1', '    provides: [pv, battery]',
      '  meter:', '    type: sunspec', '    link: sim', '    unit: 2', '    provides: [grid]',
      'api:', '  enabled: false',
      '',
    ].join('\n'));
    run = spawnTracked(process.execPath, [bin, 'run', '--config', config]);
    await waitFor(() => (run!.output().match(/SunSpec device discovered/g) ?? []).length >= 2 || run!.child.exitCode !== null, 15_000, 'tonari run to discover both devices');
    if (run.child.exitCode !== null) throw new Error(`tonari run exited with ${run.child.exitCode}: ${run.output().slice(-2000)}`);
    await delay(warmUpMs);
    const [agent, simulator] = await measureProcs([run.pid, simulate.pid], sampleMs);
    if (run.child.exitCode !== null) throw new Error(`tonari run exited during sampling: ${run.output().slice(-2000)}`);
    const failures = (run.output().match(/device read failed/g) ?? []).length;
    return { agent: agent!, simulator: simulator!, polls: failures === 0 ? 'every poll read' : `${failures} failed device reads logged` };
  } finally {
    await run?.stop();
    await simulate?.stop();
  }
}

// ---------------------------------------------------------------- main

async function main(): Promise<void> {
  const started = performance.now();
  out('tonari device benchmark (figures only; compare ratios measured side by side in one run)');
  out();

  const { rows, full, householdTcp } = await requestFigures();
  printRequestTable(rows);
  const wire = await wireRequestCount();
  out(`    on the wire (TCP simulator, SunSpecDevices units 1+2, one poll of the household set): ${wire.onWire} requests; `
    + `devices' plans ${wire.planned}; planner figure above ${householdTcp.requests}`
    + (wire.onWire === wire.planned && wire.planned === householdTcp.requests ? ' (all equal)' : ' (MISMATCH)'));
  out();

  const rtu = await rtuCycle([0, 20], 25, 12_000);
  out(`(b) Poll cycle over RTU at ${BAUD} baud (socat pty; simulator delays each reply by its wire time; maxGap ${RTU_GAP}; household set, units 1+2)`);
  out(`    ${'interRequestDelay'.padEnd(19)}${pad('cycles', 7)}${pad('req/cycle', 10)}${pad('seen', 6)}${pad('mean ms', 9)}${pad('min', 8)}${pad('max', 8)}${pad('limit ms', 10)}${pad('ratio', 7)}`);
  for (const r of rtu) {
    out(`    ${`${r.interRequestDelay} ms`.padEnd(19)}${pad(r.cycles, 7)}${pad(r.requestsPerCycle, 10)}${pad(fmt(r.seenPerCycle, 1), 6)}${pad(fmt(r.meanMs, 1), 9)}${pad(fmt(r.minMs, 1), 8)}${pad(fmt(r.maxMs, 1), 8)}${pad(fmt(r.limitMs, 1), 10)}${pad(fmt(r.ratio), 7)}`);
  }
  out('    limit = sum over the cycle\'s requests of rtuWireTimeMs(8, 5 + 2*count, 9600); ratio = mean / limit (target <= 1.2 with delay 0)');
  const tcpGapBlocks = (await simulatedChains([])).flatMap((c) => plan(householdPollSpans(c).spans, TCP_GAP).blocks);
  out(`    for scale: the same set planned with maxGap ${TCP_GAP} would be ${tcpGapBlocks.length} requests with a limit of ${fmt(wireLimitMs(tcpGapBlocks), 1)} ms`);
  out();

  const warmUpMs = 5000;
  const sampleMs = 20_000;
  const run = await runFigures(warmUpMs, sampleMs);
  out(`(c) tonari run --config (TCP to a separate tonari simulate, poll.interval 1s): ${fmt(warmUpMs / 1000, 0)} s warm-up after discovery, sampled ${fmt(run.agent.windowS, 1)} s (${run.agent.samples} samples); ${run.polls}`);
  out(`    ${'process'.padEnd(19)}${pad('peak RSS MB', 13)}${pad('mean RSS MB', 13)}${pad('CPU % (1 core)', 16)}`);
  for (const [name, p] of [['tonari run', run.agent], ['tonari simulate', run.simulator]] as const) {
    out(`    ${name.padEnd(19)}${pad(fmt(p.peakRssMB, 1), 13)}${pad(fmt(p.meanRssMB, 1), 13)}${pad(fmt(p.cpuPercent), 16)}`);
  }
  out('    rssMB below = peak VmRSS of tonari run (target <= 80)');
  out();
  out(`total ${fmt((performance.now() - started) / 1000, 1)} s`);

  const rtu0 = rtu.find((r) => r.interRequestDelay === 0)!;
  out(JSON.stringify({
    requests: full.requests,
    naiveRequests: full.naiveRequests,
    minRequests: full.minRequests,
    rtuCycleRatio: Number(rtu0.ratio.toFixed(3)),
    rssMB: Number(run.agent.peakRssMB.toFixed(1)),
    cpuPercent: Number(run.agent.cpuPercent.toFixed(2)),
  }));
}

// Exit explicitly (after stdout drains): the children are stopped by then, and the exit hook kills any left.
main().then(
  () => process.stdout.write('', () => process.exit(0)),
  (err: unknown) => {
    process.stderr.write(`bench:devices failed: ${err instanceof Error ? err.stack ?? err.message : String(err)}\n`, () => process.exit(1));
  },
);
