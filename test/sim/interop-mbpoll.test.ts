import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import t from 'tap';
import { MapRegisterSpace, startModbusServer } from '../../agent/sim/server/index.js';
import { missingTool } from './helpers.js';

const run = promisify(execFile);

t.test('mbpoll (libmodbus) reads SunS from the simulator over TCP', { skip: missingTool('mbpoll') }, async (t) => {
  const registers = new MapRegisterSpace({ 1: { 40000: 0x5375, 40001: 0x6e53, 40002: 1, 40003: 66 } });
  const server = await startModbusServer({ transport: { kind: 'tcp' }, registers });
  t.teardown(() => server.close());
  const { port } = server.address();
  const { stdout } = await run('mbpoll', ['-m', 'tcp', '-a', '1', '-p', String(port), '-t', '4:hex', '-r', '40001', '-c', '4', '-1', '127.0.0.1'], {
    timeout: 10_000,
  });
  t.match(stdout, /\[40001\]:\s+0x5375/);
  t.match(stdout, /\[40002\]:\s+0x6E53/);
  t.match(stdout, /\[40003\]:\s+0x0001/);
  t.match(stdout, /\[40004\]:\s+0x0042/);

  await run('mbpoll', ['-m', 'tcp', '-a', '1', '-p', String(port), '-r', '40004', '-1', '127.0.0.1', '77'], { timeout: 10_000 });
  t.equal(registers.get(1, 40003), 77, 'mbpoll write (FC 6) landed');
});
