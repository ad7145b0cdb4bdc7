import assert from 'node:assert/strict';
import {
  AGI_MAX_COMMAND_BYTES, agiCommandLine, assertSafeAgiCommand, quoteAgiArgument, readGetDataReply, readGetVariableReply, readNumericResult, expectResultCode,
  setVariablesLines,
} from '../../src/call/agi-commands';
import { AgiParser, type AgiReply } from '../../src/call/agi-parser';
import { FULL_HEADER, USAGE_BLOCK } from '../support/agi-transcripts';

function replyOf(text: string): AgiReply {
  const events = new AgiParser().push(FULL_HEADER + text);
  const event = events[1];
  assert.ok(event?.type === 'reply', `no reply in ${JSON.stringify(text)}`);
  return event.reply;
}

describe('AGI command lines', () => {
  it('quotes an argument: double quotes, \\" for a quote, \\\\ for a backslash', () => {
    assert.equal(quoteAgiArgument('plain'), '"plain"');
    assert.equal(quoteAgiArgument(''), '""');
    assert.equal(quoteAgiArgument('say "hi" now'), '"say \\"hi\\" now"');
    assert.equal(quoteAgiArgument('a\\b'), '"a\\\\b"');
    assert.equal(quoteAgiArgument('A=1,B=two words,C=GOLD'), '"A=1,B=two words,C=GOLD"');
  });

  it('refuses CR, LF and NUL in any argument', () => {
    for (const bad of ['a\nSET VARIABLE X 1', 'a\r', '\r\n', 'a\u0000b']) {
      assert.throws(() => quoteAgiArgument(bad), { name: 'AgiError', code: 'UNSAFE_ARGUMENT' }, JSON.stringify(bad));
      assert.throws(() => agiCommandLine.setVariable('A', bad), { code: 'UNSAFE_ARGUMENT' });
      assert.throws(() => agiCommandLine.setVariable(bad, 'v'), { code: 'UNSAFE_ARGUMENT' });
      assert.throws(() => agiCommandLine.setContext(bad), { code: 'UNSAFE_ARGUMENT' });
      assert.throws(() => agiCommandLine.exec('NoOp', bad), { code: 'UNSAFE_ARGUMENT' });
    }
  });

  it('refuses a command longer than res_agi reads as one line (it would run the rest as a second command)', () => {
    assertSafeAgiCommand(`SET VARIABLE "A" "${'x'.repeat(AGI_MAX_COMMAND_BYTES - 19)}"`);
    assert.throws(() => assertSafeAgiCommand(`SET VARIABLE "A" "${'x'.repeat(AGI_MAX_COMMAND_BYTES - 18)}"`), { code: 'UNSAFE_ARGUMENT' });
    assert.throws(() => assertSafeAgiCommand(`VERBOSE "${'é'.repeat(1100)}" 1`), /bytes/, 'counted in bytes, not characters');
    assert.throws(() => assertSafeAgiCommand('  '), { code: 'UNSAFE_ARGUMENT' });
  });

  it('builds the lines the measured commands use', () => {
    assert.equal(agiCommandLine.setVariable('CRM_ROUTING_STATUS', 'OK'), 'SET VARIABLE "CRM_ROUTING_STATUS" "OK"');
    assert.equal(agiCommandLine.getVariable('A'), 'GET VARIABLE "A"');
    assert.equal(agiCommandLine.verbose('hello', 1), 'VERBOSE "hello" 1');
    assert.equal(agiCommandLine.getData('custom/welcome', 2000, 4), 'GET DATA "custom/welcome" 2000 4');
    assert.equal(agiCommandLine.setContext('dest-x'), 'SET CONTEXT "dest-x"');
    assert.equal(agiCommandLine.setExtension('103'), 'SET EXTENSION "103"');
    assert.equal(agiCommandLine.setPriority(1), 'SET PRIORITY 1');
    assert.equal(agiCommandLine.exec('MSet', 'A=1,B=two words'), 'EXEC MSet "A=1,B=two words"');
    assert.equal(agiCommandLine.exec('NoOp'), 'EXEC NoOp');
  });

  it('sets plain-token variables in one EXEC MSet and any other value with its own SET VARIABLE', () => {
    assert.deepEqual(setVariablesLines([
      ['CRM_ROUTING_STATUS', 'OK'], ['CRM_ROUTING_VALUE', 'Gold "VIP", ${SHELL(id)}'], ['CRM_ROUTING_ROW', ''], ['CRM_ROUTING_METHOD', 'AGI'],
    ]), [
      'EXEC MSet "CRM_ROUTING_STATUS=OK,CRM_ROUTING_ROW=,CRM_ROUTING_METHOD=AGI"',
      'SET VARIABLE "CRM_ROUTING_VALUE" "Gold \\"VIP\\", ${SHELL(id)}"',
    ]);
    // Anything MSet or an application's argument split reads specially stays out of MSet.
    for (const value of ['two words', 'a,b', 'a=b', '(x)', '[x]', 'a\\b', '"', '${X}', ' lead', 'é']) {
      assert.deepEqual(setVariablesLines([['A', '1'], ['B', value]]).slice(1), [agiCommandLine.setVariable('B', value)], value);
    }
    assert.deepEqual(setVariablesLines([['A', 'x'], ['has space', '1']]), ['SET VARIABLE "A" "x"', 'SET VARIABLE "has space" "1"'], 'a lone pair is a plain SET VARIABLE');
    assert.deepEqual(setVariablesLines([]), []);
  });

  it('splits MSet lines that would pass the longest command res_agi reads as one', () => {
    const pairs = Array.from({ length: 12 }, (_, i) => [`V${i}`, 'x'.repeat(250)] as const);
    const lines = setVariablesLines(pairs);
    assert.ok(lines.length > 1);
    for (const line of lines) assertSafeAgiCommand(line);
    const carried = lines.flatMap((line) => /^EXEC MSet "(.*)"$/.exec(line)![1]!.split(','));
    assert.deepEqual(carried, pairs.map(([name, value]) => `${name}=${value}`));
  });

  it('fills an MSet line up to exactly the longest command, and not one byte more', () => {
    // `EXEC MSet "A=<x...>,B=<y...>"`: 12 bytes around the pairs, 2 for "A=", 1 comma, 2 for "B=".
    const fits = AGI_MAX_COMMAND_BYTES - 12 - 2 - 1 - 2;
    const full = setVariablesLines([['A', 'x'.repeat(fits - 10)], ['B', 'y'.repeat(10)]]);
    assert.equal(full.length, 1);
    assert.equal(Buffer.byteLength(full[0]!), AGI_MAX_COMMAND_BYTES);
    const over = setVariablesLines([['A', 'x'.repeat(fits - 10)], ['B', 'y'.repeat(11)]]);
    assert.deepEqual(over, [agiCommandLine.setVariable('A', 'x'.repeat(fits - 10)), agiCommandLine.setVariable('B', 'y'.repeat(11))]);
  });

  it('refuses numbers and application names that are not plain', () => {
    assert.throws(() => agiCommandLine.getData('x', 1.5, 4), { code: 'UNSAFE_ARGUMENT' });
    assert.throws(() => agiCommandLine.getData('x', 2000, 0), { code: 'UNSAFE_ARGUMENT' });
    assert.throws(() => agiCommandLine.setPriority(Number.NaN), { code: 'UNSAFE_ARGUMENT' });
    assert.throws(() => agiCommandLine.exec('NoOp X', 'a'), { code: 'UNSAFE_ARGUMENT' });
  });
});

