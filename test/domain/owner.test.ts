import assert from 'node:assert/strict';
import { decide } from '../../src/domain/decide';
import { describeDestination } from '../../src/domain/destination';
import { ownerDecision, ownerKeyOf, ownerValue } from '../../src/domain/owner';
import type { RuleRow } from '../../src/domain/rule';

const rows: RuleRow[] = [
  { operator: 'eq', value: 'nobody', destination: { type: 'queue', target: '103' } },
  { operator: 'contains', value: '@', destination: { type: 'owner', target: 'email' } },
];
const rule = { rows, defaultDestination: { type: 'queue' as const, target: '105' }, defaultVoicemail: 'no' as const };

describe('owner routing (domain)', () => {
  it('marks a matched "Owner\'s extension" row with its owner key, and nothing else', () => {
    const matched = decide(rule, { kind: 'value', value: 'ana@example.com' });
    assert.equal(ownerKeyOf(matched), 'email');
    assert.equal(ownerKeyOf(decide(rule, { kind: 'value', value: 'nobody' })), undefined);
    assert.equal(ownerKeyOf(decide(rule, { kind: 'not_found' })), undefined);
  });

  it('sends a known owner to their extension and keeps the matching row', () => {
    const matched = decide(rule, { kind: 'value', value: 'ana@example.com' });
    assert.deepEqual(ownerDecision(rule, matched, { kind: 'extension', extension: '101', owner: 'ana@example.com' }),
      { outcome: 'MATCH', branch: 'row', rowIndex: 1, destination: { type: 'extension', target: '101' }, voicemail: undefined });
  });

  it('sends an unknown owner to the default destination with OWNER_UNKNOWN and the voicemail choice', () => {
    const matched = decide(rule, { kind: 'value', value: 'zoe@example.com' });
    assert.deepEqual(ownerDecision(rule, matched, { kind: 'unknown', owner: 'zoe@example.com', why: 'no extension' }),
      { outcome: 'OWNER_UNKNOWN', branch: 'default', rowIndex: null, destination: { type: 'queue', target: '105' }, voicemail: 'no' });
  });

  it('asks the directory only about one bounded line', () => {
    assert.equal(ownerValue('  ana@example.com '), 'ana@example.com');
    assert.equal(ownerValue(''), undefined);
    assert.equal(ownerValue('a@b.c\r\nAction: Originate'), undefined);
    assert.equal(ownerValue('x'.repeat(255)), undefined);
  });

  it('describes the row as an administrator reads it', () => {
    assert.equal(describeDestination({ type: 'owner', target: 'user_id' }), "Owner's extension (the value is the owner's CRM user id)");
  });
});
