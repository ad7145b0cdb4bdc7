import assert from 'node:assert/strict';
import { AgiParser } from '../../src/call/agi-parser';
import { parseAgiRequest } from '../../src/call/agi-request';
import { FULL_HEADER, HEADER_WITHOUT_CALLER_ID, HEADER_WITH_ARGS, headerWith } from '../support/agi-transcripts';

function fieldsOf(header: string): Map<string, string> {
  const [event] = new AgiParser().push(header);
  assert.ok(event?.type === 'header');
  return event.fields;
}

describe('parseAgiRequest', () => {
  it('maps the measured header to an AgiRequest', () => {
    const request = parseAgiRequest(fieldsOf(FULL_HEADER));
    assert.deepEqual(request, {
      channel: 'Local/5551234@from-did-00000000;2',
      uniqueId: '1795556051.1',
      callerId: '+15550001111',
      callerIdName: 'Test Caller',
      dnid: '',
      context: 'from-did',
      extension: '5551234',
      priority: 2,
      networkScript: 'crm-routing?rule=1',
      request: 'agi://127.0.0.1:4573/crm-routing?rule=1',
      args: [],
    });
  });

  it('turns "unknown" caller ID into empty strings', () => {
    const request = parseAgiRequest(fieldsOf(HEADER_WITHOUT_CALLER_ID));
    assert.equal(request.callerId, '');
    assert.equal(request.callerIdName, '');
  });

  it('lists agi_arg_N in order, stopping at the first gap', () => {
    assert.deepEqual(parseAgiRequest(fieldsOf(HEADER_WITH_ARGS)).args, ['arg one', 'arg2']);
    assert.deepEqual(parseAgiRequest(fieldsOf(headerWith({ agi_arg_2: 'b', agi_arg_1: 'a', agi_arg_4: 'd' }))).args, ['a', 'b']);
  });

  it('refuses a header without a channel, naming the field', () => {
    assert.throws(() => parseAgiRequest(fieldsOf(headerWith({ agi_channel: null }))), (err: Error & { code?: string }) => {
      assert.equal(err.code, 'BAD_REQUEST');
      assert.match(err.message, /agi_channel/);
      return true;
    });
  });

  it('refuses control characters, a bad priority and an empty unique id', () => {
    const cases: Array<Record<string, string>> = [
      { agi_channel: 'Local/1@x\rAction: Hangup' },
      { agi_priority: 'two' },
      { agi_priority: '0' },
      { agi_uniqueid: '' },
      { agi_arg_1: 'a\u0000b' },
    ];
    for (const change of cases) {
      assert.throws(() => parseAgiRequest(fieldsOf(headerWith(change))), { code: 'BAD_REQUEST' }, JSON.stringify(change));
    }
  });

  it('keeps a __proto__ key as plain data', () => {
    const request = parseAgiRequest(fieldsOf(FULL_HEADER.replace(/\n\n$/, '\n__proto__: x\nagi_polluted: no\n\n')));
    assert.equal(request.channel, 'Local/5551234@from-did-00000000;2');
    assert.equal(Object.getPrototypeOf({}), Object.prototype);
  });
});
