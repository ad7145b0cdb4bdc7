/**
 * A light stand-in for AbortController on the call path, where every call had three of them
 * (the session's hang-up, the flow's "plugin stopping", the lookup's own) and each AbortSignal
 * costs an EventTarget (made by changing an object's prototype, which V8 handles slowly), its
 * listener map and Listener objects: 5% of the server's CPU per call and ~1 KB it holds while
 * the call is in flight. A Stopper is a plain object with a short listener list; its reason
 * may be made only when someone looks at it (so an error and its stack trace are built only
 * when used), and an AbortSignal is made on request (`signal`) for code that needs a real one.
 */

/** Something that can tell a call's work to stop: a Stopper or a standard AbortSignal. */
export type StopSource = Stopper | AbortSignal;

/** Told that the source stopped; it reads `reason` from the source if it needs it. */
type Listener = () => void;

export class Stopper {
  private stopped = false;
  private cause: unknown;
  private makeCause: (() => unknown) | undefined;
  private listeners: Listener | Listener[] | undefined;
  private controller: AbortController | undefined;

  get aborted(): boolean {
    return this.stopped;
  }

  /** Why it stopped (undefined until then); a lazy reason is made on first access. */
  get reason(): unknown {
    if (this.makeCause) {
      this.cause = this.makeCause();
      this.makeCause = undefined;
    }
    return this.cause;
  }

  /** An AbortSignal that aborts with this Stopper (at once, if it already stopped). */
  get signal(): AbortSignal {
    if (!this.controller) {
      this.controller = new AbortController();
      if (this.stopped) this.controller.abort(this.reason);
    }
    return this.controller.signal;
  }

  /** Stops once (later calls do nothing) and tells every listener. `reason` may be a function making it. */
  stop(reason: unknown, lazy = false): void {
    if (this.stopped) return;
    this.stopped = true;
    if (lazy) this.makeCause = reason as () => unknown;
    else this.cause = reason;
    const listeners = this.listeners;
    this.listeners = undefined;
    if (this.controller) this.controller.abort(this.reason);
    if (listeners === undefined) return;
    if (typeof listeners === 'function') listeners();
    else for (const listener of listeners) listener();
  }

  /** Calls `listener` once when it stops (never if it already has: check `aborted` first). */
  addListener(listener: Listener): void {
    if (this.stopped) return;
    const listeners = this.listeners;
    if (listeners === undefined) this.listeners = listener;
    else if (typeof listeners === 'function') this.listeners = [listeners, listener];
    else listeners.push(listener);
  }

  removeListener(listener: Listener): void {
    const listeners = this.listeners;
    if (listeners === listener) this.listeners = undefined;
    else if (Array.isArray(listeners)) {
      const index = listeners.indexOf(listener);
      if (index !== -1) listeners.splice(index, 1);
    }
  }
}

/** Listens to a Stopper or an AbortSignal alike, once. */
export function onStop(source: StopSource, listener: Listener): void {
  if (source instanceof Stopper) source.addListener(listener);
  else source.addEventListener('abort', listener, { once: true });
}

export function offStop(source: StopSource, listener: Listener): void {
  if (source instanceof Stopper) source.removeListener(listener);
  else source.removeEventListener('abort', listener);
}
