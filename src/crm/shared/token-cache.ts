/**
 * Access tokens (and sessions) reused until they expire. One login or refresh at a time per key:
 * concurrent callers share it, which matters where a refresh token works only once (Bullhorn,
 * Sugar). A caller's own AbortSignal ends its wait, never the shared login, so the token still
 * lands in the cache for the next call.
 */
export interface CachedToken {
  /** Epoch ms after which the token is not used (refreshed early by the cache's skew). */
  expiresAt: number;
}

/** Fetches a new token; `previous` is the expired or rejected one (carrying a refresh token, say). */
export type TokenFetcher<T extends CachedToken> = (previous: T | undefined, signal: AbortSignal) => Promise<T>;

export interface TokenCacheOptions {
  /** Refresh this long before `expiresAt`. Default 60 s. */
  skewMs?: number;
  /** Limit of one login or refresh. Default 10 s. */
  fetchTimeoutMs?: number;
  now?: () => number;
}

interface Entry {
  token?: CachedToken;
  pending?: Promise<CachedToken>;
}

export class TokenCache {
  private readonly entries = new Map<string, Entry>();
  private readonly skewMs: number;
  private readonly fetchTimeoutMs: number;
  private readonly now: () => number;

  constructor(options: TokenCacheOptions = {}) {
    this.skewMs = options.skewMs ?? 60_000;
    this.fetchTimeoutMs = options.fetchTimeoutMs ?? 10_000;
    this.now = options.now ?? Date.now;
  }

  async get<T extends CachedToken>(key: string, fetch: TokenFetcher<T>, signal: AbortSignal): Promise<T> {
    const entry = this.entries.get(key) ?? {};
    this.entries.set(key, entry);
    if (entry.token && entry.token.expiresAt - this.skewMs > this.now()) return entry.token as T;
    if (!entry.pending) {
      const previous = entry.token as T | undefined;
      entry.pending = fetch(previous, AbortSignal.timeout(this.fetchTimeoutMs)).then(
        (token) => {
          entry.token = token;
          entry.pending = undefined;
          return token;
        },
        (err: unknown) => {
          entry.pending = undefined;
          throw err;
        },
      );
    }
    return (await abortable(entry.pending, signal)) as T;
  }

  /** Drops a token the CRM rejected (401), unless another caller already replaced it. */
  invalidate(key: string, rejected?: CachedToken): void {
    const entry = this.entries.get(key);
    if (!entry?.token) return;
    if (rejected === undefined || entry.token === rejected) entry.token = { ...entry.token, expiresAt: 0 };
  }

  clear(): void {
    this.entries.clear();
  }
}

function abortable<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => { signal.removeEventListener('abort', onAbort); resolve(value); },
      (err: unknown) => { signal.removeEventListener('abort', onAbort); reject(err); },
    );
  });
}
