import assert from 'node:assert/strict';
import { SecretDrafts } from '../../src/web/secret-drafts';

const KEY = 'drafts-test-secret-key-0123456789abcdef';
const ALICE = { tenantId: 'acme', userId: 'alice' };

describe('SecretDrafts', () => {
  it('gives back what was sealed, to the same user, tenant and form, without the secret in the sealed text', () => {
    const drafts = new SecretDrafts(KEY);
    const sealed = drafts.seal(ALICE, 'rule:7', { crmPassword: 'p@ss-w0rd', 'header:x-api-key': 'k3y' });
    assert.ok(!sealed.includes('p@ss-w0rd') && !Buffer.from(sealed.slice(3), 'base64url').toString('latin1').includes('p@ss-w0rd'));
    assert.deepEqual(drafts.open(ALICE, 'rule:7', sealed), { secrets: { crmPassword: 'p@ss-w0rd', 'header:x-api-key': 'k3y' }, expired: false });
  });

  it('keeps nothing when nothing was typed, and opens nothing from an empty field', () => {
    const drafts = new SecretDrafts(KEY);
    assert.equal(drafts.seal(ALICE, 'rule:new', { crmPassword: '' }), '');
    assert.deepEqual(drafts.open(ALICE, 'rule:new', ''), { secrets: {}, expired: false });
    assert.deepEqual(drafts.open(ALICE, 'rule:new', undefined), { secrets: {}, expired: false });
  });

  it('does not open for another user, tenant or form, nor altered, nor under another key', () => {
    const drafts = new SecretDrafts(KEY);
    const sealed = drafts.seal(ALICE, 'integration:zoho', { clientSecret: 's' });
    const none = { secrets: {}, expired: true };
    assert.deepEqual(drafts.open({ ...ALICE, userId: 'bob' }, 'integration:zoho', sealed), none);
    assert.deepEqual(drafts.open({ ...ALICE, tenantId: 'other' }, 'integration:zoho', sealed), none);
    assert.deepEqual(drafts.open(ALICE, 'integration:hubspot', sealed), none);
    assert.deepEqual(drafts.open(ALICE, 'integration:zoho', `${sealed.slice(0, -2)}AA`), none);
    assert.deepEqual(new SecretDrafts(`${KEY}-other`).open(ALICE, 'integration:zoho', sealed), none);
    assert.deepEqual(drafts.open(ALICE, 'integration:zoho', 'x'.repeat(30_000)), none);
  });

  it('expires after its lifetime', () => {
    let now = 1_000_000;
    const drafts = new SecretDrafts(KEY, { ttlMs: 60_000, now: () => now });
    const sealed = drafts.seal(ALICE, 'rule:new', { crmPassword: 'p' });
    now += 59_999;
    assert.deepEqual(drafts.open(ALICE, 'rule:new', sealed).secrets, { crmPassword: 'p' });
    now += 2;
    assert.deepEqual(drafts.open(ALICE, 'rule:new', sealed), { secrets: {}, expired: true });
  });
});
