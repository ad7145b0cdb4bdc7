/**
 * Access tokens (and sessions) reused until they expire. One login or refresh at a time per key:
 * concurrent callers share it, which matters where a refresh token works only once (Bullhorn,
 * Sugar). A caller's own AbortSignal ends its wait, never the shared login, so the token still
 * lands in the cache for the next call.
 *
 * Keys a connector marks durable (single-use or rotating refresh tokens: Bullhorn, SugarCRM,
 * Zendesk, every refresh-token sign-in) are also kept in a DurableTokenStore (the host database,
 * sealed), shared by every process on that database. A process first uses its own copy; when that
 * expires or is rejected it reads the stored one (another process may have refreshed already),
 * and only then refreshes, holding the stored row's lock: a process that waited for the lock
 * finds the token the other one stored and uses it. So each refresh token is spent once across
 * all nodes. The memory copy keeps the call path off the database between refreshes.
 */
export interface CachedToken {
  /** Epoch ms after which the token is not used (refreshed early by the cache's skew). */
  expiresAt: number;
}

/** Fetches a new token; `previous` is the expired or rejected one (carrying a refresh token, say). */
export type TokenFetcher<T extends CachedToken> = (previous: T | undefined, signal: AbortSignal) => Promise<T>;

/**
 * Where durable tokens live between processes: JSON text per tenant and key, sealed by the store.
 * `locked` runs `update` holding the entry's lock (other processes' `locked` on it wait) and
 * stores what it returns in `store`, in the same transaction.
 */
export interface DurableTokenStore {
  read(tenantId: string, key: string): Promise<string | undefined>;
  locked<R>(tenantId: string, key: string, update: (stored: string | undefined) => Promise<{ store?: string; result: R }>): Promise<R>;
}

export interface TokenCacheOptions {
  /** Refresh this long before `expiresAt`. Default 60 s. */
  skewMs?: number;
  /** Limit of one login or refresh. Default 10 s. */
  fetchTimeoutMs?: number;
  now?: () => number;
  /** Shared storage for durable keys (the host database); without it durable keys stay in memory. */
  store?: DurableTokenStore;
}

/** Told of every token fetch this view starts (for /metrics): a first sign-in or a refresh, and whether it worked. */
export type TokenFetchObserver = (kind: 'sign_in' | 'refresh', ok: boolean) => void;

export interface TokenRequest {
  /** Keep the token in the shared store too (single-use or rotating refresh tokens). */
  durable?: boolean;
}

interface Entry {
  token?: CachedToken;
  pending?: Promise<CachedToken>;
  /** The token a CRM rejected (401), as stored: the shared copy is not reused when it is this one. */
  rejected?: string;
}

interface Shared {
  entries: Map<string, Entry>;
  store?: DurableTokenStore;
}

export class TokenCache {
  private readonly skewMs: number;
  private readonly fetchTimeoutMs: number;
  private readonly now: () => number;
  private readonly shared: Shared;

  /** `tenantId` and `shared` are forTenant's: a view of another cache for one tenant. */
  constructor(private readonly options: TokenCacheOptions = {}, private readonly tenantId = '', shared?: Shared, private readonly observer?: TokenFetchObserver) {
    this.skewMs = options.skewMs ?? 60_000;
    this.fetchTimeoutMs = options.fetchTimeoutMs ?? 10_000;
    this.now = options.now ?? Date.now;
    this.shared = shared ?? { entries: new Map(), ...(options.store ? { store: options.store } : {}) };
  }

  /** The same cache (memory and store) for one tenant: durable tokens are stored under that tenant. */
  forTenant(tenantId: string, observer?: TokenFetchObserver): TokenCache {
    return new TokenCache(this.options, tenantId, this.shared, observer);
  }

  async get<T extends CachedToken>(key: string, fetch: TokenFetcher<T>, signal: AbortSignal, request: TokenRequest = {}): Promise<T> {
    const entry = this.entry(key);
    if (entry.token && this.fresh(entry.token)) return entry.token as T;
    if (!entry.pending) {
      if (this.observer) fetch = observed(fetch, this.observer);
      const previous = entry.token as T | undefined;
      const fetchSignal = AbortSignal.timeout(this.fetchTimeoutMs);
      const store = request.durable && this.tenantId !== '' ? this.shared.store : undefined;
      const fetched = store ? this.fetchShared(store, key, entry, fetch, fetchSignal) : fetch(previous, fetchSignal);
      entry.pending = fetched.then(
        (token) => {
          entry.token = token;
          entry.pending = undefined;
          entry.rejected = undefined;
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
    const entry = this.shared.entries.get(this.memoryKey(key));
    if (!entry?.token) return;
    if (rejected === undefined || entry.token === rejected) {
      entry.rejected = JSON.stringify(entry.token);
      entry.token = { ...entry.token, expiresAt: 0 };
    }
  }

  clear(): void {
    this.shared.entries.clear();
  }

  /** The stored token when another process refreshed it; otherwise a refresh under the stored row's lock. */
  private async fetchShared<T extends CachedToken>(store: DurableTokenStore, key: string, entry: Entry, fetch: TokenFetcher<T>, signal: AbortSignal): Promise<T> {
    const usable = (json: string | undefined): T | undefined => {
      if (json === undefined || json === entry.rejected) return undefined;
      const token = JSON.parse(json) as T;
      return this.fresh(token) ? token : undefined;
    };
    const stored = usable(await store.read(this.tenantId, key));
    if (stored) return stored;
    return store.locked(this.tenantId, key, async (current) => {
      const theirs = usable(current);
      if (theirs) return { result: theirs };
      // The stored token carries the refresh token still valid; this process's copy may be spent.
      const previous = current !== undefined ? (JSON.parse(current) as T) : (entry.token as T | undefined);
      const token = await fetch(previous, signal);
      return { store: JSON.stringify(token), result: token };
    });
  }

  private fresh(token: CachedToken): boolean {
    return token.expiresAt - this.skewMs > this.now();
  }

  private entry(key: string): Entry {
    const memoryKey = this.memoryKey(key);
    let entry = this.shared.entries.get(memoryKey);
    if (!entry) this.shared.entries.set(memoryKey, (entry = {}));
    return entry;
  }

  private memoryKey(key: string): string {
    return this.tenantId === '' ? key : `${this.tenantId}\u0000${key}`;
  }
}

/** The fetch, reporting each time it actually runs (a token another process stored is no fetch). */
function observed<T extends CachedToken>(fetch: TokenFetcher<T>, observer: TokenFetchObserver): TokenFetcher<T> {
  return async (previous, signal) => {
    const kind = previous === undefined ? 'sign_in' : 'refresh';
    try {
      const token = await fetch(previous, signal);
      observer(kind, true);
      return token;
    } catch (err) {
      observer(kind, false);
      throw err;
    }
  };
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
