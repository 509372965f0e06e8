import { EXIT, writeLine, type CliIO, type Command } from './io.js';

const COMMANDS: Record<string, { summary: string; load: () => Promise<Command> }> = {
  run: { summary: 'run the agent (reads devices; a simulated household if none are configured)', load: async () => (await import('./commands/run.js')).runCommand },
  check: { summary: 'validate a configuration file', load: async () => (await import('./commands/check.js')).checkCommand },
  init: { summary: 'write a commented starter configuration', load: async () => (await import('./commands/init.js')).initCommand },
  scan: { summary: 'find SunSpec devices on a Modbus TCP host or serial bus', load: async () => (await import('./commands/scan.js')).scanCommand },
  simulate: { summary: 'serve a simulated household over Modbus TCP or RTU', load: async () => (await import('./commands/simulate.js')).simulateCommand },
  broker: { summary: 'run a standalone MQTT broker (community hub) over mutual TLS', load: async () => (await import('./commands/broker.js')).brokerCommand },
  identity: { summary: 'print this agent\'s peer id, fingerprint and check code', load: async () => (await import('./commands/identity.js')).identityCommand },
  pair: { summary: 'pair with neighbours (--window on the running agent), list or remove them', load: async () => (await import('./commands/pair.js')).pairCommand },
  peers: { summary: 'list the running agent\'s neighbours: link state, address, last seen, RTT, drops', load: async () => (await import('./commands/peers.js')).peersCommand },
  status: { summary: 'what the running agent is doing: power flows, health, neighbours, today\'s trades, dashboard URL', load: async () => (await import('./commands/status.js')).statusCommand },
  ledger: { summary: 'verify the signed hash chain of the trade ledger, or export it as CSV', load: async () => (await import('./commands/ledger.js')).ledgerCommand },
  trades: { summary: 'list this agent\'s contracts and how they settled, from its ledger', load: async () => (await import('./commands/trades.js')).tradesCommand },
  demo: { summary: 'start a community of simulated households on this machine, trading on an accelerated clock', load: async () => (await import('./commands/demo.js')).demoCommand },
};

function usage(io: CliIO): void {
  writeLine(io.stdout, 'usage: tonari <command> [options]\n\ncommands:');
  for (const [name, { summary }] of Object.entries(COMMANDS)) writeLine(io.stdout, `  ${name.padEnd(10)}${summary}`);
  writeLine(io.stdout, '\nRun `tonari <command> --help` for the options of a command.');
}

export async function main(argv: string[], io: CliIO): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    usage(io);
    return name ? EXIT.OK : EXIT.USAGE;
  }
  if (name === '--version' || name === 'version') {
    writeLine(io.stdout, (await import('./version.js')).VERSION);
    return EXIT.OK;
  }
  const entry = COMMANDS[name];
  if (!entry) {
    writeLine(io.stderr, `tonari: unknown command '${name}'`);
    usage(io);
    return EXIT.USAGE;
  }
  const command = await entry.load();
  return command(rest, io);
}
