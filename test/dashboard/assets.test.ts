/**
 * The dashboard's files as the API serves them, checked without a browser: the
 * script parses, nothing inline would trip `default-src 'self'`, nothing loads
 * from elsewhere, data never goes through innerHTML, and every element the
 * script looks up exists in the page.
 */
import { Script } from 'node:vm';
import t from 'tap';
import { dashboardAssets } from '../../agent/api/dashboard/index.js';

const html = dashboardAssets['/']!.body;
const js = dashboardAssets['/dashboard.js']!.body;
const css = dashboardAssets['/dashboard.css']!.body;

t.test('the four files, with their content types', async (t) => {
  t.same(Object.keys(dashboardAssets).sort(), ['/', '/dashboard.css', '/dashboard.js', '/favicon.svg']);
  t.match(dashboardAssets['/']!.contentType, /^text\/html/);
  t.match(dashboardAssets['/dashboard.js']!.contentType, /^text\/javascript/);
  t.match(dashboardAssets['/dashboard.css']!.contentType, /^text\/css/);
  t.match(dashboardAssets['/favicon.svg']!.contentType, /^image\/svg\+xml/);
  t.match(dashboardAssets['/favicon.svg']!.body, /^<svg /);
});

t.test('the script is valid JavaScript and keeps to itself', async (t) => {
  t.doesNotThrow(() => new Script(js, { filename: 'dashboard.js' }), 'parses');
  t.match(js, /^\(\(\) => \{\n'use strict';/, 'strict, in its own function scope');
  t.notMatch(js, /innerHTML|outerHTML|insertAdjacentHTML|document\.write|eval\(|new Function/, 'no HTML parsing of data, no eval');
  t.notMatch(js, /setAttribute\(\s*['"]style|\.style\s*=|cssText/, 'no style attributes (CSP); only single CSSOM properties');
});

t.test('nothing inline, nothing from elsewhere', async (t) => {
  const scripts = [...html.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script>/g)];
  t.equal(scripts.length, 1, 'one script element');
  t.match(scripts[0]![1], /src="\/dashboard\.js"/, 'loaded from /dashboard.js');
  t.equal(scripts[0]![2]!.trim(), '', 'with no inline code');
  t.notMatch(html, /<style\b|\sstyle=|\son[a-z]+=/i, 'no style elements, style attributes or event handler attributes');
  t.notMatch(html + css + js, /https?:\/\/(?!www\.w3\.org\/2000\/svg)/, 'no absolute URLs (fonts, CDNs): the gateway may be offline');
  t.notMatch(css, /@import|url\(/, 'the stylesheet loads nothing');
});

t.test('every element the script looks up is in the page', async (t) => {
  const ids = new Set([...html.matchAll(/\sid="([^"]+)"/g)].map((m) => m[1]));
  const wanted = new Set([...js.matchAll(/\$\('([a-z0-9-]+)'\)/g)].map((m) => m[1]!));
  // Looked up by prefix + name: nodes, links, health chips, money fields.
  for (const name of ['pv', 'load', 'grid', 'battery']) wanted.add(`node-${name}`).add(`${name}-power`).add(`${name}-sub`);
  for (const name of ['pv', 'grid', 'battery']) wanted.add(`link-${name}`);
  for (const part of ['devices', 'broker', 'market']) wanted.add(`health-${part}`);
  for (const period of ['today', 'total']) wanted.add(`earnings-${period}`).add(`savings-${period}`).add(`energy-${period}`);
  for (const id of wanted) t.ok(ids.has(id), `#${id}`);
});

t.test('the test ids the browser test and people rely on', async (t) => {
  for (const id of ['pv-power', 'load-power', 'grid-power', 'battery-power', 'soc', 'peers', 'slots', 'earnings-today', 'events', 'connection']) {
    t.match(html, new RegExp(`data-testid="${id}"`), id);
  }
});
