import assert from 'node:assert/strict';
import { mapConcurrently } from '../../../src/crm/shared/map-concurrently';

describe('mapConcurrently', () => {
  it('answers in the order of the items with at most `limit` tasks in flight', async () => {
    let running = 0;
    let peak = 0;
    const result = await mapConcurrently([30, 5, 20, 1, 10, 2], 3, async (ms) => {
      running += 1;
      peak = Math.max(peak, running);
      await new Promise((r) => setTimeout(r, ms));
      running -= 1;
      return ms * 2;
    });
    assert.deepEqual(result, [60, 10, 40, 2, 20, 4]);
    assert.equal(peak, 3);
  });

  it('answers an empty list at once and fails on the first failure', async () => {
    assert.deepEqual(await mapConcurrently([], 4, async () => 1), []);
    await assert.rejects(mapConcurrently([1, 2, 3], 2, async (n) => { if (n === 2) throw new Error('two'); return n; }), /two/);
  });
});
