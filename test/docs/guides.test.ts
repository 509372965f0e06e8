/**
 * The installer and operator guides (and the other hand-written docs they link) stay true:
 * every `tonari COMMAND --option` they show exists, every relative link and anchor resolves,
 * the Grafana dashboard is valid JSON, and the metrics the dashboard and the example alert
 * rules use are the ones docs/api.md documents.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { parse } from 'yaml';
import type { CliIO } from '../../agent/cli/io.js';
import { main } from '../../agent/cli/main.js';
import { parseConfigText } from '../../agent/config/parse.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const GUIDES = ['docs/installer-guide.md', 'docs/operator-guide.md', 'docs/configuration.md', 'SECURITY.md'];
const read = (file: string) => readFileSync(join(ROOT, file), 'utf8');

async function help(command: string): Promise<{ status: number; text: string }> {
  let text = '';
  const sink = new Writable({ write(chunk: Buffer, _encoding, done) { text += chunk.toString(); done(); } });
  const io: CliIO = { stdout: sink, stderr: sink, isTTY: false };
  const status = await main([command, '--help'], io);
  return { status, text };
}

/** Code in a Markdown text: fenced blocks line by line, and inline code spans. */
function codeSnippets(markdown: string): string[] {
  const snippets: string[] = [];
  const fenced = /^```[^\n]*\n([\s\S]*?)^```/gm;
  // Shell comments are prose ("# from a tonari checkout: …"), not invocations.
  for (const match of markdown.matchAll(fenced)) snippets.push(...match[1]!.split('\n').map((line) => line.replace(/(^|\s)#.*$/, '')));
  const prose = markdown.replace(fenced, '');
  for (const match of prose.matchAll(/`([^`\n]+)`/g)) snippets.push(match[1]!);
  return snippets;
}

/** `tonari CMD …` invocations in code, with the options written after CMD (up to a pipe, redirect or comment). */
function invocations(markdown: string): { command: string; options: string[]; text: string }[] {
  const found: { command: string; options: string[]; text: string }[] = [];
  for (const snippet of codeSnippets(markdown)) {
    for (const match of snippet.matchAll(/(?:^|[\s(])tonari ([a-z][a-z-]*)([^|&;>#]*)/g)) {
      const options = [...(match[2] ?? '').matchAll(/(?:^|\s)(--[a-z][a-z-]*)/g)].map((m) => m[1]!);
      found.push({ command: match[1]!, options, text: match[0].trim() });
    }
  }
  return found;
}

t.test('every tonari command and option shown in the guides exists', async (t) => {
  const helps = new Map<string, { status: number; text: string }>();
  for (const file of GUIDES) {
    const calls = invocations(read(file));
    if (file !== 'SECURITY.md') t.ok(calls.length > 0, `${file} shows commands`);
    for (const call of calls) {
      if (!helps.has(call.command)) helps.set(call.command, await help(call.command));
      const { status, text } = helps.get(call.command)!;
      // Output lines ("tonari pair: …") also name the command; only the command needs to exist then.
      t.equal(status, 0, `${file}: \`${call.text}\`: tonari ${call.command} is a command`);
      for (const option of call.options) t.ok(text.includes(option), `${file}: \`${call.text}\`: ${option} is an option of tonari ${call.command}`);
    }
  }
});

/** GitHub's heading anchors: lower case, punctuation dropped, spaces to hyphens, repeats numbered. */
function anchors(markdown: string): Set<string> {
  const seen = new Map<string, number>();
  const result = new Set<string>();
  const withoutCode = markdown.replace(/^```[^\n]*\n[\s\S]*?^```/gm, '');
  for (const match of withoutCode.matchAll(/^#{1,6} +(.+?) *$/gm)) {
    const slug = match[1]!.toLowerCase().replace(/[^\p{L}\p{N}\s_-]/gu, '').replace(/\s/g, '-');
    const n = seen.get(slug) ?? 0;
    seen.set(slug, n + 1);
    result.add(n === 0 ? slug : `${slug}-${n}`);
  }
  return result;
}

t.test('relative links and anchors in the guides resolve', async (t) => {
  for (const file of [...GUIDES, 'docs/config-reference.md']) {
    const text = read(file);
    const links = [...text.replace(/^```[^\n]*\n[\s\S]*?^```/gm, '').matchAll(/\]\(([^)\s]+)\)/g)].map((m) => m[1]!);
    for (const link of links) {
      if (/^[a-z]+:/.test(link)) continue;
      const [path, anchor] = link.split('#') as [string, string | undefined];
      const target = path === '' ? join(ROOT, file) : resolve(dirname(join(ROOT, file)), path);
      t.ok(existsSync(target), `${file}: link ${link}: ${path} exists`);
      if (anchor !== undefined && existsSync(target) && target.endsWith('.md')) {
        t.ok(anchors(readFileSync(target, 'utf8')).has(anchor), `${file}: link ${link}: #${anchor} is a heading`);
      }
    }
  }
});

