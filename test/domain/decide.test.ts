import assert from 'node:assert/strict';
import { decide } from '../../src/domain/decide';
import type { RuleRow } from '../../src/domain/rule';

const rows: RuleRow[] = [
  { operator: 'ge', value: '1000', destination: { type: 'queue', target: '105' } },
  { operator: 'eq', value: 'gold', destination: { type: 'queue', target: '103' } },
];
const rule = { rows, defaultDestination: { type: 'extension' as const, target: '100' }, defaultVoicemail: 'yes' as const };
const withEmptyRow = { ...rule, rows: [...rows, { operator: 'empty' as const, value: '', destination: { type: 'ivr' as const, target: '200' } }] };

describe('decide', () => {
  it('sends a matching value to its row, without the voicemail choice', () => {
    assert.deepEqual(decide(rule, { kind: 'value', value: 'Gold' }), { outcome: 'MATCH', rowIndex: 1, destination: { type: 'queue', target: '103' }, voicemail: undefined });
  });

  const toDefault: Array<[string, Parameters<typeof decide>[1], string]> = [
    ['a value no row matches', { kind: 'value', value: 'Silver' }, 'NO_MATCH'],
    ['a blank field', { kind: 'value', value: '  ' }, 'EMPTY_VALUE'],
    ['a caller not in the CRM', { kind: 'not_found' }, 'NOT_FOUND'],
    ['a call without caller ID', { kind: 'no_caller_id' }, 'NO_CALLER_ID'],
    ['a CRM error', { kind: 'error', timeout: false }, 'CRM_ERROR'],
    ['a CRM timeout', { kind: 'error', timeout: true }, 'CRM_TIMEOUT'],
    ['bad digits', { kind: 'invalid_dtmf' }, 'INVALID_DTMF'],
  ];
  for (const [what, lookup, outcome] of toDefault) {
    it(`sends ${what} to the default destination with its voicemail choice (${outcome})`, () => {
      assert.deepEqual(decide(rule, lookup), { outcome, rowIndex: null, destination: { type: 'extension', target: '100' }, voicemail: 'yes' });
    });
  }

  it('lets an "is empty" row take callers who are not found or have a blank field', () => {
    assert.equal(decide(withEmptyRow, { kind: 'not_found' }).rowIndex, 2);
    assert.equal(decide(withEmptyRow, { kind: 'value', value: '' }).outcome, 'MATCH');
  });

  it('never evaluates rows on a CRM error, even an "is empty" row', () => {
    assert.equal(decide(withEmptyRow, { kind: 'error', timeout: false }).outcome, 'CRM_ERROR');
  });
});
