import assert from 'node:assert/strict';
import { capLength, isUniqueViolation, likeContains, toBoolean, toDate, toNumber } from '../../src/store/db-values';
import { describeEachDatabase } from '../support/databases';

describe('db-values', () => {
  it('escapes LIKE wildcards and the escape character', () => {
    assert.equal(likeContains('100%_a!b'), '%100!%!_a!!b%');
  });

  it('caps text by characters, never splitting a surrogate pair', () => {
    assert.equal(capLength('abcdef', 4), 'abcd');
    assert.equal(capLength('😀😀😀', 2), '😀😀');
    assert.equal(capLength(null, 3), null);
    assert.equal(capLength(undefined, 3), null);
  });

  it('reads numbers, booleans and dates however the driver returns them', () => {
    assert.equal(toNumber('42'), 42);
    assert.equal(toNumber(42n), 42);
    assert.throws(() => toNumber('x'));
    assert.deepEqual([1, 0, true, false, '1', '0'].map(toBoolean), [true, false, true, false, true, false]);
    const when = new Date('2026-11-25T10:00:00.123Z');
    assert.deepEqual(toDate(when.getTime()), when);
    assert.deepEqual(toDate(String(when.getTime())), when);
    assert.deepEqual(toDate(when), when);
  });
});

describeEachDatabase('isUniqueViolation', (database) => {
  it('recognises the driver\'s own duplicate-key error', async () => {
    await database.db.schema.createTable('uv_probe', (t) => {
      t.increments('id');
      t.string('k', 10).unique();
    });
    await database.db('uv_probe').insert({ k: 'a' });
    const error = await database.db('uv_probe').insert({ k: 'a' }).then(() => undefined, (e: unknown) => e);
    assert.ok(error !== undefined, 'the second insert fails');
    assert.equal(isUniqueViolation(error), true);
    const other = await database.db.raw('select * from no_such_table').then(() => undefined, (e: unknown) => e);
    assert.equal(isUniqueViolation(other), false);
    await database.db.schema.dropTable('uv_probe');
  });
});
