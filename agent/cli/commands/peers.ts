import { parseArgs } from 'node:util';
import { AgentUnavailableError, askAgent, ControlRequestError } from '../../control/client.js';
import type { NeighbourRow, PeersResult } from '../../control/protocol.js';
import { agentUnavailableHint, commandLine } from '../hints.js';
import { EXIT, writeLine, type CliIO } from '../io.js';
import { DEFAULT_STATE_DIR, resolveStateDir } from './identity.js';

const USAGE = `usage: tonari peers [--state-dir DIR] [--json]

Lists the neighbours of the running agent: trusted ones with their link state,
address, when they were last heard, round-trip time and messages dropped by
reason; and keys seen but not trusted. Asks the agent over its control socket.

  --state-dir DIR   the agent's state directory (default $STATE_DIRECTORY or ${DEFAULT_STATE_DIR})
  --json            print one JSON array, one object per neighbour

Exit 69 if no agent runs on that state directory.`;

export function formatAge(ms: number | null): string {
  if (ms === null) return '-';
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s}s ago`;
  if (s < 3600) return `${Math.floor(s / 60)}m ago`;
  if (s < 86_400) return `${Math.floor(s / 3600)}h ago`;
  return `${Math.floor(s / 86_400)}d ago`;
}

function counts(record: Record<string, number>): string {
  const parts = Object.entries(record).filter(([, n]) => n > 0).map(([reason, n]) => `${reason}=${n}`);
  return parts.length ? parts.join(' ') : '-';
}

/** The table `tonari peers` prints. */
export function peersTable(result: PeersResult): string[] {
  const header = ['PEER ID', 'NAME', 'STATE', 'ADDRESS', 'LAST SEEN', 'RTT', 'REJECTED'];
  const cells = (row: NeighbourRow) => [
    row.peerId, row.name ?? '-', row.state, row.address ? `${row.address.host}:${row.address.port}` : '-',
    formatAge(row.lastSeenAgeMs), row.rttMs === null ? '-' : `${row.rttMs} ms`, counts(row.rejections),
  ];
  const lines: string[] = [`this agent ${result.self.peerId}, zone ${result.self.zone}`];
  if (result.cluster) lines.push(`external broker ${result.cluster.host}:${result.cluster.port} (${result.cluster.state}); every neighbour is reached through it`);
  if (result.peers.length === 0) {
    lines.push('no neighbours yet: list them under trust.peers and mesh.peers, or pair with tonari pair --window 10m');
  } else {
    const table = [header, ...result.peers.map(cells)];
    const widths = header.map((_, i) => Math.max(...table.map((r) => r[i]!.length)));
    for (const row of table) lines.push(row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i]!))).join('  '));
  }
  const { refused } = result;
  lines.push(`refused connections: ${counts(refused.tls)}; broker: ${counts(refused.broker)}; pairing: ${counts(refused.trust)}; messages: ${counts(refused.mesh)}`);
  if (result.pairing.open && result.pairing.closesAt !== null) {
    lines.push(`pairing window open until ${new Date(result.pairing.closesAt).toLocaleTimeString()} (${result.pairing.pending} waiting)`);
  }
  return lines;
}

export async function peersCommand(argv: string[], io: CliIO): Promise<number> {
  let args;
  try {
    args = parseArgs({ args: argv, options: { 'state-dir': { type: 'string' }, json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } }, strict: true });
  } catch (error) {
    writeLine(io.stderr, `tonari peers: ${(error as Error).message}\n\n${USAGE}`);
    return EXIT.USAGE;
  }
  if (args.values.help) {
    writeLine(io.stdout, USAGE);
    return EXIT.OK;
  }
  const stateDir = resolveStateDir(args.values['state-dir']);
  let result: PeersResult;
  try {
    result = await askAgent<PeersResult>(stateDir, 'peers');
  } catch (error) {
    if (error instanceof AgentUnavailableError) {
      writeLine(io.stderr, `tonari peers: ${error.message}`);
      writeLine(io.stderr, `tonari peers: ${await agentUnavailableHint(stateDir, error.reason, commandLine('peers', argv))}`);
      return EXIT.UNAVAILABLE;
    }
    if (error instanceof ControlRequestError) {
      writeLine(io.stderr, `tonari peers: the agent refused: ${error.message}`);
      return EXIT.SOFTWARE;
    }
    throw error;
  }
  if (args.values.json) writeLine(io.stdout, JSON.stringify(result.peers));
  else for (const line of peersTable(result)) writeLine(io.stdout, line);
  return EXIT.OK;
}
