/**
 * A rate limit on the call path's warnings and errors, across sessions. Whoever can reach the
 * AGI port decides how many bad connections, headers and lines there are; without a limit each
 * would cost a log line (100,000 garbage lines once wrote 14 MB of log). Each message (the
 * messages are constants; the fields carry what varies) may write `linesPerWindow` lines per
 * window; the rest are counted, and one line says how many were suppressed when the window ends.
 * Debug and info lines pass untouched: a call writes at most a few, and those are the record of
 * calls that did route.
 */
import type { HostLogger } from '../host';

export interface LogLimitOptions {
  /** Lines of one message per window. Default 20. */
  linesPerWindow?: number;
  /** Default 10 s. */
  windowMs?: number;
  /** Distinct messages tracked; others share one budget. Default 200. */
  maxMessages?: number;
}

interface Budget {
  level: 'warn' | 'error';
  written: number;
  suppressed: number;
}

const OTHER = '(other messages)';

export class RateLimitedLogger implements HostLogger {
  private readonly linesPerWindow: number;
  private readonly windowMs: number;
  private readonly maxMessages: number;
  private budgets = new Map<string, Budget>();
  private windowEndsAt = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly base: HostLogger, options: LogLimitOptions = {}) {
    this.linesPerWindow = options.linesPerWindow ?? 20;
    this.windowMs = options.windowMs ?? 10_000;
    this.maxMessages = options.maxMessages ?? 200;
  }

  isDebugEnabled(): boolean {
    return this.base.isDebugEnabled?.() ?? true;
  }

  debug(message: string, fields?: Record<string, unknown>): void {
    this.base.debug(message, fields);
  }

  info(message: string, fields?: Record<string, unknown>): void {
    this.base.info(message, fields);
  }

  warn(message: string, fields?: Record<string, unknown>): void {
    if (this.admit('warn', message)) this.base.warn(message, fields);
  }

  error(message: string, fields?: Record<string, unknown>): void {
    if (this.admit('error', message)) this.base.error(message, fields);
  }

  /** Writes what is still suppressed and stops the timer (the call path is stopping). */
  flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.endWindow();
  }

  private admit(level: 'warn' | 'error', message: string): boolean {
    const now = performance.now();
    if (now >= this.windowEndsAt) {
      this.endWindow();
      this.windowEndsAt = now + this.windowMs;
    }
    const key = this.budgets.has(message) || this.budgets.size < this.maxMessages ? message : OTHER;
    let budget = this.budgets.get(key);
    if (!budget) {
      budget = { level, written: 0, suppressed: 0 };
      this.budgets.set(key, budget);
    }
    if (budget.written < this.linesPerWindow) {
      budget.written += 1;
      return true;
    }
    budget.suppressed += 1;
    // The summary must come even if the flood stops now and nothing else is ever logged.
    if (!this.timer) {
      this.timer = setTimeout(() => this.flush(), Math.max(1, this.windowEndsAt - now));
      this.timer.unref();
    }
    return false;
  }

  private endWindow(): void {
    const budgets = this.budgets;
    this.budgets = new Map();
    const seconds = Math.round(this.windowMs / 1000);
    for (const [message, budget] of budgets) {
      if (budget.suppressed === 0) continue;
      this.base[budget.level](`Suppressed ${budget.suppressed} log lines like the last one in ${seconds} s`, { message, suppressed: budget.suppressed });
    }
  }
}
