import assert from 'node:assert/strict';
import { deleteQuestion, removedNotice, RuleUsage } from '../../src/web/rule-usage';
import { silentLogger } from '../support/test-host';

describe('Rule usage', () => {
  it('keeps the delete question exact, and adds what uses the rule after it', () => {
    assert.equal(deleteQuestion('Gold', undefined), "Are you sure you want to remove 'Gold'?");
    assert.equal(deleteQuestion('Gold', []), "Are you sure you want to remove 'Gold'?");
    assert.equal(
      deleteQuestion('Gold', [{ label: 'DID 5551234' }, { label: 'IVR 200 - Main menu, key 2' }]),
      "Are you sure you want to remove 'Gold'?\n\nIt is still used by: DID 5551234, IVR 200 - Main menu, key 2. Calls there will go to the fallback line of their dialplan until you choose another destination.",
    );
    const many = Array.from({ length: 23 }, (_, i) => ({ label: `DID ${i}` }));
    assert.match(removedNotice('Gold', many), /DID 19 and 3 more\. Their calls now take the fallback line/);
  });

  it('asks the host once for a page of rules', async () => {
    const asked: number[][] = [];
    const usage = new RuleUsage({ logger: silentLogger, usage: (_t, ids) => { asked.push([...ids]); return { 2: [{ label: 'DID 5551234' }] }; } });
    assert.deepEqual([...(await usage.ofEach('t', [1, 2, 3])).entries()], [[1, []], [2, [{ label: 'DID 5551234' }]], [3, []]]);
    assert.deepEqual(asked, [[1, 2, 3]]);
  });

  it('says nothing rather than "not used" when the host cannot tell, and drops links that are not admin pages', async () => {
    assert.equal(await new RuleUsage({ logger: silentLogger }).of('t', 1), undefined);
    const failing = new RuleUsage({ logger: silentLogger, usage: () => { throw new Error('database down'); } });
    assert.equal(await failing.of('t', 1), undefined);
    const usage = new RuleUsage({ logger: silentLogger, usage: async () => ({ 1: [{ label: 'DID 1', href: 'javascript:alert(1)' }, { label: 'DID 2', href: '/dids' }, { label: 'DID 3', href: '//evil.example' }] }) });
    assert.deepEqual(await usage.of('t', 1), [{ label: 'DID 1' }, { label: 'DID 2', href: '/dids' }, { label: 'DID 3' }]);
    assert.deepEqual(await usage.of('t', 2), [], 'a rule the host does not name is used by nothing');
  });
});
