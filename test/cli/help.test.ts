/**
 * `--help` for every command the CLI registers (read from `tonari --help`, so a new
 * command is covered the day it is added): exit 0, a `usage: tonari <command>` line on
 * stdout, nothing on stderr, and every option the command parses (read from its
 * source's parseArgs options) named in its help.
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { ensureDistFresh, ROOT } from '../helpers/build.js';

const BIN = path.join(ROOT, 'dist/agent/cli/bin.js');

function tonari(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], { timeout: 30_000, env: { ...process.env, STATE_DIRECTORY: '' } }, (error, stdout, stderr) => {
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : -1) : 0, stdout, stderr });
    });
  });
}

/** The long options a command's source declares to parseArgs: `name: { type: 'string' | 'boolean' … }`. */
function declaredOptions(command: string): string[] {
  const source = readFileSync(path.join(ROOT, 'agent/cli/commands', `${command}.ts`), 'utf8');
  const names = [...source.matchAll(/(?:'([a-z][a-z0-9-]*)'|\b([a-z][a-zA-Z0-9]*)):\s*\{\s*type:\s*'(?:string|boolean)'/g)].map((m) => m[1] ?? m[2]!);
  return [...new Set(names)].filter((n) => n !== 'help');
}

t.before(() => ensureDistFresh(['agent', 'broker']));

t.test('tonari --help lists the commands; tonari help too', async (t) => {
  const help = await tonari(['--help']);
  t.equal(help.code, 0);
  t.match(help.stdout, /^usage: tonari <command> \[options\]\n/);
  t.equal(help.stderr, '');
  t.equal((await tonari(['help'])).stdout, help.stdout);
  t.equal((await tonari(['-h'])).stdout, help.stdout);
});

t.test('every registered command: --help exits 0 with its usage and names every option it parses', async (t) => {
  const list = (await tonari(['--help'])).stdout;
  const commands = [...list.slice(list.indexOf('commands:')).matchAll(/^ {2}([a-z]+) {2,}\S/gm)].map((m) => m[1]!);
  for (const expected of ['run', 'check', 'init', 'scan', 'simulate', 'broker', 'identity', 'pair', 'peers', 'ledger', 'trades', 'demo']) {
    t.ok(commands.includes(expected), `${expected} is registered`);
  }
  const results = await Promise.all(commands.map(async (command) => ({ command, help: await tonari([command, '--help']), short: await tonari([command, '-h']) })));
  for (const { command, help, short } of results) {
    t.test(command, async (t) => {
      t.equal(help.code, 0, `tonari ${command} --help exits 0 (${help.stderr})`);
      t.equal(help.stderr, '', 'nothing on stderr');
      t.match(help.stdout, new RegExp(`^usage: tonari ${command}\\b`, 'm'), 'a usage line');
      t.match(help.stdout, /\n$/, 'ends with a newline');
      t.equal(short.stdout, help.stdout, '-h is --help');
      const options = declaredOptions(command);
      t.ok(options.length > 0, `found the options of ${command}`);
      for (const option of options) t.match(help.stdout, new RegExp(`--${option}\\b`), `--${option} is explained`);
    });
  }
});

t.test('an unknown option: exit 64 and the message on stderr, nothing on stdout', async (t) => {
  const list = (await tonari(['--help'])).stdout;
  const commands = [...list.slice(list.indexOf('commands:')).matchAll(/^ {2}([a-z]+) {2,}\S/gm)].map((m) => m[1]!);
  const results = await Promise.all(commands.map(async (command) => ({ command, res: await tonari([command, '--no-such-option']) })));
  for (const { command, res } of results) {
    t.equal(res.code, 64, `tonari ${command} --no-such-option exits 64`);
    t.match(res.stderr, /Unknown option '--no-such-option'/, `${command} names the option`);
    t.equal(res.stdout, '', `${command} prints nothing on stdout`);
  }
});
