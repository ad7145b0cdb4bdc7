import assert from 'node:assert/strict';
import { OwnerEmailCache } from '../../../src/crm/owner-lookup';
import { CrmError } from '../../../src/crm/shared/crm-error';

/** One cache per connector serves owner routing (id -> e-mail) and the call log's owner (e-mail -> id). */
describe('OwnerEmailCache', () => {
  const signal = new AbortController().signal;

  it('reads a user id by e-mail once per scope, whatever the address case, and caches "no such user" too', async () => {
    const cache = new OwnerEmailCache('Test CRM');
    let reads = 0;
    const read = async () => { reads += 1; return reads === 1 ? 'u-1' : undefined; };
    assert.equal(await cache.idOf('api', 'Agent@Example.com', read), 'u-1');
    assert.equal(await cache.idOf('api', 'agent@example.com ', read), 'u-1');
    assert.equal(reads, 1);
    assert.equal(await cache.idOf('other-login', 'agent@example.com', read), undefined);
    assert.equal(await cache.idOf('other-login', 'agent@example.com', read), undefined);
    assert.equal(reads, 2);
  });

  it('asks again after a failed read by e-mail, and keeps the id -> e-mail side apart', async () => {
    const cache = new OwnerEmailCache('Test CRM');
    await assert.rejects(cache.idOf('api', 'a@example.com', async () => { throw new CrmError('TIMEOUT', 'slow'); }), /slow/);
    assert.equal(await cache.idOf('api', 'a@example.com', async () => 7), 7);
    assert.deepEqual(await cache.get('7', /^\d+$/, signal, async () => 'a@example.com'), { kind: 'email', email: 'a@example.com' });
  });
});
