/**
 * The AGI session's logger: a HostLogger that adds the session's fields (remote address, unique
 * id, rule id) to every line. One object per session rather than four closures, as up to
 * maxConcurrentCalls sessions are alive at once.
 */
import type { HostLogger } from '../host';

export class SessionLog implements HostLogger {
  constructor(private readonly base: HostLogger, private readonly fields: Record<string, unknown>) {}

  isDebugEnabled(): boolean {
    return this.base.isDebugEnabled?.() ?? true;
  }

  debug(message: string, extra?: Record<string, unknown>): void {
    if (this.base.isDebugEnabled?.() === false) return;
    this.base.debug(message, this.with(extra));
  }

  info(message: string, extra?: Record<string, unknown>): void {
    this.base.info(message, this.with(extra));
  }

  warn(message: string, extra?: Record<string, unknown>): void {
    this.base.warn(message, this.with(extra));
  }

  error(message: string, extra?: Record<string, unknown>): void {
    this.base.error(message, this.with(extra));
  }

  private with(extra: Record<string, unknown> | undefined): Record<string, unknown> {
    return extra === undefined ? { ...this.fields } : { ...this.fields, ...extra };
  }
}
