import { pino, type Logger, type DestinationStream } from 'pino';

export type { Logger };

export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

export interface LoggerOptions {
  level?: LogLevel;
  /** Where JSON lines go; defaults to stdout (pretty when stdout is a TTY). */
  destination?: DestinationStream;
  /** Force or suppress pretty output; default: pretty only on a TTY. */
  pretty?: boolean;
}

/** Keys whose values must never reach a log line. */
const REDACTED_PATHS = ['*.password', '*.privateKey', '*.secret', '*.key', 'password', 'privateKey', 'secret'];

export function createLogger(options: LoggerOptions = {}): Logger {
  const base = { level: options.level ?? 'info', redact: { paths: REDACTED_PATHS, censor: '[redacted]' } };
  if (options.destination) return pino(base, options.destination);
  const pretty = options.pretty ?? process.stdout.isTTY === true;
  if (pretty) {
    return pino({ ...base, transport: { target: 'pino-pretty', options: { colorize: true, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname,household,simulatedTime' } } });
  }
  return pino(base);
}

/** A logger that discards everything, for tests and library defaults. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
