import assert from 'node:assert/strict';
import { pickMostRecent, type Candidate } from '../../../src/crm/shared/record-pick';

describe('pickMostRecent', () => {
  const pick = (list: Array<Omit<Candidate<string>, 'record'>>) => pickMostRecent(list.map((c) => ({ ...c, record: c.id })))?.record;

  it('takes the most recently modified record', () => {
    assert.equal(pick([{ id: 'a', modifiedAt: 1000 }, { id: 'b', modifiedAt: 2000 }]), 'b');
  });

  it('breaks a tie by the finer clock, higher is newer', () => {
    assert.equal(pick([{ id: 'a', modifiedAt: 60_000, finer: 60_005 }, { id: 'b', modifiedAt: 60_000, finer: 60_048 }]), 'b');
  });

  it('then by the rank in an answer sorted newest first, then by the lowest id', () => {
    assert.equal(pick([{ id: 'a', modifiedAt: 60_000, rank: 1 }, { id: 'b', modifiedAt: 60_000, rank: 0 }]), 'b');
    assert.equal(pick([{ id: 'b', modifiedAt: 60_000 }, { id: 'a', modifiedAt: 60_000 }]), 'a');
  });

  it('puts a record without a readable time after those with one', () => {
    assert.equal(pick([{ id: 'a', modifiedAt: Number.NaN, rank: 0 }, { id: 'b', modifiedAt: 5 }]), 'b');
    assert.equal(pickMostRecent([]), undefined);
  });
});
