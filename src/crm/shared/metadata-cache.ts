/**
 * Metadata a connector reads once and then shares (a module's phone fields, its field list):
 * concurrent lookups wait for the same request, a failed read is forgotten so the next lookup
 * asks again, and the cache starts over once it holds `maxEntries` (rules may name any module).
 */
export class MetadataCache<T> {
  private readonly entries = new Map<string, { expiresAt: number; value: Promise<T> }>();

  constructor(private readonly maxEntries: number, private readonly ttlMs = Number.POSITIVE_INFINITY) {}

  get(key: string, read: () => Promise<T>): Promise<T> {
    const cached = this.entries.get(key);
    if (cached && cached.expiresAt > Date.now()) return cached.value;
    if (this.entries.size >= this.maxEntries) this.entries.clear();
    const value = read();
    value.catch(() => this.entries.delete(key));
    this.entries.set(key, { expiresAt: Date.now() + this.ttlMs, value });
    return value;
  }
}
