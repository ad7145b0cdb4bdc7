/**
 * A host logger for benchmarks: it does what a host's logger does per line (timestamp, level,
 * message, fields as JSON, like the reference host's console logger) at `level` and above,
 * but drops the line instead of writing it, so a benchmark pays the plugin's logging cost and
 * not a terminal's. Counts the lines per level, and the `outcome`, `error` and `method` fields
 * lines carry (the call flow's "Call routed"); warnings and errors are kept for the report.
 */
import type { HostLogger } from '../../src/host';

const LEVELS = ['debug', 'info', 'warn', 'error'] as const;
type Level = (typeof LEVELS)[number];

export class FormattingLogger implements HostLogger {
  readonly lines: Record<Level, number> = { debug: 0, info: 0, warn: 0, error: 0 };
  readonly problems: string[] = [];
  /** How often each `outcome` / `error` / `method` field value was logged, e.g. "MATCH", "error TIMEOUT", "method ami". */
  readonly tally = new Map<string, number>();
  bytes = 0;
  private readonly from: number;

  constructor(level: Level = 'info') {
    this.from = LEVELS.indexOf(level);
  }

  isDebugEnabled(): boolean {
    return this.from === 0;
  }

  debug(message: string, fields?: Record<string, unknown>): void {
    this.line('debug', message, fields);
  }

  info(message: string, fields?: Record<string, unknown>): void {
    this.line('info', message, fields);
  }

  warn(message: string, fields?: Record<string, unknown>): void {
    this.line('warn', message, fields);
  }

  error(message: string, fields?: Record<string, unknown>): void {
    this.line('error', message, fields);
  }

  /** Forgets the tally (between phases of a benchmark). */
  resetTally(): void {
    this.tally.clear();
  }

  private count(key: string): void {
    this.tally.set(key, (this.tally.get(key) ?? 0) + 1);
  }

  private line(level: Level, message: string, fields: Record<string, unknown> | undefined): void {
    if (LEVELS.indexOf(level) < this.from) return;
    this.lines[level] += 1;
    const text = `${new Date().toISOString()} ${level.toUpperCase()} ${message}${fields ? ` ${JSON.stringify(fields)}` : ''}`;
    this.bytes += text.length;
    for (const key of ['outcome', 'error', 'method'] as const) {
      const value = fields?.[key];
      if (typeof value === 'string') this.count(key === 'outcome' ? value : `${key} ${value}`);
    }
    if ((level === 'warn' || level === 'error') && this.problems.length < 5) this.problems.push(text);
  }
}
