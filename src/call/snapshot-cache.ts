/**
 * Data the call path reads from memory only (rules, integrations). The pages' writes reload it
 * at once; writes of other processes are seen by polling a cache-version counter, one indexed
 * row, every few seconds. A failed reload keeps the last good snapshot: calls go on.
 */
import type { HostLogger } from '../host';

export interface Snapshot<T> {
  version: number;
  items: T[];
}

export interface SnapshotCacheOptions<T> {
  /** Names the data in log lines ("Rule cache"). */
  name: string;
  load: () => Promise<Snapshot<T>>;
  version: () => Promise<number>;
  key: (item: T) => string | number;
  logger: HostLogger;
  /** How often to look for writes of other processes. Default 2 s; 0 never. */
  pollMs?: number;
  /** Runs after each successful reload (e.g. to drop connectors built from old settings). */
  onReload?: () => void;
}

export class SnapshotCache<T> {
  private byKey = new Map<string | number, T>();
  private version = -1;
  private reloading: Promise<void> | undefined;
  private again = false;
  private timer: NodeJS.Timeout | undefined;

  static async create<T>(options: SnapshotCacheOptions<T>): Promise<SnapshotCache<T>> {
    const cache = new SnapshotCache(options);
    await cache.reload();
    const pollMs = options.pollMs ?? 2000;
    if (pollMs > 0) {
      cache.timer = setInterval(() => void cache.poll(), pollMs);
      cache.timer.unref();
    }
    return cache;
  }

  private constructor(private readonly options: SnapshotCacheOptions<T>) {}

  get(key: string | number): T | undefined {
    return this.byKey.get(key);
  }

  get size(): number {
    return this.byKey.size;
  }

  /** Everything loaded (for health; never on the call path). */
  values(): IterableIterator<T> {
    return this.byKey.values();
  }

  /** Reloads now; calls during a reload share it and cause one more, so no write is missed. */
  reload(): Promise<void> {
    if (this.reloading) {
      this.again = true;
      return this.reloading;
    }
    this.reloading = this.load().finally(() => {
      this.reloading = undefined;
      if (this.again) {
        this.again = false;
        void this.reload();
      }
    });
    return this.reloading;
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
  }

  private async poll(): Promise<void> {
    try {
      if ((await this.options.version()) !== this.version) await this.reload();
    } catch (err) {
      this.options.logger.warn(`${this.options.name}: could not check for changes; calls use what is loaded`, { error: (err as Error).message });
    }
  }

  private async load(): Promise<void> {
    try {
      const snapshot = await this.options.load();
      this.byKey = new Map(snapshot.items.map((item) => [this.options.key(item), item]));
      this.version = snapshot.version;
      this.options.onReload?.();
    } catch (err) {
      this.options.logger.error(`${this.options.name}: reload failed; calls use what is loaded`, { error: (err as Error).message });
    }
  }
}
