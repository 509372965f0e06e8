import { Writable } from 'node:stream';
import type { CliIO } from '../../agent/cli/io.js';
import { createLogger, type Logger } from '../../agent/core/log.js';

/** The fixed Ed25519 key with seed 01 02 … 20 (RFC 8410 PKCS#8). */
export const FIXED_KEY_PEM = '-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8g\n-----END PRIVATE KEY-----\n';
/** Computed outside Node: `openssl pkey -pubout -outform DER | tail -c 32 | sha256`, base32 by Python. */
export const FIXED_FINGERPRINT = '65b60673d6ed884bf01c2c222d82ada0740f29ac3355d6a925c81f17f47a27b8';
export const FIXED_PEER_ID = 'tmw3am46w5weex4a4fqrc3a';
export const FIXED_CHECK_CODE = '8188-9577-713';

/** A pino logger whose JSON lines are kept in memory. */
export function capturedLogger(): { log: Logger; text: () => string; lines: () => Record<string, unknown>[] } {
  let text = '';
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      text += chunk.toString();
      done();
    },
  });
  const log = createLogger({ level: 'debug', destination });
  return {
    log,
    text: () => text,
    lines: () => text.split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>),
  };
}

export function captureIO(): CliIO & { out: () => string; err: () => string } {
  const chunks = { out: '', err: '' };
  const sink = (key: 'out' | 'err') => new Writable({
    write(chunk: Buffer, _encoding, done) {
      chunks[key] += chunk.toString();
      done();
    },
  });
  return { stdout: sink('out'), stderr: sink('err'), isTTY: false, out: () => chunks.out, err: () => chunks.err };
}
