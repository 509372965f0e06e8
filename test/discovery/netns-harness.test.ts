// The netns harness itself: hosts exist, multicast route and addresses are set,
// destroy() is idempotent and removes everything, stale namespaces are swept.
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { cleanupStaleNamespaces, createLan, requireNetns } from '../system/netns.js';

function namespaces(): string[] {
  return spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' }).stdout.split('\n').map((l) => l.trim().split(/\s+/)[0] ?? '').filter(Boolean);
}

t.test('createLan builds connected hosts and destroy removes them', async (t) => {
  if (!requireNetns(t)) return;
  const lan = createLan(2);
  t.teardown(() => lan.destroy());
  const names = namespaces();
  t.ok(names.includes(lan.switchNs));
  for (const host of lan.hosts) {
    t.ok(names.includes(host.ns), `${host.ns} exists`);
    const addr = host.run('ip', ['-4', 'addr', 'show', 'dev', host.iface]);
    t.match(addr.stdout, `inet ${host.address}/24`);
    t.match(host.run('ip', ['route', 'show']).stdout, /224\.0\.0\.0\/4 dev veth0/);
  }
  t.not(lan.hosts[0]!.address, lan.hosts[1]!.address);
  // Unicast across the bridge: a UDP datagram from h1 reaches h2.
  const listener = lan.hosts[1]!.node('-e', [
    `const s=require('dgram').createSocket('udp4');s.on('message',m=>{console.log(String(m));process.exit(0)});s.bind(40000,()=>console.log('bound'));setTimeout(()=>process.exit(3),10000)`,
  ]);
  let out = '';
  listener.stdout?.on('data', (d) => { out += String(d); });
  for (let i = 0; i < 500 && !out.includes('bound'); i++) await new Promise((r) => setTimeout(r, 20));
  t.match(out, 'bound', 'listener ready');
  const send = lan.hosts[0]!.run(process.execPath, ['-e', `const s=require('dgram').createSocket('udp4');s.send('hello-lan',40000,'${lan.hosts[1]!.address}',()=>s.close())`]);
  t.equal(send.status, 0);
  const code = await new Promise((resolve) => listener.once('exit', resolve));
  t.equal(code, 0);
  t.match(out, 'hello-lan');
  const child = lan.hosts[0]!.exec('sleep', ['30']);
  lan.destroy();
  lan.destroy();
  await new Promise((resolve) => child.once('exit', resolve));
  t.equal(child.signalCode, 'SIGKILL', 'children killed');
  const after = namespaces();
  t.notOk(after.includes(lan.switchNs));
  for (const host of lan.hosts) t.notOk(after.includes(host.ns));
});

t.test('stale namespaces of dead processes are removed, live ones kept', async (t) => {
  if (!requireNetns(t)) return;
  const dead = 'tonari-2147483600-abcdef-h1';
  const live = `tonari-${process.pid}-fedcba-h1`;
  spawnSync('ip', ['netns', 'add', dead]);
  spawnSync('ip', ['netns', 'add', live]);
  t.teardown(() => { spawnSync('ip', ['netns', 'del', dead]); spawnSync('ip', ['netns', 'del', live]); });
  const removed = cleanupStaleNamespaces('tonari');
  t.ok(removed.includes(dead));
  t.notOk(removed.includes(live));
  t.ok(namespaces().includes(live));
});
