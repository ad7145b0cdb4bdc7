import assert from 'node:assert/strict';
import { queryParam, ruleIdOf } from '../../src/call/rule-request';

describe('ruleIdOf', () => {
  const of = (networkScript: string, args: string[] = []) => ruleIdOf({ networkScript, args }, 'crm-routing');

  it('reads the rule id from the query of the AGI URL, or from the first dialplan argument', () => {
    assert.equal(of('crm-routing?rule=42'), 42);
    assert.equal(of('/crm-routing/?tenant=a&rule=7'), 7);
    assert.equal(of('crm-routing', ['9']), 9);
    assert.equal(of('crm-routing?rule=5', ['9']), 5, 'the URL wins over the argument');
  });

  it('refuses another script, and ids that are not plain positive numbers', () => {
    for (const script of ['other?rule=1', 'crm-routing?rule=0', 'crm-routing?rule=-1', 'crm-routing?rule=1e3', 'crm-routing?rule=', 'crm-routing?rule=12345678901']) {
      assert.equal(of(script), undefined, script);
    }
  });
});

describe('queryParam', () => {
  it('answers exactly as URLSearchParams.get does', () => {
    const queries = [
      '', 'rule=1', 'rule=1&tenant=a', 'tenant=a&rule=2', 'rule', 'rule=', '&&rule=3&', 'rules=4&rule=5', 'rule=6&rule=7',
      'rule=a=b', 'x=1&rule', 'rule=%31', 'tenant=a+b', 'tenant=%E2%82%AC', 'ru%6Ce=8', '=1&rule=9', 'rule=1;tenant=a',
    ];
    for (const query of queries) {
      for (const name of ['rule', 'tenant']) {
        assert.equal(queryParam(query, name), new URLSearchParams(query).get(name), `${name} in "${query}"`);
      }
    }
  });
});