/** Metric names a PromQL text uses, without the histogram series suffixes. */
function metricNames(promql: string): string[] {
  return [...new Set([...promql.matchAll(/\btonari_[a-z_]+/g)].map((m) => m[0].replace(/_(bucket|sum|count)$/, '')))];
}

function documentedMetrics(): Set<string> {
  const api = read('docs/api.md');
  const start = api.indexOf('## Metrics');
  if (start < 0) return new Set();
  const next = api.indexOf('\n## ', start + 1);
  return new Set(metricNames(api.slice(start, next < 0 ? undefined : next)));
}

interface Panel { type: string; title: string; targets?: { expr: string }[]; gridPos: { x: number; y: number; w: number; h: number } }

t.test('the Grafana dashboard is valid JSON over documented metrics', async (t) => {
  const dashboard = JSON.parse(read('docs/grafana/tonari.json')) as { title: string; uid: string; panels: Panel[]; templating: { list: { name: string }[] } };
  t.equal(dashboard.uid, 'tonari');
  t.same(dashboard.templating.list.map((v) => v.name), ['datasource', 'instance']);
  const graphs = dashboard.panels.filter((p) => p.type !== 'row');
  t.ok(graphs.length >= 15, `${graphs.length} panels`);
  const documented = documentedMetrics();
  t.ok(documented.size > 10, 'docs/api.md lists the metrics');
  const used = new Set<string>();
  for (const panel of graphs) {
    t.ok(panel.targets && panel.targets.length > 0 && panel.targets.every((q) => q.expr.length > 0), `${panel.title} has queries`);
    for (const q of panel.targets ?? []) for (const name of metricNames(q.expr)) used.add(name);
    t.ok(panel.gridPos.x + panel.gridPos.w <= 24, `${panel.title} fits the 24-column grid`);
  }
  t.same([...used].filter((name) => !documented.has(name)), [], 'metrics the dashboard uses but docs/api.md does not document');
  for (const name of ['tonari_power_watts', 'tonari_modbus_errors_total', 'tonari_peers', 'tonari_msg_rejected_total', 'tonari_ledger_healthy', 'tonari_settled_amount_yen_total']) {
    t.ok(used.has(name), `the dashboard shows ${name}`);
  }
});

t.test('the example alert rules parse and use documented metrics', async (t) => {
  const guide = read('docs/operator-guide.md');
  const block = /```yaml\n(# \/etc\/prometheus\/rules\/tonari\.yml\n[\s\S]*?)```/.exec(guide)?.[1];
  t.ok(block, 'the operator guide has the rules file');
  const rules = (parse(block!) as { groups: { name: string; rules: { alert: string; expr: string }[] }[] }).groups[0]!.rules;
  t.same(rules.map((r) => r.alert).filter((a) => ['TonariDown', 'TonariDevicesFailing', 'TonariNoPeers', 'TonariLedgerDamaged', 'TonariRejectedMessages'].includes(a)),
    ['TonariDown', 'TonariDevicesFailing', 'TonariNoPeers', 'TonariLedgerDamaged', 'TonariRejectedMessages']);
  const documented = documentedMetrics();
  const used = rules.flatMap((r) => metricNames(r.expr));
  t.same(used.filter((name) => !documented.has(name)), [], 'metrics the alerts use but docs/api.md does not document');
});

t.test('the configuration examples in the installer guide are valid', async (t) => {
  const guide = read('docs/installer-guide.md');
  const blocks = [...guide.matchAll(/```yaml\n([\s\S]*?)```/g)].map((m) => m[1]!);
  const full = blocks.find((b) => b.startsWith('household:'));
  t.ok(full, 'the guide has a full example');
  const config = parseConfigText(full!, 'installer-guide.md');
  t.same(Object.keys(config.devices), ['inverter', 'meter']);
  const trust = blocks.find((b) => b.startsWith('trust:'));
  t.equal(parseConfigText(trust!, 'installer-guide.md').trust.peers.length, 1);
});
