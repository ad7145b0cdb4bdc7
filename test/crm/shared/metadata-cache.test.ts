import assert from 'node:assert/strict';
import { setTimeout as delay } from 'node:timers/promises';
import { MetadataCache } from '../../../src/crm/shared/metadata-cache';

describe('MetadataCache', () => {
  it('lets concurrent lookups share one read, and keeps its answer', async () => {
    const cache = new MetadataCache<string[]>(10);
    let reads = 0;
    const read = async () => { reads += 1; await delay(5); return ['Phone']; };
    assert.deepEqual(await Promise.all([cache.get('Contact', read), cache.get('Contact', read)]), [['Phone'], ['Phone']]);
    assert.deepEqual(await cache.get('Contact', read), ['Phone']);
    assert.equal(reads, 1);
  });

  it('forgets a failed read, so the next lookup asks again', async () => {
    const cache = new MetadataCache<string[]>(10);
    await assert.rejects(cache.get('Lead', async () => { throw new Error('timeout'); }), /timeout/);
    assert.deepEqual(await cache.get('Lead', async () => ['MobilePhone']), ['MobilePhone']);
  });

  it('reads again after its time to live, and starts over when full', async () => {
    const expiring = new MetadataCache<number>(10, 1);
    assert.equal(await expiring.get('k', async () => 1), 1);
    await delay(5);
    assert.equal(await expiring.get('k', async () => 2), 2);
    const small = new MetadataCache<number>(1);
    await small.get('a', async () => 1);
    await small.get('b', async () => 2);
    assert.equal(await small.get('a', async () => 3), 3, 'a was dropped when b came in');
  });
});
