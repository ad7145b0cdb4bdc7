import assert from 'node:assert/strict';
import { decide } from '../../src/domain/decide';
import type { OwnerKey } from '../../src/domain/destination';
import { NO_BRANCHES, type Rule } from '../../src/domain/rule';
import type { OwnerEmailResult } from '../../src/crm/owner-lookup';
import { OwnerRouting } from '../../src/call/owner-routing';
import { ReferenceDirectory } from '../../scripts/host/directory';
import type { HostDirectory } from '../../src/host';

function ruleWith(key: OwnerKey): Rule {
  return {
    id: 7, tenantId: 't1', name: 'Owners', fieldName: 'owner', location: 'did', greeting: null,
    source: { kind: 'integration', crm: 'hubspot', module: 'contacts', username: '', password: '' },
    deadlineSeconds: 3, defaultDestination: { type: 'queue', target: '105' }, defaultVoicemail: 'unset', branches: NO_BRANCHES, version: 1,
    rows: [{ operator: 'regex', value: '.', destination: { type: 'owner', target: key } }],
  };
}

const users: Record<string, OwnerEmailResult> = {
  '501': { kind: 'email', email: 'SAM@example.com' },
  '502': { kind: 'email', email: 'zoe@example.com' },
  '503': { kind: 'not_found' },
  '504': { kind: 'error', code: 'FORBIDDEN', message: 'HubSpot refused the request (403 MISSING_SCOPES).' },
};
const crm = { asked: [] as string[], async ownerEmail(_rule: Rule, id: string) { this.asked.push(id); return users[id] ?? { kind: 'not_found' as const }; } };

async function route(key: OwnerKey, value: string, directory: HostDirectory | undefined = new ReferenceDirectory(), remainingMs = 3000) {
  const rule = ruleWith(key);
  return new OwnerRouting(directory, crm).resolve(rule, decide(rule, { kind: 'value', value }), value, remainingMs);
}

describe('OwnerRouting', () => {
  it('finds the owner by e-mail (any case) and sends the call to their extension', async () => {
    const r = await route('email', ' Ana@Example.com ');
    assert.deepEqual(r.decision.destination, { type: 'extension', target: '101' });
    assert.equal(r.decision.outcome, 'MATCH');
    assert.equal(r.owner, 'Ana@Example.com');
    assert.equal(r.why, undefined);
  });

  it('finds the owner by extension number', async () => {
    const r = await route('extension', '102');
    assert.deepEqual(r.decision.destination, { type: 'extension', target: '102' });
  });

  it('turns a CRM user id into an e-mail through the CRM, then into an extension', async () => {
    const r = await route('user_id', '501');
    assert.deepEqual(r.decision.destination, { type: 'extension', target: '102' });
    assert.equal(r.owner, 'SAM@example.com');
  });

  const unknown: Array<[string, OwnerKey, string, string | undefined, RegExp]> = [
    ['an e-mail no extension has', 'email', 'zoe@example.com', undefined, /No extension belongs to this e-mail/],
    ['an extension number that does not exist', 'extension', '999', undefined, /No extension has this number/],
    ['a user id whose e-mail no extension has', 'user_id', '502', 'zoe@example.com', /No extension belongs/],
    ['a user id the CRM does not know', 'user_id', '503', '503', /has no user 503/],
    ['a user id the CRM cannot read', 'user_id', '504', '504', /FORBIDDEN.*MISSING_SCOPES/],
  ];
  for (const [what, key, value, owner, why] of unknown) {
    it(`takes the default destination with OWNER_UNKNOWN for ${what}`, async () => {
      const r = await route(key, value);
      assert.equal(r.decision.outcome, 'OWNER_UNKNOWN');
      assert.deepEqual(r.decision.destination, { type: 'queue', target: '105' });
      assert.equal(r.decision.rowIndex, null);
      assert.equal(r.owner, owner ?? value);
      assert.match(r.why ?? '', why);
    });
  }

  it('takes the default destination with OWNER_UNKNOWN when the host has no directory', async () => {
    const rule = ruleWith('email');
    const r = await new OwnerRouting(undefined, crm).resolve(rule, decide(rule, { kind: 'value', value: 'ana@example.com' }), 'ana@example.com', 3000);
    assert.equal(r.decision.outcome, 'OWNER_UNKNOWN');
    assert.match(r.why ?? '', /no directory/);
  });

  it('gives up on a directory that does not answer within the deadline left', async () => {
    const slow: HostDirectory = { find: () => new Promise(() => {}) };
    const started = performance.now();
    const r = await route('email', 'ana@example.com', slow, 300);
    const took = performance.now() - started;
    assert.equal(r.decision.outcome, 'OWNER_UNKNOWN');
    assert.match(r.why ?? '', /deadline/);
    assert.ok(took >= 280 && took < 1000, `took ${took} ms`);
  });

  it('leaves a decision that is not an owner row alone, without asking anyone', async () => {
    const rule = { ...ruleWith('user_id'), rows: [{ operator: 'eq' as const, value: 'gold', destination: { type: 'queue' as const, target: '103' } }] };
    crm.asked = [];
    const r = await new OwnerRouting(new ReferenceDirectory(), crm).resolve(rule, decide(rule, { kind: 'value', value: 'gold' }), 'gold', 3000);
    assert.deepEqual(r.decision.destination, { type: 'queue', target: '103' });
    assert.equal(r.owner, null);
    assert.deepEqual(crm.asked, []);
  });

  it('never hands the directory a value with a line break', async () => {
    const asked: unknown[] = [];
    const directory: HostDirectory = { find: (_t, key) => { asked.push(key); return undefined; } };
    const r = await route('email', 'ana@example.com\r\nAction: Originate', directory);
    assert.equal(r.decision.outcome, 'OWNER_UNKNOWN');
    assert.deepEqual(asked, []);
  });
});
