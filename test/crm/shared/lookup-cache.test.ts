import assert from 'node:assert/strict';
import type { CrmConnector, LookupRequest, LookupResult } from '../../../src/crm/connector';
import { CachedLookup } from '../../../src/crm/shared/lookup-cache';

/** A connector that counts lookups and answers from a script, optionally after a delay. */
class CountingConnector implements CrmConnector {
  calls = 0;
  aborted = 0;
  constructor(private readonly answer: (req: LookupRequest) => LookupResult = () => ({ kind: 'value', value: 'Gold' }), private readonly delayMs = 0) {}
  async lookup(request: LookupRequest, signal: AbortSignal): Promise<LookupResult> {
    this.calls += 1;
    if (this.delayMs > 0) {
      const stopped = signal.aborted || await new Promise<boolean>((resolve) => {
        const timer = setTimeout(() => resolve(false), this.delayMs);
        signal.addEventListener('abort', () => { clearTimeout(timer); resolve(true); }, { once: true });
      });
      if (stopped) {
        this.aborted += 1;
        return { kind: 'error', code: 'ABORTED', message: 'stopped' };
      }
    }
    return this.answer(request);
  }
}

function request(callerId: string, overrides: Partial<LookupRequest> = {}): LookupRequest {
  return {
    tenantId: 't1', ruleId: 1, callerId, did: '', dtmf: '', fieldName: 'Account_Name', module: 'Contacts',
    credentials: { username: '', password: '' }, deadlineAt: Date.now() + 3000, ...overrides,
  };
}

const never = () => new AbortController().signal;
const callers = Array.from({ length: 100 }, (_, i) => `+1202555${String(1000 + i).padStart(4, '0')}`);

