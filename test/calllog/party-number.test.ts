import assert from 'node:assert/strict';
import { knownNumber, partyNumber } from '../../src/calllog/party-number';
import { parseAsteriskTime } from '../../src/calllog/asterisk-time';

describe('partyNumber: the number in a channel name, dial string or Dial LastData', () => {
  const cases: Array<[string, string | undefined]> = [
    ['Local/100@probe-agent-answer-00000259;1', '100'], // measured channel names
    ['Local/+15557654321@probe-pstn-answer-00000266;1', '+15557654321'],
    ['100@probe-agent-answer', '100'], // measured DialString
    ['Local/100@probe-agent-answer', '100'], // measured DialString in a queue
    ['Local/100@probe-agent-answer,10', '100'], // measured LastData
    ['PJSIP/100-0000002a', '100'],
    ['PJSIP/+15557654321@trunk', '+15557654321'],
    ['PJSIP/trunk/sip:+15557654321@203.0.113.5', '+15557654321'],
    ['PJSIP/100&PJSIP/101,20', '100'],
    ['Local/100@from-internal/n', '100'],
    ['', undefined],
    ['<script>@x', undefined],
  ];
  for (const [text, number] of cases) it(`${JSON.stringify(text)} -> ${String(number)}`, () => assert.equal(partyNumber(text), number));

  it('treats Asterisk\'s placeholders for no caller ID as no number', () => {
    assert.deepEqual(['<unknown>', 'unknown', '', ' +1555 '].map(knownNumber), [undefined, undefined, undefined, '+1555']);
  });
});

describe('parseAsteriskTime: Cdr and CEL times in the Asterisk server zone', () => {
  it('reads the measured UTC times', () => {
    assert.equal(parseAsteriskTime('2026-12-04 14:42:04', 'UTC'), Date.UTC(2026, 11, 4, 14, 42, 4));
  });
  it('reads a server in another zone, summer and winter', () => {
    assert.equal(parseAsteriskTime('2026-12-04 15:42:04', 'Europe/Sarajevo'), Date.UTC(2026, 11, 4, 14, 42, 4));
    assert.equal(parseAsteriskTime('2026-07-04 16:42:04', 'Europe/Sarajevo'), Date.UTC(2026, 6, 4, 14, 42, 4));
    assert.equal(parseAsteriskTime('2026-07-04 10:42:04', 'America/New_York'), Date.UTC(2026, 6, 4, 14, 42, 4));
  });
  it('gives undefined for an empty AnswerTime or a malformed time', () => {
    assert.deepEqual([parseAsteriskTime('', 'UTC'), parseAsteriskTime('2026-12-04T14:42:04Z', 'UTC')], [undefined, undefined]);
  });
});
