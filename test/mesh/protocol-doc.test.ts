import t from 'tap';
import { readFileSync } from 'node:fs';
import { ManualClock } from '../../agent/core/clock.js';
import { openEnvelope } from '../../agent/mesh/envelope.js';
import { RateLimiter } from '../../agent/mesh/rate-limit.js';
import { ReplayStore } from '../../agent/mesh/replay-store.js';
import { directTopic } from '../../agent/mesh/topics.js';
import { EXAMPLE_TS, protocolExample } from './protocol-example.js';

const doc = readFileSync(new URL('../../docs/protocol.md', import.meta.url), 'utf8');

/** The fenced block following each `<!-- example:NAME -->` marker. */
function docBlocks(text: string): Map<string, string> {
  const blocks = new Map<string, string>();
  const re = /<!-- example:([a-z-]+) -->\n```[a-z]*\n([\s\S]*?)\n```/g;
  for (const m of text.matchAll(re)) blocks.set(m[1]!, m[2]!);
  return blocks;
}

t.test('the worked example in docs/protocol.md is what the code produces', async (t) => {
  const example = protocolExample();
  const blocks = docBlocks(doc);
  t.same([...blocks.keys()].sort(), Object.keys(example.blocks).sort(), 'every example block is present once');
  for (const [name, expected] of Object.entries(example.blocks)) t.equal(blocks.get(name), expected, `example:${name}`);
});

t.test('the example wire form opens at the recipient', async (t) => {
  const example = protocolExample();
  const wire = docBlocks(doc).get('wire') ?? '';
  const clock = new ManualClock(EXAMPLE_TS + 1000);
  const result = openEnvelope(Buffer.from(wire, 'utf8'), {
    self: example.envelope.to!,
    resolveKey: (id) => (id === example.envelope.from ? example.raw : undefined),
    clock,
    replay: ReplayStore.inMemory(clock),
    rate: new RateLimiter(clock),
    topic: directTopic(example.envelope.from, example.envelope.to!, 'example'),
  });
  t.match(result, { ok: true, envelope: { body: { text: 'こんにちは', n: 42 } } });
});

t.test('the document names every rejection reason and the market section', async (t) => {
  for (const reason of ['bad_sig', 'replay', 'stale', 'wrong_recipient', 'malformed', 'too_big', 'rate', 'unknown_peer', 'acl']) {
    t.match(doc, new RegExp(`\`${reason}\``), reason);
  }
  t.match(doc, /^## 13\. Market$/m);
});