describe('CachedLookup', () => {
  it('asks the CRM once per distinct caller: 1,000 lookups for 100 callers -> 100 requests', async () => {
    const crm = new CountingConnector();
    const cache = new CachedLookup(crm, { integrationId: 'zoho:1', region: 'US' });
    for (let i = 0; i < 1000; i += 1) {
      const result = await cache.lookup(request(callers[i % 100]!), never());
      assert.deepEqual(result, { kind: 'value', value: 'Gold' });
    }
    assert.equal(crm.calls, 100);
  });

  it('asks the CRM every time with the cache off (ttlMs 0): 1,000 lookups -> 1,000 requests', async () => {
    const crm = new CountingConnector();
    const cache = new CachedLookup(crm, { integrationId: 'zoho:1', region: 'US', ttlMs: 0 });
    await Promise.all(Array.from({ length: 1000 }, (_, i) => cache.lookup(request(callers[i % 100]!), never())));
    assert.equal(crm.calls, 1000);
    assert.equal(cache.size, 0);
  });

  it('shares one request among concurrent identical lookups (1,000 at once, 100 callers -> 100)', async () => {
    const crm = new CountingConnector(undefined, 20);
    const cache = new CachedLookup(crm, { integrationId: 'zoho:1', region: 'US' });
    const results = await Promise.all(Array.from({ length: 1000 }, (_, i) => cache.lookup(request(callers[i % 100]!), never())));
    assert.equal(crm.calls, 100);
    assert.ok(results.every((r) => r.kind === 'value' && r.value === 'Gold'));
  });

  it('counts hits (kept results and joined requests) and misses (requests sent): misses equal the CRM requests', async () => {
    const crm = new CountingConnector(undefined, 20);
    const counts = { hit: { value: 0 }, miss: { value: 0 } };
    const cache = new CachedLookup(crm, { integrationId: 'zoho:1', region: 'US', counts });
    await Promise.all(Array.from({ length: 300 }, (_, i) => cache.lookup(request(callers[i % 100]!), never()))); // 100 sent, 200 joined
    for (let i = 0; i < 50; i += 1) await cache.lookup(request(callers[i]!), never()); // kept
    assert.deepEqual({ hits: counts.hit.value, misses: counts.miss.value, requests: crm.calls }, { hits: 250, misses: 100, requests: 100 });
    const off = { hit: { value: 0 }, miss: { value: 0 } };
    const uncached = new CachedLookup(crm, { integrationId: 'zoho:1', region: 'US', ttlMs: 0, counts: off });
    for (let i = 0; i < 5; i += 1) await uncached.lookup(request(callers[0]!), never());
    assert.deepEqual({ hits: off.hit.value, misses: off.miss.value }, { hits: 0, misses: 5 }, 'cache off: every lookup is a miss');
  });

  it('reads the same caller in any notation as one key (E.164)', async () => {
    const crm = new CountingConnector();
    const cache = new CachedLookup(crm, { integrationId: 'zoho:1', region: 'US' });
    for (const form of ['+12025551234', '2025551234', '(202) 555-1234', '12025551234']) await cache.lookup(request(form), never());
    assert.equal(crm.calls, 1);
  });

  it('keeps tenants, integrations, modules, fields, credentials, DTMF and DID apart', async () => {
    const crm = new CountingConnector();
    const base = request('+12025551234');
    const variants: LookupRequest[] = [
      base,
      { ...base, tenantId: 't2' },
      { ...base, module: 'Leads' },
      { ...base, fieldName: 'Owner' },
      { ...base, credentials: { username: 'u', password: 'other' } },
      { ...base, dtmf: '1' },
      { ...base, did: '5000' },
    ];
    const first = new CachedLookup(crm, { integrationId: 'zoho:1', region: 'US' });
    for (const v of variants) await first.lookup(v, never());
    const second = new CachedLookup(crm, { integrationId: 'zoho:2', region: 'US' });
    await second.lookup(base, never());
    assert.equal(crm.calls, variants.length + 1);
    assert.notEqual(first.keyOf(base), second.keyOf(base));
  });

  it('keeps a value ttlMs and a not_found the shorter notFoundTtlMs', async () => {
    let now = 1_000_000;
    const crm = new CountingConnector((req) => (req.callerId.endsWith('1') ? { kind: 'value', value: 'x' } : { kind: 'not_found' }));
    const cache = new CachedLookup(crm, { integrationId: 'i', region: 'US', ttlMs: 60_000, notFoundTtlMs: 15_000, now: () => now });
    const found = request('+12025550001');
    const missing = request('+12025550002');
    await cache.lookup(found, never());
    await cache.lookup(missing, never());
    now += 14_000;
    await cache.lookup(found, never());
    await cache.lookup(missing, never());
    assert.equal(crm.calls, 2);
    now += 2_000; // 16 s: the not_found expired, the value did not
    await cache.lookup(found, never());
    await cache.lookup(missing, never());
    assert.equal(crm.calls, 3);
    now += 45_000; // 61 s
    await cache.lookup(found, never());
    assert.equal(crm.calls, 4);
  });

  it('keeps no not_found with notFoundTtlMs 0', async () => {
    const crm = new CountingConnector(() => ({ kind: 'not_found' }));
    const cache = new CachedLookup(crm, { integrationId: 'i', region: 'US', notFoundTtlMs: 0 });
    await cache.lookup(request('+12025550002'), never());
    await cache.lookup(request('+12025550002'), never());
    assert.equal(crm.calls, 2);
  });

  it('never keeps an error', async () => {
    const crm = new CountingConnector(() => ({ kind: 'error', code: 'HTTP_ERROR', message: '503' }));
    const cache = new CachedLookup(crm, { integrationId: 'i', region: 'US' });
    for (let i = 0; i < 3; i += 1) assert.equal((await cache.lookup(request('+12025550003'), never())).kind, 'error');
    assert.equal(crm.calls, 3);
    assert.equal(cache.size, 0);
  });

  it("ends one caller's wait at its own abort while the others still get the shared answer", async () => {
    const crm = new CountingConnector(undefined, 60);
    const cache = new CachedLookup(crm, { integrationId: 'i', region: 'US' });
    const leaving = new AbortController();
    const started = Date.now();
    const first = cache.lookup(request('+12025550004'), leaving.signal);
    const second = cache.lookup(request('+12025550004'), never());
    setTimeout(() => leaving.abort(new Error('hung up')), 5);
    const left = await first;
    assert.equal(left.kind, 'error');
    assert.equal(left.kind === 'error' && left.code, 'ABORTED');
    assert.ok(Date.now() - started < 50, 'the leaving caller did not wait for the CRM');
    assert.deepEqual(await second, { kind: 'value', value: 'Gold' });
    assert.equal(crm.calls, 1);
    assert.equal(crm.aborted, 0);
  });

  it('reports TIMEOUT to a caller whose deadline passes while waiting', async () => {
    const crm = new CountingConnector(undefined, 200);
    const cache = new CachedLookup(crm, { integrationId: 'i', region: 'US' });
    const result = await cache.lookup(request('+12025550005'), AbortSignal.timeout(20));
    assert.equal(result.kind === 'error' && result.code, 'TIMEOUT');
  });

  it('cancels the shared request once every caller has left, and starts afresh for the next', async () => {
    const crm = new CountingConnector(undefined, 100);
    const cache = new CachedLookup(crm, { integrationId: 'i', region: 'US' });
    const a = new AbortController();
    const b = new AbortController();
    const pending = [cache.lookup(request('+12025550006'), a.signal), cache.lookup(request('+12025550006'), b.signal)];
    a.abort(new Error('gone'));
    b.abort(new Error('gone'));
    await Promise.all(pending);
    await new Promise((r) => setImmediate(r));
    assert.equal(crm.aborted, 1);
    assert.deepEqual(await cache.lookup(request('+12025550006'), never()), { kind: 'value', value: 'Gold' });
    assert.equal(crm.calls, 2);
  });

  it('answers at once for a signal already aborted, without a request', async () => {
    const crm = new CountingConnector();
    const cache = new CachedLookup(crm, { integrationId: 'i', region: 'US' });
    const gone = new AbortController();
    gone.abort(new Error('gone'));
    assert.equal((await cache.lookup(request('+12025550007'), gone.signal)).kind, 'error');
    assert.equal(crm.calls, 0);
  });

  it('holds at most maxEntries results, dropping the least recently used', async () => {
    const crm = new CountingConnector();
    const cache = new CachedLookup(crm, { integrationId: 'i', region: 'US', maxEntries: 3 });
    for (const c of callers.slice(0, 3)) await cache.lookup(request(c), never());
    await cache.lookup(request(callers[0]!), never()); // 0 is now the most recent
    await cache.lookup(request(callers[3]!), never()); // evicts 1
    assert.equal(cache.size, 3);
    const before = crm.calls;
    await cache.lookup(request(callers[0]!), never());
    assert.equal(crm.calls, before, 'caller 0 stayed');
    await cache.lookup(request(callers[1]!), never());
    assert.equal(crm.calls, before + 1, 'caller 1 was dropped');
    for (let i = 0; i < 500; i += 1) await cache.lookup(request(`+1303555${String(i).padStart(4, '0')}`), never());
    assert.equal(cache.size, 3);
  });

  it('answers every waiter with an error if a connector throws after all', async () => {
    const throwing: CrmConnector = { lookup: async () => { throw new Error('boom'); } };
    const cache = new CachedLookup(throwing, { integrationId: 'i', region: 'US' });
    const results = await Promise.all([cache.lookup(request('+12025550009'), never()), cache.lookup(request('+12025550009'), never())]);
    assert.ok(results.every((r) => r.kind === 'error' && r.code === 'BAD_RESPONSE' && /boom/.test(r.message)));
    assert.equal(cache.size, 0);
  });

  it('hands each caller its own copy of a result', async () => {
    const cache = new CachedLookup(new CountingConnector(), { integrationId: 'i', region: 'US' });
    const first = await cache.lookup(request('+12025550008'), never());
    if (first.kind === 'value') first.value = 'changed';
    assert.deepEqual(await cache.lookup(request('+12025550008'), never()), { kind: 'value', value: 'Gold' });
  });
});
