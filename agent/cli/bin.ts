#!/usr/bin/env node
import { main } from './main.js';
import { EXIT } from './io.js';

main(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr, isTTY: process.stdout.isTTY === true }).then(
  (code) => { process.exitCode = code; },
  (err: unknown) => {
    process.stderr.write(`tonari: internal error: ${err instanceof Error ? err.stack ?? err.message : String(err)}\n`);
    process.exitCode = EXIT.SOFTWARE;
  },
);
