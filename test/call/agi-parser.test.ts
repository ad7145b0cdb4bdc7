import assert from 'node:assert/strict';
import { AgiParser, type AgiParserEvent, type AgiParserOptions, type AgiReply } from '../../src/call/agi-parser';
import {
  FULL_HEADER, HEADER_LINES, HEADER_WITHOUT_CALLER_ID, HEADER_WITH_ARGS, USAGE_BLOCK,
} from '../support/agi-transcripts';

function parse(input: string | Buffer, options?: AgiParserOptions): AgiParserEvent[] {
  return new AgiParser(options).push(input);
}

function replies(input: string): AgiParserEvent[] {
  return parse(FULL_HEADER + input).slice(1);
}

const reply = (r: AgiReply): AgiParserEvent => ({ type: 'reply', reply: r });
const result = (raw: string, value: string, extra: { data?: string; endpos?: number } = {}): AgiParserEvent =>
  reply({ kind: 'result', code: 200, result: value, raw, ...extra });
const HANGUP: AgiParserEvent = { type: 'hangup' };

describe('AgiParser', () => {
  describe('header', () => {
    it('reads the measured Asterisk 22 header field by field, in order', () => {
      const events = parse(FULL_HEADER);
      assert.equal(events.length, 1);
      const [event] = events;
      assert.ok(event?.type === 'header');
      assert.deepEqual([...event.fields.keys()], HEADER_LINES.map((line) => line.slice(0, line.indexOf(':'))));
      assert.equal(event.fields.get('agi_request'), 'agi://127.0.0.1:4573/crm-routing?rule=1');
      assert.equal(event.fields.get('agi_network_script'), 'crm-routing?rule=1');
      assert.equal(event.fields.get('agi_channel'), 'Local/5551234@from-did-00000000;2');
      assert.equal(event.fields.get('agi_calleridname'), 'Test Caller');
      assert.equal(event.fields.get('agi_accountcode'), '', 'a trailing space is an empty value');
      assert.equal(event.fields.get('agi_threadid'), '140350374528704');
    });

    it('reads the header of a call without caller ID', () => {
      const [event] = parse(HEADER_WITHOUT_CALLER_ID);
      assert.ok(event?.type === 'header');
      assert.equal(event.fields.get('agi_callerid'), 'unknown');
      assert.equal(event.fields.get('agi_calleridname'), 'unknown');
      assert.equal(event.fields.get('agi_callingpres'), '67');
    });

    it('reads dialplan arguments after agi_threadid', () => {
      const [event] = parse(HEADER_WITH_ARGS);
      assert.ok(event?.type === 'header');
      assert.equal(event.fields.get('agi_arg_1'), 'arg one');
      assert.equal(event.fields.get('agi_arg_2'), 'arg2');
    });

    it('accepts "key:" without a space as an empty value and tolerates CRLF', () => {
      const [event] = parse('agi_accountcode:\r\nagi_request: agi://h:1/x\r\n\r\n');
      assert.ok(event?.type === 'header');
      assert.deepEqual([...event.fields], [['agi_accountcode', ''], ['agi_request', 'agi://h:1/x']]);
    });

    it('emits nothing until the empty line ends the header', () => {
      const parser = new AgiParser();
      assert.deepEqual(parser.push(FULL_HEADER.slice(0, -1)), []);
      assert.equal(parser.phase, 'header');
      assert.equal(parser.push('\n').length, 1);
      assert.equal(parser.phase, 'replies');
    });

    it('reads replies that came in the same chunk as the header', () => {
      assert.deepEqual(parse(`${FULL_HEADER}200 result=1\n`).slice(1), [result('200 result=1', '1')]);
    });
  });

  describe('replies', () => {
    // Every shape of the "Replies measured on Asterisk 22.10.1" table, plus what res_agi writes.
    const table: Array<[string, AgiParserEvent]> = [
      ['200 result=0', result('200 result=0', '0')],
      ['200 result=1', result('200 result=1', '1')],
      ['200 result=1 (1)', result('200 result=1 (1)', '1', { data: '1' })],
      ['200 result= (timeout)', result('200 result= (timeout)', '', { data: 'timeout' })],
      ['200 result=5 (timeout)', result('200 result=5 (timeout)', '5', { data: 'timeout' })],
      ['200 result=1234', result('200 result=1234', '1234')],
      ['200 result=12', result('200 result=12', '12')],
      ['200 result=', result('200 result=', '')],
      ['200 result=-1', result('200 result=-1', '-1')],
      ['200 result=-2', result('200 result=-2', '-2')],
      ['200 result=0 endpos=1600', result('200 result=0 endpos=1600', '0', { endpos: 1600 })],
      ['200 result=-1 endpos=0', result('200 result=-1 endpos=0', '-1', { endpos: 0 })],
      ['200 result=1 (speech) endpos=1234', result('200 result=1 (speech) endpos=1234', '1', { data: 'speech', endpos: 1234 })],
      ['200 result=1 (some value)', result('200 result=1 (some value)', '1', { data: 'some value' })],
      ['200 result=1 (a (b) c)', result('200 result=1 (a (b) c)', '1', { data: 'a (b) c' })],
      ['200 result=1 ()', result('200 result=1 ()', '1', { data: '' })],
      ['510 Invalid or unknown command', reply({ kind: 'invalid-command', code: 510, message: 'Invalid or unknown command', raw: '510 Invalid or unknown command' })],
      ['511 Command Not Permitted on a dead channel or intercept routine',
        reply({ kind: 'dead-channel', code: 511, message: 'Command Not Permitted on a dead channel or intercept routine', raw: '511 Command Not Permitted on a dead channel or intercept routine' })],
      ['520 Invalid command syntax.  Proper usage not available.',
        reply({ kind: 'usage', code: 520, message: 'Invalid command syntax.  Proper usage not available.', usage: [], raw: '520 Invalid command syntax.  Proper usage not available.' })],
    ];
    for (const [line, expected] of table) {
      it(`reads ${JSON.stringify(line)}`, () => {
        assert.deepEqual(replies(`${line}\n`), [expected]);
        assert.deepEqual(replies(`${line}\r\n`), [expected], 'with CRLF');
      });
    }

    it('collects a 520 usage block into one reply', () => {
      assert.deepEqual(replies(`${USAGE_BLOCK}200 result=0\n`), [
        reply({
          kind: 'usage', code: 520, message: 'Invalid command syntax.  Proper usage follows:',
          usage: [' Usage: STREAM FILE <filename> <escape_digits> [sample offset]', '', 'Send the given file, allowing playback to be interrupted by the given digits, if any.'],
          raw: USAGE_BLOCK.slice(0, -1),
        }),
        result('200 result=0', '0'),
      ]);
    });

    it('reads HANGUP before, between and after replies', () => {
      assert.deepEqual(replies('HANGUP\n200 result=-1\nHANGUP\n200 result=1\nHANGUP\n'),
        [HANGUP, result('200 result=-1', '-1'), HANGUP, result('200 result=1', '1'), HANGUP]);
    });

    it('reads `200 result=-1\\nHANGUP\\nHANGUP\\n` in one segment (AGIEXITONHANGUP)', () => {
      assert.deepEqual(replies('200 result=-1\nHANGUP\nHANGUP\n'), [result('200 result=-1', '-1'), HANGUP, HANGUP]);
    });

    it('reads HANGUP inside a usage block as a hang-up, not as usage text', () => {
      const [first, ...rest] = replies(`520-Invalid command syntax.  Proper usage follows:\nHANGUP\n text\n520 End of proper usage.\n`);
      assert.deepEqual(first, HANGUP);
      assert.equal(rest.length, 1);
      assert.ok(rest[0]?.type === 'reply' && rest[0].reply.kind === 'usage');
      assert.deepEqual(rest[0].reply.usage, [' text']);
    });

    it('reports unknown lines as garbage and goes on', () => {
      assert.deepEqual(replies('hello\n\n200 result\n510-x\n200 result=1 trailing\n200 result=0\n'), [
        { type: 'garbage', line: 'hello' },
        { type: 'garbage', line: '' },
        { type: 'garbage', line: '200 result' },
        { type: 'garbage', line: '510-x' },
        { type: 'garbage', line: '200 result=1 trailing' },
        result('200 result=0', '0'),
      ]);
    });

    it('keeps UTF-8 whole when a character is split across chunks', () => {
      const bytes = Buffer.from(`${FULL_HEADER}200 result=1 (Zoë)\n`);
      const parser = new AgiParser();
      const cut = bytes.indexOf(Buffer.from('ë')) + 1;
      const events = [...parser.push(bytes.subarray(0, cut)), ...parser.push(bytes.subarray(cut))];
      assert.deepEqual(events.slice(1), [result('200 result=1 (Zoë)', '1', { data: 'Zoë' })]);
    });
  });

  describe('limits', () => {
    it('refuses a header above maxHeaderBytes without waiting for its end', () => {
      const parser = new AgiParser({ maxHeaderBytes: 100 });
      const events = parser.push(`agi_channel: ${'x'.repeat(200)}`);
      assert.deepEqual(events.map((e) => e.type === 'error' && e.code), ['HEADER_TOO_LARGE']);
      assert.equal(parser.phase, 'failed');
      assert.equal(parser.bufferedBytes, 0);
      assert.deepEqual(parser.push(FULL_HEADER), [], 'a failed parser ignores what follows');
    });

    it('refuses the measured header when it does not fit, and accepts it when it just fits', () => {
      const size = Buffer.byteLength(FULL_HEADER);
      assert.equal(parse(FULL_HEADER, { maxHeaderBytes: size })[0]?.type, 'header');
      assert.deepEqual(parse(FULL_HEADER, { maxHeaderBytes: size - 1 }).map((e) => e.type === 'error' && e.code), ['HEADER_TOO_LARGE']);
    });

    it('refuses a header with more than maxHeaderLines lines', () => {
      assert.equal(parse(FULL_HEADER, { maxHeaderLines: HEADER_LINES.length })[0]?.type, 'header');
      const events = parse(FULL_HEADER, { maxHeaderLines: HEADER_LINES.length - 1 });
      assert.deepEqual(events.map((e) => e.type === 'error' && e.code), ['HEADER_TOO_MANY_LINES']);
    });

    it('refuses a header line that is not "key: value"', () => {
      for (const line of ['no colon here', ': value', 'bad key: v', 'agi_x:value']) {
        const events = parse(`agi_network: yes\n${line}\n\n`);
        assert.deepEqual(events.map((e) => e.type === 'error' && e.code), ['MALFORMED_HEADER'], line);
      }
    });

    it('refuses a header that repeats a key: a value with a newline posing as a field', () => {
      const injected = FULL_HEADER.replace('agi_calleridname: Test Caller\n', 'agi_calleridname: Evil\nagi_channel: PJSIP/victim-00000001\n');
      const events = parse(injected);
      assert.deepEqual(events.map((e) => e.type === 'error' && e.code), ['MALFORMED_HEADER']);
      assert.match(events[0]!.type === 'error' ? events[0]!.message : '', /repeats agi_channel/);
    });

    it('refuses a reply line above maxLineBytes, even before its newline', () => {
      const parser = new AgiParser({ maxLineBytes: 64 });
      parser.push(FULL_HEADER);
      assert.deepEqual(parser.push(`200 result=1 (${'v'.repeat(49)})\n`).length, 1, '64 bytes pass');
      const events = parser.push(`200 result=1 (${'v'.repeat(100)}`);
      assert.deepEqual(events.map((e) => e.type === 'error' && e.code), ['LINE_TOO_LONG']);
      assert.equal(parser.bufferedBytes, 0);
      assert.deepEqual(parser.push('HANGUP\n'), []);
    });

    it('refuses a 520 block above maxUsageBytes', () => {
      const parser = new AgiParser({ maxUsageBytes: 200 });
      parser.push(FULL_HEADER);
      const events = parser.push(`520-Invalid command syntax.  Proper usage follows:\n${'usage text\n'.repeat(30)}`);
      assert.deepEqual(events.map((e) => e.type === 'error' && e.code), ['USAGE_TOO_LARGE']);
    });

    it('holds no more than one partial line between chunks', () => {
      const parser = new AgiParser();
      parser.push(`${FULL_HEADER}200 res`);
      assert.equal(parser.bufferedBytes, '200 res'.length);
      parser.push('ult=1\n');
      assert.equal(parser.bufferedBytes, 0);
    });
  });
});
