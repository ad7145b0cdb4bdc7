import assert from 'node:assert/strict';
import { isEmptyValue, parsePath, PathSyntaxError, readAll, readPath } from '../../../src/crm/shared/json-path';

describe('json-path', () => {
  const answer = {
    data: [{ Account_Name: 'Acme', tags: ['a', 'b'] }, { Account_Name: 'Globex' }],
    records: [{ fields: { tier: 'Gold', 'first name': 'Ann', 'a.b': 1 } }],
    meta: { total: 0 },
  };

  it('reads keys, dotted and bracketed indexes, negative indexes and quoted keys', () => {
    const cases: Array<[string, unknown]> = [
      ['data.0.Account_Name', 'Acme'],
      ['data[1].Account_Name', 'Globex'],
      ['data[-1].Account_Name', 'Globex'],
      ['records[0].fields.tier', 'Gold'],
      ['records[0].fields["first name"]', 'Ann'],
      ["records[0].fields['a.b']", 1],
      ['$.meta.total', 0],
      ['data.0.tags[1]', 'b'],
      ['data.5.Account_Name', undefined],
      ['data.0.Account_Name.length', undefined],
      ['meta.constructor', undefined],
    ];
    for (const [path, expected] of cases) assert.deepEqual(readPath(answer, parsePath(path)), expected, path);
    assert.equal(readPath(answer, parsePath('')), answer);
  });

  it('expands * over arrays and object values, skipping missing steps', () => {
    assert.deepEqual(readAll(answer, parsePath('data[*].Account_Name')), ['Acme', 'Globex']);
    assert.deepEqual(readAll(answer, parsePath('data.*.tags[*]')), ['a', 'b']);
    assert.deepEqual(readAll(answer, parsePath('records[0].fields.*')), ['Gold', 'Ann', 1]);
    assert.deepEqual(readAll(answer, parsePath('nothing[*].x')), []);
    assert.equal(readPath(answer, parsePath('data[*]')), undefined, 'readPath does not expand *');
  });

  it('parses into segments and reports mistakes with their position', () => {
    assert.deepEqual(parsePath('a[2].*.b'), [{ kind: 'key', key: 'a' }, { kind: 'index', index: 2 }, { kind: 'all' }, { kind: 'key', key: 'b' }]);
    for (const bad of ['a..b', 'a.', 'a[1', 'a[x]', 'a["b]', 'a[0]b']) {
      assert.throws(() => parsePath(bad), PathSyntaxError, bad);
    }
    assert.throws(() => parsePath('a..b'), /position 3/);
  });

  it('knows what counts as empty', () => {
    for (const v of [undefined, null, false, 0, '', [], {}]) assert.equal(isEmptyValue(v), true, JSON.stringify(v));
    for (const v of ['x', 1, true, [0], { a: 1 }]) assert.equal(isEmptyValue(v), false, JSON.stringify(v));
  });
});