describe('AGI reply readers', () => {
  it('reads GET DATA per the measured table', () => {
    const table: Array<[string, { digits: string; timedOut: boolean; failed: boolean }]> = [
      ['200 result= (timeout)\n', { digits: '', timedOut: true, failed: false }],
      ['200 result=5 (timeout)\n', { digits: '5', timedOut: true, failed: false }],
      ['200 result=1234\n', { digits: '1234', timedOut: false, failed: false }],
      ['200 result=12\n', { digits: '12', timedOut: false, failed: false }],
      ['200 result=\n', { digits: '', timedOut: false, failed: false }],
      ['200 result=-1\n', { digits: '', timedOut: false, failed: true }],
      ['511 Command Not Permitted on a dead channel or intercept routine\n', { digits: '', timedOut: false, failed: true }],
    ];
    for (const [text, expected] of table) assert.deepEqual(readGetDataReply(replyOf(text), 'GET DATA'), expected, text);
    assert.throws(() => readGetDataReply(replyOf('510 Invalid or unknown command\n'), 'GET DATA'), { code: 'COMMAND_REJECTED' });
  });

  it('reads GET VARIABLE: set, set to empty, unset', () => {
    assert.equal(readGetVariableReply(replyOf('200 result=1 (1)\n'), 'GET VARIABLE'), '1');
    assert.equal(readGetVariableReply(replyOf('200 result=1 (two words)\n'), 'GET VARIABLE'), 'two words');
    assert.equal(readGetVariableReply(replyOf('200 result=1 ()\n'), 'GET VARIABLE'), '');
    assert.equal(readGetVariableReply(replyOf('200 result=0\n'), 'GET VARIABLE'), undefined);
  });

  it('accepts only the expected result codes', () => {
    expectResultCode(replyOf('200 result=0\n'), 'SET CONTEXT', ['0']);
    assert.throws(() => expectResultCode(replyOf('200 result=-1\n'), 'SET CONTEXT', ['0']), { code: 'COMMAND_REJECTED' });
    assert.throws(() => expectResultCode(replyOf('511 Command Not Permitted on a dead channel or intercept routine\n'), 'SET CONTEXT', ['0']),
      (err: Error & { code?: string }) => err.code === 'COMMAND_REJECTED' && /511 Command Not Permitted/.test(err.message));
    assert.throws(() => expectResultCode(replyOf(USAGE_BLOCK), 'STREAM FILE', ['0']), /520-Invalid command syntax/);
  });

  it('reads EXEC results as numbers', () => {
    assert.equal(readNumericResult(replyOf('200 result=0\n'), 'EXEC'), 0);
    assert.equal(readNumericResult(replyOf('200 result=-2\n'), 'EXEC'), -2);
  });
});
