import assert from 'node:assert/strict';
import { evaluateRows, rowMatches } from '../../src/domain/evaluate';
import type { Operator } from '../../src/domain/operators';

describe('rowMatches', () => {
  // [CRM value, operator, row value, matches]
  const table: Array<[string, Operator, string, boolean]> = [
    ['10', 'lt', '20', true],
    ['10', 'lt', '9', false],
    ['10', 'gt', '9', true],
    ['9.5', 'gt', '9', true],
    ['10', 'le', '10.0', true],
    ['10', 'ge', '10', true],
    ['-3', 'lt', '0', true],
    [' 42 ', 'eq', '42.0', true],
    ['abc', 'lt', 'abd', false], // ordering needs numbers on both sides
    ['10', 'gt', 'abc', false],
    ['Gold', 'eq', 'gold', true],
    ['  Gold ', 'eq', 'GOLD', true],
    ['Gold', 'eq', 'Golden', false],
    ['Gold', 'ne', 'Silver', true],
    ['Gold', 'ne', 'gold', false],
    ['5', 'ne', '5.00', false],
    ['', 'ne', 'Silver', false], // an empty value never matches "not equal"
    ['Platinum Plus', 'contains', 'plus', true],
    ['Platinum', 'contains', 'gold', false],
    ['Platinum Plus', 'starts_with', 'PLAT', true],
    ['Plus Platinum', 'starts_with', 'plat', false],
    ['gold', 'regex', '^(gold|platinum)$', true],
    ['PLATINUM', 'regex', '^(gold|platinum)$', true],
    ['bronze', 'regex', '^(gold|platinum)$', false],
    ['', 'empty', '', true],
    ['   ', 'empty', '', true],
    ['x', 'empty', '', false],
    ['', 'eq', '', false], // "=" never matches an empty value: use "is empty"
  ];
  for (const [value, op, rowValue, expected] of table) {
    it(`${JSON.stringify(value)} ${op} ${JSON.stringify(rowValue)} is ${expected}`, () => {
      assert.equal(rowMatches(value, op, rowValue), expected);
    });
  }
});

describe('evaluateRows', () => {
  const rows = [
    { operator: 'ge' as const, value: '1000' },
    { operator: 'ge' as const, value: '100' },
    { operator: 'eq' as const, value: 'vip' },
    { operator: 'empty' as const, value: '' },
  ];

  it('takes the first matching row in the order given, not the best one', () => {
    assert.equal(evaluateRows('5000', rows), 0);
    assert.equal(evaluateRows('500', rows), 1);
    assert.equal(evaluateRows('VIP', rows), 2);
    assert.equal(evaluateRows('', rows), 3);
  });

  it('returns null when no row matches', () => {
    assert.equal(evaluateRows('12', rows), null);
    assert.equal(evaluateRows('anything', []), null);
  });
});
