import assert from 'node:assert/strict';
import type { Knex } from 'knex';
import { DatabasePing } from '../../src/store/database-ping';
import { describeEachDatabase } from '../support/databases';

describeEachDatabase('DatabasePing', (database) => {
  it('answers reachable with the time the check took', async () => {
    const health = await new DatabasePing(database.db).check();
    assert.equal(health.reachable, true);
    assert.ok(health.checkMs >= 0 && health.checkMs < 1000, String(health.checkMs));
    assert.equal(health.code, undefined);
  });
});

describe('DatabasePing on a database that fails', () => {
  const never = { raw: () => new Promise(() => {}) } as unknown as Knex;
  const refusing = { raw: () => Promise.reject(Object.assign(new Error('connect ECONNREFUSED 10.0.0.9:3306 (password: s3cret)'), { code: 'ECONNREFUSED' })) } as unknown as Knex;

  it('gives up after its timeout when the database never answers (TIMEOUT), and shares one check among concurrent askers', async () => {
    let queries = 0;
    const counting = { raw: () => { queries += 1; return new Promise(() => {}); } } as unknown as Knex;
    const started = performance.now();
    const results = await Promise.all([1, 2, 3].map(() => new DatabasePing(never, 100).check()));
    assert.ok(results.every((r) => !r.reachable && r.code === 'TIMEOUT'));
    const ping = new DatabasePing(counting, 100);
    await Promise.all([ping.check(), ping.check(), ping.check()]);
    assert.equal(queries, 1);
    assert.ok(performance.now() - started < 500);
  });

  it("reports the driver's code, never its message", async () => {
    const health = await new DatabasePing(refusing).check();
    assert.deepEqual({ reachable: health.reachable, code: health.code }, { reachable: false, code: 'ECONNREFUSED' });
    assert.ok(!JSON.stringify(health).includes('s3cret'));
  });
});
