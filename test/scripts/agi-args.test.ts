import assert from 'node:assert/strict';
import { AGI_MAX_ARGS, splitAgiArgs, splitAppArgs } from '../../scripts/lib/agi-args';
import { AgiLineReader } from '../../scripts/lib/agi-line-reader';

describe('splitAgiArgs (res_agi parse_args)', () => {
  const table: Array<[string, string[]]> = [
    ['SET VARIABLE A 1', ['SET', 'VARIABLE', 'A', '1']],
    ['SET VARIABLE F "say \\"hi\\" now"', ['SET', 'VARIABLE', 'F', 'say "hi" now']],
    ['EXEC MSet A=1,B=two words', ['EXEC', 'MSet', 'A=1,B=two', 'words']],
    ['EXEC MSet "A=1,B=two words,C=GOLD"', ['EXEC', 'MSet', 'A=1,B=two words,C=GOLD']],
    ['STREAM FILE x ""', ['STREAM', 'FILE', 'x', '']],
    ['GET  DATA\tx', ['GET', 'DATA', 'x']],
    ['SET VARIABLE A a\\ b', ['SET', 'VARIABLE', 'A', 'a b']],
    ['SET VARIABLE A ab"c d"e', ['SET', 'VARIABLE', 'A', 'abc de']],
    ['NOOP\r', ['NOOP\r']],
    ['', []],
  ];
  for (const [line, args] of table) {
    it(`splits ${JSON.stringify(line)}`, () => assert.deepEqual(splitAgiArgs(line), args));
  }

  it(`keeps at most ${AGI_MAX_ARGS - 1} words`, () => {
    assert.equal(splitAgiArgs('x '.repeat(300)).length, AGI_MAX_ARGS - 1);
  });
});

describe('splitAppArgs (ast_app_separate_args)', () => {
  it('splits at commas outside quotes and parentheses, removing quotes and backslashes', () => {
    assert.deepEqual(splitAppArgs('A=1,B=two words'), ['A=1', 'B=two words']);
    assert.deepEqual(splitAppArgs('G=1,2,H=3'), ['G=1', '2', 'H=3']);
    assert.deepEqual(splitAppArgs('A="x,y",B=f(1,2),C=a\\,b'), ['A=x,y', 'B=f(1,2)', 'C=a,b']);
  });
});

describe('AgiLineReader', () => {
  it('gives one line per wake-up while later lines sit in the stdio buffer', () => {
    const reader = new AgiLineReader();
    reader.receive('A\nB\n');
    assert.equal(reader.readable, true);
    assert.deepEqual(reader.read(), { kind: 'line', line: 'A' });
    assert.equal(reader.readable, false, 'B is buffered, so poll() does not wake');
    reader.receive('C\n');
    assert.deepEqual([reader.read(), reader.read()], [
      { kind: 'line', line: 'B' },
      { kind: 'line', line: 'C' },
    ]);
  });

  it('waits for the end of a line, runs a partial line at EOF, then reports EOF', () => {
    const reader = new AgiLineReader();
    reader.receive('NO');
    assert.deepEqual(reader.read(), { kind: 'wait' });
    reader.receive('OP');
    reader.end();
    assert.deepEqual(reader.read(), { kind: 'line', line: 'NOOP' });
    assert.deepEqual(reader.read(), { kind: 'eof' });
  });

  it('cuts a line longer than 2047 characters as fgets does', () => {
    const reader = new AgiLineReader();
    reader.receive(`${'x'.repeat(2050)}\n`);
    const first = reader.read();
    assert.equal(first.kind === 'line' && first.line.length, 2047);
    assert.deepEqual(reader.read(), { kind: 'line', line: 'xxx' });
  });

  it('refuses to hold more than its cap', () => {
    const reader = new AgiLineReader(10);
    assert.equal(reader.receive('0123456789'), true);
    assert.equal(reader.receive('x'), false);
  });
});
