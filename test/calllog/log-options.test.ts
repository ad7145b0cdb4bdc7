import assert from 'node:assert/strict';
import { callKindOf, countedSeconds, externalIdOf, formatDuration, planDelivery } from '../../src/calllog/call-activity';
import type { CompletedCall } from '../../src/calllog/completed-call';
import { DEFAULT_LOG_OPTIONS, logOptionsValues, readLogOptionsForm } from '../../src/calllog/log-options';

const form = (fields: Record<string, string>) => readLogOptionsForm((name) => fields[name] ?? '');
const base = { logEnabled: 'yes', call_inboundAnswered: 'yes', minSeconds: '10', unknownCaller: 'lead', subject: '{direction} {caller}' };

function call(over: Partial<CompletedCall> = {}): CompletedCall {
  return {
    linkedId: '1733600000.1', tenantId: 't', direction: 'inbound', disposition: 'answered', externalNumber: '+15550001111', did: '5551234',
    startedAt: new Date('2026-12-07T19:00:00Z'), endedAt: new Date('2026-12-07T19:00:40Z'), talkSeconds: 30, channelUniqueIds: [], ...over,
  };
}

describe('Log options: the form and what a call becomes', () => {
  it('reads the form: unchecked boxes are off, empty seconds are 0, and the values round-trip', () => {
    const read = form(base);
    assert.deepEqual(read.errors, {});
    assert.deepEqual(read.options, {
      enabled: true, calls: { inboundAnswered: true, inboundMissed: false, inboundAbandoned: false, busy: false, outbound: false },
      minSeconds: 10, unknownCaller: 'lead', subject: '{direction} {caller}', routingNotes: false,
    });
    const shown = logOptionsValues(read.options!);
    assert.deepEqual(form({ ...shown, logEnabled: shown.enabled! }).options, read.options, 'what the page shows posts back to the same options');
    assert.equal(form({ ...base, minSeconds: '' }).options?.minSeconds, 0);
  });

  it('refuses what cannot work, each with its own message, keeping what was typed', () => {
    const bad = form({ ...base, minSeconds: '-3', unknownCaller: 'robot', subject: 'Call\r\nBcc: x {oops}' });
    assert.equal(bad.options, undefined);
    assert.equal(bad.errors.minSeconds, 'Enter whole seconds, e.g. 10.');
    assert.equal(bad.errors.unknownCaller, 'Choose what to do with calls from unknown numbers.');
    assert.match(bad.errors.subject!, /one line|Unknown placeholder \{oops\}/);
    assert.equal(bad.values.minSeconds, '-3');
    assert.equal(bad.values.subject, 'Call\r\nBcc: x {oops}');
    assert.equal(form({ ...base, minSeconds: '90000' }).errors.minSeconds, 'At most 86400 seconds (a day).');
    assert.match(form({ ...base, subject: '' }).errors.subject!, /Enter a subject template/);
  });

  it('sorts calls into the kinds an administrator switches: failed inbound counts as missed', () => {
    assert.equal(callKindOf(call()), 'inboundAnswered');
    assert.equal(callKindOf(call({ disposition: 'missed' })), 'inboundMissed');
    assert.equal(callKindOf(call({ disposition: 'failed' })), 'inboundMissed');
    assert.equal(callKindOf(call({ disposition: 'abandoned' })), 'inboundAbandoned');
    assert.equal(callKindOf(call({ disposition: 'busy' })), 'busy');
    assert.equal(callKindOf(call({ direction: 'outbound', disposition: 'busy' })), 'outbound');
    assert.equal(countedSeconds(call()), 30, 'answered: talk time');
    assert.equal(countedSeconds(call({ disposition: 'missed', talkSeconds: 0 })), 40, 'missed: how long it rang');
  });

  it('an external id is stable per tenant, integration and call, and fits every CRM', () => {
    const id = externalIdOf('t', 'hubspot', '1733600000.1');
    assert.equal(id, externalIdOf('t', 'hubspot', '1733600000.1'));
    assert.notEqual(id, externalIdOf('t', 'zoho', '1733600000.1'));
    assert.notEqual(id, externalIdOf('u', 'hubspot', '1733600000.1'));
    assert.match(id, /^[A-Za-z0-9_-]{1,64}$/);
  });

  it('fills the subject template; a value cannot add a line', () => {
    const plan = planDelivery(call({ externalNumber: '+1555\r\nX-Injected: 1', talkSeconds: 125 }), {
      integration: 'custom', routing: [], options: { ...DEFAULT_LOG_OPTIONS, enabled: true, subject: '{direction} {disposition} {caller} {duration} {did} {agent} {rule}{outcome} {unknown}' },
    });
    assert.equal(plan.kind, 'write');
    assert.equal(plan.kind === 'write' && plan.activity.subject, 'Inbound Answered +1555 X-Injected: 1 2m 05s 5551234 {unknown}');
    assert.equal(plan.kind === 'write' && plan.activity.durationSeconds, 125);
    assert.equal(formatDuration(3725), '1h 02m 05s');
  });
});
