import assert from 'node:assert/strict';
import { TokenCache, type CachedToken } from '../../../src/crm/shared/token-cache';

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
