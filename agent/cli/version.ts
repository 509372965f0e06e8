import { readFileSync } from 'node:fs';

function readVersion(): string {
  // dist/agent/cli/version.js and agent/cli/version.ts both sit below the package root.
  for (const rel of ['../../package.json', '../../../package.json']) {
    try {
      const pkg = JSON.parse(readFileSync(new URL(rel, import.meta.url), 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'tonari' && pkg.version) return pkg.version;
    } catch { /* try the next candidate */ }
  }
  return '0.0.0';
}

export const VERSION = readVersion();
