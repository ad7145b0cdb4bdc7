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
    assert.deepEqual(decide(rule, { kind: 'value', value: 'Gold' }), { outcome: 'MATCH', branch: 'row', rowIndex: 1, destination: { type: 'queue', target: '103' }, voicemail: undefined });
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
      assert.deepEqual(decide(rule, lookup), { outcome, branch: 'default', rowIndex: null, destination: { type: 'extension', target: '100' }, voicemail: 'yes' });
    });
  }

  it('lets an "is empty" row take callers who are not found or have a blank field', () => {
    assert.equal(decide(withEmptyRow, { kind: 'not_found' }).rowIndex, 2);
    assert.equal(decide(withEmptyRow, { kind: 'value', value: '' }).outcome, 'MATCH');
  });

  it('never evaluates rows on a CRM error, even an "is empty" row', () => {
    assert.equal(decide(withEmptyRow, { kind: 'error', timeout: false }).outcome, 'CRM_ERROR');
  });

  describe('"When the lookup fails" branches', () => {
    const branches = {
      notFound: { type: 'queue' as const, target: '110' },
      crmError: { type: 'recording' as const, target: 'sorry' },
      invalidDigits: { type: 'ivr' as const, target: '201' },
    };
    const ivrRule = { ...rule, location: 'ivr' as const, branches };
    const each: Array<[string, Parameters<typeof decide>[1], string, string, { type: string; target: string }]> = [
      ['a caller not in the CRM', { kind: 'not_found' }, 'NOT_FOUND', 'not_found', branches.notFound],
      ['a call without caller ID', { kind: 'no_caller_id' }, 'NO_CALLER_ID', 'not_found', branches.notFound],
      ['a CRM error', { kind: 'error', timeout: false }, 'CRM_ERROR', 'crm_error', branches.crmError],
      ['a passed deadline', { kind: 'error', timeout: true }, 'CRM_TIMEOUT', 'crm_error', branches.crmError],
      ['no or invalid digits', { kind: 'invalid_dtmf' }, 'INVALID_DTMF', 'invalid_digits', branches.invalidDigits],
    ];
    for (const [what, lookup, outcome, branch, destination] of each) {
      it(`sends ${what} to its branch (${branch}), without the default's voicemail choice`, () => {
        assert.deepEqual(decide(ivrRule, lookup), { outcome, branch, rowIndex: null, destination, voicemail: undefined });
      });
    }

    it('sends a failure whose branch is not set to the default destination, as before', () => {
      const partial = { ...ivrRule, branches: { ...branches, crmError: null } };
      assert.deepEqual(decide(partial, { kind: 'error', timeout: true }), { outcome: 'CRM_TIMEOUT', branch: 'default', rowIndex: null, destination: { type: 'extension', target: '100' }, voicemail: 'yes' });
      assert.equal(decide(partial, { kind: 'not_found' }).branch, 'not_found');
    });

    it('keeps values no row matches and blank fields on the default destination', () => {
      assert.equal(decide(ivrRule, { kind: 'value', value: 'Silver' }).branch, 'default');
      assert.equal(decide(ivrRule, { kind: 'value', value: '' }).branch, 'default');
    });

    it('lets an "is empty" row take a caller who is not found before the not-found branch', () => {
      assert.deepEqual(decide({ ...withEmptyRow, branches }, { kind: 'not_found' }), { outcome: 'MATCH', branch: 'row', rowIndex: 2, destination: { type: 'ivr', target: '200' }, voicemail: undefined });
    });

    it('never uses the digits branch on a DID rule', () => {
      assert.equal(decide({ ...ivrRule, location: 'did' as const }, { kind: 'invalid_dtmf' }).branch, 'default');
    });
  });
});
