/**
 * What ends one HTTP request: the caller's signal (the call's deadline or hang-up) or the
 * request's own timeout, whichever comes first. undici takes any EventEmitter-like object as a
 * request's `signal` (`once('abort')`, `removeListener('abort')`, `aborted`, `reason`), so this is
 * a plain object with a listener list rather than an AbortController: each AbortSignal is an
 * EventTarget, and creating one and adding and removing its listeners cost about 5% of the
 * server's CPU per call on the Custom CRM path (scripts/profile-agi.ts --crm https).
 */
type Listener = () => void;

export class RequestStop {
  aborted = false;
  reason: unknown;
  private listeners: Listener[] = [];
  private readonly timer: NodeJS.Timeout | undefined;
  private readonly onCallAbort: Listener;

  constructor(private readonly callSignal: AbortSignal, timeoutMs: number) {
    this.onCallAbort = () => this.abort(callSignal.reason);
    if (callSignal.aborted) {
      this.aborted = true;
      this.reason = callSignal.reason;
      return;
    }
    callSignal.addEventListener('abort', this.onCallAbort, { once: true });
    this.timer = setTimeout(() => this.abort(new DOMException('The operation was aborted due to timeout', 'TimeoutError')), timeoutMs);
  }

  /** Listens once; a stop that already happened is not replayed (check `aborted` first). */
  once(_event: 'abort', listener: Listener): this {
    if (!this.aborted) this.listeners.push(listener);
    return this;
  }

  /** undici checks that a signal has `on` before it uses `once`. */
  on(event: 'abort', listener: Listener): this {
    return this.once(event, listener);
  }

  removeListener(_event: 'abort', listener: Listener): this {
    const index = this.listeners.indexOf(listener);
    if (index !== -1) this.listeners.splice(index, 1);
    return this;
  }

  /** The request is over: the timer and the listener on the caller's signal go. */
  done(): void {
    clearTimeout(this.timer);
    this.callSignal.removeEventListener('abort', this.onCallAbort);
  }

  private abort(reason: unknown): void {
    if (this.aborted) return;
    this.aborted = true;
    this.reason = reason;
    this.done();
    const listeners = this.listeners;
    this.listeners = [];
    for (const listener of listeners) listener();
  }
}
