import assert from 'node:assert/strict';
import type { Rule, RuleDraft } from '../../src/domain/rule';
import { checkTestValues, ruleUnderTest, sameAsSaved } from '../../src/web/rule-under-test';

const saved: Rule = {
  id: 7, tenantId: 'acme', version: 3, name: 'Tiers', fieldName: 'Account_Tier', location: 'did', greeting: null,
  source: { kind: 'custom', url: 'https://crm.example.com/lookup', post: false, headers: [{ name: 'X-Api-Key', value: 'k3y', secret: true }, { name: 'X-Tenant', value: 'acme', secret: false }] },
  deadlineSeconds: 3, defaultDestination: { type: 'extension', target: '100' }, defaultVoicemail: 'unset', branches: { notFound: null, crmError: null, invalidDigits: null },
  rows: [{ operator: 'eq', value: 'gold', destination: { type: 'queue', target: '105' } }],
};

/** The draft the unchanged edit form gives: secret values left blank (null). */
function draftOf(rule: Rule): RuleDraft {
  const { id: _id, tenantId: _t, version: _v, ...rest } = structuredClone(rule);
  const source = rest.source.kind === 'custom' ? { ...rest.source, headers: rest.source.headers.map((h) => ({ ...h, value: h.secret ? null : h.value })) } : { ...rest.source, password: null };
  return { ...rest, source };
}

describe('ruleUnderTest and sameAsSaved', () => {
  it('takes blank secrets from the saved rule, and calls an unchanged form the saved rule', () => {
    const tested = ruleUnderTest(draftOf(saved), 'acme', saved);
    assert.deepEqual(tested.source, saved.source);
    assert.equal(tested.id, 7);
    assert.equal(sameAsSaved(tested, saved), true);
  });

  it('sees any change, a new secret value included', () => {
    const changedRow = draftOf(saved);
    changedRow.rows[0]!.value = 'platinum';
    assert.equal(sameAsSaved(ruleUnderTest(changedRow, 'acme', saved), saved), false);
    const newKey = draftOf(saved);
    if (newKey.source.kind === 'custom') newKey.source.headers[0]!.value = 'another-key';
    assert.equal(sameAsSaved(ruleUnderTest(newKey, 'acme', saved), saved), false);
  });

  it('tests a rule not saved yet with id 0 and no stored secrets', () => {
    const tested = ruleUnderTest(draftOf(saved), 'acme', undefined);
    assert.equal(tested.id, 0);
    assert.deepEqual(tested.source.kind === 'custom' && tested.source.headers.map((h) => h.value), ['', 'acme']);
    assert.equal(sameAsSaved(tested, undefined), false);
  });

  it('checks the test input and names the form field of each mistake', () => {
    assert.deepEqual(checkTestValues({ callerId: ' +1 (555) 000-0001 ', dtmf: '12#', did: '5551234' }), { input: { callerId: '+1 (555) 000-0001', dtmf: '12#', did: '5551234' } });
    assert.deepEqual(checkTestValues({ callerId: 'abc', dtmf: 'x', did: '' }), {
      errors: { testCallerId: 'Enter the caller number as digits, e.g. +15551234567.', testDtmf: 'Digits may only be 0-9, * and #.' },
    });
  });
});
