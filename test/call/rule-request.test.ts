import assert from 'node:assert/strict';
import { DialplanSigner } from '../../src/call/dialplan-signature';
import { readRuleRequest, signedParams } from '../../src/call/rule-request';

const signer = new DialplanSigner('test-secret-key-0123456789abcdef-0123456789');
const sig = (rule: number | string, tenant: string) => signer.sign(rule, tenant);

describe('readRuleRequest', () => {
  const read = (networkScript: string) => readRuleRequest(networkScript, 'crm-routing', signer);
  const status = (networkScript: string) => {
    const asked = read(networkScript);
    return asked.kind === 'signed' ? 'signed' : asked.status;
  };

  it('takes the rule and tenant of a line the plugin signed, in any parameter order, with slashes around the path', () => {
    assert.deepEqual(read(`crm-routing?rule=42&tenant=acme&sig=${sig(42, 'acme')}`), { kind: 'signed', ruleId: 42, tenantId: 'acme', key: 'current' });
    assert.deepEqual(read(`/crm-routing/?sig=${sig(7, 'a b')}&tenant=a+b&rule=7`), { kind: 'signed', ruleId: 7, tenantId: 'a b', key: 'current' });
    const euro = new URLSearchParams({ rule: '9', tenant: 'caf\u00e9 \u20ac,1', sig: sig(9, 'caf\u00e9 \u20ac,1') }).toString();
    assert.equal(status(`crm-routing?${euro}`), 'signed', 'a tenant encoded as the plugin encodes it');
  });

  it('answers BAD_REQUEST for another AGI script', () => {
    assert.equal(status(`other?rule=1&tenant=acme&sig=${sig(1, 'acme')}`), 'BAD_REQUEST');
  });

  it('refuses (FORBIDDEN) every line that is not signed for exactly the rule and tenant it names', () => {
    const good = sig(5, 'acme');
    const refused = {
      'no tenant': 'crm-routing?rule=5',
      'no tenant, signed for the rule alone': `crm-routing?rule=5&sig=${good}`,
      'empty tenant': `crm-routing?rule=5&tenant=&sig=${good}`,
      'no signature': 'crm-routing?rule=5&tenant=acme',
      'no rule': `crm-routing?tenant=acme&sig=${good}`,
      'the rule id as agi_arg_1 only': 'crm-routing',
      'Tenant= in another case': `crm-routing?rule=5&Tenant=acme&sig=${good}`,
      'the tenant in another case': `crm-routing?rule=5&tenant=ACME&sig=${good}`,
      'RULE= in another case': `crm-routing?RULE=5&tenant=acme&sig=${good}`,
      'another rule with this signature': `crm-routing?rule=6&tenant=acme&sig=${good}`,
      'another tenant with this signature': `crm-routing?rule=5&tenant=other&sig=${good}`,
      'a leading zero': `crm-routing?rule=05&tenant=acme&sig=${good}`,
      'rule repeated, first signed': `crm-routing?rule=5&tenant=acme&sig=${good}&rule=6`,
      'rule repeated, last signed': `crm-routing?rule=6&rule=5&tenant=acme&sig=${good}`,
      'rule repeated, encoded name': `crm-routing?rule=5&tenant=acme&sig=${good}&ru%6Ce=6`,
      'tenant repeated': `crm-routing?rule=5&tenant=acme&sig=${good}&tenant=other`,
      'sig repeated': `crm-routing?rule=5&tenant=acme&sig=AAAAAAAAAAAAAAAAAAAAAA&sig=${good}`,
      'a signature one character off': `crm-routing?rule=5&tenant=acme&sig=${good.slice(0, -1)}${good.endsWith('A') ? 'B' : 'A'}`,
      'a truncated signature': `crm-routing?rule=5&tenant=acme&sig=${good.slice(0, 10)}`,
      'a signature with more after it': `crm-routing?rule=5&tenant=acme&sig=${good}x`,
      'a rule id that is no number': `crm-routing?rule=abc&tenant=acme&sig=${good}`,
    };
    for (const [what, script] of Object.entries(refused)) assert.equal(status(script), 'FORBIDDEN', what);
  });

  it('says why a line was refused, with the rule id it named (bounded), for the log', () => {
    const asked = read(`crm-routing?rule=5&tenant=acme&sig=${sig(5, 'other')}`);
    assert.equal(asked.kind, 'refused');
    assert.match(asked.kind === 'refused' ? asked.reason : '', /signature does not match/);
    assert.equal(asked.kind === 'refused' ? asked.ruleId : '', '5');
    const long = read(`crm-routing?rule=${'9'.repeat(500)}`);
    assert.equal(long.kind === 'refused' ? long.ruleId?.length : 0, 20);
  });

  it('accepts the previous key only until the end of its grace period, and says which key signed', () => {
    let now = Date.parse('2026-12-04T12:00:00Z');
    const rotated = new DialplanSigner('a-new-secret-key-0123456789abcdef-012345', { previousKey: 'test-secret-key-0123456789abcdef-0123456789', acceptPreviousUntil: new Date('2026-12-05T00:00:00Z') }, () => now);
    const oldLine = `crm-routing?rule=5&tenant=acme&sig=${sig(5, 'acme')}`;
    const newLine = `crm-routing?rule=5&tenant=acme&sig=${rotated.sign(5, 'acme')}`;
    assert.deepEqual(readRuleRequest(oldLine, 'crm-routing', rotated), { kind: 'signed', ruleId: 5, tenantId: 'acme', key: 'previous' });
    assert.deepEqual(readRuleRequest(newLine, 'crm-routing', rotated), { kind: 'signed', ruleId: 5, tenantId: 'acme', key: 'current' });
    assert.equal(rotated.previousKeyAcceptedUntil?.toISOString(), '2026-12-05T00:00:00.000Z');
    now = Date.parse('2026-12-05T00:00:01Z');
    assert.equal(readRuleRequest(oldLine, 'crm-routing', rotated).kind, 'refused');
    assert.equal(rotated.previousKeyAcceptedUntil, undefined);
    assert.equal(readRuleRequest(newLine, 'crm-routing', rotated).kind, 'signed');
  });

  it('never accepts a previous key without a date to stop', () => {
    const rotated = new DialplanSigner('a-new-secret-key-0123456789abcdef-012345', { previousKey: 'test-secret-key-0123456789abcdef-0123456789' });
    assert.equal(readRuleRequest(`crm-routing?rule=5&tenant=acme&sig=${sig(5, 'acme')}`, 'crm-routing', rotated).kind, 'refused');
  });

  it('signs with `dialplanSigning.key` when the host gives one, not with its secretKey', () => {
    const own = new DialplanSigner('test-secret-key-0123456789abcdef-0123456789', { key: 'a-dialplan-only-key-0123456789abcdef-0123' });
    assert.notEqual(own.sign(5, 'acme'), sig(5, 'acme'));
    assert.match(own.sign(5, 'acme'), /^[A-Za-z0-9_-]{22}$/);
  });
});

describe('signedParams', () => {
  it('reads rule, tenant and sig exactly as URLSearchParams does, and flags the first repeated one', () => {
    const queries = [
      '', 'rule=1', 'rule=1&tenant=a', 'tenant=a&rule=2&sig=x', 'rule', 'rule=', '&&rule=3&', 'rules=4&rule=5',
      'rule=a=b', 'x=1&rule', 'rule=%31', 'tenant=a+b', 'tenant=%E2%82%AC', '=1&rule=9', 'rule=1;tenant=a', 'tenant=%zz',
    ];
    for (const query of queries) {
      const params = signedParams(query);
      const reference = new URLSearchParams(query);
      for (const name of ['rule', 'tenant', 'sig'] as const) {
        assert.equal(name in params ? (params as Record<string, string>)[name] : null, reference.get(name), `${name} in "${query}"`);
      }
    }
    for (const [query, repeated] of [['rule=6&rule=7', 'rule'], ['ru%6Ce=8&rule=9', 'rule'], ['tenant=a&x=1&tenant=a', 'tenant'], ['sig=&sig=', 'sig']]) {
      assert.equal((signedParams(query!) as { repeated?: string }).repeated, repeated, query);
    }
  });
});
