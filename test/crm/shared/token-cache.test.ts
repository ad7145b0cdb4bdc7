import assert from 'node:assert/strict';
import { TokenCache, type CachedToken, type DurableTokenStore } from '../../../src/crm/shared/token-cache';

interface Token extends CachedToken { value: string; refresh?: string }

describe('TokenCache', () => {
  const never = new AbortController().signal;

  it('reuses a token until it nears expiry, then refreshes with the previous token', async () => {
    let now = 1_000_000;
    const cache = new TokenCache({ now: () => now, skewMs: 1000 });
    const seen: Array<string | undefined> = [];
    let n = 0;
    const fetch = async (previous: Token | undefined) => {
      seen.push(previous?.refresh);
      n += 1;
      return { value: `t${n}`, refresh: `r${n}`, expiresAt: now + 10_000 };
    };
    assert.equal((await cache.get('k', fetch, never)).value, 't1');
    now += 8_000;
    assert.equal((await cache.get('k', fetch, never)).value, 't1');
    now += 1_500; // inside the skew
    assert.equal((await cache.get('k', fetch, never)).value, 't2');
    assert.deepEqual(seen, [undefined, 'r1']);
  });

  it('tells its observer of each fetch it runs: the first a sign-in, later ones refreshes, failures as such', async () => {
    let now = 1_000_000;
    const seen: string[] = [];
    const cache = new TokenCache({ now: () => now, skewMs: 1000 }).forTenant('t1', (kind, ok) => seen.push(`${kind} ${ok ? 'ok' : 'error'}`));
    let fail = false;
    const fetch = async () => {
      await new Promise((r) => setTimeout(r, 5));
      if (fail) throw new Error('401');
      return { value: 'v', expiresAt: now + 10_000 };
    };
    await Promise.all(Array.from({ length: 20 }, () => cache.get<Token>('k', fetch, new AbortController().signal))); // one shared sign-in
    await cache.get<Token>('k', fetch, never); // kept: no fetch
    now += 9_500;
    await cache.get<Token>('k', fetch, never);
    now += 9_500;
    fail = true;
    await assert.rejects(cache.get<Token>('k', fetch, never), /401/);
    assert.deepEqual(seen, ['sign_in ok', 'refresh ok', 'refresh error']);
  });

  it('lets concurrent callers share one login', async () => {
    const cache = new TokenCache();
    let logins = 0;
    const fetch = async () => {
      logins += 1;
      await new Promise((r) => setTimeout(r, 20));
      return { value: 'shared', expiresAt: Date.now() + 60_000 * 10 };
    };
    const tokens = await Promise.all(Array.from({ length: 50 }, () => cache.get<Token>('k', fetch, new AbortController().signal)));
    assert.equal(logins, 1);
    assert.ok(tokens.every((t) => t.value === 'shared'));
  });

  it('invalidates only the token that was rejected', async () => {
    const cache = new TokenCache();
    let n = 0;
    const fetch = async () => ({ value: `t${(n += 1)}`, expiresAt: Date.now() + 3_600_000 });
    const first = await cache.get<Token>('k', fetch, never);
    cache.invalidate('k', first);
    const second = await cache.get<Token>('k', fetch, never);
    assert.equal(second.value, 't2');
    cache.invalidate('k', first); // stale rejection: t2 stays
    assert.equal((await cache.get<Token>('k', fetch, never)).value, 't2');
  });

  it("stops a caller's wait on its own abort while the login lands for the next call", async () => {
    const cache = new TokenCache();
    const fetch = () => new Promise<Token>((r) => setTimeout(() => r({ value: 'late', expiresAt: Date.now() + 3_600_000 }), 40));
    const caller = new AbortController();
    const waiting = cache.get<Token>('k', fetch, caller.signal);
    caller.abort(new Error('deadline'));
    await assert.rejects(waiting, /deadline/);
    await new Promise((r) => setTimeout(r, 60));
    let again = 0;
    const token = await cache.get<Token>('k', async () => { again += 1; return { value: 'x', expiresAt: 0 }; }, never);
    assert.equal(token.value, 'late');
    assert.equal(again, 0);
  });

  it('does not cache a failed login', async () => {
    const cache = new TokenCache();
    await assert.rejects(cache.get<Token>('k', async () => { throw new Error('401'); }, never), /401/);
    assert.equal((await cache.get<Token>('k', async () => ({ value: 'ok', expiresAt: Date.now() + 3_600_000 }), never)).value, 'ok');
  });
});

