import assert from 'node:assert/strict';
import { OwnerRouting } from '../../src/call/owner-routing';
import { RuleTester } from '../../src/call/rule-tester';
import type { RuleConnectors } from '../../src/crm/rule-connectors';
import type { Rule } from '../../src/domain/rule';
import { ReferenceCatalog } from '../../scripts/host/catalog';

/** An IVR rule whose digits must be 6 long: Test rule decides "bad digits" without asking the CRM. */
const rule: Rule = {
  id: 1, tenantId: 't', version: 1, name: 'Digits', fieldName: 'Account_Tier', location: 'ivr',
  greeting: { recording: 'enter-account', maxDigits: 6, timeoutSeconds: 5, retries: 0, pattern: '\\d{6}' },
  source: { kind: 'custom', url: 'https://crm.example.com/lookup', post: false, headers: [] }, deadlineSeconds: 1,
  defaultDestination: { type: 'extension', target: '100' }, defaultVoicemail: 'yes',
  branches: { notFound: null, crmError: null, invalidDigits: { type: 'ivr', target: '201' } },
  rows: [{ operator: 'eq', value: 'gold', destination: { type: 'queue', target: '105' } }],
};
const noConnectors = { forRule: () => assert.fail('the CRM is not asked for bad digits') } as unknown as RuleConnectors;

describe('RuleTester and "When the lookup fails"', () => {
  const tester = new RuleTester(noConnectors, new ReferenceCatalog(), new OwnerRouting(undefined, noConnectors));

  it('shows the digits branch and where it leads', async () => {
    const report = await tester.test(rule, { callerId: '+15550000001', did: '', dtmf: '12' });
    assert.deepEqual({ outcome: report.decision.outcome, branch: report.decision.branch, destination: report.decision.destination }, { outcome: 'INVALID_DTMF', branch: 'invalid_digits', destination: { type: 'ivr', target: '201' } });
    assert.deepEqual(report.target, { context: 'ivr-201', exten: 's', priority: 1 });
  });

  it('shows the default destination, as a call would take it, when the branch left the PBX', async () => {
    const gone = { ...rule, branches: { ...rule.branches, invalidDigits: { type: 'ivr' as const, target: '299' } } };
    const report = await tester.test(gone, { callerId: '+15550000001', did: '', dtmf: '12' });
    assert.deepEqual({ outcome: report.decision.outcome, branch: report.decision.branch, destination: report.decision.destination, voicemail: report.decision.voicemail }, { outcome: 'INVALID_DTMF', branch: 'default', destination: { type: 'extension', target: '100' }, voicemail: 'yes' });
    assert.deepEqual(report.target, { context: 'ext-voicemail', exten: '100', priority: 1 });
  });
});
