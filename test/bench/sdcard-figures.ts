/**
 * Figures of `npm run bench:sdcard` from what was measured (pure): per agent and per
 * simulated day, bytes the process wrote to the block device (/proc/PID/io write_bytes),
 * the ledger's growth, the atomic rewrites of each state file, and the log bytes.
 */

export const DAY_MS = 86_400_000;

export interface AgentMeasurement {
  name: string;
  /** Simulated time covered, ms. */
  simMs: number;
  /** write_bytes − cancelled_write_bytes over the run: file pages the process dirtied. */
  blockBytes: number;
  /** Bytes written to the device holding only this state directory (data, metadata, journal); undefined when not measured. */
  deviceBytes: number | undefined;
  /** write() bytes the process issued over the run (wchar: includes sockets and stdout). */
  wcharBytes: number;
  ledgerBytes: number;
  ledgerRecords: number;
  /** Atomic rewrites (rename onto the name) per state file. */
  rewrites: Record<string, number>;
  /** Size of each rewritten file at the end, bytes. */
  sizes: Record<string, number>;
  /** Bytes of JSON log lines on stdout (journald's input). */
  logBytes: number;
  logLines: number;
}

export interface AgentFigures {
  name: string;
  /** What the card receives: the device figure when measured, else the page figure. */
  stateBytesPerDay: number;
  pageBytesPerDay: number;
  deviceBytesPerDay: number | undefined;
  ledgerBytesPerDay: number;
  ledgerRecordsPerDay: number;
  rewritesPerDay: Record<string, number>;
  /** Bytes handed to write() for rewrites (rewrites × file size) per day. */
  rewriteBytesPerDay: number;
  /** One fdatasync per ledger record, two fsyncs (file, directory) per atomic rewrite. */
  fsyncsPerDay: number;
  logBytesPerDay: number;
  logLinesPerDay: number;
}

export function agentFigures(m: AgentMeasurement): AgentFigures {
  const perDay = (x: number) => Math.round((x * DAY_MS) / m.simMs);
  const rewritesPerDay = Object.fromEntries(Object.entries(m.rewrites).map(([file, n]) => [file, perDay(n)]));
  const rewriteBytes = Object.entries(m.rewrites).reduce((sum, [file, n]) => sum + n * (m.sizes[file] ?? 0), 0);
  const rewrites = Object.values(m.rewrites).reduce((a, b) => a + b, 0);
  return {
    name: m.name,
    stateBytesPerDay: perDay(m.deviceBytes ?? m.blockBytes),
    pageBytesPerDay: perDay(m.blockBytes),
    deviceBytesPerDay: m.deviceBytes === undefined ? undefined : perDay(m.deviceBytes),
    ledgerBytesPerDay: perDay(m.ledgerBytes),
    ledgerRecordsPerDay: perDay(m.ledgerRecords),
    rewritesPerDay,
    rewriteBytesPerDay: perDay(rewriteBytes),
    fsyncsPerDay: perDay(m.ledgerRecords + 2 * rewrites),
    logBytesPerDay: perDay(m.logBytes),
    logLinesPerDay: perDay(m.logLines),
  };
}

/** The headline JSON: the worst agent for each figure (a budget must hold for every home). */
export function headline(figures: readonly AgentFigures[], run: { agents: number; speed: number; simHours: number }) {
  const max = (pick: (f: AgentFigures) => number) => Math.max(...figures.map(pick));
  return {
    ...run,
    bytesPerDay: max((f) => f.stateBytesPerDay),
    pageBytesPerDay: max((f) => f.pageBytesPerDay),
    deviceMeasured: figures.every((f) => f.deviceBytesPerDay !== undefined),
    ledgerBytesPerDay: max((f) => f.ledgerBytesPerDay),
    ledgerRecordsPerDay: max((f) => f.ledgerRecordsPerDay),
    rewriteBytesPerDay: max((f) => f.rewriteBytesPerDay),
    fsyncsPerDay: max((f) => f.fsyncsPerDay),
    logBytesPerDay: max((f) => f.logBytesPerDay),
  };
}

export function mb(bytes: number): string {
  if (bytes >= 1e6) return `${(bytes / 1e6).toFixed(1)} MB`;
  return bytes >= 1e4 ? `${(bytes / 1e3).toFixed(0)} kB` : `${bytes} B`;
}

export function table(figures: readonly AgentFigures[]): string {
  const files = [...new Set(figures.flatMap((f) => Object.keys(f.rewritesPerDay)))].sort();
  const head = ['agent', 'device/day', 'pages/day', 'ledger/day', 'records/day', 'rewrites/day', 'fsyncs/day', 'log/day', 'log lines/day'];
  const rows = figures.map((f) => [
    f.name, f.deviceBytesPerDay === undefined ? 'n/a' : mb(f.deviceBytesPerDay), mb(f.pageBytesPerDay), mb(f.ledgerBytesPerDay), String(f.ledgerRecordsPerDay),
    files.map((file) => `${file} ${f.rewritesPerDay[file] ?? 0}`).join(', '), String(f.fsyncsPerDay), mb(f.logBytesPerDay), String(f.logLinesPerDay),
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd();
  return [line(head), ...rows.map(line)].join('\n');
}