/** A DurableTokenStore in memory, one lock per key: what two processes on one database share. */
class MemoryTokenStore implements DurableTokenStore {
  readonly rows = new Map<string, string>();
  private readonly locks = new Map<string, Promise<unknown>>();

  async read(tenantId: string, key: string): Promise<string | undefined> {
    return this.rows.get(`${tenantId}|${key}`);
  }

  async locked<R>(tenantId: string, key: string, update: (stored: string | undefined) => Promise<{ store?: string; result: R }>): Promise<R> {
    const id = `${tenantId}|${key}`;
    const before = this.locks.get(id) ?? Promise.resolve();
    const run = before.catch(() => undefined).then(async () => {
      const outcome = await update(this.rows.get(id));
      if (outcome.store !== undefined) this.rows.set(id, outcome.store);
      return outcome.result;
    });
    this.locks.set(id, run);
    return run;
  }
}

describe('TokenCache with durable keys', () => {
  const never = new AbortController().signal;
  const durable = { durable: true };

  it('uses the token another process stored instead of refreshing again', async () => {
    const store = new MemoryTokenStore();
    const a = new TokenCache({ store }).forTenant('t1');
    const b = new TokenCache({ store }).forTenant('t1');
    const refreshed: Array<string | undefined> = [];
    const fetch = async (previous: Token | undefined) => {
      refreshed.push(previous?.refresh);
      return { value: `t${refreshed.length}`, refresh: `r${refreshed.length}`, expiresAt: Date.now() + 3_600_000 };
    };
    assert.equal((await a.get<Token>('k', fetch, never, durable)).value, 't1');
    assert.equal((await b.get<Token>('k', fetch, never, durable)).value, 't1', 'b reads what a stored');
    assert.deepEqual(refreshed, [undefined]);
  });

  it('after a 401, refreshes with the stored refresh token, not its own spent copy', async () => {
    const store = new MemoryTokenStore();
    const a = new TokenCache({ store }).forTenant('t1');
    const b = new TokenCache({ store }).forTenant('t1');
    const presented: Array<string | undefined> = [];
    let n = 0;
    const fetch = async (previous: Token | undefined) => {
      presented.push(previous?.refresh);
      n += 1;
      return { value: `t${n}`, refresh: `r${n}`, expiresAt: Date.now() + 3_600_000 };
    };
    const first = await a.get<Token>('k', fetch, never, durable);
    const firstInB = await b.get<Token>('k', fetch, never, durable);
    a.invalidate('k', first); // a's call was answered 401
    const second = await a.get<Token>('k', fetch, never, durable);
    assert.equal(second.value, 't2');
    b.invalidate('k', firstInB); // b's call with the same old token was answered 401 too
    assert.equal((await b.get<Token>('k', fetch, never, durable)).value, 't2', 'b takes the token a stored');
    assert.deepEqual(presented, [undefined, 'r1'], 'r1 was presented once; b never refreshed');
  });

  it('keeps tenants apart, and keeps durable keys in memory without a tenant or a store', async () => {
    const store = new MemoryTokenStore();
    const root = new TokenCache({ store });
    let n = 0;
    const fetch = async () => ({ value: `t${(n += 1)}`, expiresAt: Date.now() + 3_600_000 });
    assert.equal((await root.forTenant('a').get<Token>('k', fetch, never, durable)).value, 't1');
    assert.equal((await root.forTenant('b').get<Token>('k', fetch, never, durable)).value, 't2');
    assert.equal((await root.forTenant('a').get<Token>('k', fetch, never, durable)).value, 't1', 'the memory copy is shared by views of one tenant');
    assert.deepEqual([...store.rows.keys()].sort(), ['a|k', 'b|k']);
    assert.equal((await root.get<Token>('k', fetch, never, durable)).value, 't3');
    assert.equal((await new TokenCache().forTenant('a').get<Token>('k', fetch, never, durable)).value, 't4');
    assert.equal(store.rows.size, 2, 'nothing stored without a tenant, nor in a cache without a store');
  });

  it('does not store a failed refresh', async () => {
    const store = new MemoryTokenStore();
    const cache = new TokenCache({ store }).forTenant('t1');
    await assert.rejects(cache.get<Token>('k', async () => { throw new Error('invalid_grant'); }, never, durable), /invalid_grant/);
    assert.equal(store.rows.size, 0);
  });
});
