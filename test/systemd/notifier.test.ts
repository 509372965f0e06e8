/**
 * The notifier against a real notify socket: systemd-notify (systemd 252) sends the fields
 * as one datagram and waits on BARRIER=1, which notify-receiver.py answers like PID 1.
 */
import t from 'tap';
import { pino } from 'pino';
import { Writable } from 'node:stream';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { notifyArgs, SystemdNotifier } from '../../agent/service/notifier.js';
import { requireTool, toolAvailable } from '../helpers/tools.js';
import { NotifySocket, PYTHON } from './notify-socket.js';

function captureLog() {
  const lines: Record<string, unknown>[] = [];
  const log = pino({ level: 'debug' }, new Writable({ write(chunk, _enc, done) { lines.push(JSON.parse(String(chunk)) as Record<string, unknown>); done(); } }));
  return { log, lines };
}

t.test('arguments: KEY=VALUE each, one line each', async (t) => {
  t.same(notifyArgs({ READY: '1', STATUS: 'PV 2.1 kW\nsecond line' }), ['READY=1', 'STATUS=PV 2.1 kW second line']);
});

t.test('messages reach a real notify socket through systemd-notify', async (t) => {
  if (!requireTool(t, toolAvailable('systemd-notify', ['--version']), 'systemd-notify', 'systemd')) return;
  if (!requireTool(t, toolAvailable(PYTHON, ['--version']), 'python3', 'python3')) return;
  const socket = await NotifySocket.open();
  t.teardown(() => socket.close());
  const { log } = captureLog();
  const notifier = new SystemdNotifier({ socket: socket.path, log });

  notifier.notify({ READY: '1', STATUS: 'starting done' });
  await notifier.flush();
  const ready = await socket.waitFor('READY', 5_000);
  t.same(ready.fields, { READY: '1', STATUS: 'starting done' }, 'one datagram with both fields');

  // A burst while a helper runs is merged into one more run, later values winning.
  for (let i = 0; i < 20; i++) notifier.notify({ WATCHDOG: '1', STATUS: `tick ${i}` });
  await notifier.flush();
  await socket.waitFor('STATUS', 5_000, ready.at + 1);
  await new Promise((r) => setTimeout(r, 200));
  const later = socket.with('WATCHDOG');
  t.ok(later.length >= 1 && later.length <= 2, `20 notifications cost ${later.length} helper runs`);
  t.equal(later.at(-1)!.fields.STATUS, 'tick 19', 'the latest status wins');
  t.equal(notifier.counts.failed, 0);
});

t.test('a missing helper is logged once per streak and never throws', async (t) => {
  const { log, lines } = captureLog();
  const notifier = new SystemdNotifier({ socket: '/nonexistent/notify', log, command: '/nonexistent/systemd-notify' });
  for (let i = 0; i < 3; i++) {
    notifier.notify({ WATCHDOG: '1' });
    await notifier.flush();
  }
  t.equal(notifier.counts.failed, 3);
  t.equal(lines.filter((l) => l.msg === 'systemd-notify failed; systemd may not see readiness or watchdog pings').length, 1, 'one warning');
});

t.test('a helper that hangs is killed after the timeout', async (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'tn-hang-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const helper = path.join(dir, 'systemd-notify');
  writeFileSync(helper, '#!/bin/sh\nexec sleep 30\n', { mode: 0o755 });
  const { log } = captureLog();
  const notifier = new SystemdNotifier({ socket: '/nonexistent/notify', log, command: helper, timeoutMs: 300 });
  notifier.notify({ WATCHDOG: '1' });
  const started = Date.now();
  await notifier.flush();
  const took = Date.now() - started;
  t.ok(took >= 250 && took < 3_000, `flush returned after the timeout (${took} ms)`);
  t.equal(notifier.counts.failed, 1);
});
