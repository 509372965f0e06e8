import { parseArgs } from 'node:util';
import { ConfigError, loadConfigFile } from '../../config/index.js';
import { AgentUnavailableError, askAgent, ControlRequestError } from '../../control/client.js';
import type { StatusResult } from '../../control/protocol.js';
import { EXIT, writeLine, type CliIO } from '../io.js';
import { DEFAULT_STATE_DIR, resolveStateDir } from './identity.js';

const USAGE = `usage: tonari status [--state-dir DIR | --config FILE] [--json]

Shows what the running agent is doing: the household's power flows, the health
of devices, broker and market, the neighbours connected, today's trades and
earnings, and the dashboard's URL. Asks the agent over its control socket.

  --state-dir DIR   the agent's state directory (default $STATE_DIRECTORY or ${DEFAULT_STATE_DIR})
  --config FILE     take the state directory from this configuration file
  --json            print one JSON object (GET /api/status, household, dashboard, today)

Exit 69 if no agent runs on that state directory.`;

const kw = (w: number | null) => (w === null ? '—' : `${(w / 1000).toFixed(2)} kW`);
const kwh = (wh: number) => `${(wh / 1000).toFixed(2)} kWh`;
const yen = (millisen: number) => `${millisen < 0 ? '−' : ''}${(Math.abs(millisen) / 100_000).toFixed(2)} 円`;

/** The lines `tonari status` prints. */
export function statusLines(s: StatusResult): string[] {
  const lines: string[] = [];
  const who = [`tonari ${s.version}`, `household ${JSON.stringify(s.name)}`, `zone ${s.zone}`];
  if (s.peerId) who.push(`peer ${s.peerId}`);
  lines.push(who.join(' · ') + (s.simulated ? ' (simulated household)' : ''));
  lines.push(`health      devices ${s.health.devices} · broker ${s.health.broker} · market ${s.health.market}`);
  const h = s.household;
  if (!h) {
    lines.push('household   no reading yet');
  } else {
    const mark = (key: 'pvW' | 'loadW' | 'gridW' | 'batteryW' | 'socPct') => (h.quality[key] === 'stale' ? ' (stale)' : '');
    const grid = h.gridW === null ? '' : h.gridW > 1 ? ' import' : h.gridW < -1 ? ' export' : '';
    const battery = h.batteryW === null ? '' : h.batteryW > 1 ? ' discharging' : h.batteryW < -1 ? ' charging' : '';
    lines.push(`household   PV ${kw(h.pvW)}${mark('pvW')} · load ${kw(h.loadW)}${mark('loadW')} · grid ${kw(h.gridW)}${grid}${mark('gridW')}`
      + ` · battery ${kw(h.batteryW)}${battery}${mark('batteryW')} · SoC ${h.socPct === null ? '—' : `${h.socPct.toFixed(1)} %`}${mark('socPct')}`);
  }
  lines.push(s.peerId === null ? 'neighbours  mesh off' : `neighbours  ${s.peers.connected} of ${s.peers.known} connected`);
  const t = s.today;
  lines.push(`today       ${t.contracts} contract${t.contracts === 1 ? '' : 's'} · sold ${kwh(t.soldWh)} · bought ${kwh(t.boughtWh)}`
    + ` · net ${yen(t.receivedMillisen - t.paidMillisen)} · saved ${yen(t.savingsMillisen)} against the utility`);
  if (s.ledger) lines.push(`ledger      ${s.ledger.records} records${s.ledger.healthy ? '' : ' — DAMAGED: trading stopped (tonari ledger verify)'}`);
  lines.push(`dashboard   ${s.dashboard ?? 'off (api.enabled is false, or the agent runs without the API)'}`);
  return lines;
}

export async function statusCommand(argv: string[], io: CliIO): Promise<number> {
  let args;
  try {
    args = parseArgs({
      args: argv,
      options: { 'state-dir': { type: 'string' }, config: { type: 'string' }, json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } },
      strict: true, allowPositionals: false,
    });
  } catch (error) {
    writeLine(io.stderr, `tonari status: ${(error as Error).message}\n\n${USAGE}`);
    return EXIT.USAGE;
  }
  if (args.values.help) {
    writeLine(io.stdout, USAGE);
    return EXIT.OK;
  }
  if (args.values['state-dir'] !== undefined && args.values.config !== undefined) {
    writeLine(io.stderr, `tonari status: give --state-dir or --config, not both\n\n${USAGE}`);
    return EXIT.USAGE;
  }
  let stateDir: string;
  if (args.values.config !== undefined) {
    try {
      stateDir = (await loadConfigFile(args.values.config)).stateDir;
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      writeLine(io.stderr, error.format());
      return EXIT.CONFIG;
    }
  } else {
    stateDir = resolveStateDir(args.values['state-dir']);
  }
  let result: StatusResult;
  try {
    result = await askAgent<StatusResult>(stateDir, 'status');
  } catch (error) {
    if (error instanceof AgentUnavailableError) {
      writeLine(io.stderr, `tonari status: ${error.message}.`);
      writeLine(io.stderr, `Start the agent with \`tonari run --config FILE\` (or \`systemctl start tonari\`), or point --state-dir at the state directory of the one that runs (this looked in ${stateDir}).`);
      return EXIT.UNAVAILABLE;
    }
    if (error instanceof ControlRequestError) {
      writeLine(io.stderr, `tonari status: the agent refused: ${error.message}`);
      return error.code === 'unavailable' ? EXIT.UNAVAILABLE : EXIT.SOFTWARE;
    }
    throw error;
  }
  if (args.values.json) writeLine(io.stdout, JSON.stringify(result));
  else for (const line of statusLines(result)) writeLine(io.stdout, line);
  return EXIT.OK;
}
